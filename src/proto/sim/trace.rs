//! The last steps of a run, kept in a ring and printed when a seed fails.

use std::fmt::Write as _;

/// One step of the schedule, as the driver saw it.
#[derive(Debug, Clone)]
pub(super) enum Step {
    Submit {
        id: u64,
        what: &'static str,
        idempotent: bool,
        deadline: Option<u64>,
        delay: Option<u64>,
    },
    Reply {
        id: u64,
        ok: bool,
        detail: String,
    },
    Connect {
        conn: u64,
        outcome: &'static str,
    },
    Connected {
        conn: u64,
    },
    ConnectFailed {
        conn: u64,
    },
    Event(&'static str),
    Write {
        conn: u64,
        offered: usize,
        accepted: usize,
    },
    WriteFailed {
        conn: u64,
    },
    Read {
        conn: u64,
        bytes: usize,
        left: usize,
    },
    Closed {
        conn: u64,
        eof: bool,
    },
    Detach {
        conn: u64,
        linger: bool,
    },
    Fault {
        conn: u64,
        what: &'static str,
    },
    ServerRecv {
        conn: u64,
        bytes: usize,
    },
    Exec {
        conn: u64,
        tag: String,
        cmd: String,
    },
    Timeout,
    Sweep,
    Heal,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Submit { id, what, idempotent, deadline, delay } => {
                let idem = if *idempotent { " (idempotent)" } else { "" };
                match delay {
                    None => write!(f, "submit #{id} {what}{idem} deadline={deadline:?}"),
                    Some(d) => {
                        write!(f, "submit_at #{id} {what}{idem} in {d} ms, deadline={deadline:?}")
                    }
                }
            }
            Step::Reply { id, ok, detail } => {
                write!(f, "  reply #{id} {}: {detail}", if *ok { "Ok" } else { "Err" })
            }
            Step::Connect { conn, outcome } => write!(f, "Connect -> link {conn} ({outcome})"),
            Step::Connected { conn } => write!(f, "link {conn} connected: handle_connected"),
            Step::ConnectFailed { conn } => write!(f, "link {conn} refused: handle_connect_failed"),
            Step::Event(e) => write!(f, "  event {e}"),
            Step::Write { conn, offered, accepted } => {
                write!(f, "link {conn} write {accepted} of {offered} bytes")
            }
            Step::WriteFailed { conn } => write!(f, "link {conn} write failed: handle_closed"),
            Step::Read { conn, bytes, left } => {
                write!(f, "link {conn} read {bytes} bytes: handle_input ({left} left)")
            }
            Step::Closed { conn, eof } => {
                write!(f, "link {conn} closed (eof={eof}): handle_closed")
            }
            Step::Detach { conn, linger } => {
                write!(f, "link {conn} dropped (bytes in flight still arrive: {linger})")
            }
            Step::Fault { conn, what } => write!(f, "FAULT on link {conn}: {what}"),
            Step::ServerRecv { conn, bytes } => {
                write!(f, "server got {bytes} bytes on link {conn}")
            }
            Step::Exec { conn, tag, cmd } => write!(f, "  server link {conn} {tag}: {cmd}"),
            Step::Timeout => write!(f, "handle_timeout"),
            Step::Sweep => write!(f, "handle_sweep"),
            Step::Heal => write!(f, "faults stop"),
        }
    }
}

/// A ring of the most recent steps with their virtual times.
#[derive(Debug)]
pub(super) struct Trace {
    ring: Vec<(u64, Step)>,
    next: usize,
    cap: usize,
    total: u64,
    /// Off for the bulk runs: formatting steps costs more than the rest of a step.
    pub(super) on: bool,
}

impl Trace {
    pub(super) fn new(cap: usize, on: bool) -> Self {
        Trace { ring: Vec::new(), next: 0, cap: cap.max(1), total: 0, on }
    }

    pub(super) fn push(&mut self, now: u64, step: Step) {
        self.total += 1;
        if !self.on {
            return;
        }
        if self.ring.len() < self.cap {
            self.ring.push((now, step));
        } else {
            self.ring[self.next] = (now, step);
        }
        self.next = (self.next + 1) % self.cap;
    }

    /// The ring, oldest first, one step per line.
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        let (old, new) = if self.ring.len() < self.cap {
            (&self.ring[..], &[][..])
        } else {
            (&self.ring[self.next..], &self.ring[..self.next])
        };
        let skipped = self.total - self.ring.len() as u64;
        if skipped > 0 {
            let _ = writeln!(out, "  … {skipped} earlier steps");
        }
        for (t, step) in old.iter().chain(new) {
            let _ = writeln!(out, "  t={t:>7} {step}");
        }
        out
    }
}
