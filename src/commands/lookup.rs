//! Finding a command's [`CommandInfo`] from its arguments, without allocating.
//!
//! # Design
//!
//! This runs for every command, so it is a generated open-addressing hash table rather than a
//! binary search over sorted names: the name is hashed eight bytes at a time with ASCII case
//! folded (`& 0xDF` per byte, so no upper-cased copy is needed), one slot of a 1024-entry `u16`
//! table (2 KiB) is read, and one case-insensitive comparison confirms the hit. The generator
//! picks the hash seed that minimises the longest probe sequence over all 392 names (3; 331
//! names sit in their home slot). A binary search needs ~8 string comparisons with
//! unpredictable branches: `benches/commands.rs` measures both, ~5 ns per top-level lookup
//! here against ~75 ns for the binary search (2 shared cores, loaded). A container (`CLIENT`) continues the same hash with the subcommand
//! name, so `CLIENT SETNAME` is a second probe in the same table. Names longer than the longest
//! known name are rejected before hashing, so a hostile 1 MB argument costs nothing.

use super::info::CommandInfo;
use super::table;

/// One name of the lookup table: a command, a container, or both (`COMMAND`).
#[derive(Debug)]
pub(crate) struct Entry {
    /// Full upper-case name (`"CLIENT SETNAME"`).
    pub(crate) name: &'static str,
    /// The command, `None` for a pure container (`CLIENT` alone is not callable).
    pub(crate) info: Option<&'static CommandInfo>,
    /// True when the name has subcommands.
    pub(crate) container: bool,
}

/// Multiplier of the hash (the 64-bit golden ratio). Must match `gen/src/hash.rs`.
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
/// Clears bit 5 of every byte: ASCII letters hash as upper case.
const CASE: u64 = 0xDFDF_DFDF_DFDF_DFDF;

/// Folds `bytes` into `h`, eight at a time. Must match `gen/src/hash.rs`.
#[inline]
fn hash(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ (u64::from_le_bytes(word) & CASE)).wrapping_mul(MUL);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Byte by byte: a variable-length copy into a buffer would call memcpy (measured:
        // it doubled the lookup time of short names).
        let word = rest.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        h = (h ^ (word & CASE)).wrapping_mul(MUL);
    }
    h
}

/// Probes the slots for hash `h` until `matches` accepts an entry or an empty slot ends the run.
#[inline]
fn probe(h: u64, matches: impl Fn(&[u8]) -> bool) -> Option<&'static Entry> {
    let mask = table::SLOTS.len() - 1;
    let mut slot = (h >> (64 - table::SLOT_BITS)) as usize;
    for _ in 0..table::MAX_PROBES {
        let index = usize::from(table::SLOTS[slot]);
        let entry = table::ENTRIES.get(index.checked_sub(1)?)?;
        if matches(entry.name.as_bytes()) {
            return Some(entry);
        }
        slot = (slot + 1) & mask;
    }
    None
}

/// Finds the command that `args` (argv: command name first) would run: case-insensitive, and
/// for a container (`CLIENT`, `CONFIG`, `XINFO`, ...) the subcommand named by `args[1]`.
///
/// Returns `None` for an unknown command, an unknown subcommand, and a container given
/// without a subcommand (except `COMMAND`, which is callable alone). Sentinel-only commands
/// (`SENTINEL ...`) are found too; see [`CommandInfo::sentinel_only`]. Never allocates.
///
/// # Examples
///
/// ```
/// use redpoll::commands::lookup;
/// assert_eq!(lookup(&["get", "k"]).unwrap().name, "GET");
/// assert_eq!(lookup(&[&b"client"[..], b"SetName", b"app"]).unwrap().name, "CLIENT SETNAME");
/// assert_eq!(lookup(&["COMMAND"]).unwrap().name, "COMMAND");
/// assert!(lookup(&["CLIENT"]).is_none());
/// assert!(lookup(&["NOSUCHCOMMAND"]).is_none());
/// ```
pub fn lookup<A: AsRef<[u8]>>(args: &[A]) -> Option<&'static CommandInfo> {
    let name = args.first()?.as_ref();
    if name.len() > table::MAX_NAME_LEN {
        return None;
    }
    let h = hash(table::HASH_SEED, name);
    let entry = probe(h, |candidate| candidate.eq_ignore_ascii_case(name))?;
    if !entry.container {
        return entry.info;
    }
    let Some(sub) = args.get(1) else {
        return entry.info;
    };
    let sub = sub.as_ref();
    if sub.len() > table::MAX_SUB_LEN {
        return None;
    }
    probe(hash(h, sub), |candidate| {
        candidate.len() == name.len() + 1 + sub.len()
            && candidate[name.len()] == b' '
            && candidate[..name.len()].eq_ignore_ascii_case(name)
            && candidate[name.len() + 1..].eq_ignore_ascii_case(sub)
    })?
    .info
}

/// Every command and subcommand of the table (pure containers excluded), sorted by name.
///
/// # Examples
///
/// ```
/// let all: Vec<_> = redpoll::commands::all().collect();
/// assert!(all.iter().any(|c| c.name == "CLIENT SETNAME"));
/// assert!(all.iter().all(|c| c.name != "CLIENT"));
/// ```
pub fn all() -> impl Iterator<Item = &'static CommandInfo> {
    table::ENTRIES.iter().filter_map(|e| e.info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_any_case() {
        for name in ["GET", "get", "Get", "gEt"] {
            let info = lookup(&[name, "k"]).expect(name);
            assert_eq!(info.name, "GET");
            assert!(std::ptr::eq(info, &table::GET));
        }
    }

    #[test]
    fn subcommands() {
        for args in
            [["CLIENT", "SETNAME", "x"], ["client", "setname", "x"], ["Client", "SetName", "x"]]
        {
            assert_eq!(lookup(&args).unwrap().name, "CLIENT SETNAME");
        }
        assert_eq!(lookup(&["object", "encoding", "k"]).unwrap().name, "OBJECT ENCODING");
        assert_eq!(lookup(&["COMMAND", "getkeys", "get", "k"]).unwrap().name, "COMMAND GETKEYS");
        assert_eq!(lookup(&["sentinel", "masters"]).unwrap().name, "SENTINEL MASTERS");
        assert!(lookup(&["sentinel", "masters"]).unwrap().sentinel_only);
        assert_eq!(
            lookup(&["CLUSTER", "count-failure-reports", "id"]).unwrap().name,
            "CLUSTER COUNT-FAILURE-REPORTS"
        );
    }

    #[test]
    fn unknown() {
        let none: &[&str] = &[];
        assert!(lookup(none).is_none());
        assert!(lookup(&["NOSUCH"]).is_none());
        assert!(lookup(&[""]).is_none());
        assert!(lookup(&["GE"]).is_none());
        assert!(lookup(&["GETT"]).is_none());
        assert!(lookup(&["CLIENT"]).is_none(), "a container alone is not a command");
        assert!(lookup(&["CLIENT", "NOSUCH"]).is_none());
        assert!(lookup(&["CLIENT", "SETNAMEX"]).is_none());
        assert!(lookup(&["COMMAND", "NOSUCH"]).is_none());
        assert!(lookup(&["GET\0"]).is_none());
        assert!(lookup(&["G\u{c9}T"]).is_none(), "only ASCII case is folded");
        let long = vec![b'A'; 1 << 20];
        assert!(lookup(&[&long[..]]).is_none());
        assert!(lookup(&[&b"CLIENT"[..], &long[..]]).is_none());
    }

    /// Every name resolves to itself: catches a drift between this hash and the generator's.
    #[test]
    fn every_name_resolves() {
        for entry in table::ENTRIES.iter() {
            let args: Vec<&str> = entry.name.splitn(2, ' ').collect();
            let lower: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
            match entry.info {
                Some(info) => {
                    assert!(std::ptr::eq(lookup(&args).unwrap(), info), "{}", entry.name);
                    assert!(std::ptr::eq(lookup(&lower).unwrap(), info), "{}", entry.name);
                }
                None => assert!(lookup(&args).is_none(), "{}", entry.name),
            }
        }
        assert_eq!(table::ENTRIES.len(), 392);
        assert_eq!(all().count(), 392 - 15);
    }
}
