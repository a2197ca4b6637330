//! Default reply types: from the reply schema, or from the table of typed replies where the
//! raw reply is awkward (INFO, TIME, stream entries, scans, ...).

use serde_json::Value;

/// Commands whose default reply type is chosen here rather than read from the schema.
const TYPED: &[(&str, &str)] = &[
    ("SET", "()"),
    ("ZRANGE", "Vec<Bytes>"),
    ("ZRANGEBYSCORE", "Vec<Bytes>"),
    ("ZREVRANGE", "Vec<Bytes>"),
    ("ZREVRANGEBYSCORE", "Vec<Bytes>"),
    ("ZUNION", "Vec<Bytes>"),
    ("ZINTER", "Vec<Bytes>"),
    ("ZDIFF", "Vec<Bytes>"),
    ("LMOVE", "Option<Bytes>"),
    ("PUBSUB NUMSUB", "Vec<(Bytes, i64)>"),
    ("PUBSUB SHARDNUMSUB", "Vec<(Bytes, i64)>"),
    ("CLUSTER INFO", "String"),
    ("CLUSTER NODES", "String"),
    ("PING", "String"),
    ("TYPE", "String"),
    ("ECHO", "Bytes"),
    ("INFO", "crate::replies::Info"),
    ("TIME", "crate::replies::ServerTime"),
    ("CLIENT LIST", "crate::replies::ClientList"),
    ("CLIENT INFO", "crate::replies::ClientInfo"),
    ("CLIENT GETNAME", "Option<String>"),
    ("OBJECT ENCODING", "Option<String>"),
    ("CONFIG GET", "HashMap<String, String>"),
    ("HGETALL", "HashMap<Bytes, Bytes>"),
    ("XRANGE", "Vec<crate::replies::StreamEntry>"),
    ("XREVRANGE", "Vec<crate::replies::StreamEntry>"),
    ("XREAD", "Vec<crate::replies::StreamKeyEntries>"),
    ("XREADGROUP", "Vec<crate::replies::StreamKeyEntries>"),
    ("XAUTOCLAIM", "crate::replies::AutoClaim"),
    ("XCLAIM", "Vec<crate::replies::StreamEntry>"),
    ("XPENDING", "crate::replies::Pending"),
    ("XINFO STREAM", "crate::replies::StreamInfo"),
    ("XINFO GROUPS", "Vec<crate::replies::StreamGroupInfo>"),
    ("XINFO CONSUMERS", "Vec<crate::replies::StreamConsumerInfo>"),
    ("SCAN", "crate::replies::ScanPage<Bytes>"),
    ("SSCAN", "crate::replies::ScanPage<Bytes>"),
    ("HSCAN", "crate::replies::ScanPage<(Bytes, Bytes)>"),
    ("ZSCAN", "crate::replies::ScanPage<(Bytes, f64)>"),
    ("GEOPOS", "Vec<Option<(f64, f64)>>"),
    ("GEOSEARCH", "Vec<crate::replies::GeoMember>"),
    ("GEORADIUS", "Vec<crate::replies::GeoMember>"),
    ("GEORADIUS_RO", "Vec<crate::replies::GeoMember>"),
    ("GEORADIUSBYMEMBER", "Vec<crate::replies::GeoMember>"),
    ("GEORADIUSBYMEMBER_RO", "Vec<crate::replies::GeoMember>"),
    ("GEODIST", "Option<f64>"),
    ("ZPOPMIN", "Vec<(Bytes, f64)>"),
    ("ZPOPMAX", "Vec<(Bytes, f64)>"),
    ("BZPOPMIN", "Option<(Bytes, Bytes, f64)>"),
    ("BZPOPMAX", "Option<(Bytes, Bytes, f64)>"),
    ("ZMPOP", "Option<(Bytes, Vec<(Bytes, f64)>)>"),
    ("BZMPOP", "Option<(Bytes, Vec<(Bytes, f64)>)>"),
    ("LMPOP", "Option<(Bytes, Vec<Bytes>)>"),
    ("BLMPOP", "Option<(Bytes, Vec<Bytes>)>"),
    ("ZRANDMEMBER", "Option<Bytes>"),
    ("HRANDFIELD", "Option<Bytes>"),
    ("SRANDMEMBER", "Option<Bytes>"),
    ("SPOP", "Option<Bytes>"),
    ("LPOP", "Option<Bytes>"),
    ("RPOP", "Option<Bytes>"),
    ("LPOS", "Option<i64>"),
    ("ZRANK", "Option<i64>"),
    ("ZREVRANK", "Option<i64>"),
    ("ZSCORE", "Option<f64>"),
    ("ZINCRBY", "f64"),
    ("ZMSCORE", "Vec<Option<f64>>"),
    ("INCRBYFLOAT", "f64"),
    ("HINCRBYFLOAT", "f64"),
    ("ZADD", "i64"),
    ("SORT", "Vec<Bytes>"),
    ("SORT_RO", "Vec<Bytes>"),
    ("GETEX", "Option<Bytes>"),
    ("SMEMBERS", "Vec<Bytes>"),
    ("SINTER", "Vec<Bytes>"),
    ("SUNION", "Vec<Bytes>"),
    ("SDIFF", "Vec<Bytes>"),
    ("EVAL", "Value"),
    ("LCS", "Value"),
    ("BGSAVE", "String"),
    ("BGREWRITEAOF", "String"),
    ("LASTSAVE", "i64"),
    ("ROLE", "Value"),
];

/// Options that change the reply type: (command, option method, new type). `T` is the
/// command's reply type before the option.
const BY_OPTION: &[(&str, &str, &str)] = &[
    ("SET", "get", "Option<Bytes>"),
    ("SET", "nx", "<T as crate::commands::Conditional>::Reply"),
    ("SET", "xx", "<T as crate::commands::Conditional>::Reply"),
    ("ZRANGE", "withscores", "Vec<(Bytes, f64)>"),
    ("ZRANGEBYSCORE", "withscores", "Vec<(Bytes, f64)>"),
    ("ZREVRANGE", "withscores", "Vec<(Bytes, f64)>"),
    ("ZREVRANGEBYSCORE", "withscores", "Vec<(Bytes, f64)>"),
    ("ZUNION", "withscores", "Vec<(Bytes, f64)>"),
    ("ZINTER", "withscores", "Vec<(Bytes, f64)>"),
    ("ZDIFF", "withscores", "Vec<(Bytes, f64)>"),
    ("ZRANDMEMBER", "count", "Vec<Bytes>"),
    ("ZRANDMEMBER", "count_withscores", "Vec<(Bytes, f64)>"),
    ("HRANDFIELD", "count", "Vec<Bytes>"),
    ("HRANDFIELD", "count_withvalues", "Vec<(Bytes, Bytes)>"),
    ("SRANDMEMBER", "count", "Vec<Bytes>"),
    ("SPOP", "count", "Vec<Bytes>"),
    ("LPOP", "count", "Vec<Bytes>"),
    ("RPOP", "count", "Vec<Bytes>"),
    ("LPOS", "count", "Vec<i64>"),
    ("ZRANK", "withscore", "Option<(i64, f64)>"),
    ("ZREVRANK", "withscore", "Option<(i64, f64)>"),
    ("ZADD", "incr", "Option<f64>"),
    ("ZPOPMIN", "count", "Vec<(Bytes, f64)>"),
    ("XPENDING", "filters", "Vec<crate::replies::PendingEntry>"),
    ("XCLAIM", "justid", "Vec<Bytes>"),
    ("XAUTOCLAIM", "justid", "Value"),
    ("GEORADIUS", "store", "i64"),
    ("GEORADIUS", "storedist", "i64"),
    ("GEORADIUSBYMEMBER", "store", "i64"),
    ("GEORADIUSBYMEMBER", "storedist", "i64"),
    ("SORT", "store", "i64"),
    ("LCS", "len", "i64"),
    ("CLIENT KILL", "old_format", "()"),
];

/// The reply type an option gives, if it changes it.
pub fn by_option(cmd: &str, method: &str) -> Option<&'static str> {
    BY_OPTION.iter().find(|(c, m, _)| *c == cmd && *m == method).map(|(_, _, t)| *t)
}

/// Every (command, option) pair of the table, to check each names a real option.
pub fn option_entries() -> impl Iterator<Item = (&'static str, &'static str)> {
    BY_OPTION.iter().map(|(c, m, _)| (*c, *m))
}

/// The default reply type of a command.
pub fn default_type(name: &str, schema: Option<&Value>) -> String {
    if let Some((_, t)) = TYPED.iter().find(|(c, _)| *c == name) {
        return (*t).to_owned();
    }
    if name.starts_with("EVAL") || name.starts_with("FCALL") {
        return "Value".into();
    }
    schema.map_or_else(|| "Value".into(), of_schema)
}

fn of_schema(s: &Value) -> String {
    if let Some(c) = s.get("const") {
        return match c {
            Value::String(t) if t == "OK" => "()".into(),
            Value::String(_) => "String".into(),
            Value::Number(_) => "i64".into(),
            _ => "Value".into(),
        };
    }
    let alts = s.get("oneOf").or_else(|| s.get("anyOf")).and_then(Value::as_array);
    if let Some(alts) = alts {
        return of_alternatives(alts);
    }
    match s.get("type").and_then(Value::as_str) {
        Some("integer") => "i64".into(),
        Some("string") => "Bytes".into(),
        Some("number") => "f64".into(),
        Some("boolean") => "bool".into(),
        Some("null") => "()".into(),
        Some("array") => match s.get("items") {
            Some(Value::Array(tuple)) if tuple.len() <= 4 && !tuple.is_empty() => {
                let parts: Vec<String> = tuple.iter().map(of_schema).collect();
                if parts.iter().any(|p| p == "Value") {
                    "Value".into()
                } else if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            Some(item @ Value::Object(_)) => match of_schema(item).as_str() {
                "Value" => "Vec<Value>".into(),
                t => format!("Vec<{t}>"),
            },
            _ => "Vec<Value>".into(),
        },
        Some("object") => match s.get("additionalProperties") {
            Some(v @ Value::Object(_)) if of_schema(v) == "Bytes" => "HashMap<Bytes, Bytes>".into(),
            _ => "Value".into(),
        },
        _ => "Value".into(),
    }
}

fn of_alternatives(alts: &[Value]) -> String {
    let nullable = alts.iter().any(|a| a.get("type").and_then(Value::as_str) == Some("null"));
    let rest: Vec<&Value> =
        alts.iter().filter(|a| a.get("type").and_then(Value::as_str) != Some("null")).collect();
    let ints = |v: &&Value| {
        v.get("const").is_some_and(Value::is_number)
            || v.get("type").and_then(Value::as_str) == Some("integer")
    };
    let inner = if rest.len() == 2
        && rest
            .iter()
            .all(|v| v.get("const").and_then(Value::as_i64).is_some_and(|n| n == 0 || n == 1))
    {
        "bool".to_owned()
    } else if !rest.is_empty() && rest.iter().all(ints) {
        "i64".to_owned()
    } else if !rest.is_empty() && rest.iter().all(|v| v.get("const").is_some_and(Value::is_string))
    {
        "String".to_owned()
    } else if rest.len() == 1 {
        of_schema(rest[0])
    } else {
        let types: Vec<String> = rest.iter().map(|v| of_schema(v)).collect();
        if types.windows(2).all(|w| w[0] == w[1]) && !types.is_empty() {
            types[0].clone()
        } else {
            return "Value".into();
        }
    };
    if nullable && inner != "Value" && inner != "()" {
        if inner.starts_with("Vec<") {
            inner
        } else {
            format!("Option<{inner}>")
        }
    } else {
        inner
    }
}
