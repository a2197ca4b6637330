//! redpoll: one `Client` shared by every caller, driven by threads calling `.wait()` or by
//! tokio tasks calling `.await`. Batches are `send()` of every command, then a wait for each
//! handle (implicit pipelining); the SET+GET batch is a `Pipeline` object. TLS: `rediss://` with the
//! run's CA (rustls, ring provider).

use bytes::Bytes;
use redpoll::{Client, Reply, Tls};

use super::{err, run_tasks, run_threads, Env, Target};
use crate::measure::Sample;
use crate::scenario::{Op, Scenario, Shape, KEY};
use crate::timed_loop;

fn open(sc: &Scenario, env: &Env) -> Result<Client, String> {
    let client = match env.target(sc)? {
        Target::Tcp { url } => Client::open(url),
        Target::Tls(t) => Client::builder().url(&t.url).tls(Tls::new().ca_file(&t.ca)).build(),
    }
    .map_err(err("redpoll open"))?;
    client.connect().wait().map_err(err("redpoll connect"))?;
    Ok(client)
}

/// A pipeline object of n/2 SETs (replies ignored, as redis-rs's `.ignore()`) and n/2 GETs,
/// built per batch as a caller with fresh data would.
fn set_get(client: &Client, n: usize, value: &Bytes) -> redpoll::Pipeline {
    let p = client.pipeline();
    for _ in 0..n / 2 {
        p.set(KEY, value).ignore();
    }
    for _ in 0..n / 2 {
        p.get(KEY);
    }
    p
}

pub fn run_wait(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let client = open(sc, env)?;
    run_threads(sc, env, |ctl| {
        let e = err("redpoll");
        Ok(match (sc.shape, sc.op) {
            (Shape::Callers(_), Op::Get) => timed_loop!(ctl, {
                client.get(KEY).wait().map_err(&e)?;
            }),
            (Shape::Callers(_), Op::Set) => {
                timed_loop!(ctl, client.set(KEY, value).wait().map_err(&e)?)
            }
            (Shape::Batch(n), Op::Set) => {
                let mut replies: Vec<Reply<()>> = Vec::with_capacity(n);
                timed_loop!(ctl, {
                    replies.extend((0..n).map(|_| client.set(KEY, value).send()));
                    for r in replies.drain(..) {
                        r.wait().map_err(&e)?;
                    }
                })
            }
            (Shape::Batch(n), Op::Get) => {
                let mut replies: Vec<Reply<Option<Bytes>>> = Vec::with_capacity(n);
                timed_loop!(ctl, {
                    replies.extend((0..n).map(|_| client.get(KEY).send()));
                    for r in replies.drain(..) {
                        r.wait().map_err(&e)?;
                    }
                })
            }
            (Shape::Batch(n), Op::SetGet) => timed_loop!(ctl, {
                set_get(&client, n, value).execute().wait().map_err(&e)?;
            }),
            (Shape::Callers(_), Op::SetGet) => return Err("SET+GET runs as a batch only".into()),
        })
    })
}

pub fn run_await(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let client = open(sc, env)?;
    let (shape, op) = (sc.shape, sc.op);
    run_tasks(sc, env, |ctl| {
        let client = client.clone();
        let value = value.clone();
        async move {
            let e = err("redpoll");
            Ok(match (shape, op) {
                (Shape::Callers(_), Op::Get) => timed_loop!(ctl, {
                    client.get(KEY).await.map_err(&e)?;
                }),
                (Shape::Callers(_), Op::Set) => {
                    timed_loop!(ctl, client.set(KEY, &value).await.map_err(&e)?)
                }
                (Shape::Batch(n), Op::Set) => {
                    let mut replies: Vec<Reply<()>> = Vec::with_capacity(n);
                    timed_loop!(ctl, {
                        replies.extend((0..n).map(|_| client.set(KEY, &value).send()));
                        for r in replies.drain(..) {
                            r.await.map_err(&e)?;
                        }
                    })
                }
                (Shape::Batch(n), Op::Get) => {
                    let mut replies: Vec<Reply<Option<Bytes>>> = Vec::with_capacity(n);
                    timed_loop!(ctl, {
                        replies.extend((0..n).map(|_| client.get(KEY).send()));
                        for r in replies.drain(..) {
                            r.await.map_err(&e)?;
                        }
                    })
                }
                (Shape::Batch(n), Op::SetGet) => timed_loop!(ctl, {
                    let mut p = set_get(&client, n, &value);
                    p.execute().await.map_err(&e)?;
                }),
                (Shape::Callers(_), Op::SetGet) => {
                    return Err("SET+GET runs as a batch only".into())
                }
            })
        }
    })
}
