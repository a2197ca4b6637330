//! Transports (TCP, Unix, TLS over TCP) behind one interface: non-blocking connect, reads
//! into the connection's buffer, vectored writes. The TLS arms hand over to `tls.rs`.
//!
//! One of the two places with `unsafe` in the crate (the other is the one-shot slot): a read
//! goes straight into the buffer's uninitialised spare room, so no read pays for zeroing
//! memory the kernel is about to overwrite.

use std::io::{self, IoSlice, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use mio::event::Source;
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol, Socket, TcpKeepalive, Type};

use super::tls::{HandshakeError, TlsConnector, TlsStream};
use crate::error::Error;

/// Socket options applied to every TCP connection.
#[derive(Debug, Clone)]
pub(crate) struct TcpOptions {
    pub(crate) nodelay: bool,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) recv_buffer: Option<usize>,
    pub(crate) send_buffer: Option<usize>,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            nodelay: true,
            keepalive: Some(Duration::from_secs(60)),
            recv_buffer: None,
            send_buffer: None,
        }
    }
}

/// An open (or opening) byte stream to a server.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
    /// TCP with a TLS session on top, from [`Stream::start_tls`].
    Tls(Box<TlsStream>),
}

/// True for the error a non-blocking socket returns when it has nothing to give.
pub(crate) fn would_block(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

/// True for the error a system call returns when a signal interrupted it.
pub(crate) fn interrupted(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Interrupted
}

impl Stream {
    /// Starts a non-blocking TCP connect (mio's recipe: completion shows as writable, then
    /// `take_error` and `peer_addr` tell the outcome).
    pub(crate) fn connect_tcp(addr: SocketAddr, opts: &TcpOptions) -> io::Result<Stream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_nodelay(opts.nodelay)?;
        if let Some(time) = opts.keepalive {
            socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(time))?;
        }
        if let Some(n) = opts.recv_buffer {
            socket.set_recv_buffer_size(n)?;
        }
        if let Some(n) = opts.send_buffer {
            socket.set_send_buffer_size(n)?;
        }
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(EINPROGRESS) || would_block(&e) => {}
            Err(e) => return Err(e),
        }
        Ok(Stream::Tcp(mio::net::TcpStream::from_std(socket.into())))
    }

    /// Starts a non-blocking Unix-socket connect.
    pub(crate) fn connect_unix(path: &Path) -> io::Result<Stream> {
        Ok(Stream::Unix(mio::net::UnixStream::connect(path)?))
    }

    /// After a writable event on a connecting stream: `Ok(true)` connected, `Ok(false)` not
    /// yet (spurious event), `Err` the connect failed.
    pub(crate) fn finish_connect(&self) -> io::Result<bool> {
        let (err, peer) = match self {
            Stream::Tcp(s) => (s.take_error()?, s.peer_addr().map(|_| ())),
            Stream::Unix(s) => (s.take_error()?, s.peer_addr().map(|_| ())),
            Stream::Tls(s) => (s.tcp().take_error()?, s.tcp().peer_addr().map(|_| ())),
        };
        if let Some(e) = err {
            return Err(e);
        }
        match peer {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        let interest = Interest::READABLE | Interest::WRITABLE;
        match self {
            Stream::Tcp(s) => s.register(registry, token, interest),
            Stream::Unix(s) => s.register(registry, token, interest),
            Stream::Tls(s) => s.tcp_mut().register(registry, token, interest),
        }
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) {
        let _ = match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
            Stream::Tls(s) => s.tcp_mut().deregister(registry),
        };
    }

    /// True for TCP and Unix streams, whose short reads and writes mean drained and full;
    /// false for TLS, whose buffers hide the socket's state.
    pub(crate) fn is_plain(&self) -> bool {
        !matches!(self, Stream::Tls(_))
    }

    /// Writes as much of `bufs` as the kernel takes in one call.
    pub(crate) fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
            Stream::Tls(s) => s.write_vectored(bufs),
        }
    }

    /// Writes bytes the transport itself still holds (TLS records that did not fit in the
    /// socket) until none are left or the socket would block. Nothing to do for plain ones.
    pub(crate) fn flush_buffered(&mut self) -> io::Result<()> {
        match self {
            Stream::Tls(s) => s.flush(),
            Stream::Tcp(_) | Stream::Unix(_) => Ok(()),
        }
    }

    /// Puts a TLS session on a connected TCP stream (its poll registration stays). On
    /// failure the stream comes back unchanged, with the reason.
    pub(crate) fn start_tls(self, tls: &TlsConnector) -> Result<Stream, (Stream, Error)> {
        match self {
            Stream::Tcp(tcp) => match tls.wrap(tcp) {
                Ok(s) => Ok(Stream::Tls(Box::new(s))),
                Err((tcp, e)) => Err((Stream::Tcp(tcp), e)),
            },
            other => Err((other, Error::Tls("TLS runs over TCP connections only".into()))),
        }
    }

    /// Drives the TLS handshake on readiness: `Ok(true)` when it is over (at once for a
    /// plain stream), `Ok(false)` while it waits for the socket.
    pub(crate) fn tls_handshake(&mut self) -> Result<bool, HandshakeError> {
        match self {
            Stream::Tls(s) => s.handshake(),
            Stream::Tcp(_) | Stream::Unix(_) => Ok(true),
        }
    }
}

/// Below this much free room, a fresh chunk is reserved before reading.
const MIN_ROOM: usize = 4 * 1024;
/// The chunk reserved then: replies are split off it without copying, so it is only
/// replaced once used up, one allocation per this many bytes of small replies.
const READ_CHUNK: usize = 64 * 1024;

/// Reads once into the spare room of `buf`, without zeroing it first. `hint` is how many more
/// bytes a partial frame needs (0 when unknown): the room is reserved for all of it at once, so
/// a large reply lands in one allocation and is copied at most once more. Returns the bytes
/// read (0: the peer closed the stream) and whether the read left the socket drained: a plain
/// socket that returned less than the room it was offered has nothing more right now, so the
/// next read would only say `WouldBlock` (TLS can never tell, and says false).
pub(crate) fn read_once(
    stream: &mut Stream,
    buf: &mut BytesMut,
    hint: usize,
) -> io::Result<(usize, bool)> {
    let room = buf.capacity() - buf.len();
    if room < hint {
        buf.reserve(hint);
    } else if room < MIN_ROOM {
        buf.reserve(READ_CHUNK);
    }
    let sock = match stream {
        Stream::Tcp(s) => socket2::SockRef::from(&*s),
        Stream::Unix(s) => socket2::SockRef::from(&*s),
        Stream::Tls(s) => return s.read_once(buf, hint).map(|n| (n, false)),
    };
    let room = buf.capacity() - buf.len();
    loop {
        match sock.recv(buf.spare_capacity_mut()) {
            Ok(n) => {
                // SAFETY: `recv` initialised the first `n` bytes of the spare capacity (it
                // returns at most the slice's length), so they may join the initialised part.
                #[allow(unsafe_code)]
                unsafe {
                    buf.set_len(buf.len() + n)
                };
                return Ok((n, n < room));
            }
            Err(e) if interrupted(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `EINPROGRESS`: a non-blocking connect has started (std has no stable `ErrorKind` for it).
const EINPROGRESS: i32 = if cfg!(target_os = "linux") { 115 } else { 36 };
