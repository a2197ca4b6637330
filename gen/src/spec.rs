//! Reading `commands.json` into a checked model of what the table needs.
//!
//! Everything the generator does not know (a flag, hint, group, key-spec type) is an error, so a
//! spec update that brings something new fails loudly instead of being dropped.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// One entry of `commands.json`, reduced to the fields the table uses.
#[derive(Debug, Deserialize)]
struct RawCommand {
    since: String,
    group: String,
    arity: i64,
    #[serde(default)]
    command_flags: Vec<String>,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    key_specs: Vec<RawKeySpec>,
    #[serde(default)]
    doc_flags: Vec<String>,
    #[serde(default)]
    subcommands: Vec<String>,
    function: Option<String>,
    get_keys_function: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawKeySpec {
    begin_search: RawSearch,
    find_keys: RawSearch,
    /// `notes` plus the boolean flags (`"RW": true`, `"access": true`, ...).
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RawSearch {
    #[serde(rename = "type")]
    kind: String,
    spec: Map<String, Value>,
}

/// The command flags the library knows, in the bit order of `CommandFlags`.
pub const COMMAND_FLAGS: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "allow_busy",
    "movablekeys",
];

/// The key-spec flags the library knows, in the bit order of `KeySpecFlags`.
pub const KEY_SPEC_FLAGS: &[&str] = &[
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

/// The boolean tips the library knows, in the bit order of `Tips`.
pub const TIPS: &[&str] = &["nondeterministic_output", "nondeterministic_output_order"];

const GROUPS: &[&str] = &[
    "bitmap",
    "cluster",
    "connection",
    "generic",
    "geo",
    "hash",
    "hyperloglog",
    "list",
    "pubsub",
    "scripting",
    "sentinel",
    "server",
    "set",
    "sorted-set",
    "stream",
    "string",
    "transactions",
];

const REQUEST_POLICIES: &[&str] = &["all_nodes", "all_shards", "multi_shard", "special"];
const RESPONSE_POLICIES: &[&str] = &[
    "one_succeeded",
    "all_succeeded",
    "agg_logical_and",
    "agg_logical_or",
    "agg_min",
    "agg_max",
    "agg_sum",
    "special",
];

/// `get_keys_function` C names and the `GetKeys` variant of each.
const GET_KEYS: &[(&str, &str)] = &[
    ("setGetKeys", "Set"),
    ("bitfieldGetKeys", "Bitfield"),
    ("sortGetKeys", "Sort"),
    ("sortROGetKeys", "SortRo"),
    ("migrateGetKeys", "Migrate"),
    ("georadiusGetKeys", "Georadius"),
    ("xreadGetKeys", "Xread"),
    ("evalGetKeys", "Eval"),
    ("functionGetKeys", "Function"),
    ("lmpopGetKeys", "Lmpop"),
    ("blmpopGetKeys", "Blmpop"),
    ("zmpopGetKeys", "Zmpop"),
    ("sintercardGetKeys", "Sintercard"),
    ("zunionInterDiffGetKeys", "ZunionInterDiff"),
    ("zunionInterDiffStoreGetKeys", "ZunionInterDiffStore"),
];

/// A command as the table stores it; every string is already a Rust path or literal part.
#[derive(Debug)]
pub struct Command {
    /// Full upper-case name.
    pub name: String,
    pub arity: i16,
    /// Flag constant names (`WRITE`), in bit order.
    pub flags: Vec<String>,
    pub key_specs: Vec<KeySpec>,
    pub since: (u8, u8, u8),
    /// `Group` variant.
    pub group: String,
    pub sentinel_only: bool,
    pub deprecated: bool,
    /// `RequestPolicy` variant.
    pub request_policy: String,
    /// `ResponsePolicy` variant.
    pub response_policy: String,
    /// `Tips` constant names, in bit order.
    pub tips: Vec<String>,
    /// `GetKeys` variant.
    pub get_keys: Option<String>,
}

#[derive(Debug)]
pub enum Begin {
    Index(u16),
    Keyword { keyword: String, start_from: i16 },
    Unknown,
}

#[derive(Debug)]
pub enum Find {
    Range { last_key: i16, step: u16, limit: u16 },
    Keynum { keynum_idx: u16, first_key: u16, step: u16 },
    Unknown,
}

#[derive(Debug)]
pub struct KeySpec {
    pub begin: Begin,
    pub find: Find,
    /// `KeySpecFlags` constant names, in bit order.
    pub flags: Vec<String>,
}

/// A name in the lookup table: a callable command, a pure container, or both (`COMMAND`).
#[derive(Debug)]
pub struct Name {
    pub name: String,
    pub callable: bool,
    pub container: bool,
}

/// Everything the emitter needs, sorted by name.
#[derive(Debug)]
pub struct Specs {
    pub commands: Vec<Command>,
    pub names: Vec<Name>,
}

/// Parses and checks `commands.json`.
pub fn parse(json: &str) -> Result<Specs, String> {
    let raw: BTreeMap<String, RawCommand> =
        serde_json::from_str(json).map_err(|e| format!("commands.json: {e}"))?;
    let mut commands = Vec::new();
    let mut names = Vec::new();
    for (name, cmd) in &raw {
        let container = !cmd.subcommands.is_empty();
        let callable = !container || cmd.function.is_some();
        names.push(Name { name: name.clone(), callable, container });
        if callable {
            commands.push(convert(name, cmd).map_err(|e| format!("{name}: {e}"))?);
        }
    }
    Ok(Specs { commands, names })
}

fn convert(name: &str, cmd: &RawCommand) -> Result<Command, String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b"_- ".contains(&b)) {
        return Err("unexpected characters in the name".into());
    }
    let arity = i16::try_from(cmd.arity).map_err(|_| "arity out of range")?;
    let flags = cmd
        .command_flags
        .iter()
        .map(|f| known(f, COMMAND_FLAGS, "command flag"))
        .collect::<Result<Vec<_>, _>>()?;
    let key_specs = cmd.key_specs.iter().map(key_spec).collect::<Result<Vec<_>, _>>()?;
    let mut request_policy = "Default".to_string();
    let mut response_policy = "Default".to_string();
    let mut tips = Vec::new();
    for hint in &cmd.hints {
        if let Some(p) = hint.strip_prefix("request_policy:") {
            known(p, REQUEST_POLICIES, "request policy")?;
            request_policy = camel(p);
        } else if let Some(p) = hint.strip_prefix("response_policy:") {
            known(p, RESPONSE_POLICIES, "response policy")?;
            response_policy = camel(p);
        } else {
            tips.push(known(hint, TIPS, "hint")?);
        }
    }
    known(&cmd.group, GROUPS, "group")?;
    let get_keys = match &cmd.get_keys_function {
        None => None,
        Some(f) => Some(
            GET_KEYS
                .iter()
                .find(|(c, _)| c == f)
                .map(|(_, v)| v.to_string())
                .ok_or_else(|| format!("unknown get_keys_function {f}"))?,
        ),
    };
    for f in &cmd.doc_flags {
        if f != "deprecated" && f != "syscmd" {
            return Err(format!("unknown doc flag {f}"));
        }
    }
    Ok(Command {
        name: name.to_string(),
        arity,
        flags: in_bit_order(flags, COMMAND_FLAGS),
        key_specs,
        since: version(&cmd.since)?,
        group: camel(&cmd.group),
        sentinel_only: cmd.group == "sentinel",
        deprecated: cmd.doc_flags.iter().any(|f| f == "deprecated"),
        request_policy,
        response_policy,
        tips: in_bit_order(tips, TIPS),
        get_keys,
    })
}

fn key_spec(raw: &RawKeySpec) -> Result<KeySpec, String> {
    let spec = &raw.begin_search.spec;
    let begin = match raw.begin_search.kind.as_str() {
        "index" => Begin::Index(int(spec, "index")?),
        "keyword" => Begin::Keyword {
            keyword: spec
                .get("keyword")
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric()))
                .ok_or("keyword begin_search without a plain keyword")?
                .to_string(),
            start_from: int(spec, "startfrom")?,
        },
        "unknown" => Begin::Unknown,
        other => return Err(format!("unknown begin_search type {other}")),
    };
    let spec = &raw.find_keys.spec;
    let find = match raw.find_keys.kind.as_str() {
        "range" => {
            let (last_key, step, limit) =
                (int(spec, "lastkey")?, int(spec, "keystep")?, int(spec, "limit")?);
            if step == 0 || (last_key < 0 && limit > 0 && last_key != -1) {
                return Err("range spec the key-spec algorithm cannot run".into());
            }
            Find::Range { last_key, step, limit }
        }
        "keynum" => {
            let step = int(spec, "keystep")?;
            if step == 0 {
                return Err("keynum spec with keystep 0".into());
            }
            Find::Keynum {
                keynum_idx: int(spec, "keynumidx")?,
                first_key: int(spec, "firstkey")?,
                step,
            }
        }
        "unknown" => Find::Unknown,
        other => return Err(format!("unknown find_keys type {other}")),
    };
    let mut flags = Vec::new();
    for (key, value) in &raw.rest {
        if key == "notes" {
            continue;
        }
        if value != &Value::Bool(true) {
            return Err(format!("key-spec field {key} is not `true`"));
        }
        flags.push(known(key, KEY_SPEC_FLAGS, "key-spec flag")?);
    }
    Ok(KeySpec { begin, find, flags: in_bit_order(flags, KEY_SPEC_FLAGS) })
}

/// Checks that `value` is in `list` and returns its constant name (upper case).
fn known(value: &str, list: &[&str], what: &str) -> Result<String, String> {
    if list.contains(&value) {
        Ok(value.to_ascii_uppercase())
    } else {
        Err(format!("unknown {what} {value:?}"))
    }
}

/// Sorts constant names by the bit order of `list` (whose entries upper-case to them).
fn in_bit_order(mut names: Vec<String>, list: &[&str]) -> Vec<String> {
    names.sort_by_key(|n| list.iter().position(|l| l.eq_ignore_ascii_case(n)));
    names.dedup();
    names
}

/// `sorted-set` → `SortedSet`, `all_shards` → `AllShards`.
fn camel(s: &str) -> String {
    s.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn version(s: &str) -> Result<(u8, u8, u8), String> {
    let parts = s.split('.').map(str::parse::<u8>).collect::<Result<Vec<_>, _>>();
    match parts.as_deref() {
        Ok([a, b, c]) => Ok((*a, *b, *c)),
        _ => Err(format!("bad since version {s:?}")),
    }
}

fn int<T: TryFrom<i64>>(spec: &Map<String, Value>, field: &str) -> Result<T, String> {
    spec.get(field)
        .and_then(Value::as_i64)
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| format!("key spec field {field} missing or out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("sorted-set"), "SortedSet");
        assert_eq!(camel("agg_logical_and"), "AggLogicalAnd");
        assert_eq!(version("7.2.0"), Ok((7, 2, 0)));
        assert!(version("7.2").is_err());
        assert_eq!(
            in_bit_order(vec!["FAST".into(), "WRITE".into()], COMMAND_FLAGS),
            ["WRITE", "FAST"]
        );
    }

    #[test]
    fn rejects_unknown_flag() {
        let json = r#"{"X": {"since": "1.0.0", "group": "string", "arity": 1, "command_flags": ["bogus"]}}"#;
        assert!(parse(json).unwrap_err().contains("bogus"));
    }
}
