//! The bytes a connection still has to send, as a queue of encoded commands.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::Bytes;

/// Encoded commands waiting to be written, in order, with the stream offsets that tell which
/// command a partial write reached.
///
/// Each command stays the `Bytes` its caller encoded: nothing is copied into a second buffer,
/// and [`slices`](OutBuf::slices) hands as many of them as fit to one vectored write. A
/// partly written front command keeps all its bytes (only an offset moves), so commands not
/// written whole can be taken back intact to be sent on another connection.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    chunks: VecDeque<Bytes>,
    /// Bytes of the front chunk already written.
    front_written: usize,
    /// Total bytes ever queued on this connection.
    queued: u64,
    /// Total bytes ever written on this connection.
    written: u64,
}

impl OutBuf {
    /// Queues one encoded command and returns the stream offset just past its last byte.
    pub(crate) fn push(&mut self, bytes: Bytes) -> u64 {
        self.queued += bytes.len() as u64;
        if !bytes.is_empty() {
            self.chunks.push_back(bytes);
        }
        self.queued
    }

    /// True when everything queued has been written.
    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
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

    /// Fills `out` with the front chunks for a vectored write; returns how many were filled.
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in out.iter_mut().zip(self.chunks.iter()) {
            let skip = if n == 0 { self.front_written } else { 0 };
            *slot = IoSlice::new(&chunk[skip..]);
            n += 1;
        }
        n
    }

    /// Records that `n` bytes from the front were written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.written += n as u64;
        while n > 0 {
            let Some(front) = self.chunks.front() else {
                debug_assert!(false, "advanced past the queued bytes");
                return;
            };
            let left = front.len() - self.front_written;
            if n >= left {
                n -= left;
                self.chunks.pop_front();
                self.front_written = 0;
            } else {
                self.front_written += n;
                n = 0;
            }
        }
    }

    /// Takes every command not yet written whole, intact and in order (the connection is
    /// gone); the offsets count them as written so later commands get fresh offsets.
    pub(crate) fn take_unwritten(&mut self) -> impl Iterator<Item = Bytes> + '_ {
        self.written = self.queued;
        self.front_written = 0;
        self.chunks.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_keep_offsets() {
        let mut out = OutBuf::default();
        assert_eq!(out.push(Bytes::from_static(b"abc")), 3);
        assert_eq!(out.push(Bytes::from_static(b"defg")), 7);
        {
            let mut io = [IoSlice::new(&[]); 4];
            assert_eq!(out.slices(&mut io), 2);
        }
        out.advance(4);
        assert_eq!(out.written(), 4);
        {
            let mut io = [IoSlice::new(&[]); 4];
            assert_eq!(out.slices(&mut io), 1);
            assert_eq!(&*io[0], b"efg");
        }
        let back: Vec<Bytes> = out.take_unwritten().collect();
        assert_eq!(
            back,
            [Bytes::from_static(b"defg")],
            "a partly written command comes back whole"
        );
        assert!(out.is_empty());
        assert_eq!(out.push(Bytes::from_static(b"h")), 8);
    }
}
