//! Host name resolution, off the I/O thread: `getaddrinfo` may block for seconds.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use crossbeam_channel::Sender;

/// The result of resolving one connection attempt's host.
pub(crate) struct Resolved {
    pub(crate) conn: usize,
    pub(crate) generation: u32,
    pub(crate) attempt: u64,
    pub(crate) result: io::Result<Vec<SocketAddr>>,
}

/// Addresses of an IP literal, without any lookup; `None` for a host name.
pub(crate) fn literal(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    trimmed.parse::<IpAddr>().ok().map(|ip| vec![SocketAddr::new(ip, port)])
}

/// Resolves `host` on a short-lived thread and hands the answer back through `tx`, waking the
/// I/O thread.
pub(crate) fn spawn(
    host: String,
    port: u16,
    conn: usize,
    generation: u32,
    attempt: u64,
    tx: Sender<Resolved>,
    waker: Arc<mio::Waker>,
) {
    let spawned = std::thread::Builder::new().name("redpoll-resolve".into()).spawn({
        let host = host.clone();
        let tx = tx.clone();
        let waker = waker.clone();
        move || {
            let result = (host.as_str(), port).to_socket_addrs().map(|a| a.collect::<Vec<_>>());
            let result = match result {
                Ok(addrs) if addrs.is_empty() => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{host} resolved to no address"),
                )),
                other => other,
            };
            let _ = tx.send(Resolved { conn, generation, attempt, result });
            let _ = waker.wake();
        }
    });
    if let Err(e) = spawned {
        let _ = tx.send(Resolved { conn, generation, attempt, result: Err(e) });
        let _ = waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_need_no_lookup() {
        assert_eq!(literal("127.0.0.1", 6379).unwrap()[0].to_string(), "127.0.0.1:6379");
        assert_eq!(literal("[::1]", 7000).unwrap()[0].to_string(), "[::1]:7000");
        assert_eq!(literal("::1", 7000).unwrap()[0].port(), 7000);
        assert!(literal("localhost", 6379).is_none());
    }
}
