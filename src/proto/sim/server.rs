//! A simulated Redis: one keyspace per database, per-connection state (protocol, auth, db,
//! MULTI queue, BLPOP blocking), and a record of which request every executed command came
//! from and what the server answered it.
//!
//! Commands: GET, SET, INCR, DEL, RPUSH, BLPOP (with timeouts and pushes from outside),
//! MULTI/EXEC/DISCARD, ECHO, PING, PUBLISH (counted against simulated external subscribers),
//! and the handshake: HELLO, AUTH, SELECT, CLIENT SETNAME. It can refuse AUTH (WRONGPASS),
//! require a password (NOAUTH), and during random windows refuse commands with `-LOADING`
//! (a dataset being loaded) or `-BUSY` (a script running), as Redis 7 does: by the command
//! table's `LOADING` and `ALLOW_BUSY` flags, a refusal inside MULTI dooms the transaction
//! (EXECABORT), and a refused EXEC leaves the MULTI open. A refused command did not run.
//! In RESP3 it may slip push frames between replies, as CLIENT TRACKING does. SUBSCRIBE is
//! not modelled (see mod.rs).

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::{Bytes, BytesMut};

use super::rng::Rng;
pub(super) use super::wire::show;
use super::wire::{encode2, err, ok, owner, parse_ms, subscribers, wrongtype};
use crate::commands::{lookup, CommandFlags};
use crate::resp::{encode_value, parse_frame, Decoder, Limits, Value};

/// Which caller's bytes a command is: a request id or a handshake step's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Tag {
    Req(u64),
    Hs(usize),
}

/// A run of written bytes that came from one command: `len` bytes from offset `off` of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seg {
    pub(super) tag: Tag,
    pub(super) off: usize,
    pub(super) len: usize,
}

/// How the simulated server behaves for one seed.
#[derive(Debug, Clone)]
pub(super) struct ServerCfg {
    /// `requirepass` of the default user.
    pub(super) password: Option<String>,
    /// Windows `[from, until)` in which commands are refused with `-LOADING` or `-BUSY`.
    pub(super) windows: Vec<Window>,
    /// Whether the handshake commands are refused too (Redis lets HELLO and AUTH through,
    /// and SELECT and CLIENT SETNAME during LOADING; a proxy may refuse them all).
    pub(super) loading_blocks_handshake: bool,
    /// Percent chance, in RESP3, of a push frame before a reply.
    pub(super) push_noise: u64,
    /// Per-mille chance of answering with bytes that are not RESP.
    pub(super) garbage: u64,
    /// The database external pushes (to wake BLPOP) go to.
    pub(super) db: usize,
}

/// Why the server refuses commands for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Loading the dataset: commands without the `LOADING` flag get `-LOADING`.
    Loading,
    /// A script runs too long: commands without `ALLOW_BUSY` get `-BUSY`.
    Busy,
}

/// A time window in which the server refuses commands.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub(super) from: u64,
    pub(super) until: u64,
    pub(super) why: Refusal,
}

#[derive(Debug)]
enum Val {
    Str(Bytes),
    List(VecDeque<Bytes>),
}

#[derive(Debug)]
struct Blocked {
    tag: Tag,
    db: usize,
    key: Bytes,
    until: Option<u64>,
}

/// A command queued inside MULTI.
type Queued = (Tag, Vec<Bytes>);

#[derive(Debug)]
struct Conn {
    inbuf: BytesMut,
    /// Stream offset of `inbuf[0]`.
    in_off: u64,
    /// Provenance of the bytes received: (stream offset, segment), in order.
    segs: VecDeque<(u64, Seg)>,
    decoder: Decoder,
    proto: u8,
    db: usize,
    authed: bool,
    /// Inside MULTI: the queued commands, whether one was refused (EXECABORT), and the
    /// MULTI's request.
    multi: Option<(Vec<Queued>, bool, Tag)>,
    /// The WATCH requests in force (until EXEC, DISCARD or UNWATCH). Keys are not tracked:
    /// what is checked is on which link a WATCH ran, not what it watched.
    watch: Vec<Tag>,
    blocked: Option<Blocked>,
    hs_seen: usize,
    last_req: Option<u64>,
    out: Vec<u8>,
    /// Bytes of output produced so far (the client reads a prefix of them).
    sent: u64,
}

/// One run of EXEC that found a MULTI open.
#[derive(Debug, Clone)]
pub(super) struct ExecRun {
    pub(super) link: u64,
    /// The MULTI it closed, and the WATCHes in force.
    pub(super) multi: Tag,
    pub(super) watch: Vec<Tag>,
    /// The queued commands it ran (none when it aborted).
    pub(super) ran: Vec<Tag>,
}

/// What the server did with one request's command.
#[derive(Debug, Default, Clone)]
pub(super) struct Exec {
    /// Times its data command ran (a queued one when its EXEC ran it; refusals and the
    /// transaction commands themselves do not count).
    pub(super) count: u32,
    /// Times it was refused with `-LOADING`/`-BUSY` (so not executed).
    pub(super) refused: u32,
    /// Every reply frame the server produced for it, in order.
    pub(super) replies: Vec<Sent>,
}

/// One reply frame the server sent.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    /// The connection (link) it went out on.
    pub(super) link: u64,
    /// Its place among all replies of the run.
    pub(super) seq: u64,
    /// Offset just past its last byte in the connection's output stream.
    pub(super) end: u64,
    pub(super) frame: Bytes,
}

/// The simulated server.
#[derive(Debug)]
pub(super) struct Server {
    cfg: ServerCfg,
    rng: Rng,
    dbs: Vec<HashMap<Bytes, Val>>,
    conns: HashMap<u64, Conn>,
    /// Per request id.
    pub(super) execs: HashMap<u64, Exec>,
    /// Requests whose arrival order on a connection is checked: those submitted without a
    /// delay and never refused (a refused one is resent later, after others).
    ordered: HashSet<u64>,
    /// Replies produced so far, over all connections.
    seq: u64,
    /// Commands refused with `-LOADING`/`-BUSY`.
    pub(super) refusals: u64,
    /// Every refusal sent: (link, offset just past it, request).
    pub(super) refusal_ends: Vec<(u64, u64, u64)>,
    /// The exact bytes of every command the client may send, for the provenance check.
    expected: HashMap<Tag, Bytes>,
    /// Handshake steps a connection must see before any request.
    hs_steps: usize,
    /// (time, key, value) pushes from other clients, for BLPOP.
    pushes: Vec<(u64, Bytes, Bytes)>,
    /// Largest reply frame produced (bounds the client's partial-frame buffer).
    pub(super) max_frame: usize,
    /// `EXEC without MULTI` replies: a transaction split across connections.
    pub(super) exec_without_multi: u64,
    /// Every EXEC that found a MULTI, per EXEC request.
    pub(super) exec_runs: HashMap<u64, Vec<ExecRun>>,
    /// Lists RPUSH filled during the current command: (db, key).
    pushed: Vec<(usize, Bytes)>,
    /// What the server did, for the trace: (connection, tag, text); `None` when not traced.
    pub(super) log: Option<Vec<(u64, Tag, String)>>,
}

impl Server {
    pub(super) fn new(cfg: ServerCfg, rng: Rng) -> Self {
        Server {
            cfg,
            rng,
            dbs: (0..16).map(|_| HashMap::new()).collect(),
            conns: HashMap::new(),
            execs: HashMap::new(),
            ordered: HashSet::new(),
            seq: 0,
            refusals: 0,
            refusal_ends: Vec::new(),
            expected: HashMap::new(),
            hs_steps: 0,
            pushes: Vec::new(),
            max_frame: 0,
            exec_without_multi: 0,
            exec_runs: HashMap::new(),
            pushed: Vec::new(),
            log: None,
        }
    }

    fn note(&mut self, conn: u64, tag: Tag, text: impl FnOnce() -> String) {
        if let Some(log) = &mut self.log {
            log.push((conn, tag, text()));
        }
    }

    /// Registers the exact bytes a tag stands for; `ordered` when it must arrive in
    /// submission order among the other ordered requests.
    pub(super) fn expect(&mut self, tag: Tag, bytes: Bytes, ordered: bool) {
        match tag {
            Tag::Hs(i) => self.hs_steps = self.hs_steps.max(i + 1),
            Tag::Req(r) if ordered => {
                self.ordered.insert(r);
            }
            Tag::Req(_) => {}
        }
        self.expected.insert(tag, bytes);
    }

    /// Another client pushes `value` onto `key` at `at`.
    pub(super) fn schedule_push(&mut self, at: u64, key: Bytes, value: Bytes) {
        self.pushes.push((at, key, value));
    }

    pub(super) fn open(&mut self, id: u64) {
        let conn = Conn {
            inbuf: BytesMut::new(),
            in_off: 0,
            segs: VecDeque::new(),
            decoder: Decoder::with_limits(Limits::default()),
            proto: 2,
            db: 0,
            authed: self.cfg.password.is_none(),
            multi: None,
            watch: Vec::new(),
            blocked: None,
            hs_seen: 0,
            last_req: None,
            out: Vec::new(),
            sent: 0,
        };
        self.conns.insert(id, conn);
    }

    /// Connection `id`'s transaction state: inside MULTI, WATCHes in force, a command blocked.
    pub(super) fn tx_state(&self, id: u64) -> Option<(bool, usize, bool)> {
        let c = self.conns.get(&id)?;
        Some((c.multi.is_some(), c.watch.len(), c.blocked.is_some()))
    }

    /// The connection is gone: its state, queued input and pending replies with it.
    pub(super) fn close(&mut self, id: u64) {
        self.conns.remove(&id);
    }

    /// Replies produced on `id` since the last call.
    pub(super) fn take_output(&mut self, id: u64) -> Vec<u8> {
        self.conns.get_mut(&id).map(|c| std::mem::take(&mut c.out)).unwrap_or_default()
    }

    /// The earliest BLPOP timeout or external push.
    pub(super) fn next_timer(&self) -> Option<u64> {
        let blocked = self.conns.values().filter_map(|c| c.blocked.as_ref()?.until).min();
        let push = self.pushes.iter().map(|p| p.0).min();
        [blocked, push].into_iter().flatten().min()
    }

    /// Bytes from the client arrive on connection `id`; executes every complete command.
    /// Executed commands go to `log` when tracing; `Err` when an invariant broke.
    pub(super) fn feed(
        &mut self,
        id: u64,
        data: &[u8],
        segs: &[Seg],
        now: u64,
    ) -> Result<Vec<u64>, String> {
        let Some(c) = self.conns.get_mut(&id) else { return Ok(Vec::new()) };
        let mut at = c.in_off + c.inbuf.len() as u64;
        for s in segs {
            c.segs.push_back((at, *s));
            at += s.len as u64;
        }
        c.inbuf.extend_from_slice(data);
        self.work(vec![id], now)
    }

    /// Runs external pushes and BLPOP timeouts due at `now`; returns the connections that
    /// produced output.
    pub(super) fn on_timer(&mut self, now: u64) -> Result<Vec<u64>, String> {
        let mut woken = Vec::new();
        let mut i = 0;
        while i < self.pushes.len() {
            if self.pushes[i].0 > now {
                i += 1;
                continue;
            }
            let (_, key, value) = self.pushes.remove(i);
            // Tag::Req(u64::MAX) marks another client in the trace.
            self.note(0, Tag::Req(u64::MAX), || format!("external RPUSH {}", show(&key)));
            let db = self.cfg.db;
            if let Val::List(l) =
                self.dbs[db].entry(key.clone()).or_insert(Val::List(VecDeque::new()))
            {
                l.push_back(value);
                woken.extend(self.serve_blocked(db, &key));
            }
        }
        let mut ids: Vec<u64> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let c = self.conns.get_mut(&id).expect("listed");
            let Some(b) = &c.blocked else { continue };
            if b.until.is_some_and(|u| u <= now) {
                let tag = b.tag;
                c.blocked = None;
                let nil = if c.proto == 3 { &b"_\r\n"[..] } else { &b"*-1\r\n"[..] };
                self.note(id, tag, || "BLPOP timed out".into());
                self.send(id, tag, nil.to_vec());
                woken.push(id);
            }
        }
        self.work(woken, now)
    }

    /// Executes the complete commands of every connection in `work` (and of those their
    /// commands unblock); returns every connection that produced output.
    fn work(&mut self, mut work: Vec<u64>, now: u64) -> Result<Vec<u64>, String> {
        let mut touched = work.clone();
        while let Some(id) = work.pop() {
            while let Some((tag, args)) = self.next_command(id)? {
                self.note(id, tag, || args.iter().map(|a| show(a)).collect::<Vec<_>>().join(" "));
                if let Some(v) = self.execute(id, tag, &args, now) {
                    self.reply(id, tag, &v);
                }
                for (db, key) in std::mem::take(&mut self.pushed) {
                    let woken = self.serve_blocked(db, &key);
                    touched.extend(&woken);
                    work.extend(woken);
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        Ok(touched)
    }

    /// The next complete command of a connection that is not blocked, with the checks on
    /// where its bytes came from.
    fn next_command(&mut self, id: u64) -> Result<Option<(Tag, Vec<Bytes>)>, String> {
        let Some(c) = self.conns.get_mut(&id) else { return Ok(None) };
        if c.blocked.is_some() {
            return Ok(None);
        }
        let len = match c.decoder.scan(&c.inbuf) {
            Ok(Some(len)) => len,
            Ok(None) => return Ok(None),
            Err(e) => {
                return Err(format!("conn {id}: the client sent bytes that are not RESP: {e}"))
            }
        };
        let frame = c.inbuf.split_to(len).freeze();
        let start = c.in_off;
        c.in_off += len as u64;
        let tag = owner(&mut c.segs, start, len, id)?;
        if self.expected.get(&tag) != Some(&frame) {
            return Err(format!(
                "conn {id}: the command of {tag:?} is not its bytes: {}",
                show(&frame)
            ));
        }
        match tag {
            Tag::Hs(i) => {
                if i != c.hs_seen {
                    return Err(format!(
                        "conn {id}: handshake step {i} arrived as step {}",
                        c.hs_seen
                    ));
                }
                c.hs_seen += 1;
            }
            Tag::Req(r) => {
                if c.hs_seen < self.hs_steps {
                    return Err(format!(
                        "conn {id}: request {r} arrived before the handshake ({} of {} steps)",
                        c.hs_seen, self.hs_steps
                    ));
                }
                if self.ordered.contains(&r) {
                    if let Some(last) = c.last_req.filter(|&last| last >= r) {
                        return Err(format!(
                            "conn {id}: request {r} arrived after request {last}: out of submission order"
                        ));
                    }
                    c.last_req = Some(r);
                }
            }
        }
        let args = match parse_frame(&frame, &Limits::default()) {
            Ok(Value::Array(items)) if !items.is_empty() => items
                .into_iter()
                .map(|v| match v {
                    Value::BulkString(b) => Ok(b),
                    other => Err(format!("conn {id}: an argument is a {}", other.kind())),
                })
                .collect::<Result<Vec<Bytes>, String>>()?,
            other => return Err(format!("conn {id}: the command is not an array: {other:?}")),
        };
        Ok(Some((tag, args)))
    }

    /// Runs one command as Redis would; `None` when it blocked.
    fn execute(&mut self, id: u64, tag: Tag, args: &[Bytes], now: u64) -> Option<Value> {
        let name = args[0].to_ascii_uppercase();
        let c = self.conns.get_mut(&id).expect("present");
        if !c.authed && !matches!(&name[..], b"HELLO" | b"AUTH") {
            return Some(err("NOAUTH Authentication required."));
        }
        if let Some(refusal) = self.refusal(args, now) {
            // Redis's rejectCommand: a refusal inside MULTI dooms the transaction, and a
            // refused EXEC leaves it open.
            let c = self.conns.get_mut(&id).expect("present");
            if let Some((_, dirty, _)) = &mut c.multi {
                *dirty = true;
            }
            self.refusals += 1;
            self.note(id, tag, || "-> refused".into());
            if let Tag::Req(r) = tag {
                self.execs.entry(r).or_default().refused += 1;
                self.ordered.remove(&r);
            }
            return Some(refusal);
        }
        let tx_command =
            matches!(&name[..], b"EXEC" | b"DISCARD" | b"MULTI" | b"WATCH" | b"UNWATCH");
        let c = self.conns.get_mut(&id).expect("present");
        if let (Tag::Req(r), false, None) = (tag, tx_command, &c.multi) {
            self.execs.entry(r).or_default().count += 1;
        }
        if let Some((queue, dirty, _)) = &mut c.multi {
            match &name[..] {
                b"EXEC" | b"DISCARD" | b"MULTI" => {}
                b"WATCH" => return Some(err("ERR WATCH inside MULTI is not allowed")),
                b"GET" | b"SET" | b"INCR" | b"DEL" | b"RPUSH" | b"BLPOP" | b"ECHO" | b"PING"
                | b"PUBLISH" => {
                    queue.push((tag, args.to_vec()));
                    return Some(Value::SimpleString("QUEUED".into()));
                }
                _ => {
                    *dirty = true;
                    return Some(err("ERR command not allowed in this model's MULTI"));
                }
            }
        }
        match &name[..] {
            b"MULTI" => Some(if c.multi.is_some() {
                err("ERR MULTI calls can not be nested")
            } else {
                c.multi = Some((Vec::new(), false, tag));
                ok()
            }),
            b"WATCH" => {
                c.watch.push(tag);
                Some(ok())
            }
            b"UNWATCH" => {
                c.watch.clear();
                Some(ok())
            }
            b"DISCARD" => Some(if c.multi.take().is_some() {
                c.watch.clear();
                ok()
            } else {
                err("ERR DISCARD without MULTI")
            }),
            b"EXEC" => Some(match c.multi.take() {
                None => {
                    self.exec_without_multi += 1;
                    err("ERR EXEC without MULTI")
                }
                Some((queue, dirty, multi)) => {
                    let watch = std::mem::take(&mut c.watch);
                    let mut run = ExecRun { link: id, multi, watch, ran: Vec::new() };
                    let reply = if dirty {
                        err("EXECABORT Transaction discarded because of previous errors.")
                    } else {
                        let mut replies = Vec::with_capacity(queue.len());
                        for (t, a) in &queue {
                            if let Tag::Req(r) = t {
                                self.execs.entry(*r).or_default().count += 1;
                            }
                            run.ran.push(*t);
                            replies.push(self.run(id, a, true).unwrap_or(Value::Nil));
                        }
                        Value::Array(replies)
                    };
                    if let Tag::Req(r) = tag {
                        self.exec_runs.entry(r).or_default().push(run);
                    }
                    reply
                }
            }),
            _ => {
                let v = self.run(id, args, false);
                if v.is_none() {
                    let c = self.conns.get_mut(&id).expect("present");
                    let secs = parse_ms(&args[args.len() - 1]).unwrap_or(0);
                    c.blocked = Some(Blocked {
                        tag,
                        db: c.db,
                        key: args[1].clone(),
                        until: (secs > 0).then_some(now + secs),
                    });
                }
                v
            }
        }
    }

    /// The error a refusal window answers `args` with at `now`, if any: by the command's
    /// `LOADING` / `ALLOW_BUSY` flags (every handshake command with
    /// `loading_blocks_handshake`).
    fn refusal(&self, args: &[Bytes], now: u64) -> Option<Value> {
        let w = self.cfg.windows.iter().find(|w| w.from <= now && now < w.until)?;
        let name = args[0].to_ascii_uppercase();
        let handshake = matches!(&name[..], b"HELLO" | b"AUTH" | b"SELECT" | b"CLIENT");
        let flags = lookup(args).map_or(CommandFlags::empty(), |info| info.flags);
        let (allowed, line) = match w.why {
            Refusal::Loading => (
                flags.contains(CommandFlags::LOADING),
                "LOADING Redis is loading the dataset in memory",
            ),
            Refusal::Busy => (
                flags.contains(CommandFlags::ALLOW_BUSY),
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.",
            ),
        };
        (!allowed || (handshake && self.cfg.loading_blocks_handshake)).then(|| err(line))
    }

    /// A data or handshake command; `None` when BLPOP must block (never inside MULTI). Only
    /// BLPOP's first key is watched.
    fn run(&mut self, id: u64, args: &[Bytes], in_multi: bool) -> Option<Value> {
        let name = args[0].to_ascii_uppercase();
        let n = args.len();
        let c = self.conns.get_mut(&id).expect("present");
        let db = &mut self.dbs[c.db];
        Some(match (&name[..], n) {
            (b"PING", 1) => Value::SimpleString("PONG".into()),
            (b"PING" | b"ECHO", 2) => Value::BulkString(args[1].clone()),
            (b"GET", 2) => match db.get(&args[1]) {
                None => Value::Nil,
                Some(Val::Str(s)) => Value::BulkString(s.clone()),
                Some(Val::List(_)) => wrongtype(),
            },
            (b"SET", 3) => {
                db.insert(args[1].clone(), Val::Str(args[2].clone()));
                ok()
            }
            (b"INCR", 2) => {
                let cur = match db.get(&args[1]) {
                    None => 0,
                    Some(Val::Str(s)) => match std::str::from_utf8(s)
                        .ok()
                        .and_then(|s| s.parse().ok())
                    {
                        Some(n) => n,
                        None => return Some(err("ERR value is not an integer or out of range")),
                    },
                    Some(Val::List(_)) => return Some(wrongtype()),
                };
                let next: i64 = cur + 1;
                db.insert(args[1].clone(), Val::Str(Bytes::from(next.to_string())));
                Value::Int(next)
            }
            (b"DEL", 2..) => {
                Value::Int(args[1..].iter().filter(|k| db.remove(*k).is_some()).count() as i64)
            }
            (b"RPUSH", 3..) => {
                match db.entry(args[1].clone()).or_insert(Val::List(VecDeque::new())) {
                    Val::List(l) => {
                        l.extend(args[2..].iter().cloned());
                        let len = l.len();
                        self.pushed.push((c.db, args[1].clone()));
                        Value::Int(len as i64)
                    }
                    Val::Str(_) => wrongtype(),
                }
            }
            (b"BLPOP", 3..) => {
                if parse_ms(&args[n - 1]).is_none() {
                    return Some(err("ERR timeout is not a float or out of range"));
                }
                match db.get_mut(&args[1]) {
                    Some(Val::List(l)) if !l.is_empty() => {
                        let v = l.pop_front().expect("not empty");
                        if l.is_empty() {
                            db.remove(&args[1]);
                        }
                        Value::Array(vec![Value::BulkString(args[1].clone()), Value::BulkString(v)])
                    }
                    Some(Val::Str(_)) => wrongtype(),
                    _ if in_multi => Value::Nil,
                    _ => return None,
                }
            }
            (b"PUBLISH", 3) => Value::Int(subscribers(&args[1])),
            (b"SELECT", 2) => {
                match std::str::from_utf8(&args[1]).ok().and_then(|s| s.parse::<usize>().ok()) {
                    Some(db) if db < 16 => {
                        c.db = db;
                        ok()
                    }
                    _ => err("ERR DB index is out of range"),
                }
            }
            (b"CLIENT", 3) if args[1].eq_ignore_ascii_case(b"SETNAME") => ok(),
            (b"AUTH", 2 | 3) => {
                let (user, pass) =
                    if n == 2 { (&b"default"[..], &args[1]) } else { (&args[1][..], &args[2]) };
                match &self.cfg.password {
                    None if n == 2 => err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"),
                    Some(p) if user == b"default" && pass[..] == *p.as_bytes() => {
                        c.authed = true;
                        ok()
                    }
                    _ => err("WRONGPASS invalid username-password pair or user is disabled."),
                }
            }
            (b"HELLO", 2..) => return Some(hello(c, &self.cfg, id, &args[1..])),
            (
                b"PING" | b"ECHO" | b"GET" | b"SET" | b"INCR" | b"DEL" | b"RPUSH" | b"BLPOP"
                | b"PUBLISH" | b"SELECT" | b"CLIENT" | b"AUTH",
                _,
            ) => err(&format!("ERR wrong number of arguments for '{}' command", show(&args[0]))),
            _ => err(&format!("ERR unknown command '{}'", show(&args[0]))),
        })
    }

    /// Hands list elements to the clients blocked on `key`, oldest connection first; returns
    /// the connections it woke.
    fn serve_blocked(&mut self, db: usize, key: &Bytes) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.blocked.as_ref().is_some_and(|b| b.db == db && b.key == key))
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        let mut woken = Vec::new();
        for id in ids {
            let Some(Val::List(l)) = self.dbs[db].get_mut(key) else { break };
            let Some(v) = l.pop_front() else { break };
            if l.is_empty() {
                self.dbs[db].remove(key);
            }
            let c = self.conns.get_mut(&id).expect("listed");
            let tag = c.blocked.take().expect("blocked").tag;
            self.note(id, tag, || "BLPOP served".into());
            let reply = Value::Array(vec![Value::BulkString(key.clone()), Value::BulkString(v)]);
            self.reply(id, tag, &reply);
            woken.push(id);
        }
        woken
    }

    /// Encodes a reply in the connection's protocol and sends it.
    fn reply(&mut self, id: u64, tag: Tag, v: &Value) {
        let Some(c) = self.conns.get(&id) else { return };
        let mut frame = Vec::new();
        if c.proto == 3 {
            encode_value(v, &mut frame);
        } else {
            encode2(v, &mut frame);
        }
        self.send(id, tag, frame);
    }

    fn send(&mut self, id: u64, tag: Tag, frame: Vec<u8>) {
        let noise = self.rng.chance(self.cfg.push_noise);
        let garbage = self.rng.below(1000) < self.cfg.garbage;
        let Some(c) = self.conns.get_mut(&id) else { return };
        if c.proto == 3 && noise {
            let push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n";
            c.out.extend_from_slice(push);
            c.sent += push.len() as u64;
        }
        if garbage {
            c.out.extend_from_slice(b"?not resp\r\n");
            c.sent += 11;
            return;
        }
        self.max_frame = self.max_frame.max(frame.len());
        c.out.extend_from_slice(&frame);
        c.sent += frame.len() as u64;
        self.seq += 1;
        if let Tag::Req(r) = tag {
            if super::check::refusal(&frame) {
                self.refusal_ends.push((id, c.sent, r));
            }
            let sent = Sent { link: id, seq: self.seq, end: c.sent, frame: Bytes::from(frame) };
            self.execs.entry(r).or_default().replies.push(sent);
        }
    }

    /// The value of a counter key in any database (0 when absent).
    pub(super) fn counter(&self, key: &[u8]) -> i64 {
        self.dbs
            .iter()
            .filter_map(|db| match db.get(key) {
                Some(Val::Str(s)) => std::str::from_utf8(s).ok()?.parse::<i64>().ok(),
                _ => None,
            })
            .sum()
    }
}

/// The HELLO command: protocol switch with optional AUTH and SETNAME.
fn hello(c: &mut Conn, cfg: &ServerCfg, id: u64, args: &[Bytes]) -> Value {
    let proto = match &args[0][..] {
        b"2" => 2,
        b"3" => 3,
        _ => return err("NOPROTO unsupported protocol version"),
    };
    let mut rest = &args[1..];
    let mut authed = c.authed;
    while !rest.is_empty() {
        if rest[0].eq_ignore_ascii_case(b"AUTH") && rest.len() >= 3 {
            let good = rest[1] == "default"
                && cfg.password.as_ref().is_some_and(|p| rest[2][..] == *p.as_bytes());
            if !good {
                return err("WRONGPASS invalid username-password pair or user is disabled.");
            }
            authed = true;
            rest = &rest[3..];
        } else if rest[0].eq_ignore_ascii_case(b"SETNAME") && rest.len() >= 2 {
            rest = &rest[2..];
        } else {
            return err("ERR Syntax error in HELLO option");
        }
    }
    if !authed {
        return err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    c.authed = true;
    c.proto = proto;
    let s = |t: &str| Value::BulkString(Bytes::copy_from_slice(t.as_bytes()));
    Value::Map(vec![
        (s("server"), s("redis")),
        (s("version"), s("7.0.0-sim")),
        (s("proto"), Value::Int(i64::from(proto))),
        (s("id"), Value::Int(id as i64)),
        (s("mode"), s("standalone")),
        (s("role"), s("master")),
        (s("modules"), Value::Array(Vec::new())),
    ])
}
