//! `redpoll::Pool` against a real `redis-server`: acquire and give back, the bound under many
//! threads and tasks, exhaustion and `acquire_timeout`, cancelled acquires, idle closing,
//! every dirty state destroyed (or cleaned), health checks, panics, fork, and the I/O loop
//! serving others throughout.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use redpoll::{Client, Error, OnDirty, Pool, Value};
use support::{FakeServer, FaultProxy, RedisServer, Script, Ticker};

fn observer(server: &RedisServer) -> Client {
    let client = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    client
}

/// The ids of the server's connections named `name`.
fn named(observer: &Client, name: &str) -> Vec<i64> {
    let list = observer.client_list().wait().unwrap();
    list.iter().filter(|c| c.name.as_deref() == Some(name)).map(|c| c.id).collect()
}

/// Waits (bounded) until `cond` holds.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < Duration::from_secs(5), "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn pool(server: &RedisServer, name: &str) -> redpoll::PoolBuilder {
    Pool::builder().url(server.url()).client_name(name)
}

#[test]
fn a_connection_given_back_clean_is_lent_again() {
    let server = RedisServer::new();
    let pool = pool(&server, "p-reuse").max(2).build().unwrap();
    let conn = pool.acquire().wait().unwrap();
    let id: i64 = conn.client_id().wait().unwrap();
    conn.set("k", "v").wait().unwrap();
    assert_eq!(pool.stats().active, 1);
    drop(conn);
    eventually("the connection back idle", || pool.stats().idle == 1);
    let conn = pool.acquire().wait().unwrap();
    assert_eq!(conn.client_id().wait().unwrap(), id);
    assert_eq!(conn.get("k").decode::<Option<String>>().wait().unwrap().as_deref(), Some("v"));
    let s = pool.stats();
    assert_eq!((s.created, s.destroyed.total(), s.total), (1, 0, 1));
}

#[test]
fn a_pooled_connection_is_send_and_runs_pipelines_and_transactions() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let server = RedisServer::new();
    let pool = pool(&server, "p-send").max(1).build().unwrap();
    let conn = pool.acquire().wait().unwrap();
    assert_send(&conn);
    // Moved to another thread, used there, given back from there.
    let conn = thread::spawn(move || {
        let mut p = conn.pipeline();
        p.set("a", 1).incr("a");
        let (_, n): (Value, i64) = p.query().wait().unwrap();
        assert_eq!(n, 2);
        let results = conn
            .transaction(|tx| {
                tx.incr("a").incr("a");
            })
            .wait()
            .unwrap();
        assert_eq!(results.len(), 2);
        conn
    })
    .join()
    .unwrap();
    drop(conn);
    eventually("given back clean", || pool.stats().idle == 1);
    assert_eq!(pool.stats().destroyed.total(), 0);
}

#[test]
fn min_connections_open_at_build() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let pool = pool(&server, "p-min").min(3).max(5).build().unwrap();
    eventually("3 warm connections", || named(&obs, "p-min").len() == 3);
    let s = pool.stats();
    assert_eq!((s.idle, s.active, s.created), (3, 0, 3));
}

#[test]
fn the_hooks_see_every_connection_of_the_pool() {
    let server = RedisServer::new();
    let connects = Arc::new(AtomicUsize::new(0));
    let seen = connects.clone();
    let pool = pool(&server, "p-hooks")
        .min(2)
        .max(3)
        .on_connect(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    eventually("both warm connections connected", || connects.load(Ordering::SeqCst) == 2);
    let conns: Vec<_> = (0..3).map(|_| pool.acquire().wait().unwrap()).collect();
    eventually("the third connected", || connects.load(Ordering::SeqCst) == 3);
    drop(conns);
}

#[test]
fn max_holds_under_32_threads_and_32_tasks() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let pool =
        pool(&server, "p-max").max(4).acquire_timeout(Duration::from_secs(10)).build().unwrap();
    let holding = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let round = |pool: &Pool,
                 conn: redpoll::PooledConnection,
                 holding: &AtomicUsize,
                 most: &AtomicUsize| {
        let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        assert!(pool.stats().total <= 4);
        holding.fetch_sub(1, Ordering::SeqCst);
        drop(conn);
    };
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let (pool, holding, most) = (pool.clone(), holding.clone(), most.clone());
            thread::spawn(move || {
                for _ in 0..25 {
                    let conn = pool.acquire().wait().unwrap();
                    conn.incr("hits").wait().unwrap();
                    round(&pool, conn, &holding, &most);
                }
            })
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (pool, holding, most) = (pool.clone(), holding.clone(), most.clone());
                tokio::spawn(async move {
                    for _ in 0..25 {
                        let conn = pool.acquire().await.unwrap();
                        conn.incr("hits").await.unwrap();
                        round(&pool, conn, &holding, &most);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(obs.get("hits").decode::<Option<i64>>().wait().unwrap(), Some(64 * 25));
    assert!(most.load(Ordering::SeqCst) <= 4, "more than max lent at once");
    assert!(named(&obs, "p-max").len() <= 4);
    let s = pool.stats();
    assert!(s.created <= 4, "{s:?}");
    assert_eq!((s.active, s.waiting, s.acquire_timeouts), (0, 0, 0));
}

#[test]
fn an_exhausted_pool_times_out_and_serves_waiters_first_come_first_served() {
    let server = RedisServer::new();
    let pool = pool(&server, "p-exhaust")
        .max(1)
        .acquire_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let held = pool.acquire().wait().unwrap();
    let started = Instant::now();
    match pool.acquire().wait() {
        Err(Error::Timeout { message, .. }) => assert!(message.contains("max"), "{message}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(pool.stats().acquire_timeouts, 1);

    // Three waiters in line, in order; each takes the connection, records itself, gives it back.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let (p, order) = (pool.clone(), order.clone());
            let w = thread::spawn(move || {
                let conn = p.acquire().timeout(Duration::from_secs(10)).wait().unwrap();
                order.lock().unwrap().push(i);
                drop(conn);
            });
            eventually("the waiter in line", || pool.stats().waiting == i as u64 + 1);
            w
        })
        .collect();
    drop(held);
    for w in waiters {
        w.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[test]
fn a_cancelled_acquire_leaks_no_slot() {
    let server = RedisServer::new();
    let pool = pool(&server, "p-cancel").max(1).build().unwrap();
    let held = pool.acquire().wait().unwrap();

    // Waiting in line, then dropped: it leaves the line.
    let mut waiting = pool.acquire();
    assert!(poll_once(&mut waiting).is_pending());
    eventually("the waiter in line", || pool.stats().waiting == 1);
    drop(waiting);
    eventually("the line empty", || pool.stats().waiting == 0);

    // Lent while nobody polls it, then dropped: the connection comes back.
    let mut lent = pool.acquire();
    assert!(poll_once(&mut lent).is_pending());
    eventually("the waiter in line", || pool.stats().waiting == 1);
    drop(held);
    eventually("the connection lent to the unpolled acquire", || pool.stats().waiting == 0);
    drop(lent);
    let conn = pool.acquire().timeout(Duration::from_secs(2)).wait().unwrap();
    conn.ping().wait().unwrap();
    drop(conn);
    eventually("all idle", || pool.stats().active == 0);
    assert_eq!(pool.stats().total, 1);
}

#[test]
fn idle_connections_beyond_min_close_after_idle_timeout() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let pool = pool(&server, "p-idle")
        .min(1)
        .max(3)
        .idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let conns: Vec<_> = (0..3).map(|_| pool.acquire().wait().unwrap()).collect();
    for c in &conns {
        c.ping().wait().unwrap();
    }
    assert_eq!(named(&obs, "p-idle").len(), 3);
    drop(conns);
    eventually("two of three closed", || named(&obs, "p-idle").len() == 1);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(named(&obs, "p-idle").len(), 1, "min is kept open");
    let s = pool.stats();
    assert_eq!((s.destroyed.idle, s.idle, s.total), (2, 1, 1));
}

/// Lends one connection, lets `dirty` use it, gives it back, and returns whether the next
/// one lent is the same server connection.
fn reused_after(pool: &Pool, dirty: impl FnOnce(&redpoll::PooledConnection)) -> bool {
    let conn = pool.acquire().wait().unwrap();
    let id: i64 = conn.client_id().wait().unwrap();
    dirty(&conn);
    drop(conn);
    eventually("nothing lent", || pool.stats().active == 0);
    let conn = pool.acquire().wait().unwrap();
    let again: i64 = conn.client_id().wait().unwrap();
    id == again
}

#[test]
fn every_dirty_state_is_destroyed_and_replaced() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let pool = pool(&server, "p-dirty").min(1).max(2).build().unwrap();

    assert!(!reused_after(&pool, |c| c.multi().wait().unwrap()));
    assert!(!reused_after(&pool, |c| c.watch(["k"]).wait().unwrap()));
    assert!(!reused_after(&pool, |c| c.select(1).wait().unwrap()));
    assert!(!reused_after(&pool, |c| {
        // A reply still outstanding when the guard drops: a BLPOP sent and not answered.
        let _pending = c.blpop(["nothing"], 1.0).send();
    }));
    // Pub/sub is refused on a pooled connection, unsent: it stays clean.
    assert!(reused_after(&pool, |c| {
        let e = c.cmd("SUBSCRIBE").arg("news").decode::<Value>().wait().unwrap_err();
        assert!(e.to_string().contains("subscribe"), "{e}");
    }));
    let s = pool.stats();
    let d = s.destroyed;
    assert_eq!((d.multi, d.watch, d.state_changed, d.outstanding), (1, 1, 1, 1), "{s:?}");
    assert_eq!(d.subscribed, 0);
    // Each destroyed one was replaced: min stays open.
    eventually("min open", || pool.stats().total >= 1);
    assert!(named(&obs, "p-dirty").len() <= 2);
}

#[test]
fn a_protocol_error_from_the_server_destroys_the_connection() {
    // A fake server that answers everything but GET, and GET with bytes no RESP parser takes.
    let fake = FakeServer::start(Script::new().serve(|args| {
        Some(match args.first().map(|a| a.to_ascii_uppercase()) {
            Some(c) if c == b"GET" => b"?garbage\r\n".to_vec(),
            _ => b"+OK\r\n".to_vec(),
        })
    }));
    let pool = Pool::builder().url(fake.url()).max(1).build().unwrap();
    let conn = pool.acquire().wait().unwrap();
    match conn.get("k").decode::<Option<String>>().wait() {
        Err(Error::Protocol(_) | Error::Connection { .. }) => {}
        other => panic!("expected a protocol error, got {other:?}"),
    }
    drop(conn);
    eventually("destroyed", || pool.stats().destroyed.protocol == 1);
    let conn = pool.acquire().wait().unwrap();
    conn.set("k", "v").wait().unwrap();
    assert_eq!(pool.stats().created, 2);
}

#[test]
fn cleanup_mode_discards_and_unwatches_but_never_reuses_outstanding_replies() {
    let server = RedisServer::new();
    let pool = pool(&server, "p-clean")
        .max(1)
        .on_dirty(OnDirty::Cleanup)
        .cleanup_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    assert!(reused_after(&pool, |c| {
        c.multi().wait().unwrap();
        let _: Value = c.set("k", "never").decode().wait().unwrap(); // QUEUED
    }));
    assert!(reused_after(&pool, |c| c.watch(["k"]).wait().unwrap()));
    // The abandoned MULTI was discarded: its SET never ran.
    let conn = pool.acquire().wait().unwrap();
    assert_eq!(conn.get("k").decode::<Option<String>>().wait().unwrap(), None);
    drop(conn);
    assert!(!reused_after(&pool, |c| {
        let _pending = c.blpop(["nothing"], 1.0).send();
    }));
    assert!(!reused_after(&pool, |c| {
        // MULTI, and a SELECT queued in it: DISCARD ends the MULTI, the SELECT's mark stays.
        c.multi().wait().unwrap();
        let _ = c.cmd("SELECT").arg(2).decode::<Value>().wait();
    }));
    let s = pool.stats();
    assert_eq!(s.cleaned, 2, "{s:?}");
    assert_eq!(s.destroyed.outstanding, 1, "{s:?}");
}

#[test]
fn a_connection_the_server_killed_is_replaced() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let pool = pool(&server, "p-kill").min(1).max(2).build().unwrap();
    let conn = pool.acquire().wait().unwrap();
    let id: i64 = conn.client_id().wait().unwrap();
    drop(conn);
    eventually("idle", || pool.stats().idle == 1);
    let _: Value = obs.client_kill().id(id).decode().wait().unwrap();
    eventually("the killed one destroyed", || pool.stats().destroyed.lost == 1);
    let conn = pool.acquire().wait().unwrap();
    let again: i64 = conn.client_id().wait().unwrap();
    assert_ne!(again, id);
    conn.ping().wait().unwrap();
    assert_eq!(pool.stats().created, 2);
}

#[test]
fn a_health_check_replaces_a_connection_that_stopped_answering() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let pool = Pool::builder()
        .url(proxy.url())
        .max(2)
        .health_check_after(Duration::from_millis(100))
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let conn = pool.acquire().wait().unwrap();
    conn.set("k", "v").wait().unwrap();
    drop(conn);
    thread::sleep(Duration::from_millis(200));
    // The idle connection goes silent; its PING fails at its deadline, and the caller gets
    // a new connection once the path heals.
    proxy.blackhole(true);
    let p = pool.clone();
    let handle = thread::spawn(move || p.acquire().timeout(Duration::from_secs(5)).wait());
    eventually("the failed check", || pool.stats().health_check_failures == 1);
    proxy.blackhole(false);
    let conn = handle.join().unwrap().unwrap();
    assert_eq!(conn.get("k").decode::<Option<String>>().wait().unwrap().as_deref(), Some("v"));
    let s = pool.stats();
    assert_eq!((s.destroyed.health_check, s.created), (1, 2), "{s:?}");
}

#[test]
fn a_panic_while_holding_a_guard_gives_the_connection_back_or_destroys_it() {
    let server = RedisServer::new();
    let pool = pool(&server, "p-panic").max(1).build().unwrap();
    let first: i64 = pool.acquire().wait().unwrap().client_id().wait().unwrap();
    let p = pool.clone();
    let clean = thread::spawn(move || {
        let conn = p.acquire().wait().unwrap();
        conn.ping().wait().unwrap();
        panic!("the owner panics with a clean connection");
    });
    assert!(clean.join().is_err());
    let conn = pool.acquire().wait().unwrap();
    assert_eq!(conn.client_id().wait().unwrap(), first, "a clean connection is reused");
    drop(conn);
    let p = pool.clone();
    let dirty = thread::spawn(move || {
        let conn = p.acquire().wait().unwrap();
        conn.multi().wait().unwrap();
        panic!("the owner panics inside MULTI");
    });
    assert!(dirty.join().is_err());
    let conn = pool.acquire().timeout(Duration::from_secs(2)).wait().unwrap();
    assert_ne!(conn.client_id().wait().unwrap(), first, "a dirty one is destroyed");
    assert_eq!(pool.stats().destroyed.multi, 1);
}

#[test]
fn a_forked_child_opens_its_own_connections() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let pool = pool(&server, "p-fork").min(1).max(2).build().unwrap();
    let conn = pool.acquire().wait().unwrap();
    let parent_id: i64 = conn.client_id().wait().unwrap();
    conn.incr("forks").wait().unwrap();
    drop(conn);
    // SAFETY: the child only uses the pool (whose fork handling is under test), the
    // allocator (fork-safe in glibc) and `_exit`; it never returns into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: a watchdog for the child alone.
        unsafe { libc::alarm(10) };
        let code = (|| {
            let conn = pool.acquire().timeout(Duration::from_secs(5)).wait().ok()?;
            let id: i64 = conn.client_id().wait().ok()?;
            conn.incr("forks").wait().ok()?;
            (id != parent_id).then_some(())
        })()
        .map_or(1, |_| 0);
        // SAFETY: ends the child without running the parent's destructors or test harness.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child: {status}");
    let conn = pool.acquire().wait().unwrap();
    assert_eq!(conn.client_id().wait().unwrap(), parent_id, "the parent's is untouched");
    assert_eq!(conn.incr("forks").wait().unwrap(), 3);
    drop(obs);
}

#[test]
fn invalid_options_are_refused_together() {
    let e = Pool::builder().max(0).acquire_timeout(Duration::ZERO).build().unwrap_err();
    let text = e.to_string();
    assert!(text.contains("max: 0") && text.contains("acquire_timeout"), "{text}");
    let e = Pool::builder().min(3).max(2).build().unwrap_err();
    assert!(e.to_string().contains("min: 3 is more than max 2"), "{e}");
    let e = Pool::builder().url("redis://:bad:port").build().unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
    let e = Pool::builder().max(5000).build().unwrap_err();
    assert!(e.to_string().contains("1 to 1024"), "{e}");
}

#[test]
fn a_wrong_password_fails_the_acquire_and_loses_nothing() {
    let server = RedisServer::new();
    let obs = observer(&server);
    let _: Value =
        obs.cmd("CONFIG").arg("SET").arg("requirepass").arg("right").decode().wait().unwrap();
    let pool = Pool::builder().url(server.url()).password("wrong").max(1).build().unwrap();
    match pool.acquire().timeout(Duration::from_secs(2)).wait() {
        Err(e) => assert!(e.to_string().to_lowercase().contains("pass"), "{e}"),
        Ok(_) => panic!("a wrong password connected"),
    }
    eventually("nothing lent", || pool.stats().active == 0);
}

#[test]
fn the_io_loop_keeps_serving_while_pools_churn() {
    let server = RedisServer::new();
    let pool = pool(&server, "p-tick")
        .max(8)
        .health_check_after(Duration::from_millis(1))
        .build()
        .unwrap();
    let ticker = Ticker::start();
    let deadline = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..16)
        .map(|i| {
            let pool = pool.clone();
            thread::spawn(move || {
                let mut rounds = 0;
                while Instant::now() < deadline && rounds < 2_000 {
                    let conn = pool.acquire().timeout(Duration::from_secs(5)).wait().unwrap();
                    conn.incr("churn").wait().unwrap();
                    if (rounds + i) % 10 == 0 {
                        conn.multi().wait().unwrap(); // dirty: destroyed and replaced
                    }
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    let rounds: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    ticker.stop().assert_kept_up("pools lending, checking and destroying connections");
    let s = pool.stats();
    assert!(s.destroyed.multi > 0 && s.total <= 8, "{s:?} after {rounds} rounds");
}

#[test]
fn a_retry_after_the_guard_dropped_never_reaches_the_next_owner() {
    let server = RedisServer::new();
    // A policy that sends a WRONGTYPE command once more: the resend happens when the reply is
    // waited for, which here is after the guard was dropped and the connection lent again.
    let client = Client::builder().url(server.url()).retry_policy(|attempt, err, _| {
        (err.server_code() == Some("WRONGTYPE") && attempt < 2).then_some(Duration::ZERO)
    });
    let pool = Pool::builder().client(client).max(1).build().unwrap();
    let conn = pool.acquire().wait().unwrap();
    conn.rpush("list", ["x"]).wait().unwrap();
    let reply = conn.incr("list").send();
    thread::sleep(Duration::from_millis(100)); // its WRONGTYPE has arrived
    drop(conn);
    let next = pool.acquire().wait().unwrap();
    next.multi().wait().unwrap();
    match reply.wait() {
        Err(Error::Disconnected(message)) => assert!(message.contains("given back"), "{message}"),
        other => panic!("the resend reached the next owner's connection: {other:?}"),
    }
    let ran: Option<Vec<Value>> = next.exec().decode().wait().unwrap();
    assert_eq!(ran, Some(vec![]), "nothing of the last owner's landed in this MULTI");
}

#[test]
fn a_connection_that_failed_for_good_while_idle_is_replaced_when_lent() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let pool = Pool::builder().url(proxy.url()).reconnect(false).min(1).max(1).build().unwrap();
    pool.acquire().wait().unwrap().ping().wait().unwrap();
    // The server goes away: the idle connection is lost and its replacement cannot connect
    // (and, with reconnect(false), never tries again).
    proxy.refuse(true);
    proxy.cut_all();
    eventually("the lost one destroyed", || pool.stats().destroyed.lost >= 1);
    eventually("a replacement tried", || pool.stats().created >= 2);
    thread::sleep(Duration::from_millis(200));
    // Back: the next acquire gets a connection, not the dead replacement's old error.
    proxy.refuse(false);
    let conn = pool.acquire().timeout(Duration::from_secs(5)).wait().unwrap();
    conn.ping().wait().unwrap();
}
