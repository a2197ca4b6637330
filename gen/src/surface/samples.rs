//! A sample call of every command that has keys, built from its argument tree, for the test
//! that compares the key prefix with the server's `COMMAND GETKEYS`.

use std::fmt::Write;

use super::model::{Arg, Command, Kind};

/// Sample argument lists: the required arguments, and a second call with every optional
/// argument that holds a key as well.
fn calls(cmd: &Command) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for with_optional_keys in [false, true] {
        let mut args: Vec<String> = cmd.name.split(' ').map(str::to_owned).collect();
        let mut keys = 0;
        let mut i = 0;
        while i < cmd.args.len() {
            let a = &cmd.args[i];
            // numkeys followed by the keys: one key.
            if a.kind == Kind::Integer && a.name == "numkeys" {
                args.push("1".into());
                i += 1;
                if let Some(k) = cmd.args.get(i) {
                    push(&mut args, &mut keys, &Arg { optional: false, ..k.clone() }, false);
                    i += 1;
                }
                continue;
            }
            if !a.optional || (with_optional_keys && has_key(a)) {
                push(&mut args, &mut keys, a, with_optional_keys);
            }
            i += 1;
        }
        if !out.contains(&args) {
            out.push(args);
        }
    }
    out
}

fn has_key(a: &Arg) -> bool {
    a.kind == Kind::Key || a.children.iter().any(has_key)
}

fn push(args: &mut Vec<String>, keys: &mut usize, a: &Arg, empty_key: bool) {
    if let Some(t) = &a.token {
        if a.kind != Kind::PureToken {
            args.push(t.clone());
        }
    }
    match a.kind {
        Kind::Key => {
            *keys += 1;
            args.push(format!("key{keys}"));
        }
        Kind::String => args.push("s".into()),
        Kind::Pattern => args.push("p*".into()),
        Kind::Integer => args.push("1".into()),
        Kind::Double => args.push("1.5".into()),
        Kind::UnixTime => args.push("100".into()),
        Kind::PureToken => args.push(a.token.clone().unwrap_or_default()),
        Kind::Oneof => {
            // The first alternative that holds a key, else the first; MIGRATE's `""` when
            // its keys come after KEYS.
            let empty = a.children.iter().find(|c| empty_key && c.token.as_deref() == Some(""));
            let child = empty.or(a.children.iter().find(|c| has_key(c))).or(a.children.first());
            if let Some(c) = child {
                push(args, keys, &Arg { optional: false, ..c.clone() }, empty_key);
            }
        }
        Kind::Block => {
            for c in a.children.iter().filter(|c| !c.optional || has_key(c)) {
                push(args, keys, c, empty_key);
            }
        }
    }
}

/// `src/commands/samples.rs`: `SAMPLES`, (command, argument lists) for every command with
/// keys in its argument tree.
pub fn render(header: &str, commands: &[Command]) -> String {
    let mut s = String::from(header);
    s.push_str(
        "\n//! A sample call of every command whose arguments hold keys (test data for the key \
         prefix against `COMMAND GETKEYS`).\n\n\
         /// (command, sample calls).\npub(crate) static SAMPLES: &[(&str, &[&[&str]])] = &[\n",
    );
    for cmd in commands.iter().filter(|c| c.args.iter().any(has_key)) {
        let _ = write!(s, "({:?}, &[", cmd.name);
        for call in calls(cmd) {
            let _ = write!(s, "&{call:?},");
        }
        s.push_str("]),\n");
    }
    s.push_str("];\n");
    s
}
