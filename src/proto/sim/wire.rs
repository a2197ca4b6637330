//! Small pieces of the simulated server's wire: where received bytes came from, RESP2
//! encoding, common replies, argument parsing, and printable bytes for traces.

use std::collections::VecDeque;

use super::server::{Seg, Tag};
use crate::error::ServerError;
use crate::resp::{encode_value, Value};

/// The request whose bytes `[start, start + len)` of the stream are, checking that they are
/// one command's bytes from its first to its last, in order, with nothing mixed in.
pub(super) fn owner(
    segs: &mut VecDeque<(u64, Seg)>,
    start: u64,
    len: usize,
    id: u64,
) -> Result<Tag, String> {
    let end = start + len as u64;
    let mut tag = None;
    let mut expect_off = 0;
    while let Some(&(at, s)) = segs.front() {
        if at >= end {
            break;
        }
        let seg_end = at + s.len as u64;
        if at < start || seg_end > end {
            return Err(format!(
                "conn {id}: bytes of {:?} straddle a command boundary at stream offset {start}..{end}",
                s.tag
            ));
        }
        if tag.is_some_and(|t| t != s.tag) || s.off != expect_off {
            return Err(format!(
                "conn {id}: the command at stream offset {start} mixes {:?} (offset {}) into {tag:?} (expected offset {expect_off})",
                s.tag, s.off
            ));
        }
        tag = Some(s.tag);
        expect_off += s.len;
        segs.pop_front();
    }
    tag.filter(|_| expect_off == len)
        .ok_or_else(|| format!("conn {id}: no provenance for the command at stream offset {start}"))
}

/// RESP2 encoding: nil is `$-1`, maps flatten to arrays.
pub(super) fn encode2(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Nil => out.extend_from_slice(b"$-1\r\n"),
        Value::Array(items) => {
            out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
            items.iter().for_each(|i| encode2(i, out));
        }
        Value::Map(pairs) => {
            out.extend_from_slice(format!("*{}\r\n", pairs.len() * 2).as_bytes());
            for (k, v) in pairs {
                encode2(k, out);
                encode2(v, out);
            }
        }
        other => encode_value(other, out),
    }
}

pub(super) fn ok() -> Value {
    Value::SimpleString("OK".into())
}

pub(super) fn err(line: &str) -> Value {
    Value::Error(ServerError::new(line))
}

pub(super) fn wrongtype() -> Value {
    err("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// A BLPOP timeout in seconds (decimal), as milliseconds.
pub(super) fn parse_ms(arg: &[u8]) -> Option<u64> {
    let secs: f64 = std::str::from_utf8(arg).ok()?.parse().ok()?;
    (secs >= 0.0 && secs.is_finite()).then(|| (secs * 1000.0).round() as u64)
}

/// External subscribers of a channel: a fixed function of its name.
pub(super) fn subscribers(channel: &[u8]) -> i64 {
    i64::from(channel.iter().fold(0u8, |a, &b| a.wrapping_add(b)) % 3)
}

/// Printable form of a byte string, for traces.
pub(super) fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n")
}
