//! `cargo run -p gen` regenerates `src/commands/table.rs` and the command surface in
//! `src/commands/generated/`; `-- --check` only checks they are fresh.

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
    let files = match gen::generate_all(&root) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("gen: {e}");
            return ExitCode::from(2);
        }
    };
    let stale = gen::stale_files(&root, &files);
    let mut changed = 0;
    for (path, fresh) in &files {
        let full = root.join(path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if &current == fresh {
            continue;
        }
        changed += 1;
        if check {
            eprintln!("gen: {path} is stale; run `cargo run -p gen`");
            continue;
        }
        if let Some(dir) = full.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(&full, fresh) {
            eprintln!("gen: writing {path}: {e}");
            return ExitCode::from(2);
        }
        println!("gen: wrote {path}");
    }
    for path in &stale {
        changed += 1;
        if check {
            eprintln!("gen: {path} is no longer generated; run `cargo run -p gen`");
        } else if let Err(e) = std::fs::remove_file(root.join(path)) {
            eprintln!("gen: removing {path}: {e}");
            return ExitCode::from(2);
        } else {
            println!("gen: removed {path}");
        }
    }
    if changed == 0 {
        println!("gen: {} files up to date", files.len());
    } else if check {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
