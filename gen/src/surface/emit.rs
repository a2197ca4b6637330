//! One command's method and typed options, as Rust source (before rustfmt).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::model::{self, Arg, Command, Kind};
use super::names;
use super::reply;

/// Commands that change the state of the connection they run on: generated for exclusive
/// receivers only.
pub const EXCLUSIVE: &[&str] = &[
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    "MONITOR",
    "SYNC",
    "PSYNC",
    "CLIENT REPLY",
    "QUIT",
    "SELECT",
    "HELLO",
    "AUTH",
    "RESET",
];

/// An enum generated for a set of alternative tokens.
#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub tokens: Vec<String>,
    /// Where it is used, for its doc.
    pub used_by: BTreeSet<String>,
}

/// What every command shares: the enums made so far.
#[derive(Default)]
pub struct Ctx {
    pub enums: BTreeMap<String, EnumDef>,
    /// Every command's method name: an option of the same name, on a command queued in a
    /// pipeline, would hide the command (`p.set(k, v).get(k)`), so it is `with_<name>` there.
    pub command_methods: BTreeSet<String>,
}

impl Ctx {
    /// The enum for these alternatives (one per distinct token set).
    fn enum_for(&mut self, cmd: &str, arg: &Arg) -> String {
        let mut tokens: Vec<String> = arg.children.iter().filter_map(|c| c.token.clone()).collect();
        let mut key = tokens.clone();
        key.sort();
        let key = key.join(" ");
        if let Some(def) = self.enums.values_mut().find(|d| {
            let mut t = d.tokens.clone();
            t.sort();
            t.join(" ") == key
        }) {
            def.used_by.insert(cmd.to_owned());
            return def.name.clone();
        }
        let mut name = match names::ENUM_NAMES.iter().find(|(k, _)| *k == key) {
            Some((_, n)) => (*n).to_owned(),
            None => names::camel(&arg.name),
        };
        if self.enums.contains_key(&name) {
            name = format!("{}{}", names::camel(cmd), names::camel(&arg.name));
        }
        tokens.dedup();
        self.enums.insert(
            name.clone(),
            EnumDef { name: name.clone(), tokens, used_by: [cmd.to_owned()].into() },
        );
        name
    }
}

/// A command's generated code.
pub struct Emitted {
    pub method: String,
    pub exclusive: bool,
    /// The `impl Cmd<.., opts::X>` block, when the command has options.
    pub options: Option<String>,
    /// The marker type's name, when the command has options.
    pub marker: Option<String>,
}

/// A method being written.
#[derive(Default)]
struct Sig {
    generics: Vec<String>,
    params: Vec<String>,
    body: String,
    used: BTreeSet<String>,
    /// ZINCRBY: the increment is a float.
    float_increment: bool,
}

impl Sig {
    fn param(&mut self, name: &str, ty: &str) -> String {
        let mut n = names::snake(name);
        let base = n.clone();
        let mut i = 2;
        while !self.used.insert(n.clone()) {
            n = format!("{base}{i}");
            i += 1;
        }
        self.params.push(format!("{n}: {ty}"));
        n
    }

    fn generic(&mut self, name: &str) -> String {
        let g = format!("A{}", self.generics.len() + 1);
        self.generics.push(format!("{g}: ToArg"));
        self.param(name, &g)
    }

    fn generics(&self) -> String {
        if self.generics.is_empty() {
            String::new()
        } else {
            format!("<{}>", self.generics.join(", "))
        }
    }
}

/// One typed option method.
struct Opt {
    name: String,
    sig: Sig,
    doc: String,
}

/// The slot of top-level argument `i` (sub-slots follow it).
fn slot(i: usize) -> u16 {
    ((i as u16) + 1) << 6
}

fn token_of(a: &Arg) -> Option<&str> {
    a.token.as_deref()
}

/// Writes the parameter of a scalar argument and returns its name: integers as `i64`
/// (cursors `u64`), doubles as `f64`, everything else (and score bounds such as `(1` or
/// `-inf`, and repeated values) as any `ToArg`.
fn scalar_param(sig: &mut Sig, a: &Arg) -> String {
    let name = param_name(a);
    if a.multiple || a.kind.is_bytes() {
        return sig.generic(&name);
    }
    match a.kind {
        Kind::Integer | Kind::UnixTime if a.name == "cursor" => sig.param(&name, "u64"),
        // ZINCRBY's increment is a float, whatever the spec says.
        Kind::Integer if a.name == "increment" && sig.float_increment => sig.param(&name, "f64"),
        Kind::Integer | Kind::UnixTime => sig.param(&name, "i64"),
        Kind::Double if matches!(a.name.as_str(), "min" | "max") => sig.generic(&name),
        Kind::Double => sig.param(&name, "f64"),
        _ => sig.generic(&name),
    }
}

/// A repeated argument's parameter is named in the plural (`keys`, `members`).
fn param_name(a: &Arg) -> String {
    if a.multiple && !a.name.ends_with('s') && a.name != "data" {
        format!("{}s", a.name)
    } else {
        a.name.clone()
    }
}

fn push_token(body: &mut String, token: Option<&str>) {
    if let Some(t) = token {
        let _ = write!(body, ".token({t:?})");
    }
}

/// True when every alternative is a literal.
fn all_tokens(a: &Arg) -> bool {
    a.children.iter().all(|c| c.kind == Kind::PureToken)
}

/// True when every alternative is a literal or a plain value: one `ToArg` covers them.
fn tokens_or_values(a: &Arg) -> bool {
    a.children.iter().all(|c| {
        c.kind == Kind::PureToken || (c.kind.is_bytes() && c.token.is_none() && !c.multiple)
    })
}

/// Writes a required argument into the method; returns the alternatives it demotes to
/// options (a required choice between valued alternatives).
fn required(
    ctx: &mut Ctx,
    cmd: &Command,
    sig: &mut Sig,
    a: &Arg,
    counted: bool,
) -> Result<Option<Vec<Opt>>, String> {
    match a.kind {
        Kind::PureToken => push_token(&mut sig.body, token_of(a)),
        k if k.is_scalar() => {
            if a.multiple_token {
                return Err(format!("{}: required {} repeats its token", cmd.name, a.name));
            }
            push_token(&mut sig.body, token_of(a).filter(|t| !t.is_empty()));
            if token_of(a) == Some("") {
                sig.body.push_str(".token(\"\")");
                return Ok(None);
            }
            let p = scalar_param(sig, a);
            if counted {
                let _ = write!(sig.body, ".counted({p})");
            } else {
                let _ = write!(sig.body, ".val({p})");
            }
        }
        Kind::Oneof if a.multiple => {
            push_token(&mut sig.body, token_of(a));
            let p = sig.generic(&param_name(a));
            let _ = write!(sig.body, ".val({p})");
        }
        Kind::Oneof if all_tokens(a) => {
            push_token(&mut sig.body, token_of(a));
            let e = ctx.enum_for(&cmd.name, a);
            let p = sig.param(&a.name, &format!("args::{e}"));
            let _ = write!(sig.body, ".val({p})");
        }
        Kind::Oneof if tokens_or_values(a) => {
            push_token(&mut sig.body, token_of(a));
            let p = sig.generic(&a.name);
            let _ = write!(sig.body, ".val({p})");
        }
        Kind::Oneof => return Ok(Some(Vec::new())),
        Kind::Block if a.multiple => {
            push_token(&mut sig.body, token_of(a));
            let p = sig.generic(&param_name(a));
            let _ = write!(sig.body, ".val({p})");
        }
        Kind::Block => {
            push_token(&mut sig.body, token_of(a));
            for c in &a.children {
                if c.optional {
                    return Err(format!(
                        "{}: optional {} inside required {}",
                        cmd.name, c.name, a.name
                    ));
                }
                if required(ctx, cmd, sig, c, false)?.is_some() {
                    return Err(format!("{}: choice {} inside block {}", cmd.name, c.name, a.name));
                }
            }
        }
        _ => unreachable!("every kind is handled"),
    }
    Ok(None)
}

/// The option methods of an optional argument (or of a demoted required choice).
fn options(
    ctx: &mut Ctx,
    cmd: &Command,
    a: &Arg,
    slot: u16,
    repeat: bool,
    prefix_token: Option<&str>,
) -> Result<Vec<Opt>, String> {
    let syntax = model::arg_syntax(a);
    let doc = format!("`{syntax}`");
    let start = |sig: &mut Sig, repeat: bool| {
        let call = if repeat { "opt_repeat" } else { "opt" };
        let _ = write!(sig.body, "self.{call}({slot})");
        push_token(&mut sig.body, prefix_token);
    };
    let repeat = repeat || (a.multiple && matches!(a.kind, Kind::Block | Kind::Oneof));
    let named = |a: &Arg| -> String {
        token_of(a).and_then(names::token).unwrap_or_else(|| names::snake(&param_name(a)))
    };
    let mut out = Vec::new();
    match a.kind {
        Kind::PureToken => {
            let mut sig = Sig::default();
            start(&mut sig, repeat);
            push_token(&mut sig.body, token_of(a));
            out.push(Opt { name: named(a), sig, doc });
        }
        k if k.is_scalar() => {
            let mut sig = Sig::default();
            let repeat_each = a.multiple && a.multiple_token;
            start(&mut sig, repeat_each || repeat);
            push_token(&mut sig.body, token_of(a).filter(|t| !t.is_empty()));
            let p = if repeat_each {
                let single = Arg { multiple: false, ..a.clone() };
                scalar_param(&mut sig, &single)
            } else {
                scalar_param(&mut sig, a)
            };
            let _ = write!(sig.body, ".val({p})");
            out.push(Opt { name: named(a), sig, doc });
        }
        Kind::Oneof if token_of(a).is_some() && all_tokens(a) => {
            let mut sig = Sig::default();
            start(&mut sig, repeat);
            push_token(&mut sig.body, token_of(a));
            let e = ctx.enum_for(&cmd.name, a);
            let p = sig.param(&a.name, &format!("args::{e}"));
            let _ = write!(sig.body, ".val({p})");
            out.push(Opt { name: named(a), sig, doc });
        }
        Kind::Oneof => {
            for c in &a.children {
                let mut more = options(ctx, cmd, c, slot, repeat, token_of(a))?;
                for o in &mut more {
                    o.doc = format!("{}: one of `{syntax}`, the last one called is sent", o.doc);
                }
                out.extend(more);
            }
        }
        Kind::Block
            if token_of(a).is_none()
                && a.children.iter().any(|c| {
                    !c.optional && c.kind == Kind::Oneof && !all_tokens(c) && !tokens_or_values(c)
                }) =>
        {
            // `[OVERFLOW ...] <SET ... | INCRBY ...>`: one option per alternative, the
            // optional parts as options of their own, in call order.
            for c in &a.children {
                if !c.optional && c.kind != Kind::Oneof {
                    return Err(format!("{}: {} beside a choice in {}", cmd.name, c.name, a.name));
                }
                out.extend(options(ctx, cmd, c, slot, true, None)?);
            }
        }
        Kind::Block => {
            let name = match token_of(a).and_then(names::token) {
                Some(n) => n,
                None => match a.children.first() {
                    Some(c) if !c.optional && c.kind.is_scalar() && c.token.is_none() => {
                        names::snake(&c.name)
                    }
                    Some(c) if !c.optional && c.token.is_some() => named(c),
                    _ => names::snake(&a.name),
                },
            };
            let mut sig = Sig::default();
            start(&mut sig, repeat);
            push_token(&mut sig.body, token_of(a));
            let nested: Vec<&Arg> = a.children.iter().filter(|c| c.optional).collect();
            let trailing_flag = nested.len() == 1
                && nested[0].kind == Kind::PureToken
                && a.children.last().is_some_and(|l| l.optional);
            for c in a.children.iter().filter(|c| !c.optional) {
                if required(ctx, cmd, &mut sig, c, false)?.is_some() {
                    return Err(format!(
                        "{}: choice {} inside option {}",
                        cmd.name, c.name, a.name
                    ));
                }
            }
            if trailing_flag {
                let flag = nested[0];
                let mut with = Sig {
                    generics: sig.generics.clone(),
                    params: sig.params.clone(),
                    body: sig.body.clone(),
                    used: sig.used.clone(),
                    float_increment: sig.float_increment,
                };
                push_token(&mut with.body, token_of(flag));
                let flag_name = named(flag);
                out.push(Opt { name: format!("{name}_{flag_name}"), sig: with, doc: doc.clone() });
            } else {
                for (j, c) in nested.iter().enumerate() {
                    let sub = slot + j as u16 + 1;
                    let mut more = options(ctx, cmd, c, sub, false, None)?;
                    for o in &mut more {
                        o.doc = format!("{}, inside `{syntax}`", o.doc);
                    }
                    out.extend(more);
                }
            }
            out.insert(0, Opt { name, sig, doc });
        }
        _ => unreachable!("every kind is handled"),
    }
    Ok(out)
}

/// XADD's and XTRIM's `MAXLEN|MINID [=|~] threshold [LIMIT count]`, as named options.
fn trim_options(slot: u16) -> Vec<Opt> {
    let mk = |name: &str, strategy: &str, approx: bool, int: bool, doc: &str| {
        let mut sig = Sig::default();
        let _ = write!(sig.body, "self.opt({slot}).token({strategy:?})");
        if approx {
            sig.body.push_str(".token(\"~\")");
        }
        let p = if int { sig.param("threshold", "i64") } else { sig.generic("threshold") };
        let _ = write!(sig.body, ".val({p})");
        Opt { name: name.into(), sig, doc: doc.into() }
    };
    let mut limit = Sig::default();
    let _ = write!(limit.body, "self.opt({}).token(\"LIMIT\")", slot + 1);
    let p = limit.param("count", "i64");
    let _ = write!(limit.body, ".val({p})");
    vec![
        mk(
            "maxlen",
            "MAXLEN",
            false,
            true,
            "`MAXLEN threshold`: trim to exactly this many entries",
        ),
        mk(
            "maxlen_approx",
            "MAXLEN",
            true,
            true,
            "`MAXLEN ~ threshold`: trim to about this many entries (faster)",
        ),
        mk(
            "minid",
            "MINID",
            false,
            false,
            "`MINID threshold`: evict entries with IDs lower than this",
        ),
        mk(
            "minid_approx",
            "MINID",
            true,
            false,
            "`MINID ~ threshold`: evict about the entries with IDs lower than this",
        ),
        Opt {
            name: "limit".into(),
            sig: limit,
            doc: "`LIMIT count`: evict at most this many entries (with an approximate trim)".into(),
        },
    ]
}

/// Generates one command.
pub fn command(ctx: &mut Ctx, cmd: &Command) -> Result<Emitted, String> {
    let mut sig = Sig { float_increment: cmd.name == "ZINCRBY", ..Sig::default() };
    let (top, sub) = match cmd.name.split_once(' ') {
        Some((c, s)) => (c, Some(s)),
        None => (cmd.name.as_str(), None),
    };
    let _ = write!(
        sig.body,
        "Cmd::method(&self.receiver, &table::{}, {top:?})",
        names::table_ident(&cmd.name)
    );
    push_token(&mut sig.body, sub);
    let mut opts: Vec<Opt> = Vec::new();
    let mut demoted = Vec::new();
    let mut seen_optional = false;
    let mut skip_next_numkeys = false;
    let mut trailing_args = false;
    let args = &cmd.args;
    for (i, a) in args.iter().enumerate() {
        let counted = std::mem::take(&mut skip_next_numkeys);
        if a.kind == Kind::Integer
            && (a.name == "numkeys" || a.name == "numfields")
            && args
                .get(i + 1)
                .is_some_and(|n| n.multiple && (n.kind == Kind::Key || n.kind.is_bytes()))
        {
            skip_next_numkeys = true;
            continue;
        }
        if a.name == "trim" && a.kind == Kind::Block {
            opts.extend(trim_options(slot(i)));
            if !a.optional {
                demoted.push("maxlen / maxlen_approx / minid / minid_approx".to_owned());
            }
            seen_optional = true;
            continue;
        }
        // `[member ...]` (GEOPOS, PFADD, PUBSUB NUMSUB): a parameter that may be empty
        // (`()` or an empty slice).
        let may_be_empty = a.optional
            && a.multiple
            && a.token.is_none()
            && (a.kind == Kind::Key || matches!(a.name.as_str(), "member" | "element"));
        if a.optional && !counted && !may_be_empty {
            if a.multiple && a.token.is_none() && a.name == "arg" && i + 1 == args.len() {
                trailing_args = true;
                continue;
            }
            opts.extend(options(ctx, cmd, a, slot(i), false, None)?);
            seen_optional = true;
            continue;
        }
        if seen_optional {
            let _ = write!(sig.body, ".at({})", slot(i));
        }
        if required(ctx, cmd, &mut sig, a, counted)?.is_some() {
            let alts = options(ctx, cmd, a, slot(i), false, None)?;
            demoted.push(alts.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join(" / "));
            opts.extend(alts);
            seen_optional = true;
        }
    }

    let mut seen = BTreeSet::new();
    for o in &mut opts {
        if names::RESERVED.contains(&o.name.as_str()) {
            // A method of `Cmd` itself (CLIENT UNBLOCK's TIMEOUT).
            o.name = format!("with_{}", o.name);
        }
    }
    for o in &opts {
        if !seen.insert(o.name.clone()) {
            return Err(format!("{}: two options named {}", cmd.name, o.name));
        }
    }
    for (c, m) in reply::option_entries() {
        if c == cmd.name && !seen.contains(m) {
            return Err(format!("reply table: {c} has no option {m}"));
        }
    }

    let reply_type = reply::default_type(&cmd.name, cmd.reply.as_ref());
    let marker = (!opts.is_empty()).then(|| names::camel(&cmd.name));
    let o = marker.as_deref().map_or("()".to_owned(), |m| format!("opts::{m}"));
    let name = names::method(&cmd.name);
    let exclusive = EXCLUSIVE.contains(&cmd.name.as_str());

    let mut method = String::new();
    doc_block(&mut method, cmd, "    ");
    if !demoted.is_empty() {
        let _ = writeln!(
            method,
            "    ///\n    /// One option of each of these sets is required: {}.",
            demoted.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join("; ")
        );
    }
    if trailing_args {
        method.push_str(
            "    ///\n    /// The command's further arguments go on with [`Cmd::arg`].\n",
        );
    }
    if let Some(m) = &marker {
        let _ = writeln!(
            method,
            "    ///\n    /// Options: [`opts::{m}`] (`{}`).",
            opts.iter().map(|o| format!(".{}()", o.name)).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(r) = &cmd.replaced_by {
        let note = r.replace('`', "").replace('"', "'");
        let _ = writeln!(method, "    #[deprecated(note = \"use {note}\")]");
    }
    let _ = writeln!(
        method,
        "    pub fn {name}{}(&self, {}) -> R::Built<'_, {reply_type}, {o}> {{\n        R::build(self, {})\n    }}\n",
        sig.generics(),
        sig.params.join(", "),
        sig.body
    );

    let options = marker.as_ref().map(|m| {
        let mut s = String::new();
        let _ = writeln!(s, "/// The options of [`{}`](Commands::{name}).", cmd.name);
        let _ = writeln!(s, "impl<'r, T, R: Receiver> Cmd<'r, T, R, opts::{m}> {{");
        for opt in &opts {
            let repeat = if opt.sig.body.contains("opt_repeat(") {
                "; may be called more than once"
            } else {
                ""
            };
            let _ = writeln!(s, "    /// {}{repeat}.", opt.doc);
            let (ret, tail) = match reply::by_option(&cmd.name, &opt.name) {
                Some(t) => {
                    if t.contains("Conditional") {
                        s.push_str(
                            "    ///\n    /// The reply becomes `bool` (false: not set), or stays the \
                             previous value after `.get()` \
                             ([`Conditional`](crate::commands::Conditional)).\n",
                        );
                    } else {
                        let _ = writeln!(s, "    ///\n    /// The reply becomes `{t}`.");
                    }
                    (format!("Cmd<'r, {t}, R, opts::{m}>"), ".reply()")
                }
                None => ("Self".to_owned(), ""),
            };
            let bound = if ret.contains("Conditional") {
                " where T: crate::commands::Conditional"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "    pub fn {}{}(self, {}) -> {ret}{bound} {{\n        {}{tail}\n    }}\n",
                opt.name,
                opt.sig.generics(),
                opt.sig.params.join(", "),
                opt.sig.body
            );
        }
        s.push_str("}\n\n");
        // The same options on a command queued in a pipeline or transaction: each forwards
        // to the `Cmd` the queued command holds.
        let _ = writeln!(s, "/// The options of [`{}`](Commands::{name}), in a pipeline or transaction.", cmd.name);
        let _ = writeln!(s, "impl<'r, T> Queued<'r, T, opts::{m}> {{");
        for opt in &opts {
            let queued_name = if ctx.command_methods.contains(&opt.name) {
                format!("with_{}", opt.name)
            } else {
                opt.name.clone()
            };
            let _ = writeln!(s, "    /// {}.", opt.doc);
            if queued_name != opt.name {
                let _ = writeln!(
                    s,
                    "    ///\n    /// (`.{}()` on a command sent from a client: in a pipeline, \
                     `.{}(..)` is the next command.)",
                    opt.name, opt.name
                );
            }
            let ret = match reply::by_option(&cmd.name, &opt.name) {
                Some(t) => format!("Queued<'r, {t}, opts::{m}>"),
                None => "Self".to_owned(),
            };
            let bound = if ret.contains("Conditional") {
                " where T: crate::commands::Conditional"
            } else {
                ""
            };
            let names: Vec<&str> =
                opt.sig.params.iter().map(|p| p.split(':').next().unwrap_or(p).trim()).collect();
            let _ = writeln!(
                s,
                "    pub fn {}{}(self, {}) -> {ret}{bound} {{\n        self.map(|c| c.{}({}))\n    }}\n",
                queued_name,
                opt.sig.generics(),
                opt.sig.params.join(", "),
                opt.name,
                names.join(", ")
            );
        }
        s.push_str("}\n\n");
        s
    });
    Ok(Emitted { method, exclusive, options, marker })
}

fn doc_block(out: &mut String, cmd: &Command, indent: &str) {
    let summary = cmd.summary.replace('`', "'");
    let _ = writeln!(out, "{indent}/// {}", escape_doc(&summary));
    let _ = writeln!(
        out,
        "{indent}///\n{indent}/// ```text\n{indent}/// {}\n{indent}/// ```",
        model::syntax(cmd)
    );
    let _ = writeln!(out, "{indent}///");
    let _ = writeln!(out, "{indent}/// - Since: {}", cmd.since);
    if let Some(c) = &cmd.complexity {
        let c = c.replace('\n', " ").replace('`', "'");
        let _ = writeln!(out, "{indent}/// - Complexity: {}", escape_doc(&c));
    }
    let _ = writeln!(out, "{indent}/// - Group: {}", cmd.group);
    if !cmd.acl.is_empty() {
        let _ = writeln!(out, "{indent}/// - ACL categories: {}", cmd.acl.join(", "));
    }
    if let (Some(since), Some(by)) = (&cmd.deprecated_since, &cmd.replaced_by) {
        let by = by.replace('`', "'");
        let _ = writeln!(out, "{indent}/// - Deprecated since {since}: use {}", escape_doc(&by));
    }
}

/// Keeps doc text from being read as links or HTML.
fn escape_doc(s: &str) -> String {
    s.replace('[', "\\[").replace(']', "\\]").replace('<', "&lt;").replace('>', "&gt;")
}
