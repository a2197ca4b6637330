//! The one error type of the crate, and the server's error replies.

use std::fmt;
use std::io;
use std::sync::Arc;

/// Everything that can go wrong with a request, a connection or a configuration.
///
/// Each variant's documentation says what the caller can do about it. The helpers
/// [`is_timeout`](Error::is_timeout), [`is_connection`](Error::is_connection),
/// [`maybe_executed`](Error::maybe_executed) and [`server_code`](Error::server_code) answer
/// the common questions without a `match`.
///
/// Errors are cheap to clone: one connection failure is handed to every request it fails.
/// Credentials never appear in an error's `Debug` or `Display`.
///
/// # Examples
///
/// ```
/// use redpoll::Error;
///
/// let err = Error::config("port: expected a number from 1 to 65535, found \"http\"");
/// assert!(!err.is_timeout());
/// assert_eq!(err.to_string(), "invalid configuration: port: expected a number from 1 to 65535, found \"http\"");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection could not be opened, or broke while the request was outstanding.
    ///
    /// What to do: if [`maybe_executed`](Error::maybe_executed) is false the server never saw
    /// the command and it is safe to send again; if true, the command was written and may have
    /// run, so resend it only if it is idempotent. The client reconnects by itself.
    #[error("connection error: {message}{}", executed_note(*maybe_executed))]
    Connection {
        /// What happened, in words.
        message: String,
        /// The command was written to the socket and no reply came.
        maybe_executed: bool,
        /// The operating system's error, when there was one.
        #[source]
        source: Option<Arc<io::Error>>,
    },
    /// A deadline passed: the request's timeout, or the connect timeout.
    ///
    /// What to do: the connection that timed out was reset (its reply stream can no longer be
    /// trusted). If [`maybe_executed`](Error::maybe_executed) is true the command may still
    /// have run; raise the timeout or make the command cheaper if this repeats.
    #[error("timed out: {message}{}", executed_note(*maybe_executed))]
    Timeout {
        /// Which deadline passed.
        message: String,
        /// The command was written to the socket before the deadline passed.
        maybe_executed: bool,
    },
    /// The server sent bytes that are not valid RESP, or a reply of a shape that makes no
    /// sense for the request. The connection is closed because the stream cannot be resynced.
    ///
    /// What to do: this points to a proxy or server that does not speak RESP, or to a limit
    /// (bulk length, nesting depth) set lower than the replies need.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`, …).
    ///
    /// What to do: look at [`server_code`](Error::server_code); the connection is fine and the
    /// command did run (and fail) on the server.
    #[error("{0}")]
    Redis(ServerError),
    /// The request was never sent: the client was closed, or the offline queue was full.
    ///
    /// What to do: nothing reached the server, so the command can be sent again once the
    /// client is connected, or after raising `queue_size`.
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// A URI or a builder option is invalid. The message names the bad part.
    ///
    /// What to do: fix the configuration; this error never happens at run time.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// TLS could not be set up or the server's certificate was refused.
    ///
    /// What to do: check the CA, the server name and the certificate files named in the
    /// message. The client does not retry a certificate failure in a loop.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The command cannot be sent this way: on a connection that other callers share it
    /// would change what their commands do or mix up whose reply is whose (`MULTI`,
    /// `SUBSCRIBE`, `MONITOR`, `CLIENT REPLY`), or change state that a reconnect silently
    /// undoes (`SELECT`, `HELLO`, `AUTH`, `RESET`).
    ///
    /// What to do: use what the message names instead: the client's configuration (`db`,
    /// `protocol`, credentials) or the dedicated API. Nothing was sent.
    #[error("not sent: {0}")]
    Usage(String),
    /// A subscription's consumer fell so far behind that its bound was reached, with
    /// [`OnFull::End`](crate::OnFull::End): the subscription ended, after the messages it
    /// had buffered, and its channels were unsubscribed.
    ///
    /// What to do: consume faster (or on more threads), raise
    /// [`capacity`](crate::Subscribe::capacity), or choose
    /// [`OnFull::DropOldest`](crate::OnFull::DropOldest); then subscribe again.
    #[error("subscription overflow: {0}")]
    Overflow(String),
    /// A reply could not be converted into the requested Rust type.
    ///
    /// What to do: ask for a type that fits the reply (`.decode::<redpoll::Value>()` accepts
    /// anything). The command ran and the connection is fine.
    #[error("cannot convert {actual} into {expected}")]
    Conversion {
        /// The Rust type or shape that was asked for.
        expected: String,
        /// The shape of the reply that arrived.
        actual: String,
    },
}

fn executed_note(maybe_executed: bool) -> &'static str {
    if maybe_executed {
        " (the command was written and may have executed)"
    } else {
        ""
    }
}

impl Error {
    /// An [`Error::Config`] with the given message.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    /// An [`Error::Protocol`] with the given message.
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol(message.into())
    }

    /// An [`Error::Conversion`] from the expected type or shape and the shape that arrived.
    pub fn conversion(expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Error::Conversion { expected: expected.into(), actual: actual.into() }
    }

    /// An [`Error::Connection`] for a command that was not written.
    pub fn connection(message: impl Into<String>) -> Self {
        Error::Connection { message: message.into(), maybe_executed: false, source: None }
    }

    /// An [`Error::Connection`] caused by an operating-system error.
    pub fn io(context: &str, err: io::Error) -> Self {
        Error::Connection {
            message: format!("{context}: {err}"),
            maybe_executed: false,
            source: Some(Arc::new(err)),
        }
    }

    /// True for [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True for [`Error::Connection`] and [`Error::Disconnected`]: the request failed because
    /// of the connection, not because of the command.
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Connection { .. } | Error::Disconnected(_))
    }

    /// True when the command was written to the server and no reply came, so it may have
    /// run. Such a command is never retried unless it is known to be idempotent.
    pub fn maybe_executed(&self) -> bool {
        match self {
            Error::Connection { maybe_executed, .. } | Error::Timeout { maybe_executed, .. } => {
                *maybe_executed
            }
            _ => false,
        }
    }

    /// The server's error code (`"WRONGTYPE"`, `"NOSCRIPT"`, `"ERR"`, …) for
    /// [`Error::Redis`], `None` for every other kind.
    pub fn server_code(&self) -> Option<&str> {
        match self {
            Error::Redis(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The same error marked as "the command was written": used when a connection breaks or a
    /// deadline passes after the request went out.
    pub fn with_maybe_executed(mut self, written: bool) -> Self {
        match &mut self {
            Error::Connection { maybe_executed, .. } | Error::Timeout { maybe_executed, .. } => {
                *maybe_executed = written
            }
            _ => {}
        }
        self
    }
}

/// An error reply from the server: `-CODE message` (RESP2/RESP3) or a RESP3 bulk error.
///
/// # Examples
///
/// ```
/// use redpoll::ServerError;
///
/// let e = ServerError::new("WRONGTYPE Operation against a key holding the wrong kind of value");
/// assert_eq!(e.code(), "WRONGTYPE");
/// assert_eq!(e.detail(), "Operation against a key holding the wrong kind of value");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServerError {
    line: String,
    code_len: usize,
}

impl ServerError {
    /// Builds a server error from the reply line without the leading `-`.
    ///
    /// The code is the first word when it is written in capitals (`ERR`, `WRONGTYPE`,
    /// `MOVED`, …); otherwise the code is `ERR` and the whole line is the detail.
    pub fn new(line: impl Into<String>) -> Self {
        let line = line.into();
        let first = line.split(' ').next().unwrap_or("");
        let is_code = !first.is_empty()
            && first
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        let code_len = if is_code { first.len() } else { 0 };
        ServerError { line, code_len }
    }

    /// Builds a server error from the raw bytes of the reply line (invalid UTF-8 is replaced).
    pub fn from_bytes(line: &[u8]) -> Self {
        ServerError::new(String::from_utf8_lossy(line).into_owned())
    }

    /// The error code: the first word of the reply (`"WRONGTYPE"`), or `"ERR"` when the reply
    /// has none.
    pub fn code(&self) -> &str {
        if self.code_len == 0 {
            "ERR"
        } else {
            &self.line[..self.code_len]
        }
    }

    /// The text after the code.
    pub fn detail(&self) -> &str {
        self.line[self.code_len..].trim_start()
    }

    /// The whole reply line, code included.
    pub fn line(&self) -> &str {
        &self.line
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code_len == 0 {
            write!(f, "ERR {}", self.line)
        } else {
            f.write_str(&self.line)
        }
    }
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerError")
            .field("code", &self.code())
            .field("detail", &self.detail())
            .finish()
    }
}

impl std::error::Error for ServerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_the_first_capitalised_word() {
        let e = ServerError::new("MOVED 3999 127.0.0.1:6381");
        assert_eq!(e.code(), "MOVED");
        assert_eq!(e.detail(), "3999 127.0.0.1:6381");
        let e = ServerError::new("unknown thing happened");
        assert_eq!(e.code(), "ERR");
        assert_eq!(e.to_string(), "ERR unknown thing happened");
    }

    #[test]
    fn helpers_answer_by_kind() {
        let e = Error::Redis(ServerError::new("NOSCRIPT No matching script"));
        assert_eq!(e.server_code(), Some("NOSCRIPT"));
        assert!(!e.is_connection());
        let e = Error::connection("reset").with_maybe_executed(true);
        assert!(e.is_connection() && e.maybe_executed());
        assert!(e.to_string().contains("may have executed"));
        let e = Error::Timeout { message: "request".into(), maybe_executed: false };
        assert!(e.is_timeout() && !e.maybe_executed());
    }
}
