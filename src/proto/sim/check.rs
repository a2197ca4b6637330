//! The invariants: a ledger of every request the callers submitted and how it ended,
//! checked against what the simulated server executed.

use bytes::Bytes;

use super::server::Server;
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
        }
    }
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
    /// Submitted as part of a MULTI … EXEC batch.
    pub(super) in_tx: bool,
    /// Its last byte was handed to a socket: from then on it may run.
    pub(super) written: bool,
    pub(super) outcome: Option<(u64, Outcome)>,
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
    /// Requests outside any transaction that got `+QUEUED`: another caller's MULTI was left
    /// open on the connection (its EXEC failed alone, or went to another connection).
    pub(super) swallowed_by_multi: u64,
}

/// Every request and its outcome.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub(super) entries: Vec<Entry>,
    last_ok: Option<u64>,
    pending: usize,
    pending_bytes: usize,
    pub(super) tally: Tally,
}

impl Ledger {
    pub(super) fn add(
        &mut self,
        kind: Kind,
        bytes: Bytes,
        deadline: Option<u64>,
        in_tx: bool,
    ) -> u64 {
        self.entries.push(Entry { kind, bytes, deadline, in_tx, written: false, outcome: None });
        self.pending += 1;
        self.pending_bytes += self.entries.last().map_or(0, |e| e.bytes.len());
        self.tally.requests += 1;
        self.entries.len() as u64 - 1
    }

    /// The last byte of request `id` was written: a command written whole is never sent
    /// again (the session resends only what it did not write whole).
    pub(super) fn written_whole(&mut self, id: u64) -> Result<(), String> {
        let e = &mut self.entries[id as usize];
        if e.written {
            return Err(format!("request {id} ({}) written whole a second time", e.kind.name()));
        }
        if let Some((t, o)) = &e.outcome {
            return Err(format!("request {id} written after it completed at {t} with {o:?}"));
        }
        e.written = true;
        Ok(())
    }

    pub(super) fn pending(&self) -> usize {
        self.pending
    }

    /// Bytes of the requests not finished yet.
    pub(super) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Records `Event::Reply` and checks it at once: exactly once, in order, the value the
    /// server produced for this very request, not after its deadline, and an error that
    /// says "maybe executed" whenever the server did execute it.
    pub(super) fn complete(
        &mut self,
        id: u64,
        result: Result<Bytes, Error>,
        now: u64,
        server: &Server,
    ) -> Result<(), String> {
        let e = self
            .entries
            .get_mut(id as usize)
            .ok_or_else(|| format!("reply for request {id}, which was never submitted"))?;
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
                        "request {id} ({}) succeeded at {now}, at or after its deadline {d}",
                        e.kind.name()
                    ));
                }
                match exec.and_then(|x| x.reply.as_ref()) {
                    Some(r) if *r == frame => {}
                    Some(r) => {
                        return Err(format!(
                            "request {id} ({}) got {:?} but the server answered it {:?}",
                            e.kind.name(),
                            super::server::show(&frame),
                            super::server::show(r)
                        ))
                    }
                    None => {
                        return Err(format!(
                            "request {id} ({}) got {:?}, but the server never answered it",
                            e.kind.name(),
                            super::server::show(&frame)
                        ))
                    }
                }
                if let Some(last) = self.last_ok.filter(|&l| l > id) {
                    return Err(format!(
                        "request {id} succeeded after request {last}, submitted later"
                    ));
                }
                self.last_ok = Some(id);
                self.tally.ok += 1;
                if !e.in_tx && &frame[..] == b"+QUEUED\r\n" {
                    self.tally.swallowed_by_multi += 1;
                }
                Outcome::Ok(frame)
            }
            Err(err) => {
                let maybe = err.maybe_executed();
                if matches!(err, Error::Protocol(_)) && err.to_string().contains("internal") {
                    return Err(format!("request {id}: {err}"));
                }
                if !maybe && e.written {
                    return Err(format!(
                        "request {id} ({}) failed with {err:?}, not maybe_executed, but it was written whole",
                        e.kind.name()
                    ));
                }
                if !maybe && exec.is_some_and(|x| x.count > 0) {
                    return Err(format!(
                        "request {id} ({}) failed with {err:?}, not maybe_executed, but the server executed it",
                        e.kind.name()
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

    /// The checks that need the whole run: nothing pending, no execution after a "not
    /// executed" error, no request executed twice, and the INCR totals.
    pub(super) fn finish(&mut self, server: &Server) -> Result<(), String> {
        let mut ok_incr = 0i64;
        let mut maybe_incr = 0i64;
        let mut queued_incr = 0i64;
        let mut total_incr = 0i64;
        for (id, e) in self.entries.iter().enumerate() {
            let id = id as u64;
            let Some((_, outcome)) = &e.outcome else {
                return Err(format!("request {id} ({}) never completed", e.kind.name()));
            };
            let count = server.execs.get(&id).map_or(0, |x| x.count);
            if count > 1 {
                return Err(format!("request {id} executed {count} times"));
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
                if e.kind == Kind::Incr {
                    total_incr += server.counter(format!("c:{id}").as_bytes());
                }
            }
        }
        total_incr += server.counter(b"total");
        if total_incr < ok_incr || total_incr > ok_incr + maybe_incr + queued_incr {
            return Err(format!(
                "INCR total on the server is {total_incr}, but {ok_incr} INCRs succeeded, {maybe_incr} may have executed and {queued_incr} were queued in a MULTI"
            ));
        }
        Ok(())
    }
}
