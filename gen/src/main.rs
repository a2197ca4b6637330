//! `cargo run -p gen` regenerates `src/commands/table.rs`; `-- --check` only checks it is fresh.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: cargo run -p gen [-- --check]");
            return ExitCode::from(2);
        }
    };
    let root = gen::workspace_root();
    let fresh = match gen::generate_in(&root) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("gen: {e}");
            return ExitCode::from(2);
        }
    };
    let path = root.join(gen::TABLE_PATH);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == fresh {
        println!("gen: {} is up to date", gen::TABLE_PATH);
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!("gen: {} is stale; run `cargo run -p gen`", gen::TABLE_PATH);
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(&path, fresh) {
        eprintln!("gen: writing {}: {e}", path.display());
        return ExitCode::from(2);
    }
    println!("gen: wrote {}", gen::TABLE_PATH);
    ExitCode::SUCCESS
}
