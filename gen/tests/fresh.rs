//! Fails when the checked-in `src/commands/table.rs` differs from what the generator produces
//! now (the specs or the generator changed without `cargo run -p gen`).

#[test]
fn checked_in_table_is_fresh() {
    let root = gen::workspace_root();
    let fresh = gen::generate_in(&root).expect("the generator runs");
    let path = root.join(gen::TABLE_PATH);
    let current = std::fs::read_to_string(&path).expect("the table is checked in");
    if current != fresh {
        let line = current.lines().zip(fresh.lines()).position(|(a, b)| a != b);
        panic!(
            "{} is stale (first differing line: {:?}); run `cargo run -p gen`",
            gen::TABLE_PATH,
            line.map(|l| l + 1)
        );
    }
}

#[test]
fn output_is_deterministic() {
    let root = gen::workspace_root();
    assert_eq!(gen::generate_in(&root).unwrap(), gen::generate_in(&root).unwrap());
}
