//! The command surface cannot silently fall behind the specs: every command and subcommand
//! that a normal server serves has a method of its name in the checked-in generated code.

use std::collections::BTreeSet;

#[test]
fn every_served_command_has_a_method() {
    let root = gen::workspace_root();
    let json = std::fs::read_to_string(root.join(gen::SPECS_PATH)).unwrap();
    let specs: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut source = String::new();
    for entry in std::fs::read_dir(root.join(gen::surface::DIR)).unwrap() {
        source.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    // Command methods take `&self` (options on `Cmd` take `self`).
    let defined: BTreeSet<&str> = source
        .split("pub fn ")
        .skip(1)
        .filter(|rest| rest.split('{').next().is_some_and(|sig| sig.contains("&self")))
        .filter_map(|rest| rest.split(['<', '(']).next())
        .collect();
    let mut missing = Vec::new();
    let mut served = 0;
    for (name, cmd) in specs.as_object().unwrap() {
        if cmd["group"] == "sentinel" || cmd.get("subcommands").is_some() {
            continue;
        }
        served += 1;
        let mut method = name.to_ascii_lowercase().replace([' ', '-'], "_");
        if matches!(method.as_str(), "type" | "move") {
            method.push('_');
        }
        if !defined.contains(method.as_str()) {
            missing.push(name.clone());
        }
    }
    assert!(missing.is_empty(), "commands without a method: {missing:?}");
    // 7.2.6: 226 callable top-level commands and 129 subcommands.
    assert_eq!(served, 355);
}
