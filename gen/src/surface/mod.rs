//! The command surface: one method per served command, in `src/commands/generated/`.
//!
//! Each command group gets a file (split in parts when it would pass ~700 lines), holding
//! its methods in `impl<R: Receiver> Commands<R>` (or `impl<R: Exclusive>` for the commands
//! that change the connection's state) and its typed options in `impl Cmd<.., opts::X>`;
//! `opts.rs` has the option markers, `args.rs` the enums of alternative tokens, `mod.rs`
//! ties them together.

mod emit;
mod model;
mod names;
mod reply;
mod samples;

use std::collections::BTreeMap;
use std::fmt::Write;

/// The directory of the generated files, relative to the workspace root.
pub const DIR: &str = "src/commands/generated";

/// The sample calls for the prefix test, relative to the workspace root.
pub const SAMPLES: &str = "src/commands/samples.rs";

/// Lines a generated file may reach before the group is split.
const MAX_LINES: usize = 700;

/// The group's file name: `sorted-set` → `sorted_sets`.
fn file_of(group: &str) -> &'static str {
    match group {
        "string" => "strings",
        "generic" => "keys",
        "hash" => "hashes",
        "list" => "lists",
        "set" => "sets",
        "sorted-set" => "sorted_sets",
        "stream" => "streams",
        "geo" => "geo",
        "bitmap" => "bitmaps",
        "hyperloglog" => "hyperloglog",
        "scripting" => "scripting",
        "server" => "server",
        "connection" => "connection",
        "cluster" => "cluster",
        "pubsub" => "pubsub",
        "transactions" => "transactions",
        _ => "other",
    }
}

/// Every generated file (path relative to the root, unformatted text), and the number of
/// methods.
pub fn render(json: &str, header: &str) -> Result<(Vec<(String, String)>, usize), String> {
    let commands = model::parse(json)?;
    let mut ctx = emit::Ctx {
        command_methods: commands.iter().map(|c| names::method(&c.name)).collect(),
        ..emit::Ctx::default()
    };
    let mut groups: BTreeMap<&'static str, Vec<emit::Emitted>> = BTreeMap::new();
    let mut markers = Vec::new();
    for cmd in &commands {
        let e = emit::command(&mut ctx, cmd)?;
        if let Some(m) = &e.marker {
            markers.push((m.clone(), cmd.name.clone(), names::method(&cmd.name)));
        }
        groups.entry(file_of(&cmd.group)).or_default().push(e);
    }
    let count = commands.len();
    let mut files = Vec::new();
    let mut modules = Vec::new();
    for (group, emitted) in groups {
        let parts = split(emitted);
        let many = parts.len() > 1;
        for (n, part) in parts.into_iter().enumerate() {
            let module = if many { format!("{group}_{}", n + 1) } else { group.to_owned() };
            files.push((format!("{DIR}/{module}.rs"), group_file(header, group, &part)));
            modules.push(module);
        }
    }
    files.push((format!("{DIR}/opts.rs"), opts_file(header, &markers)));
    files.push((format!("{DIR}/args.rs"), args_file(header, &ctx)));
    files.push((format!("{DIR}/mod.rs"), mod_file(header, &modules, count)));
    files.push((SAMPLES.to_owned(), samples::render(header, &commands)));
    Ok((files, count))
}

fn lines(e: &emit::Emitted) -> usize {
    e.method.lines().count() + e.options.as_ref().map_or(0, |o| o.lines().count())
}

/// The commands of a group in runs that each stay under the line budget.
fn split(emitted: Vec<emit::Emitted>) -> Vec<Vec<emit::Emitted>> {
    let total: usize = emitted.iter().map(lines).sum();
    let parts = total.div_ceil(MAX_LINES).max(1);
    let target = total.div_ceil(parts);
    let mut out: Vec<Vec<emit::Emitted>> = vec![Vec::new()];
    let mut size = 0;
    for e in emitted {
        let n = lines(&e);
        if size + n > target && size > 0 && out.len() < parts {
            out.push(Vec::new());
            size = 0;
        }
        size += n;
        if let Some(v) = out.last_mut() {
            v.push(e);
        }
    }
    out
}

fn group_file(header: &str, group: &str, part: &[emit::Emitted]) -> String {
    let mut s = String::from(header);
    let _ = writeln!(s, "\n//! Commands of the `{group}` group.\n");
    s.push_str(
        "#![allow(unused_imports, reason = \"each group file imports the same set\")]\n\
         #![allow(clippy::type_complexity, reason = \"reply types are spelt out where the reader looks\")]\n\n\
         use std::collections::HashMap;\n\n\
         use bytes::Bytes;\n\n\
         use super::{args, opts};\n\
         use crate::commands::surface::{Commands, Exclusive, Receiver};\n\
         use crate::commands::table;\n\
         use crate::handle::Cmd;\n\
         use crate::pipeline::Queued;\n\
         use crate::resp::{ToArg, Value};\n\n",
    );
    for (exclusive, bound) in [(false, "Receiver"), (true, "Exclusive")] {
        let methods: Vec<&emit::Emitted> =
            part.iter().filter(|e| e.exclusive == exclusive).collect();
        if methods.is_empty() {
            continue;
        }
        if exclusive {
            s.push_str(
                "/// Commands that change the state of the connection they run on: only for \
                 receivers whose connection has one owner ([`Exclusive`]).\n",
            );
        }
        let _ = writeln!(s, "impl<R: {bound}> Commands<R> {{");
        for e in methods {
            s.push_str(&e.method);
        }
        s.push_str("}\n\n");
    }
    for e in part {
        if let Some(o) = &e.options {
            s.push_str(o);
        }
    }
    s
}

fn opts_file(header: &str, markers: &[(String, String, String)]) -> String {
    let mut s = String::from(header);
    s.push_str(
        "\n//! Option markers: `Cmd<'_, T, R, opts::Set>` offers the options of SET. They are \
         never constructed.\n\n",
    );
    for (m, cmd, method) in markers {
        let _ = writeln!(
            s,
            "/// Names the options of `{cmd}`: see the methods of `Cmd<'_, T, R, opts::{m}>` \
             (after [`Commands::{method}`](crate::commands::Commands::{method})).\n\
             #[derive(Debug)]\npub enum {m} {{}}\n"
        );
    }
    s
}

fn args_file(header: &str, ctx: &emit::Ctx) -> String {
    let mut s = String::from(header);
    s.push_str(
        "\n//! Enums for arguments that are one of a few keywords (`LEFT | RIGHT`, units, ...).\n\n\
         use crate::resp::{CommandBuf, ToArg};\n\n",
    );
    for def in ctx.enums.values() {
        let used: Vec<&str> = def.used_by.iter().map(String::as_str).collect();
        let _ = writeln!(
            s,
            "/// One of `{}`, for {}.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum {} {{",
            def.tokens.join(" | "),
            used.join(", "),
            def.name
        );
        for t in &def.tokens {
            let _ = writeln!(s, "    /// `{t}`\n    {},", names::camel(t));
        }
        s.push_str("}\n\n");
        let _ = writeln!(
            s,
            "impl {} {{\n    /// The keyword as sent.\n    pub fn as_str(self) -> &'static str {{\n        match self {{",
            def.name
        );
        for t in &def.tokens {
            let _ = writeln!(s, "            {}::{} => {t:?},", def.name, names::camel(t));
        }
        s.push_str("        }\n    }\n}\n\n");
        let _ = writeln!(
            s,
            "impl ToArg for {} {{\n    fn write_args(&self, out: &mut CommandBuf) {{\n        \
             out.push(self.as_str().as_bytes());\n    }}\n}}\n",
            def.name
        );
    }
    s
}

fn mod_file(header: &str, modules: &[String], count: usize) -> String {
    let mut s = String::from(header);
    let _ = writeln!(
        s,
        "\n//! The generated command surface: {count} methods, one per command and subcommand \
         that a Redis 7.2.6 server serves (containers and the Sentinel-only group left out).\n"
    );
    let _ = writeln!(
        s,
        "/// How many command methods are generated.\npub const COUNT: usize = {count};\n"
    );
    s.push_str("pub mod args;\npub mod opts;\n\n");
    for m in modules {
        let _ = writeln!(s, "mod {m};");
    }
    s
}

/// (command, method name) of every generated method, for the coverage test.
pub fn methods(json: &str) -> Result<Vec<(String, String)>, String> {
    Ok(model::parse(json)?.iter().map(|c| (c.name.clone(), names::method(&c.name))).collect())
}
