//! The simulated network between the session and the server: one link per connection
//! attempt, each a pair of in-order byte streams cut into chunks that arrive after random
//! delays, with a send window (so writes are partial), and faults: refused or black-holed
//! connects, resets, server-side closes and black holes, triggered at a time, after the
//! client wrote some bytes (mid-command) or after the server sent some (mid-reply).

use std::collections::VecDeque;

use bytes::Bytes;

use super::driver::Act;
use super::rng::Rng;
use super::server::{Seg, Server};

/// How the network behaves for one seed.
#[derive(Debug, Clone)]
pub(super) struct NetCfg {
    /// One-way delay range, ms.
    pub(super) latency: (u64, u64),
    /// Percent chance of cutting a chunk in two (repeatedly).
    pub(super) split: u64,
    /// Longest connect, ms.
    pub(super) connect_delay: u64,
    /// Percent of connects refused.
    pub(super) refuse: u64,
    /// Percent of connects that never complete.
    pub(super) connect_blackhole: u64,
    /// Percent of connections that get a fault plan.
    pub(super) fault: u64,
    /// Percent of faults that are black holes (the rest: resets and server closes).
    pub(super) blackhole: u64,
    /// Send window range, bytes: how much may be in flight towards the server.
    pub(super) window: (usize, usize),
    /// Percent of writes cut short below what the window allows.
    pub(super) short_write: u64,
    /// Percent of closed links whose bytes in flight still reach the server.
    pub(super) linger: u64,
}

/// What breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Connection reset: some bytes in flight are lost, the client sees an error.
    Reset,
    /// The server closes its end: it reads nothing more; the client reads what was sent,
    /// then EOF.
    ServerClose,
    /// Nothing more arrives in either direction, and nobody is told.
    Blackhole,
}

#[derive(Debug, Clone, Copy)]
enum Trigger {
    At(u64),
    ClientBytes(u64),
    ServerBytes(u64),
}

#[derive(Debug)]
struct Chunk {
    at: u64,
    data: Bytes,
    segs: Vec<Seg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Completes at `at` (never when `None`); refused when `refuse`.
    Connecting {
        at: Option<u64>,
        refuse: bool,
    },
    Up,
}

/// One connection attempt.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) id: u64,
    pub(super) phase: Phase,
    c2s: VecDeque<Chunk>,
    s2c: VecDeque<Chunk>,
    c2s_inflight: usize,
    window: usize,
    plan: Option<(Trigger, Action)>,
    pub(super) blackholed: bool,
    /// Reset: the next write fails.
    pub(super) broken: bool,
    /// The server closed its end: written bytes vanish.
    server_gone: bool,
    /// Close the server's end once the bytes in flight towards it are delivered.
    close_after_c2s: bool,
    /// When the client learns the link closed, and whether as EOF (after the last byte).
    notice: Option<(u64, bool)>,
    c2s_total: u64,
    s2c_total: u64,
    c2s_last: u64,
    s2c_last: u64,
}

/// A due network happening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    ConnectDone,
    /// Bytes reach the server on link `id` (current or lingering).
    ToServer(u64),
    ToClient,
    Notice,
    Fault,
}

/// The links: the one the client holds, and closed ones whose bytes still travel.
#[derive(Debug)]
pub(super) struct Net {
    pub(super) cfg: NetCfg,
    rng: Rng,
    pub(super) current: Option<Link>,
    lingering: Vec<Link>,
    next_id: u64,
    /// No new faults (the end of a run).
    pub(super) healed: bool,
    /// Faults that fired, (link, action), for the driver's trace.
    pub(super) fired: Vec<(u64, Action)>,
}

impl Net {
    pub(super) fn new(cfg: NetCfg, rng: Rng) -> Self {
        Net {
            cfg,
            rng,
            current: None,
            lingering: Vec::new(),
            next_id: 1,
            healed: false,
            fired: Vec::new(),
        }
    }

    fn delay(&mut self) -> u64 {
        self.rng.range(self.cfg.latency.0, self.cfg.latency.1)
    }

    /// The client opens a new link (after dropping any current one). Returns its id and how
    /// the attempt will end.
    pub(super) fn connect(&mut self, now: u64, server: &mut Server) -> (u64, &'static str) {
        self.detach(server);
        let id = self.next_id;
        self.next_id += 1;
        let roll = self.rng.below(100);
        let (at, refuse, what) = if self.healed {
            (Some(now + self.rng.below(3)), false, "accept")
        } else if roll < self.cfg.refuse {
            (Some(now + self.rng.below(self.cfg.connect_delay + 1)), true, "refuse")
        } else if roll < self.cfg.refuse + self.cfg.connect_blackhole {
            (None, false, "never answer")
        } else {
            (Some(now + self.rng.below(self.cfg.connect_delay + 1)), false, "accept")
        };
        let window = self.rng.range(self.cfg.window.0 as u64, self.cfg.window.1 as u64) as usize;
        self.current = Some(Link {
            id,
            phase: Phase::Connecting { at, refuse },
            c2s: VecDeque::new(),
            s2c: VecDeque::new(),
            c2s_inflight: 0,
            window: window.max(1),
            plan: None,
            blackholed: false,
            broken: false,
            server_gone: false,
            close_after_c2s: false,
            notice: None,
            c2s_total: 0,
            s2c_total: 0,
            c2s_last: now,
            s2c_last: now,
        });
        (id, what)
    }

    /// The pending connect finished: `Ok(id)` when the link is up (the server has a
    /// connection for it), `Err(id)` when it was refused (the link is gone).
    pub(super) fn finish_connect(&mut self, now: u64, server: &mut Server) -> Result<u64, u64> {
        let link = self.current.as_mut().expect("connecting");
        let Phase::Connecting { refuse, .. } = link.phase else { unreachable!("not connecting") };
        let id = link.id;
        if refuse {
            self.current = None;
            return Err(id);
        }
        link.phase = Phase::Up;
        server.open(id);
        if !self.healed && self.rng.chance(self.cfg.fault) {
            let action = if self.rng.chance(self.cfg.blackhole) {
                Action::Blackhole
            } else if self.rng.chance(50) {
                Action::Reset
            } else {
                Action::ServerClose
            };
            let trigger = match self.rng.below(3) {
                0 => Trigger::At(now + self.rng.skewed(2_000)),
                1 => Trigger::ClientBytes(self.rng.skewed(600)),
                _ => Trigger::ServerBytes(self.rng.skewed(600)),
            };
            link.plan = Some((trigger, action));
        }
        Ok(id)
    }

    /// The client drops its link (Disconnect, a new Connect, or after it saw the close).
    /// Returns the link id and whether its bytes in flight still reach the server.
    pub(super) fn detach(&mut self, server: &mut Server) -> Option<(u64, bool)> {
        let mut link = self.current.take()?;
        link.s2c.clear();
        link.notice = None;
        link.plan = None;
        let linger = !link.blackholed
            && !link.c2s.is_empty()
            && matches!(link.phase, Phase::Up)
            && self.rng.chance(self.cfg.linger);
        if linger {
            link.close_after_c2s = true;
            let id = link.id;
            self.lingering.push(link);
            Some((id, true))
        } else {
            server.close(link.id);
            Some((link.id, false))
        }
    }

    /// Stops new faults; a fault already planned but not triggered is cancelled.
    /// The network also becomes fast, so any connect timeout is long enough.
    pub(super) fn heal(&mut self) {
        self.healed = true;
        self.cfg.latency = (0, self.cfg.latency.1.min(2));
        if let Some(link) = &mut self.current {
            link.plan = None;
        }
    }

    /// The earliest time something is due on the network.
    pub(super) fn next_time(&self) -> Option<u64> {
        let mut t: Option<u64> = None;
        let mut at = |x: u64| t = Some(t.map_or(x, |t| t.min(x)));
        if let Some(link) = &self.current {
            match link.phase {
                Phase::Connecting { at: Some(a), .. } => at(a),
                Phase::Connecting { at: None, .. } => {}
                Phase::Up => {
                    if !link.blackholed {
                        if let Some(c) = link.c2s.front() {
                            at(c.at);
                        }
                        if let Some(c) = link.s2c.front() {
                            at(c.at);
                        }
                    }
                    if let Some((n, eof)) = link.notice {
                        if !eof || link.s2c.is_empty() {
                            at(n);
                        }
                    }
                    if let Some((Trigger::At(a), _)) = link.plan {
                        at(a);
                    }
                }
            }
        }
        for l in &self.lingering {
            if let Some(c) = l.c2s.front() {
                at(c.at);
            }
        }
        t
    }

    /// Everything due at `now`, in a fixed order (the driver shuffles).
    pub(super) fn due(&self, now: u64, acts: &mut Vec<Act>) {
        let mut out = Pusher(acts);
        if let Some(link) = &self.current {
            match link.phase {
                Phase::Connecting { at: Some(a), .. } if a <= now => out.push(Due::ConnectDone),
                Phase::Connecting { .. } => {}
                Phase::Up => {
                    if !link.blackholed {
                        if link.c2s.front().is_some_and(|c| c.at <= now) {
                            out.push(Due::ToServer(link.id));
                        }
                        if link.s2c.front().is_some_and(|c| c.at <= now) {
                            out.push(Due::ToClient);
                        }
                    }
                    if let Some((n, eof)) = link.notice {
                        if n <= now && (!eof || link.s2c.is_empty()) {
                            out.push(Due::Notice);
                        }
                    }
                    if let Some((Trigger::At(a), _)) = link.plan {
                        if a <= now {
                            out.push(Due::Fault);
                        }
                    }
                }
            }
        }
        for l in &self.lingering {
            if l.c2s.front().is_some_and(|c| c.at <= now) {
                out.push(Due::ToServer(l.id));
            }
        }
    }

    /// True while bytes still travel towards the server (black holes excepted).
    pub(super) fn busy(&self) -> bool {
        !self.lingering.is_empty()
            || self.current.as_ref().is_some_and(|l| !l.blackholed && !l.c2s.is_empty())
    }

    /// Room the client may write into now; `None` when it cannot write (no link up).
    pub(super) fn write_room(&self) -> Option<usize> {
        let link = self.current.as_ref()?;
        if link.phase != Phase::Up {
            return None;
        }
        if link.broken {
            return Some(usize::MAX);
        }
        Some(link.window.saturating_sub(link.c2s_inflight))
    }

    /// How many of `offered` bytes one write accepts (at least 1 when there is room).
    pub(super) fn accept(&mut self, offered: usize) -> usize {
        let room = self.write_room().unwrap_or(0).min(offered);
        if room > 1 && self.rng.chance(self.cfg.short_write) {
            self.rng.range(1, room as u64) as usize
        } else {
            room
        }
    }

    /// The client wrote these bytes (with their provenance). Applies a byte-count fault.
    pub(super) fn client_write(
        &mut self,
        now: u64,
        data: Bytes,
        segs: Vec<Seg>,
        server: &mut Server,
    ) {
        let delay = self.delay();
        let Some(link) = self.current.as_mut() else { return };
        let before = link.c2s_total;
        link.c2s_total += data.len() as u64;
        if link.server_gone {
            return;
        }
        let mut keep = data.len();
        let mut fire = None;
        if let Some((Trigger::ClientBytes(b), action)) = link.plan {
            if link.c2s_total >= b {
                keep = b.saturating_sub(before) as usize;
                fire = Some(action);
                link.plan = None;
            }
        }
        let (data, segs) = cut(data, segs, keep);
        if !data.is_empty() {
            push_chunks(
                &mut self.rng,
                &mut link.c2s,
                &mut link.c2s_last,
                now,
                delay,
                data,
                segs,
                self.cfg.split,
            );
            link.c2s_inflight += keep;
        }
        if let Some(action) = fire {
            self.fire(action, now, server);
        }
    }

    /// The server produced reply bytes on link `id`. Applies a byte-count fault.
    pub(super) fn server_write(&mut self, id: u64, now: u64, data: Vec<u8>, server: &mut Server) {
        if data.is_empty() {
            return;
        }
        let delay = self.delay();
        // After a reset nothing more comes from the server.
        let Some(link) = self.current.as_mut().filter(|l| l.id == id && !l.broken) else {
            return;
        };
        let before = link.s2c_total;
        link.s2c_total += data.len() as u64;
        let mut keep = data.len();
        let mut fire = None;
        if let Some((Trigger::ServerBytes(r), action)) = link.plan {
            if link.s2c_total >= r {
                keep = r.saturating_sub(before) as usize;
                fire = Some(action);
                link.plan = None;
            }
        }
        let mut data = Bytes::from(data);
        data.truncate(keep);
        if !data.is_empty() {
            push_chunks(
                &mut self.rng,
                &mut link.s2c,
                &mut link.s2c_last,
                now,
                delay,
                data,
                Vec::new(),
                self.cfg.split,
            );
        }
        if let Some(action) = fire {
            self.fire(action, now, server);
        }
    }

    /// A time-triggered fault is due.
    pub(super) fn fire_due(&mut self, now: u64, server: &mut Server) {
        let Some(link) = self.current.as_mut() else { return };
        if let Some((Trigger::At(_), action)) = link.plan.take() {
            self.fire(action, now, server);
        }
    }

    fn fire(&mut self, action: Action, now: u64, server: &mut Server) {
        let delay = self.delay();
        let keep_c2s = self.rng.below(3);
        let keep_s2c = self.rng.below(3);
        let Some(link) = self.current.as_mut() else { return };
        link.plan = None;
        self.fired.push((link.id, action));
        match action {
            Action::Blackhole => link.blackholed = true,
            Action::Reset => {
                link.broken = true;
                // Some of what was in flight is lost: nothing, half or everything.
                let n = link.c2s.len() * keep_c2s as usize / 2;
                link.c2s.truncate(n);
                link.c2s_inflight = link.c2s.iter().map(|c| c.data.len()).sum();
                let n = link.s2c.len() * keep_s2c as usize / 2;
                link.s2c.truncate(n);
                let last = link.s2c.back().map_or(now, |c| c.at);
                link.notice = Some((last.max(now) + delay, false));
                if link.c2s.is_empty() {
                    server.close(link.id);
                } else {
                    link.close_after_c2s = true;
                }
            }
            Action::ServerClose => {
                server.close(link.id);
                link.server_gone = true;
                link.c2s.clear();
                link.c2s_inflight = 0;
                link.notice = Some((now + delay, true));
            }
        }
    }

    /// Delivers the due chunk towards the server on link `id`: its bytes and provenance
    /// (none when the server's end is closed), and whether the server's end closes after it.
    pub(super) fn deliver_to_server(&mut self, id: u64) -> (Option<(Bytes, Vec<Seg>)>, bool) {
        let link = match &mut self.current {
            Some(l) if l.id == id => l,
            _ => match self.lingering.iter_mut().find(|l| l.id == id) {
                Some(l) => l,
                None => return (None, false),
            },
        };
        let Some(chunk) = link.c2s.pop_front() else { return (None, false) };
        link.c2s_inflight -= chunk.data.len();
        let close = link.c2s.is_empty() && link.close_after_c2s;
        let out = (!link.server_gone).then_some((chunk.data, chunk.segs));
        if link.c2s.is_empty() {
            self.lingering.retain(|l| l.id != id);
        }
        (out, close)
    }

    /// The client reads: the first due chunk, or every due chunk merged.
    pub(super) fn deliver_to_client(&mut self, now: u64) -> Vec<u8> {
        let merge = self.rng.chance(50);
        let Some(link) = self.current.as_mut() else { return Vec::new() };
        let mut out = Vec::new();
        while let Some(c) = link.s2c.front().filter(|c| c.at <= now) {
            out.extend_from_slice(&c.data);
            link.s2c.pop_front();
            if !merge {
                break;
            }
        }
        out
    }

    /// The client learns its link closed: `Some(eof)`.
    pub(super) fn take_notice(&mut self) -> Option<bool> {
        self.current.as_mut()?.notice.take().map(|(_, eof)| eof)
    }

    /// Id of the link the client holds.
    pub(super) fn current_id(&self) -> Option<u64> {
        self.current.as_ref().map(|l| l.id)
    }
}

/// Keeps the first `keep` bytes of `data` and the provenance that covers them.
fn cut(mut data: Bytes, segs: Vec<Seg>, keep: usize) -> (Bytes, Vec<Seg>) {
    if keep >= data.len() {
        return (data, segs);
    }
    data.truncate(keep);
    let mut left = keep;
    let mut kept = Vec::new();
    for mut s in segs {
        if left == 0 {
            break;
        }
        s.len = s.len.min(left);
        left -= s.len;
        kept.push(s);
    }
    (data, kept)
}

/// Queues `data` as one or more chunks arriving in order after `delay`.
#[allow(clippy::too_many_arguments)]
fn push_chunks(
    rng: &mut Rng,
    queue: &mut VecDeque<Chunk>,
    last: &mut u64,
    now: u64,
    delay: u64,
    mut data: Bytes,
    mut segs: Vec<Seg>,
    split: u64,
) {
    while !data.is_empty() {
        let n = if data.len() > 1 && rng.chance(split) {
            rng.range(1, data.len() as u64 - 1) as usize
        } else {
            data.len()
        };
        let head = data.split_to(n);
        let mut head_segs = Vec::new();
        let mut left = n;
        while left > 0 && !segs.is_empty() {
            let s = &mut segs[0];
            if s.len <= left {
                left -= s.len;
                head_segs.push(segs.remove(0));
            } else {
                head_segs.push(Seg { tag: s.tag, off: s.off, len: left });
                s.off += left;
                s.len -= left;
                left = 0;
            }
        }
        let at = (*last).max(now + delay + rng.below(3));
        *last = at;
        queue.push_back(Chunk { at, data: head, segs: head_segs });
    }
}

/// Pushes network happenings as the driver's actions.
struct Pusher<'a>(&'a mut Vec<Act>);

impl Pusher<'_> {
    fn push(&mut self, due: Due) {
        self.0.push(Act::Net(due));
    }
}
