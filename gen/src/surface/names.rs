//! Rust names for commands, arguments, options and enums.

/// Rust keywords an argument or method name must not be.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "try", "typeof", "unsized", "virtual", "yield",
];

/// Methods of `Cmd` itself, which no generated option may be named.
pub const RESERVED: &[&str] = &[
    "arg",
    "val",
    "key",
    "decode",
    "timeout",
    "idempotent",
    "send",
    "wait",
    "no_prefix",
    "reply",
    "token",
    "counted",
    "at",
    "opt",
    "opt_repeat",
    "method",
    "new",
    "connect",
    "finalize",
    "order",
    "mark_slot",
    "into_future",
    "with_parts",
    "prepare",
    "on_timeout",
    "send_on",
    "receiver_for_tests",
];

/// Option names spelt as words where the token runs them together.
const TOKEN_NAMES: &[(&str, &str)] = &[
    ("BYSCORE", "by_score"),
    ("BYLEX", "by_lex"),
    ("FROMMEMBER", "from_member"),
    ("FROMLONLAT", "from_lonlat"),
    ("BYRADIUS", "by_radius"),
    ("BYBOX", "by_box"),
    ("LIB-NAME", "lib_name"),
    ("LIB-VER", "lib_ver"),
];

/// `CLIENT SETNAME` → `client_setname`, `RESTORE-ASKING` → `restore_asking`, `TYPE` → `type_`.
pub fn method(command: &str) -> String {
    escape(command.to_ascii_lowercase().replace([' ', '-', '.'], "_"))
}

/// `unix-time-seconds` → `unix_time_seconds`.
pub fn snake(name: &str) -> String {
    escape(name.to_ascii_lowercase().replace(['-', ' ', '.'], "_"))
}

/// The option method for a token (`EX` → `ex`, `BYSCORE` → `by_score`), or `None` for a
/// token that is not a word (`*`, `~`, `""`).
pub fn token(token: &str) -> Option<String> {
    if let Some((_, n)) = TOKEN_NAMES.iter().find(|(t, _)| *t == token) {
        return Some((*n).to_owned());
    }
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    if token.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(snake(token))
}

fn escape(s: String) -> String {
    if KEYWORDS.contains(&s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

/// `sorted-set` → `SortedSet`, `unix-time` → `UnixTime`.
pub fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The constant in `table.rs`: `CLIENT SETNAME` → `CLIENT_SETNAME`.
pub fn table_ident(command: &str) -> String {
    command.replace([' ', '-'], "_")
}

/// Enum names for common alternative sets, by their sorted tokens.
pub const ENUM_NAMES: &[(&str, &str)] = &[
    ("LEFT RIGHT", "Side"),
    ("AFTER BEFORE", "Pivot"),
    ("FT KM M MI", "GeoUnit"),
    ("ASC DESC", "SortOrder"),
    ("MAX MIN", "MinMax"),
    ("AND NOT OR XOR", "BitOp"),
    ("NO YES", "YesNo"),
    ("MAX MIN SUM", "Aggregate"),
    ("BIT BYTE", "BitUnit"),
    ("MASTER NORMAL PUBSUB REPLICA SLAVE", "ClientType"),
    ("MASTER NORMAL PUBSUB REPLICA", "ClientKind"),
    ("ASYNC SYNC", "FlushMode"),
    ("OFF ON", "OnOff"),
    ("FAIL SAT WRAP", "Overflow"),
    ("OFF ON SKIP", "ReplyMode"),
    ("NO SYNC YES", "ScriptDebugMode"),
];
