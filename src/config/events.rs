//! What the builder's hooks receive: [`ConnectInfo`] and [`DisconnectReason`].

use std::fmt;

use super::Protocol;

/// What [`on_connect`](crate::ClientBuilder::on_connect) receives once a connection has
/// finished its handshake (`HELLO`/`AUTH`, `SELECT`, `CLIENT SETNAME`).
///
/// It carries no credentials.
///
/// # Examples
///
/// ```
/// use redpoll::ClientBuilder;
///
/// let builder = ClientBuilder::new().on_connect(|info| {
///     println!("connected to {} (db {}, {})", info.address, info.db, info.protocol);
///     if let Some(version) = &info.server_version {
///         println!("server {version}");
///     }
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectInfo {
    /// The server's address as text: `host:port` (`[::1]:6379` for IPv6) or the socket path.
    pub address: String,
    /// The database selected on the connection.
    pub db: u32,
    /// The protocol the connection speaks.
    pub protocol: Protocol,
    /// The name set with `CLIENT SETNAME`, if one was configured.
    pub client_name: Option<String>,
    /// The server's version (`"7.0.15"`), when the handshake reported it (`HELLO` does).
    pub server_version: Option<String>,
}

/// Why a connection went away, as given to
/// [`on_disconnect`](crate::ClientBuilder::on_disconnect).
///
/// `Display` prints the snake-case name (`connection_lost`, `timeout`, `server_closed`), which
/// suits metrics labels.
///
/// # Examples
///
/// ```
/// use redpoll::DisconnectReason;
///
/// assert_eq!(DisconnectReason::ServerClosed.to_string(), "server_closed");
/// assert_eq!(DisconnectReason::ConnectionLost.as_str(), "connection_lost");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The socket failed: reset, broken pipe, unreachable network.
    ConnectionLost,
    /// A request, read or write deadline passed and the connection was reset because its reply
    /// stream could no longer be trusted.
    Timeout,
    /// The server closed the connection in an orderly way (end of stream, `QUIT`, `CLIENT KILL`,
    /// a server shutdown).
    ServerClosed,
}

impl DisconnectReason {
    /// The snake-case name: `"connection_lost"`, `"timeout"` or `"server_closed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ConnectionLost => "connection_lost",
            DisconnectReason::Timeout => "timeout",
            DisconnectReason::ServerClosed => "server_closed",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disconnect_reasons_display_in_snake_case() {
        assert_eq!(DisconnectReason::ConnectionLost.to_string(), "connection_lost");
        assert_eq!(DisconnectReason::Timeout.to_string(), "timeout");
        assert_eq!(DisconnectReason::ServerClosed.to_string(), "server_closed");
    }
}
