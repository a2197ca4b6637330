//! Fails when a checked-in generated file (`src/commands/table.rs`, the command surface in
//! `src/commands/generated/`) differs from what the generator produces now (the specs or the
//! generator changed without `cargo run -p gen`), or when a file there is no longer generated.

#[test]
fn checked_in_files_are_fresh() {
    let root = gen::workspace_root();
    let files = gen::generate_all(&root).expect("the generator runs");
    let mut stale = Vec::new();
    for (path, fresh) in &files {
        let current = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        if &current != fresh {
            let line = current.lines().zip(fresh.lines()).position(|(a, b)| a != b);
            stale.push(format!("{path} (first differing line: {:?})", line.map(|l| l + 1)));
        }
    }
    stale.extend(
        gen::stale_files(&root, &files).into_iter().map(|p| format!("{p} (not generated)")),
    );
    assert!(stale.is_empty(), "stale: {stale:?}; run `cargo run -p gen`");
}

#[test]
fn output_is_deterministic() {
    let root = gen::workspace_root();
    assert_eq!(gen::generate_all(&root).unwrap(), gen::generate_all(&root).unwrap());
}
