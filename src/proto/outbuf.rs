//! The encoded commands of a connection, from the moment they are queued to write until their
//! reply arrives.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::Bytes;

/// One encoded command: usually one buffer; a command with large shared arguments
/// (`CommandBuf::push_bytes`) is several chunks that concatenate to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Encoded {
    One(Bytes),
    /// At least two chunks.
    Chunks(Vec<Bytes>),
}

impl From<Bytes> for Encoded {
    fn from(bytes: Bytes) -> Self {
        Encoded::One(bytes)
    }
}

impl Encoded {
    /// The chunks, in order.
    pub(crate) fn chunks(&self) -> &[Bytes] {
        match self {
            Encoded::One(bytes) => std::slice::from_ref(bytes),
            Encoded::Chunks(chunks) => chunks,
        }
    }

    /// The command's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.chunks().iter().map(Bytes::len).sum()
    }

    /// The command as one buffer (a copy only when it is in chunks).
    pub(crate) fn concat(self) -> Bytes {
        match self {
            Encoded::One(bytes) => bytes,
            Encoded::Chunks(chunks) => chunks.concat().into(),
        }
    }
}

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
    /// Each chunk, and whether it is the last of its command.
    chunks: VecDeque<(Bytes, bool)>,
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
    /// Gives back storage beyond `keep` chunks a burst left behind (only when empty).
    pub(crate) fn shrink_idle(&mut self, keep: usize) {
        if self.chunks.is_empty() {
            self.chunks.shrink_to(keep);
        }
    }

    /// Chunks the storage holds without reallocating.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.chunks.capacity()
    }

    /// Queues one encoded command and returns the stream offset just past its last byte.
    #[inline]
    pub(crate) fn push(&mut self, command: Encoded) -> u64 {
        match command {
            Encoded::One(bytes) => self.push_chunk(bytes, true),
            Encoded::Chunks(chunks) => {
                let last = chunks.len().saturating_sub(1);
                for (i, chunk) in chunks.into_iter().enumerate() {
                    self.push_chunk(chunk, i == last);
                }
            }
        }
        self.queued
    }

    #[inline]
    fn push_chunk(&mut self, bytes: Bytes, last: bool) {
        self.queued += bytes.len() as u64;
        self.chunks.push_back((bytes, last));
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
        for (chunk, _) in self.chunks.range(self.next..).take(max) {
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
            let Some((chunk, _)) = self.chunks.get(self.next) else {
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
        while self.chunks.get(self.next).is_some_and(|(c, _)| c.is_empty()) {
            self.next += 1;
        }
    }

    /// The front command, whose reply just arrived.
    #[inline]
    pub(crate) fn pop_answered(&mut self) -> Option<Encoded> {
        let (first, mut last) = self.pop_chunk()?;
        if last {
            return Some(Encoded::One(first));
        }
        let mut chunks = vec![first];
        while !last {
            let Some((chunk, end)) = self.pop_chunk() else { break };
            chunks.push(chunk);
            last = end;
        }
        Some(Encoded::Chunks(chunks))
    }

    #[inline]
    fn pop_chunk(&mut self) -> Option<(Bytes, bool)> {
        let chunk = self.chunks.pop_front()?;
        if self.next > 0 {
            self.next -= 1;
        } else {
            // Answered before it was written whole: the stream is out of step; start over.
            self.partial = 0;
        }
        Some(chunk)
    }

    /// Takes every command not yet answered, intact and in order (the connection is gone);
    /// the offsets count them as written so later commands get fresh offsets.
    pub(crate) fn take_all(&mut self) -> Vec<Encoded> {
        self.written = self.queued;
        self.next = 0;
        self.partial = 0;
        let mut commands = Vec::new();
        let mut chunks = Vec::new();
        for (chunk, last) in self.chunks.drain(..) {
            if !last {
                chunks.push(chunk);
            } else if chunks.is_empty() {
                commands.push(Encoded::One(chunk));
            } else {
                chunks.push(chunk);
                commands.push(Encoded::Chunks(std::mem::take(&mut chunks)));
            }
        }
        if !chunks.is_empty() {
            commands.push(Encoded::Chunks(chunks));
        }
        commands
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_stay_until_answered() {
        let mut out = OutBuf::default();
        assert_eq!(out.push(Bytes::from_static(b"abc").into()), 3);
        assert_eq!(out.push(Bytes::from_static(b"defg").into()), 7);
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
        assert_eq!(out.pop_answered(), Some(Bytes::from_static(b"abc").into()), "answered, whole");
        assert!(!out.is_empty());
        let back = out.take_all();
        assert_eq!(
            back,
            [Bytes::from_static(b"defg").into()],
            "a partly written command comes back whole"
        );
        assert!(out.is_empty());
        assert_eq!(out.push(Bytes::from_static(b"h").into()), 8);
        out.advance(1);
        assert!(out.is_empty());
        assert_eq!(out.pop_answered(), Some(Bytes::from_static(b"h").into()));
        assert_eq!(out.pop_answered(), None);
    }

    #[test]
    fn a_chunked_command_is_written_in_order_and_answered_whole() {
        let mut out = OutBuf::default();
        let big = Encoded::Chunks(vec![
            Bytes::from_static(b"*2\r\n$3\r\nSET\r\n$5\r\n"),
            Bytes::from_static(b"value"),
            Bytes::from_static(b"\r\n"),
        ]);
        assert_eq!(out.push(Bytes::from_static(b"ab").into()), 2);
        assert_eq!(out.push(big.clone()), 2 + big.len() as u64);
        assert_eq!(out.push(Bytes::from_static(b"cd").into()), 4 + big.len() as u64);
        let mut io = Vec::new();
        let total = out.slices(&mut io, 16);
        let written: Vec<u8> = io.iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(total, written.len());
        assert_eq!(&written[..], &b"ab*2\r\n$3\r\nSET\r\n$5\r\nvalue\r\ncd"[..]);
        drop(io);
        out.advance(10);
        assert_eq!(out.pop_answered(), Some(Bytes::from_static(b"ab").into()));
        let back = out.take_all();
        assert_eq!(back, [big.clone(), Bytes::from_static(b"cd").into()], "whole, in order");
        out.push(big.clone());
        out.advance(big.len());
        assert_eq!(out.pop_answered(), Some(big), "all its chunks at once");
        assert!(out.is_empty());
    }
}
