//! One proxied connection: a mio poll loop over the client and upstream sockets that moves
//! bytes both ways through held queues, applying the proxy's faults as it goes.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::SockRef;

use super::{lock, Dir, Shared, Trigger, PROXY_MAX_HELD, PROXY_MAX_HELD_PER_DIRECTION, PROXY_TICK};

/// How long a connection waits for its upstream connect before it gives up (and closes
/// the client).
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest single read.
const READ_CHUNK: usize = 64 * 1024;

/// Reads per direction per turn before the other direction gets its go.
const READS_PER_TURN: usize = 8;

/// Writes per direction per turn (one-byte mode makes many), so controls stay prompt.
const WRITES_PER_TURN: usize = 4096;

/// Most bytes a cut reads (and discards) from the client before closing, so that the close
/// is a FIN after the forwarded bytes rather than a RST that could discard them.
const CUT_DRAIN_MAX: usize = 1024 * 1024;

/// The client socket's token (registered by the acceptor).
pub(super) const CLIENT: Token = Token(1);
const UPSTREAM: Token = Token(2);

/// How a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Both sides closed plainly (an error, EOF both ways, proxy stopping).
    Close,
    /// FIN to the client after every forwarded byte; the server connection closed.
    Cut,
    /// RST to both sides.
    Reset,
}

/// A chunk read from one side, waiting to be written to the other.
struct Chunk {
    read_at: Instant,
    data: Vec<u8>,
    off: usize,
}

/// One direction of one connection.
#[derive(Default)]
struct Pipe {
    queue: VecDeque<Chunk>,
    queued: usize,
    /// The source reached EOF.
    eof: bool,
    /// The destination's write side was shut down (after `eof` and an empty queue).
    shut: bool,
    cut: CutState,
}

impl Pipe {
    fn done(&self) -> bool {
        self.eof && self.shut
    }
}

/// One direction's view of its cut trigger.
#[derive(Default)]
struct CutState {
    /// Trigger generation last seen, and bytes forwarded since.
    seen_gen: u64,
    sent: usize,
    /// Bytes left to forward before this connection is cut (a trigger this pipe took).
    left: Option<usize>,
}

impl CutState {
    /// How many bytes may be written before a cut, if a cut is due on this pipe; takes the
    /// armed trigger when the next `avail` bytes reach its count.
    fn limit(&mut self, trigger: &Trigger, avail: usize) -> Option<usize> {
        if self.left.is_some() {
            return self.left;
        }
        if !trigger.armed.load(SeqCst) {
            return None;
        }
        let mut st = lock(&trigger.state);
        let n = st.1?;
        if st.0 != self.seen_gen {
            self.seen_gen = st.0;
            self.sent = 0;
        }
        let left = n.saturating_sub(self.sent);
        if avail < left {
            return None;
        }
        st.1 = None;
        trigger.armed.store(false, SeqCst);
        self.left = Some(left);
        self.left
    }

    /// Counts `n` written bytes; true when the cut is due now.
    fn wrote(&mut self, n: usize) -> bool {
        self.sent += n;
        match &mut self.left {
            Some(left) => {
                *left -= n;
                *left == 0
            }
            None => false,
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

struct Conn {
    client: TcpStream,
    upstream: TcpStream,
    pipes: [Pipe; 2],
    shared: Arc<Shared>,
    epochs: (u64, u64),
    buf: Vec<u8>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        let held: usize = self.pipes.iter().map(|p| p.queued).sum();
        self.shared.held.fetch_sub(held, SeqCst);
    }
}

/// A control change that ends the connection, if any.
fn ended_by_control(shared: &Shared, epochs: (u64, u64)) -> Option<End> {
    if shared.stopping() {
        Some(End::Close)
    } else if shared.reset_epoch.load(SeqCst) != epochs.1 {
        Some(End::Reset)
    } else if shared.cut_epoch.load(SeqCst) != epochs.0 {
        Some(End::Cut)
    } else {
        None
    }
}

/// Connects to the current upstream without blocking the thread (mio's connect recipe),
/// watching the controls. `None`: failed, timed out, or ended by a control change.
fn connect_upstream(poll: &mut Poll, shared: &Shared, epochs: (u64, u64)) -> Option<TcpStream> {
    let addr = *lock(&shared.upstream);
    let mut up = TcpStream::connect(addr).ok()?;
    poll.registry().register(&mut up, UPSTREAM, Interest::READABLE | Interest::WRITABLE).ok()?;
    let deadline = Instant::now() + UPSTREAM_CONNECT_TIMEOUT;
    let mut events = Events::with_capacity(8);
    loop {
        if ended_by_control(shared, epochs).is_some() || Instant::now() >= deadline {
            return None;
        }
        match up.take_error() {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return None,
        }
        match up.peer_addr() {
            Ok(_) => {
                let _ = up.set_nodelay(true);
                return Some(up);
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => {}
            Err(_) => return None,
        }
        let _ = poll.poll(&mut events, Some(PROXY_TICK));
    }
}

pub(super) fn serve(mut poll: Poll, client: TcpStream, shared: Arc<Shared>, epochs: (u64, u64)) {
    let Some(upstream) = connect_upstream(&mut poll, &shared, epochs) else {
        return; // the client is closed by drop
    };
    let mut conn = Conn {
        client,
        upstream,
        pipes: Default::default(),
        shared,
        epochs,
        buf: vec![0; READ_CHUNK],
    };
    let end = conn.run(&mut poll);
    conn.finish(end);
}

impl Conn {
    fn run(&mut self, poll: &mut Poll) -> End {
        let mut events = Events::with_capacity(8);
        loop {
            if let Some(end) = ended_by_control(&self.shared, self.epochs) {
                return end;
            }
            let now = Instant::now();
            let latency = self.shared.latency();
            let blackholed = self.shared.blackhole.load(SeqCst);
            let mut progress = false;
            for dir in [Dir::Up, Dir::Down] {
                match self.fill(dir) {
                    Ok(p) => progress |= p,
                    Err(_) => return End::Close,
                }
            }
            if !blackholed {
                for dir in [Dir::Up, Dir::Down] {
                    match self.drain(dir, latency, &mut progress) {
                        Ok(Some(end)) => return end,
                        Ok(None) => {}
                        Err(_) => return End::Close,
                    }
                }
            }
            if self.pipes.iter().all(Pipe::done) {
                return End::Close;
            }
            let timeout =
                if progress { Duration::ZERO } else { self.next_due(now, latency, blackholed) };
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    return End::Close;
                }
            }
        }
    }

    /// How long until the earliest held chunk is due (capped at [`PROXY_TICK`]).
    fn next_due(&self, now: Instant, latency: Duration, blackholed: bool) -> Duration {
        let mut t = PROXY_TICK;
        if !blackholed {
            for p in &self.pipes {
                if let Some(c) = p.queue.front() {
                    // No due time (an absurd latency): wait a tick at a time.
                    if let Some(due) = c.read_at.checked_add(latency) {
                        t = t.min(due.saturating_duration_since(now));
                    }
                }
            }
        }
        t
    }

    /// Reads what the source of `dir` has (within the caps) into its queue.
    fn fill(&mut self, dir: Dir) -> io::Result<bool> {
        let src = match dir {
            Dir::Up => &mut self.client,
            Dir::Down => &mut self.upstream,
        };
        let pipe = &mut self.pipes[dir as usize];
        let mut progress = false;
        for _ in 0..READS_PER_TURN {
            if pipe.eof
                || pipe.queued >= PROXY_MAX_HELD_PER_DIRECTION
                || self.shared.held.load(SeqCst) >= PROXY_MAX_HELD
            {
                break;
            }
            match src.read(&mut self.buf) {
                Ok(0) => {
                    pipe.eof = true;
                    progress = true;
                }
                Ok(n) => {
                    let data = self.buf[..n].to_vec();
                    pipe.queue.push_back(Chunk { read_at: Instant::now(), data, off: 0 });
                    pipe.queued += n;
                    self.shared.held.fetch_add(n, SeqCst);
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_transient(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(progress)
    }

    /// Writes the due chunks of `dir` to its destination until it would block (or for
    /// [`WRITES_PER_TURN`] writes), setting `progress` if it wrote. `Some(Cut)` when a cut
    /// trigger's count was reached.
    fn drain(
        &mut self,
        dir: Dir,
        latency: Duration,
        progress: &mut bool,
    ) -> io::Result<Option<End>> {
        let dst = match dir {
            Dir::Up => &mut self.upstream,
            Dir::Down => &mut self.client,
        };
        let Pipe { queue, queued, eof, shut, cut } = &mut self.pipes[dir as usize];
        let trigger = &self.shared.triggers[dir as usize];
        let one_byte = self.shared.one_byte.load(SeqCst);
        let now = Instant::now();
        for _ in 0..WRITES_PER_TURN {
            let Some(front) = queue.front_mut() else { break };
            if front.read_at.checked_add(latency).is_none_or(|due| due > now) {
                break;
            }
            let rest = &front.data[front.off..];
            let mut len = if one_byte { 1 } else { rest.len() };
            if let Some(limit) = cut.limit(trigger, rest.len()) {
                if limit == 0 {
                    return Ok(Some(End::Cut));
                }
                len = len.min(limit);
            }
            match dst.write(&rest[..len]) {
                Ok(0) => return Err(io::Error::from(ErrorKind::WriteZero)),
                Ok(n) => {
                    *progress = true;
                    if one_byte {
                        dst.flush()?;
                    }
                    front.off += n;
                    if front.off == front.data.len() {
                        queue.pop_front();
                    }
                    *queued -= n;
                    self.shared.held.fetch_sub(n, SeqCst);
                    // `writes` first: whoever sees the final byte count sees every write.
                    self.shared.writes.fetch_add(1, SeqCst);
                    self.shared.bytes[dir as usize].fetch_add(n as u64, SeqCst);
                    if cut.wrote(n) {
                        return Ok(Some(End::Cut));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_transient(&e) => break,
                Err(e) => return Err(e),
            }
        }
        if *eof && queue.is_empty() && !*shut {
            *shut = true;
            let _ = dst.shutdown(Shutdown::Write);
        }
        Ok(None)
    }

    fn finish(self, end: End) {
        match end {
            End::Close => {}
            End::Cut => {
                self.shared.cuts.fetch_add(1, SeqCst);
                // Unread client bytes would turn the close into a RST, which may discard
                // forwarded bytes the client has not read yet: read them first.
                let mut buf = [0u8; 16 * 1024];
                let mut drained = 0;
                while drained < CUT_DRAIN_MAX {
                    match (&self.client).read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => drained += n,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = self.client.shutdown(Shutdown::Write);
            }
            End::Reset => {
                self.shared.cuts.fetch_add(1, SeqCst);
                let _ = SockRef::from(&self.client).set_linger(Some(Duration::ZERO));
                let _ = SockRef::from(&self.upstream).set_linger(Some(Duration::ZERO));
            }
        }
        // Dropping `self` closes both sockets and releases the held bytes.
    }
}
