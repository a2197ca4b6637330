//! One subscriber per client, each as its documentation shows it: subscribe (the call returns
//! once the server confirmed), raise `Shared::subscribed`, then count messages with the same
//! [`Counter`] until all arrived, send the count, and only then unsubscribe and close.
//! Blocking subscribers run on a thread of their own, async ones as a task on the harness's
//! tokio runtime (under a timeout of the plan's deadline).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{Builder, ClientLike, Config, EventInterface, PubsubInterface, TcpConfig};
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use super::{err, redis_client, Counter, Event, Plan, Shared, Sub, CHANNEL};

/// A redpoll subscription resubscribed after a lost connection: messages were lost.
const RECONNECTED: &str = "redpoll: the subscriber's connection was lost and resubscribed";

/// How long a blocking redis-rs read waits before the subscriber checks whether to give up.
const READ_TIMEOUT: Duration = Duration::from_millis(500);

/// Starts `sub`'s subscriber; it reports on `tx`.
pub fn start(
    sub: Sub,
    url: &str,
    rt: &tokio::runtime::Runtime,
    plan: Plan,
    shared: Arc<Shared>,
    tx: Sender<Event>,
) {
    let url = url.to_owned();
    match sub {
        Sub::RedpollIter => thread(tx, move |tx| redpoll_iter(&url, plan, &shared, tx)),
        Sub::RedisBlocking => thread(tx, move |tx| redis_blocking(&url, plan, &shared, tx)),
        Sub::RedpollNext => task(rt, plan, tx, |tx| redpoll_next(url, plan, shared, tx)),
        Sub::RedisAsync => task(rt, plan, tx, |tx| redis_async(url, plan, shared, tx)),
        Sub::Fred => task(rt, plan, tx, |tx| fred(url, plan, shared, tx)),
    }
}

/// Runs a blocking subscriber on a thread of its own (left behind if it never returns).
fn thread<F>(tx: Sender<Event>, f: F)
where
    F: FnOnce(&Sender<Event>) -> Result<(), String> + Send + 'static,
{
    let tx2 = tx.clone();
    let spawned = std::thread::Builder::new().name("perf-subscriber".into()).spawn(move || {
        if let Err(e) = f(&tx) {
            let _ = tx.send(Event::Done(Err(e)));
        }
        let _ = tx.send(Event::Closed);
    });
    if let Err(e) = spawned {
        let _ = tx2.send(Event::Done(Err(format!("subscriber thread: {e}"))));
    }
}

/// Runs an async subscriber as a tokio task, cancelled at the plan's deadline.
fn task<F, Fut>(rt: &tokio::runtime::Runtime, plan: Plan, tx: Sender<Event>, f: F)
where
    F: FnOnce(Sender<Event>) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let fut = f(tx.clone());
    let deadline = tokio::time::Instant::from_std(plan.deadline);
    rt.spawn(async move {
        let r = match tokio::time::timeout_at(deadline, fut).await {
            Ok(r) => r,
            Err(_) => Err("the subscriber's deadline passed".into()),
        };
        if let Err(e) = r {
            let _ = tx.send(Event::Done(Err(e)));
        }
        let _ = tx.send(Event::Closed);
    });
}

fn subscribed(shared: &Shared) {
    shared.subscribed.store(true, Ordering::Release);
}

fn redpoll_iter(url: &str, plan: Plan, shared: &Shared, tx: &Sender<Event>) -> Result<(), String> {
    let e = err("redpoll");
    let client = redpoll::Client::open(url).map_err(&e)?;
    let sub = client.subscribe(&[CHANNEL]).capacity(plan.capacity).wait().map_err(&e)?;
    subscribed(shared);
    let mut c = Counter::new(plan, shared);
    for m in sub.iter() {
        let m: redpoll::Message = m.map_err(&e)?;
        if m.kind == redpoll::MessageKind::Resubscribed {
            return Err(RECONNECTED.into());
        }
        if c.add(m.payload.len()) {
            break;
        }
    }
    let _ = tx.send(Event::Done(Ok(c.finish(sub.dropped()))));
    Ok(())
}

async fn redpoll_next(
    url: String,
    plan: Plan,
    shared: Arc<Shared>,
    tx: Sender<Event>,
) -> Result<(), String> {
    let e = err("redpoll");
    let client = redpoll::Client::open(&url).map_err(&e)?;
    let mut sub = client.subscribe(&[CHANNEL]).capacity(plan.capacity).await.map_err(&e)?;
    subscribed(&shared);
    let mut c = Counter::new(plan, &shared);
    while let Some(m) = sub.next().await {
        let m: redpoll::Message = m.map_err(&e)?;
        if m.kind == redpoll::MessageKind::Resubscribed {
            return Err(RECONNECTED.into());
        }
        if c.add(m.payload.len()) {
            break;
        }
    }
    let _ = tx.send(Event::Done(Ok(c.finish(sub.dropped()))));
    Ok(())
}

fn redis_blocking(
    url: &str,
    plan: Plan,
    shared: &Shared,
    tx: &Sender<Event>,
) -> Result<(), String> {
    let e = err("redis-rs");
    let mut con = redis_client(url)?.get_connection().map_err(&e)?;
    let mut ps = con.as_pubsub();
    ps.subscribe(CHANNEL).map_err(&e)?;
    // Only so that a subscriber that gets nothing more can give up; never hit in a good run.
    ps.set_read_timeout(Some(READ_TIMEOUT)).map_err(&e)?;
    subscribed(shared);
    let mut c = Counter::new(plan, shared);
    loop {
        match ps.get_message() {
            Ok(m) => {
                if c.add(m.get_payload_bytes().len()) {
                    break;
                }
            }
            Err(x) if x.is_timeout() => {
                if c.give_up() {
                    break;
                }
            }
            Err(x) => return Err(e(x)),
        }
    }
    let _ = tx.send(Event::Done(Ok(c.finish(0))));
    Ok(())
}

async fn redis_async(
    url: String,
    plan: Plan,
    shared: Arc<Shared>,
    tx: Sender<Event>,
) -> Result<(), String> {
    let e = err("redis-rs");
    let client = redis_client(&url)?;
    let mut ps = client.get_async_pubsub().await.map_err(&e)?;
    ps.subscribe(CHANNEL).await.map_err(&e)?;
    subscribed(&shared);
    let mut c = Counter::new(plan, &shared);
    let mut messages = ps.on_message();
    while let Some(m) = messages.next().await {
        if c.add(m.get_payload_bytes().len()) {
            break;
        }
    }
    let _ = tx.send(Event::Done(Ok(c.finish(0))));
    Ok(())
}

async fn fred(
    url: String,
    plan: Plan,
    shared: Arc<Shared>,
    tx: Sender<Event>,
) -> Result<(), String> {
    let e = err("fred");
    let config = Config::from_url(&url).map_err(&e)?;
    let client = Builder::from_config(config)
        .with_connection_config(|c| {
            c.tcp = TcpConfig { nodelay: Some(true), ..Default::default() };
        })
        // Its default (32) drops whatever the consumer has not taken yet beyond that.
        .with_performance_config(|p| p.broadcast_channel_capacity = plan.capacity)
        .build()
        .map_err(&e)?;
    client.init().await.map_err(&e)?;
    let mut rx = client.message_rx();
    client.subscribe(CHANNEL).await.map_err(&e)?;
    subscribed(&shared);
    let mut c = Counter::new(plan, &shared);
    let mut dropped = 0;
    loop {
        match rx.recv().await {
            Ok(m) => {
                if c.add(m.value.as_bytes().map_or(0, <[u8]>::len)) {
                    break;
                }
            }
            Err(RecvError::Lagged(n)) => {
                dropped += n;
                break;
            }
            Err(RecvError::Closed) => break,
        }
    }
    let _ = tx.send(Event::Done(Ok(c.finish(dropped))));
    let _ = client.quit().await;
    Ok(())
}
