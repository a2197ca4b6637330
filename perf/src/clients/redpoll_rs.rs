//! redpoll: one `Client` shared by every caller, driven by threads calling `.wait()` or by
//! tokio tasks calling `.await`. Batches are `send()` of every command, then a wait for each
//! handle (implicit pipelining: redpoll has no pipeline object yet).

use bytes::Bytes;
use redpoll::{Client, Reply};

use super::{err, run_tasks, run_threads, Env};
use crate::measure::Sample;
use crate::scenario::{Op, Scenario, Shape, KEY};
use crate::timed_loop;

fn open(env: &Env) -> Result<Client, String> {
    let client = Client::open(&env.url).map_err(err("redpoll open"))?;
    client.connect().wait().map_err(err("redpoll connect"))?;
    Ok(client)
}

pub fn run_wait(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let client = open(env)?;
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
        })
    })
}

pub fn run_await(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let client = open(env)?;
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
            })
        }
    })
}
