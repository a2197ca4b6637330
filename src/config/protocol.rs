//! [`Protocol`]: the RESP version a connection speaks.

use std::fmt;

/// The RESP version a connection negotiates with `HELLO`.
///
/// RESP2 is the default (it works with every server); choose RESP3 with
/// [`ClientBuilder::protocol(3)`](crate::ClientBuilder::protocol) or `?protocol=3` in the URI.
///
/// # Examples
///
/// ```
/// use redpoll::Protocol;
///
/// assert_eq!(Protocol::default(), Protocol::Resp2);
/// assert_eq!(Protocol::Resp3.version(), 3);
/// assert_eq!(Protocol::Resp3.to_string(), "RESP3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// RESP2: replies without maps, sets, doubles or push messages. The default.
    #[default]
    Resp2,
    /// RESP3: typed replies (maps, sets, doubles, booleans) and push messages.
    Resp3,
}

impl Protocol {
    /// The version number sent in `HELLO`: 2 or 3.
    pub fn version(self) -> u8 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }

    /// The protocol for a version number, `None` for anything but 2 and 3.
    pub(crate) fn from_version(version: u64) -> Option<Self> {
        match version {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Resp2 => "RESP2",
            Protocol::Resp3 => "RESP3",
        })
    }
}
