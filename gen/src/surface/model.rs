//! The part of `commands.json` the command surface is generated from: each served
//! command's argument tree, reply schema and documentation.

use serde_json::Value;

/// An argument node of a command's syntax.
#[derive(Debug, Clone)]
pub struct Arg {
    pub name: String,
    pub kind: Kind,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    pub display: String,
    pub children: Vec<Arg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    String,
    Pattern,
    Integer,
    Double,
    UnixTime,
    PureToken,
    Oneof,
    Block,
}

impl Kind {
    /// Key, string or pattern: any `ToArg`.
    pub fn is_bytes(self) -> bool {
        matches!(self, Kind::Key | Kind::String | Kind::Pattern)
    }

    pub fn is_scalar(self) -> bool {
        !matches!(self, Kind::PureToken | Kind::Oneof | Kind::Block)
    }
}

/// One served command or subcommand.
#[derive(Debug)]
pub struct Command {
    /// `"GET"`, `"CLIENT SETNAME"`.
    pub name: String,
    pub group: String,
    pub summary: String,
    pub since: String,
    pub complexity: Option<String>,
    pub acl: Vec<String>,
    pub replaced_by: Option<String>,
    pub deprecated_since: Option<String>,
    pub args: Vec<Arg>,
    pub reply: Option<Value>,
}

/// Every command a normal server serves (containers and the Sentinel group left out),
/// sorted by name.
pub fn parse(json: &str) -> Result<Vec<Command>, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("commands.json: {e}"))?;
    let map = root.as_object().ok_or("commands.json is not an object")?;
    let mut out = Vec::new();
    for (name, c) in map {
        let group = text(c, "group").unwrap_or_default();
        if group == "sentinel" || c.get("subcommands").is_some() {
            continue;
        }
        let args = match c.get("arguments") {
            Some(Value::Array(items)) => items.iter().map(arg).collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        out.push(Command {
            name: name.clone(),
            group,
            summary: text(c, "summary").unwrap_or_default(),
            since: text(c, "since").unwrap_or_default(),
            complexity: text(c, "complexity"),
            acl: c
                .get("acl_categories")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            replaced_by: text(c, "replaced_by"),
            deprecated_since: text(c, "deprecated_since"),
            args,
            reply: c.get("reply_schema").cloned(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn arg(v: &Value) -> Result<Arg, String> {
    let name = text(v, "name").ok_or("an argument without a name")?;
    let kind = match text(v, "type").as_deref() {
        Some("key") => Kind::Key,
        Some("string") => Kind::String,
        Some("pattern") => Kind::Pattern,
        Some("integer") => Kind::Integer,
        Some("double") => Kind::Double,
        Some("unix-time") => Kind::UnixTime,
        Some("pure-token") => Kind::PureToken,
        Some("oneof") => Kind::Oneof,
        Some("block") => Kind::Block,
        other => return Err(format!("argument {name}: unknown type {other:?}")),
    };
    let flag = |f: &str| v.get(f).and_then(Value::as_bool).unwrap_or(false);
    let children = match v.get("arguments") {
        Some(Value::Array(items)) => items.iter().map(arg).collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(Arg {
        display: text(v, "display_text").unwrap_or_else(|| name.clone()),
        name,
        kind,
        token: text(v, "token"),
        optional: flag("optional"),
        multiple: flag("multiple"),
        multiple_token: flag("multiple_token"),
        children,
    })
}

/// The syntax line as Redis's documentation writes it: `SET key value [NX | XX] [GET] ...`.
pub fn syntax(cmd: &Command) -> String {
    let mut s = cmd.name.clone();
    for a in &cmd.args {
        s.push(' ');
        s.push_str(&arg_syntax(a));
    }
    s
}

/// One argument's syntax, as in [`syntax`].
pub fn arg_syntax(a: &Arg) -> String {
    let inner = match a.kind {
        Kind::PureToken => a.token.clone().unwrap_or_default(),
        Kind::Oneof => {
            let alts: Vec<String> = a.children.iter().map(arg_syntax).collect();
            let body = alts.join(" | ");
            let body = if a.optional { body } else { format!("<{body}>") };
            match &a.token {
                Some(t) => format!("{t} {body}"),
                None => body,
            }
        }
        Kind::Block => {
            let parts: Vec<String> = a.children.iter().map(arg_syntax).collect();
            let body = parts.join(" ");
            match &a.token {
                Some(t) => format!("{t} {body}"),
                None => body,
            }
        }
        _ => match &a.token {
            Some(t) if t.is_empty() => "\"\"".to_owned(),
            Some(t) => format!("{t} {}", a.display),
            None => a.display.clone(),
        },
    };
    let inner = if a.multiple {
        if a.multiple_token {
            format!("{inner} [{inner} ...]")
        } else {
            match (&a.token, a.kind) {
                (Some(t), k) if k != Kind::PureToken => {
                    let rest = inner.strip_prefix(t.as_str()).unwrap_or(&inner).trim().to_owned();
                    format!("{t} {rest} [{rest} ...]")
                }
                _ => format!("{inner} [{inner} ...]"),
            }
        }
    } else {
        inner
    };
    if a.optional {
        format!("[{inner}]")
    } else {
        inner
    }
}
