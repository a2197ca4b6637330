//! Generator of redpoll's command-metadata table.
//!
//! Reads Redis's machine-readable command specs (`gen/specs/commands.json`, vendored) and writes
//! `src/commands/table.rs`: one `static CommandInfo` per command and subcommand, plus the
//! name-lookup hash table. Run it with `cargo run -p gen`; `cargo run -p gen -- --check` exits
//! non-zero when the checked-in table is stale.
//!
//! The output is formatted with `rustfmt` (the workspace's `rustfmt.toml`, edition 2021), so it
//! is exactly what `cargo fmt` would leave; rustfmt must be installed (it is wherever
//! `cargo fmt` works).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod emit;
mod hash;
mod spec;
pub mod surface;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The generator's input, relative to the workspace root.
pub const SPECS_PATH: &str = "gen/specs/commands.json";
/// The generated file, relative to the workspace root.
pub const TABLE_PATH: &str = "src/commands/table.rs";

/// Generates the formatted table module from the text of `commands.json`.
///
/// # Errors
///
/// The JSON does not parse, holds a flag, hint, group or key-spec type the library does not
/// know, or rustfmt cannot be run.
pub fn generate(specs_json: &str, root: &Path) -> Result<String, String> {
    let specs = spec::parse(specs_json)?;
    let raw = emit::render(&specs)?;
    rustfmt(&raw, &root.join("rustfmt.toml"))
}

/// Reads the vendored specs under `root` and generates the table module.
///
/// # Errors
///
/// As [`generate`], or the specs cannot be read.
pub fn generate_in(root: &Path) -> Result<String, String> {
    let path = root.join(SPECS_PATH);
    let json =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    generate(&json, root)
}

/// Every generated file under `root`: the table and the command surface, as (path relative to
/// the root, formatted text).
///
/// # Errors
///
/// As [`generate`].
pub fn generate_all(root: &Path) -> Result<Vec<(String, String)>, String> {
    let path = root.join(SPECS_PATH);
    let json =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut files = vec![(TABLE_PATH.to_owned(), generate(&json, root)?)];
    let (surface, _) = surface::render(&json, &emit::header("The command surface"))?;
    let config = root.join("rustfmt.toml");
    for (path, text) in surface {
        let formatted = rustfmt(&text, &config).map_err(|e| format!("{path}: {e}"))?;
        files.push((path, formatted));
    }
    Ok(files)
}

/// Generated files in the surface's directory that the generator no longer writes.
pub fn stale_files(root: &Path, files: &[(String, String)]) -> Vec<String> {
    let dir = root.join(surface::DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut stale: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| format!("{}/{}", surface::DIR, e.file_name().to_string_lossy()))
        .filter(|p| !files.iter().any(|(f, _)| f == p))
        .collect();
    stale.sort();
    stale
}

/// Formats Rust source with rustfmt (`$RUSTFMT`, else `rustfmt` on `PATH`).
fn rustfmt(source: &str, config: &Path) -> Result<String, String> {
    let program = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(&program)
        .args(["--edition", "2021", "--emit", "stdout", "--config-path"])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run rustfmt ({e}); install it with `rustup component add rustfmt`")
        })?;
    let mut stdin = child.stdin.take().ok_or("rustfmt has no stdin")?;
    let input = source.to_owned();
    // Write from another thread: rustfmt may fill its stdout pipe before reading all input.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| format!("rustfmt: {e}"))?;
    writer.join().map_err(|_| "rustfmt writer panicked")?.map_err(|e| format!("rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!("rustfmt failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt output: {e}"))
}
