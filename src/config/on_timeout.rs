//! What a request's deadline does to the connection it travels on.

/// What happens when a request's deadline passes before its reply arrives.
///
/// Redis answers in order, so a late reply cannot simply be skipped: either the connection
/// is reset (the reply can never arrive) or the late request keeps its place and its reply is
/// read and dropped when it comes.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use redpoll::{Client, OnTimeout};
///
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = Client::open("redis://127.0.0.1:6379")?;
/// // A slow KEYS fails alone after 100 ms; the other callers' requests keep their connection.
/// let keys = client.keys("*").timeout(Duration::from_millis(100)).on_timeout(OnTimeout::Abandon).wait();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// Reset the connection (the default): the late request fails with
    /// [`Error::Timeout`](crate::Error::Timeout), and every other request in flight on the
    /// connection fails too (with `maybe_executed()` when it was written) or is resent by its
    /// policy. Safe whatever the server does with the late command, and it frees a connection
    /// the server may have stopped answering.
    #[default]
    Reset,
    /// Fail only the late request (`Timeout`, `maybe_executed()` true: it still runs) and keep
    /// the connection: its reply is dropped when it comes, and the requests behind it are
    /// answered as usual, after it. The connection is reset only when it stalls: no byte for
    /// `read_timeout` while a reply is awaited. A blocking command (BLPOP & co) always resets:
    /// its connection cannot answer anyone before it does.
    Abandon,
}
