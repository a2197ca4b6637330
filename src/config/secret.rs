//! [`Secret`]: bytes that never print.

use std::fmt;

/// A credential (a password, a TLS private key): bytes whose `Debug` and `Display` print
/// `***`.
///
/// There is deliberately no `Deref`: reading the bytes takes an explicit
/// [`expose`](Secret::expose), so a secret cannot slip into a `format!` by accident. The bytes
/// are overwritten with zeros on drop (best effort: copies made by the allocator or by the
/// code that used [`expose`](Secret::expose) are out of reach).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Box<[u8]>);

impl Secret {
    /// Wraps the bytes of a credential.
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into().into_boxed_slice())
    }

    /// The credential itself, for the one place that must send it (AUTH, HELLO, rustls).
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }

    /// True when the credential is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            *b = 0;
        }
        // Keeps the zeroing from being optimised away as a dead store.
        std::hint::black_box(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_prints_as_stars() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), b"hunter2");
        assert!(!s.is_empty());
    }
}
