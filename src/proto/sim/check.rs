//! The invariants: a ledger of every request the callers submitted, every time it was
//! written whole and how it ended, checked against what the simulated server executed.
//!
//! Resends: a request may be written whole again only (a) after the server refused the
//! previous write with `-LOADING`/`-BUSY` and that refusal reached the client (it did not
//! run), or (b) as a "blind" resend after a lost connection, when it is idempotent and
//! `retry_written` is on. Either way it is written whole at most `max_attempts` times, and
//! the server runs it at most once plus its blind resends.

use std::collections::HashMap;

use bytes::Bytes;

use super::server::{Server, Tag};
use crate::error::Error;

/// What a request asks of the server (the generator's view, for the INCR check and traces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Echo,
    Ping,
    Set,
    Get,
    Incr,
    IncrTotal,
    Del,
    Rpush,
    Blpop,
    Publish,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Echo => "ECHO",
            Kind::Ping => "PING",
            Kind::Set => "SET",
            Kind::Get => "GET",
            Kind::Incr => "INCR",
            Kind::IncrTotal => "INCR total",
            Kind::Del => "DEL",
            Kind::Rpush => "RPUSH",
            Kind::Blpop => "BLPOP",
            Kind::Publish => "PUBLISH",
            Kind::Multi => "MULTI",
            Kind::Exec => "EXEC",
            Kind::Discard => "DISCARD",
            Kind::Watch => "WATCH",
            Kind::Unwatch => "UNWATCH",
        }
    }
}

/// `retry_later` of the session: the error replies after which it sends the request again.
pub(super) fn refusal(frame: &[u8]) -> bool {
    [&b"-LOADING"[..], b"-BUSY", b"-TRYAGAIN"].iter().any(|code| {
        frame.starts_with(code) && matches!(frame.get(code.len()), Some(b' ') | Some(b'\r'))
    })
}

/// `retry_delay` of the session: the wait before resending after a refusal.
pub(super) fn retry_delay(attempts: usize) -> u64 {
    (10u64 << attempts.min(7)).min(1_000)
}

/// How a request ended.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Ok(Bytes),
    Err { maybe_executed: bool, text: String },
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) kind: Kind,
    pub(super) bytes: Bytes,
    pub(super) deadline: Option<u64>,
    /// A part of a group (pipeline or MULTI … EXEC), answered with the others as one unit.
    pub(super) group: Option<GroupPos>,
    /// May be answered `+QUEUED`: a command inside a MULTI (of its group, or of its chain).
    pub(super) may_queue: bool,
    /// Submitted with `Resend::Never`.
    pub(super) never: bool,
    /// The link the first byte of it went out on (a `Never` request goes on no other).
    pub(super) first_link: Option<u64>,
    /// Submitted as idempotent.
    pub(super) idempotent: bool,
    /// Submitted with `submit_at` (sent later than requests submitted after it).
    pub(super) delayed: bool,
    /// The link of every write that handed its last byte to a socket: from then on it may
    /// run.
    pub(super) whole: Vec<u64>,
    /// Whole writes after a whole write that was not refused (resends after a lost
    /// connection, of an idempotent request).
    pub(super) blind: u32,
    pub(super) outcome: Option<(u64, Outcome)>,
}

/// Where a request sits in its group.
#[derive(Debug, Clone, Copy)]
pub(super) struct GroupPos {
    pub(super) first: u64,
    pub(super) len: u64,
    pub(super) atomic: bool,
}

impl GroupPos {
    /// The part from whose whole write on the group may have run: a pipeline's first
    /// command, a transaction's EXEC.
    fn runs_from(self) -> u64 {
        if self.atomic {
            self.first + self.len - 1
        } else {
            self.first
        }
    }
}

/// What one transaction (an atomic group, or a chain on an exclusive connection) must be
/// when its EXEC (or DISCARD) succeeds.
#[derive(Debug, Clone)]
pub(super) struct TxExpect {
    pub(super) multi: u64,
    pub(super) queued: Vec<u64>,
    pub(super) watch: Option<u64>,
}

/// Counters for the report.
#[derive(Debug, Default, Clone)]
pub(super) struct Tally {
    pub(super) requests: u64,
    pub(super) ok: u64,
    pub(super) maybe_executed: u64,
    pub(super) not_executed: u64,
    pub(super) rejected_queue_full: u64,
    pub(super) executed_after_error: u64,
    /// Groups answered whole, and transactions among them whose EXEC ran.
    pub(super) groups_ok: u64,
    pub(super) transactions_run: u64,
    /// Transactions whose EXEC was refused (`-BUSY`) and delivered as answered.
    pub(super) exec_refused: u64,
    /// Whole writes after a refusal (`-LOADING`/`-BUSY`).
    pub(super) resent_after_refusal: u64,
    /// Whole writes of an idempotent request after a lost connection.
    pub(super) blind_resends: u64,
    /// Requests the server ran more than once (idempotent, resent blind).
    pub(super) executed_twice: u64,
    /// Refusals delivered to the caller (attempts or time ran out).
    pub(super) refusals_delivered: u64,
    /// Requests that succeeded after at least one resend.
    pub(super) ok_after_resend: u64,
    /// Requests failed because a write stalled in them.
    pub(super) stuck_writes: u64,
    /// Requests held back (`submit_at`, refused) that timed out before being sent again.
    pub(super) expired_held_back: u64,
    /// Requests failed by a transaction lost with its connection (exclusive mode).
    pub(super) tx_lost: u64,
    /// Requests failed by `OnTimeout::Abandon`, the connection kept.
    pub(super) abandoned: u64,
    /// Requests with `Resend::Never` failed although never written whole.
    pub(super) never_failed_unwritten: u64,
}

impl Tally {
    pub(super) fn add(&mut self, o: &Tally) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.maybe_executed += o.maybe_executed;
        self.not_executed += o.not_executed;
        self.rejected_queue_full += o.rejected_queue_full;
        self.executed_after_error += o.executed_after_error;
        self.groups_ok += o.groups_ok;
        self.transactions_run += o.transactions_run;
        self.exec_refused += o.exec_refused;
        self.resent_after_refusal += o.resent_after_refusal;
        self.blind_resends += o.blind_resends;
        self.executed_twice += o.executed_twice;
        self.refusals_delivered += o.refusals_delivered;
        self.ok_after_resend += o.ok_after_resend;
        self.stuck_writes += o.stuck_writes;
        self.expired_held_back += o.expired_held_back;
        self.tx_lost += o.tx_lost;
        self.abandoned += o.abandoned;
        self.never_failed_unwritten += o.never_failed_unwritten;
    }
}

/// Every request and its outcome.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub(super) entries: Vec<Entry>,
    /// The session's `max_attempts` and `retry_written`.
    max_attempts: usize,
    retry_written: bool,
    /// Bytes the client read on each link (a prefix of what the server sent on it).
    pub(super) read: HashMap<u64, u64>,
    /// The server's sequence number of the last successful reply delivered.
    last_ok_seq: u64,
    /// The last request sent without delay and never refused that succeeded.
    last_plain_ok: Option<u64>,
    pending: usize,
    pending_bytes: usize,
    /// Per EXEC (or DISCARD) request: its transaction.
    pub(super) txs: HashMap<u64, TxExpect>,
    pub(super) tally: Tally,
}

impl Ledger {
    pub(super) fn new(max_attempts: u8, retry_written: bool) -> Self {
        Ledger { max_attempts: max_attempts.into(), retry_written, ..Ledger::default() }
    }

    pub(super) fn add(&mut self, e: Entry) -> u64 {
        self.pending += 1;
        self.pending_bytes += e.bytes.len();
        self.entries.push(e);
        self.tally.requests += 1;
        self.entries.len() as u64 - 1
    }

    /// The last write of `id` on `link` was refused and the refusal reached the client.
    fn refusal_read(&self, id: u64, link: u64, server: &Server) -> bool {
        let e = &self.entries[id as usize];
        let writes = e.whole.iter().filter(|&&l| l == link).count();
        let Some(x) = server.execs.get(&id) else { return false };
        let replies: Vec<_> = x.replies.iter().filter(|r| r.link == link).collect();
        let read = self.read.get(&link).copied().unwrap_or(0);
        replies.len() == writes
            && replies.last().is_some_and(|r| refusal(&r.frame) && r.end <= read)
    }

    /// The last byte of request `id` was written on `link`: a request written whole is sent
    /// again only after a refusal the client read, or blind when idempotent and
    /// `retry_written` is on; never more than `max_attempts` times, never once it completed.
    pub(super) fn written_whole(
        &mut self,
        id: u64,
        link: u64,
        server: &Server,
    ) -> Result<(), String> {
        let refused =
            self.entries[id as usize].whole.last().map(|&prev| self.refusal_read(id, prev, server));
        let (max, retry_written) = (self.max_attempts, self.retry_written);
        let e = &mut self.entries[id as usize];
        let name = e.kind.name();
        if let Some((t, o)) = &e.outcome {
            // An abandoned request stays on its connection: written on (by the same rules),
            // its reply dropped.
            let abandoned =
                matches!(o, Outcome::Err { text, .. } if text.contains("on_timeout: Abandon"));
            if !abandoned {
                return Err(format!(
                    "request {id} ({name}) written after it completed at {t} with {o:?}"
                ));
            }
        }
        if e.never && !e.whole.is_empty() {
            return Err(format!("request {id} ({name}, Resend::Never) written whole twice"));
        }
        if let Some(g) = e.group {
            // A group goes again only whole, and only while nothing of it can have run.
            let again = !e.whole.is_empty();
            let run = &self.entries[g.runs_from() as usize].whole;
            let fresh = if g.atomic { run.is_empty() } else { run.is_empty() || *run == [link] };
            if again && !fresh {
                return Err(format!(
                    "request {id} ({name}), part of group {}, written whole again after part {} was written whole on link {:?}",
                    g.first,
                    g.runs_from(),
                    run.last()
                ));
            }
            self.entries[id as usize].whole.push(link);
            return Ok(());
        }
        if e.whole.len() >= max {
            return Err(format!(
                "request {id} ({name}) written whole {} times, with max_attempts {max}",
                e.whole.len() + 1
            ));
        }
        match refused {
            None => {}
            Some(true) => self.tally.resent_after_refusal += 1,
            Some(false) if e.idempotent && retry_written => {
                e.blind += 1;
                self.tally.blind_resends += 1;
            }
            Some(false) => {
                return Err(format!(
                    "request {id} ({name}, idempotent: {}, retry_written: {retry_written}) written whole again, but its last write on link {} was not refused",
                    e.idempotent,
                    e.whole.last().copied().unwrap_or(0),
                ))
            }
        }
        e.whole.push(link);
        Ok(())
    }

    pub(super) fn pending(&self) -> usize {
        self.pending
    }

    /// Bytes of the requests not finished yet.
    pub(super) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Records `Event::Reply` and checks it at once: exactly once; a success before its
    /// deadline, with the value the server produced for this very request's last run on the
    /// link the client reads, in the order the server answered (and in submission order among
    /// requests never delayed nor refused); a refusal only when attempts or time ran out; an
    /// error that says "maybe executed" whenever a write of it may have run.
    pub(super) fn complete(
        &mut self,
        id: u64,
        result: Result<Bytes, Error>,
        now: u64,
        server: &Server,
        link: Option<u64>,
    ) -> Result<(), String> {
        if let Ok(frame) = &result {
            self.check_exec(id, frame, server, link)?;
        }
        let run_whole = self
            .entries
            .get(id as usize)
            .and_then(|e| e.group)
            .map(|g| self.entries_whole(g.runs_from()));
        let max = self.max_attempts;
        let e = self
            .entries
            .get_mut(id as usize)
            .ok_or_else(|| format!("reply for request {id}, which was never submitted"))?;
        let name = e.kind.name();
        if let Some((t, o)) = &e.outcome {
            return Err(format!(
                "request {id} completed twice: first at {t} with {o:?}, now with {result:?}"
            ));
        }
        let exec = server.execs.get(&id);
        let outcome = match result {
            Ok(frame) => {
                // The session expires a request when `deadline <= now`.
                if let Some(d) = e.deadline.filter(|&d| now >= d) {
                    return Err(format!(
                        "request {id} ({name}) succeeded at {now}, at or after its deadline {d}"
                    ));
                }
                let reply = link.and_then(|l| exec?.replies.iter().rev().find(|r| r.link == l));
                let Some(reply) = reply else {
                    return Err(format!(
                        "request {id} ({name}) got {:?}, but the server never answered it on link {link:?}",
                        super::server::show(&frame)
                    ));
                };
                if reply.frame != frame {
                    return Err(format!(
                        "request {id} ({name}) got {:?} but the server last answered it {:?} on link {link:?}",
                        super::server::show(&frame),
                        super::server::show(&reply.frame)
                    ));
                }
                if reply.seq <= self.last_ok_seq {
                    return Err(format!(
                        "request {id} ({name}) succeeded with a reply the server sent before that of an earlier success"
                    ));
                }
                self.last_ok_seq = reply.seq;
                let refused = exec.map_or(0, |x| x.refused);
                if !e.delayed && refused == 0 {
                    if let Some(last) = self.last_plain_ok.filter(|&l| l > id) {
                        return Err(format!(
                            "request {id} succeeded after request {last}, submitted later"
                        ));
                    }
                    self.last_plain_ok = Some(id);
                }
                let delivered_as_is = e.group.is_some() || e.never || e.kind == Kind::Exec;
                if refusal(&frame) && !delivered_as_is {
                    let n = e.whole.len();
                    let late = e.deadline.is_some_and(|d| now + retry_delay(n) >= d);
                    if n < max && !late {
                        return Err(format!(
                            "request {id} ({name}) got the refusal {:?} after {n} whole writes, with max_attempts {max} and deadline {:?}",
                            super::server::show(&frame),
                            e.deadline
                        ));
                    }
                    self.tally.refusals_delivered += 1;
                }
                self.tally.ok += 1;
                if e.whole.len() > 1 {
                    self.tally.ok_after_resend += 1;
                }
                let queued = &frame[..] == b"+QUEUED\r\n";
                if queued && !e.may_queue {
                    return Err(format!(
                        "request {id} ({name}) got +QUEUED: another caller's MULTI was open on its connection"
                    ));
                }
                if e.may_queue && !queued && frame.first() != Some(&b'-') {
                    return Err(format!(
                        "request {id} ({name}), inside a MULTI, ran outside it: {}",
                        super::server::show(&frame)
                    ));
                }
                Outcome::Ok(frame)
            }
            Err(err) => {
                let maybe = err.maybe_executed();
                if matches!(err, Error::Protocol(_)) && err.to_string().contains("internal") {
                    return Err(format!("request {id}: {err}"));
                }
                let refused = exec.map_or(0, |x| x.refused) as usize;
                // A group part counts as written once the part it may run from was.
                let whole = run_whole.unwrap_or(e.whole.len());
                if !maybe && whole > refused {
                    return Err(format!(
                        "request {id} ({name}) failed with {err:?}, not maybe_executed, but it was written whole {} times and refused {refused} times",
                        e.whole.len()
                    ));
                }
                if !maybe && exec.is_some_and(|x| x.count > 0) {
                    return Err(format!(
                        "request {id} ({name}) failed with {err:?}, not maybe_executed, but the server executed it"
                    ));
                }
                if maybe {
                    self.tally.maybe_executed += 1;
                } else {
                    self.tally.not_executed += 1;
                }
                Outcome::Err { maybe_executed: maybe, text: err.to_string() }
            }
        };
        e.outcome = Some((now, outcome));
        self.pending -= 1;
        self.pending_bytes -= e.bytes.len();
        Ok(())
    }

    /// An EXEC answered with the results of a transaction ran the transaction of its own
    /// caller, closing its own MULTI, on a link where its WATCH ran, and nothing else; an
    /// EXEC never finds its MULTI missing once the MULTI succeeded (it went to a new link).
    fn check_exec(
        &self,
        id: u64,
        frame: &[u8],
        server: &Server,
        link: Option<u64>,
    ) -> Result<(), String> {
        let Some(tx) = self.txs.get(&id) else { return Ok(()) };
        let multi_ok =
            matches!(self.outcome(tx.multi), Some(Outcome::Ok(f)) if &f[..] == b"+OK\r\n");
        if frame.starts_with(b"*") && !frame.starts_with(b"*-1") {
            let runs = server.exec_runs.get(&id);
            let run = link.and_then(|l| runs?.iter().rev().find(|r| r.link == l));
            let Some(run) = run else {
                return Err(format!(
                    "EXEC {id} answered with results, but ran on no MULTI of link {link:?}"
                ));
            };
            if run.multi != Tag::Req(tx.multi) {
                return Err(format!(
                    "EXEC {id} closed the MULTI of {:?}, not its own (request {})",
                    run.multi, tx.multi
                ));
            }
            let want: Vec<Tag> = tx.queued.iter().map(|&q| Tag::Req(q)).collect();
            if run.ran != want {
                return Err(format!(
                    "EXEC {id} ran {:?}, but its transaction is {want:?}",
                    run.ran
                ));
            }
            if let Some(w) = tx.watch {
                if !run.watch.contains(&Tag::Req(w)) {
                    return Err(format!(
                        "EXEC {id} ran on link {}, where its WATCH (request {w}) did not run: {:?} were in force",
                        run.link, run.watch
                    ));
                }
            }
        }
        if frame == b"-ERR EXEC without MULTI\r\n" && multi_ok {
            return Err(format!(
                "EXEC {id} went to a link where its MULTI (request {}, answered +OK) never ran",
                tx.multi
            ));
        }
        Ok(())
    }

    fn entries_whole(&self, id: u64) -> usize {
        self.entries[id as usize].whole.len()
    }

    /// The outcome of request `id`, once it completed.
    pub(super) fn outcome(&self, id: u64) -> Option<&Outcome> {
        self.entries.get(id as usize)?.outcome.as_ref().map(|(_, o)| o)
    }

    /// The checks that need the whole run: nothing pending, no execution after a "not
    /// executed" error, no request run more often than once plus its blind resends, and the
    /// INCR totals.
    pub(super) fn finish(&mut self, server: &Server) -> Result<(), String> {
        let mut ok_incr = 0i64;
        let mut maybe_incr = 0i64;
        let mut queued_incr = 0i64;
        let mut blind_incr = 0i64;
        let mut total_incr = 0i64;
        for (id, e) in self.entries.iter().enumerate() {
            let id = id as u64;
            let Some((_, outcome)) = &e.outcome else {
                return Err(format!("request {id} ({}) never completed", e.kind.name()));
            };
            let count = server.execs.get(&id).map_or(0, |x| x.count);
            if count as usize > e.whole.len() {
                return Err(format!(
                    "request {id} ({}) executed {count} times, but written whole {} times",
                    e.kind.name(),
                    e.whole.len()
                ));
            }
            if count > 1 + e.blind {
                return Err(format!(
                    "request {id} ({}) executed {count} times, with {} blind resends",
                    e.kind.name(),
                    e.blind
                ));
            }
            if count > 1 {
                self.tally.executed_twice += 1;
            }
            match outcome {
                Outcome::Err { maybe_executed: false, text } if count > 0 => {
                    return Err(format!(
                        "request {id} ({}) failed with \"{text}\" (not maybe_executed) but the server executed it later",
                        e.kind.name()
                    ));
                }
                Outcome::Err { maybe_executed: true, .. } if count > 0 => {
                    self.tally.executed_after_error += 1;
                }
                _ => {}
            }
            if matches!(e.kind, Kind::Incr | Kind::IncrTotal) {
                match outcome {
                    Outcome::Ok(frame) if frame.first() == Some(&b':') => ok_incr += 1,
                    // Swallowed by a MULTI left open: it ran if a later EXEC did.
                    Outcome::Ok(frame) if &frame[..] == b"+QUEUED\r\n" => queued_incr += 1,
                    Outcome::Err { maybe_executed: true, .. } => maybe_incr += 1,
                    _ => {}
                }
                blind_incr += i64::from(e.blind);
                if e.kind == Kind::Incr {
                    total_incr += server.counter(format!("c:{id}").as_bytes());
                }
            }
        }
        for (&exec, tx) in &self.txs {
            // What the transaction's commands may have done, by what its caller was told.
            let ran = match self.outcome(exec) {
                Some(Outcome::Ok(f)) if f.starts_with(b"*") && !f.starts_with(b"*-1") => Some(1),
                Some(Outcome::Ok(_)) | Some(Outcome::Err { maybe_executed: false, .. }) => Some(0),
                _ => None,
            };
            if ran == Some(1) {
                self.tally.transactions_run += 1;
            }
            for &q in &tx.queued {
                let count = server.execs.get(&q).map_or(0, |x| x.count);
                if ran.is_some_and(|ran| ran != count) {
                    return Err(format!(
                        "request {q}, in the transaction of EXEC/DISCARD {exec} answered {:?}, ran {count} times",
                        self.outcome(exec)
                    ));
                }
            }
        }
        total_incr += server.counter(b"total");
        let most = ok_incr + maybe_incr + queued_incr + blind_incr;
        if total_incr < ok_incr || total_incr > most {
            return Err(format!(
                "INCR total on the server is {total_incr}, but {ok_incr} INCRs succeeded, {maybe_incr} may have executed, {queued_incr} were queued in a MULTI and {blind_incr} were resent blind"
            ));
        }
        Ok(())
    }
}
