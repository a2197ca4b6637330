//! What a request is to the session: its bytes, where its reply goes, its deadline, how
//! many replies it expects (one command, or a group of them), what may be done with it when
//! its connection is lost or its deadline passes, and what it does to the state of an
//! exclusive connection.

use bytes::{Bytes, BytesMut};

use crate::config::OnTimeout;
use crate::error::Error;
use crate::proto::handshake::Step;
use crate::proto::outbuf::Encoded;
use crate::proto::pubsub::Kind;

/// Whether a request may be written again on a new connection after its connection was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Sent at most once: after a loss it fails even if it never reached the socket, and a
    /// `LOADING`/`BUSY` refusal is delivered as it is.
    Never,
    /// Sent again only if no byte of it that could have run was written (the default).
    IfUnwritten,
    /// Sent again even when it was written whole and got no reply: running it twice is
    /// harmless (the caller decided: an idempotent command with `retry_maybe_executed`).
    IfIdempotent,
}

/// What a command does to the state of an exclusive connection (the caller knows it from
/// the command table; on a shared connection these commands are refused before they come
/// here, so the shared mode ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    /// MULTI: commands are queued until EXEC or DISCARD.
    Multi,
    /// EXEC: runs (or aborts) the transaction; the WATCHes end too.
    Exec,
    /// DISCARD: drops the transaction and the WATCHes.
    Discard,
    /// WATCH: the next EXEC fails if a watched key changes.
    Watch,
    /// UNWATCH: the WATCHes end.
    Unwatch,
    /// SELECT or CLIENT SETNAME: the command becomes a setup step of the connection, so
    /// every reconnect replays it.
    Setup(Step),
    /// A (P|S)(UN)SUBSCRIBE: answered by one confirmation per name (`Props::replies`), which
    /// may come between messages; the only kind a subscriber connection takes.
    PubSub,
}

/// How the session treats a request, besides its bytes and reply slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Props {
    /// A blocking command (BLPOP & co): its silence is expected, so the read-stall check
    /// does not apply while it waits.
    pub(crate) blocking: bool,
    pub(crate) resend: Resend,
    pub(crate) on_timeout: OnTimeout,
    /// Replies the request expects: 1 for a command, N for a group of N commands written
    /// contiguously and answered as one unit.
    pub(crate) replies: u32,
    /// A group that is a MULTI … EXEC transaction: nothing of it runs until its last
    /// command (EXEC) was written whole. In a plain group (a pipeline) the first command may
    /// run as soon as it is written.
    pub(crate) atomic: bool,
    /// In a plain group, the length of its first command (from then on it may have run).
    pub(crate) first_len: u32,
    pub(crate) effect: Effect,
    /// A subscribe request's id in the pub/sub registry (0: none), so that its
    /// confirmations and refusal count once for it however often it is sent.
    pub(crate) subscribe_id: u32,
}

impl Default for Props {
    fn default() -> Self {
        Props {
            blocking: false,
            resend: Resend::IfUnwritten,
            on_timeout: OnTimeout::Reset,
            replies: 1,
            atomic: false,
            first_len: 0,
            effect: Effect::None,
            subscribe_id: 0,
        }
    }
}

impl Props {
    /// The request ends with an EXEC (a transaction group, or EXEC alone): a refusal of that
    /// EXEC leaves the server inside MULTI.
    pub(super) fn ends_in_exec(&self) -> bool {
        self.atomic || self.effect == Effect::Exec
    }
}

/// One request handed to the session: a command, or a group of commands.
#[derive(Debug)]
pub(crate) struct Request<R> {
    /// The encoded command (or the commands of a group, back to back).
    pub(crate) bytes: Encoded,
    /// Where the reply goes (the reactor's completion slot; anything in tests). A group's
    /// reply is its replies' frames back to back.
    pub(crate) reply: R,
    /// Absolute deadline in ms, `None` for none.
    pub(crate) deadline: Option<u64>,
    pub(crate) props: Props,
    /// How many times it was sent already.
    pub(crate) attempts: u8,
}

impl<R> Request<R> {
    /// A single command with the default handling.
    pub(crate) fn new(bytes: impl Into<Encoded>, reply: R, deadline: Option<u64>) -> Self {
        Request { bytes: bytes.into(), reply, deadline, props: Props::default(), attempts: 0 }
    }

    /// The same request with other props.
    pub(crate) fn with(mut self, props: Props) -> Self {
        self.props = props;
        self
    }
}

/// A request off the wire: in the offline queue, or waiting to be resent or sent later.
#[derive(Debug)]
pub(super) struct Parked<R> {
    pub(super) req: Request<R>,
    /// An earlier send of it may have run (written whole and no reply came): if it fails,
    /// its error says so.
    pub(super) ran: bool,
}

/// What an entry of the in-flight FIFO stands for.
#[derive(Debug)]
pub(super) enum Slot<R> {
    /// `ran`: see [`Parked::ran`]. `left`: replies still to come; `frames`: a group's replies
    /// so far, back to back.
    Request {
        reply: R,
        props: Props,
        attempts: u8,
        ran: bool,
        left: u32,
        frames: BytesMut,
    },
    /// Its caller was answered already (its deadline passed with [`OnTimeout::Abandon`]):
    /// the `left` replies still to come are read and dropped, keeping the FIFO in step.
    Abandoned {
        left: u32,
        /// What its reply does to an exclusive connection's state, when it comes.
        effect: Effect,
        /// It ends with an EXEC (a transaction group, or EXEC itself): a refusal of that
        /// EXEC still resets the connection.
        ends_in_exec: bool,
    },
    Handshake(Step),
    /// A setup step that subscribes the registry's names of `kind` again on a new
    /// connection; `left` confirmations to come.
    Resubscribe {
        kind: Kind,
        left: u32,
    },
}

#[derive(Debug)]
pub(super) struct Waiting<R> {
    pub(super) slot: Slot<R>,
    /// Stream offset just past this entry's last byte: written whole once `written >= end`.
    pub(super) end: u64,
    /// Stream offset from which it may have run (its first command of a plain group, its
    /// end otherwise).
    pub(super) runs_at: u64,
    pub(super) deadline: Option<u64>,
}

/// `err` for a request that may have run already (`ran`): one whose `maybe_executed()` is
/// true, a connection error when `err`'s kind cannot say so.
pub(super) fn if_ran(err: Error, ran: bool) -> Error {
    match err {
        e if !ran => e,
        e @ (Error::Connection { .. } | Error::Timeout { .. }) => e.with_maybe_executed(true),
        other => Error::Connection {
            message: format!("{other}; an earlier send of the command got no reply"),
            maybe_executed: true,
            source: None,
        },
    }
}

/// Delay before resending after a `LOADING`/`BUSY`/`TRYAGAIN` reply: 10 ms doubling per
/// attempt, at most 1 s; the request's own deadline still bounds the whole.
pub(super) fn retry_delay(attempts: u8) -> u64 {
    (10u64 << attempts.min(7)).min(1_000)
}

/// True for the error replies that mean "not executed, try again soon": the server is loading
/// its dataset, is busy running a script, or a multi-key operation met a resharding slot.
/// (`-BUSYKEY` and other codes that merely start alike do not match.)
pub(super) fn retry_later(frame: &[u8]) -> bool {
    [&b"-LOADING"[..], b"-BUSY", b"-TRYAGAIN"].iter().any(|code| {
        frame.starts_with(code) && matches!(frame.get(code.len()), Some(b' ') | Some(b'\r'))
    })
}

/// The commonest short replies, as static `Bytes`: handing one to a caller takes no
/// reference to the read buffer, whose shared count the caller's thread would otherwise
/// have to decrement (a cache line passed between the two threads for every reply).
pub(super) fn common_frame(frame: &[u8]) -> Option<Bytes> {
    let common: &'static [u8] = match frame {
        b"+OK\r\n" => b"+OK\r\n",
        b":0\r\n" => b":0\r\n",
        b":1\r\n" => b":1\r\n",
        b"$-1\r\n" => b"$-1\r\n",
        b"_\r\n" => b"_\r\n",
        b"+PONG\r\n" => b"+PONG\r\n",
        b"+QUEUED\r\n" => b"+QUEUED\r\n",
        _ => return None,
    };
    Some(Bytes::from_static(common))
}
