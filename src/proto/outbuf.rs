//! The encoded commands of a connection, from the moment they are queued to write until their
//! reply arrives.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::Bytes;

/// Every command on the connection that has not been answered, in order: the front ones
/// written and awaiting replies, the back ones still to write.
///
/// Each command stays the `Bytes` its caller encoded: nothing is copied into a second buffer,
/// and [`slices`](OutBuf::slices) hands as many unwritten ones as fit to one vectored write.
/// A command keeps its bytes until its reply arrives ([`pop_answered`](OutBuf::pop_answered)),
/// so one that must be sent again (a `LOADING` reply, a lost connection and an idempotent
/// command) is still at hand, whole, without having been copied.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    chunks: VecDeque<Bytes>,
    /// Index of the first chunk not written whole.
    next: usize,
    /// Bytes of `chunks[next]` already written.
    partial: usize,
    /// Total bytes ever queued on this connection.
    queued: u64,
    /// Total bytes ever written on this connection.
    written: u64,
}

impl OutBuf {
    /// Queues one encoded command and returns the stream offset just past its last byte.
    pub(crate) fn push(&mut self, bytes: Bytes) -> u64 {
        self.queued += bytes.len() as u64;
        self.chunks.push_back(bytes);
        self.queued
    }

    /// True when everything queued has been written.
    pub(crate) fn is_empty(&self) -> bool {
        self.next == self.chunks.len()
    }

    /// Total bytes written so far: a command whose end offset is at or below this went out whole.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Bytes queued and not yet written.
    #[cfg(test)]
    pub(crate) fn unwritten(&self) -> u64 {
        self.queued - self.written
    }

    /// Appends at most `max` unwritten chunks to `out` for a vectored write; returns their
    /// total length.
    pub(crate) fn slices<'a>(&'a self, out: &mut Vec<IoSlice<'a>>, max: usize) -> usize {
        let mut skip = self.partial;
        let mut total = 0;
        for chunk in self.chunks.range(self.next..).take(max) {
            let slice = &chunk[skip..];
            skip = 0;
            total += slice.len();
            out.push(IoSlice::new(slice));
        }
        total
    }

    /// Records that `n` more bytes were written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.written += n as u64;
        while n > 0 {
            let Some(chunk) = self.chunks.get(self.next) else {
                debug_assert!(false, "advanced past the queued bytes");
                return;
            };
            let left = chunk.len() - self.partial;
            if n >= left {
                n -= left;
                self.next += 1;
                self.partial = 0;
            } else {
                self.partial += n;
                n = 0;
            }
        }
        // Empty commands never come from a CommandBuf, but stay in step if they did.
        while self.chunks.get(self.next).is_some_and(Bytes::is_empty) {
            self.next += 1;
        }
    }

    /// The front command, whose reply just arrived.
    pub(crate) fn pop_answered(&mut self) -> Option<Bytes> {
        let bytes = self.chunks.pop_front()?;
        if self.next > 0 {
            self.next -= 1;
        } else {
            // Answered before it was written whole: the stream is out of step; start over.
            self.partial = 0;
        }
        Some(bytes)
    }

    /// Takes every command not yet answered, intact and in order (the connection is gone);
    /// the offsets count them as written so later commands get fresh offsets.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = Bytes> + '_ {
        self.written = self.queued;
        self.next = 0;
        self.partial = 0;
        self.chunks.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_stay_until_answered() {
        let mut out = OutBuf::default();
        assert_eq!(out.push(Bytes::from_static(b"abc")), 3);
        assert_eq!(out.push(Bytes::from_static(b"defg")), 7);
        {
            let mut io = Vec::new();
            assert_eq!(out.slices(&mut io, 4), 7);
            assert_eq!(io.len(), 2);
            io.clear();
            assert_eq!(out.slices(&mut io, 1), 3, "at most `max` slices");
        }
        out.advance(4);
        assert_eq!(out.written(), 4);
        {
            let mut io = Vec::new();
            assert_eq!(out.slices(&mut io, 4), 3);
            assert_eq!(io.len(), 1);
            assert_eq!(&*io[0], b"efg");
        }
        assert_eq!(out.pop_answered(), Some(Bytes::from_static(b"abc")), "answered, whole");
        assert!(!out.is_empty());
        let back: Vec<Bytes> = out.take_all().collect();
        assert_eq!(
            back,
            [Bytes::from_static(b"defg")],
            "a partly written command comes back whole"
        );
        assert!(out.is_empty());
        assert_eq!(out.push(Bytes::from_static(b"h")), 8);
        out.advance(1);
        assert!(out.is_empty());
        assert_eq!(out.pop_answered(), Some(Bytes::from_static(b"h")));
        assert_eq!(out.pop_answered(), None);
    }
}
