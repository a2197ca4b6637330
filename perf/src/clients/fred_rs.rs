//! fred: one tokio `Client` (one connection, auto-pipelining on, its default) cloned into
//! every task. Batches use its explicit pipeline. TCP_NODELAY is turned on (fred leaves the
//! OS default, which is off), as a latency-minded user would.

use bytes::Bytes;
use fred::prelude::{Builder, ClientLike, Config, KeysInterface, TcpConfig, Value};

use super::{err, run_tasks, Env};
use crate::measure::Sample;
use crate::scenario::{Op, Scenario, Shape, KEY};
use crate::timed_loop;

pub fn run(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let config = Config::from_url(&env.url).map_err(err("fred url"))?;
    let client = Builder::from_config(config)
        .with_connection_config(|c| {
            c.tcp = TcpConfig { nodelay: Some(true), ..Default::default() };
        })
        .build()
        .map_err(err("fred build"))?;
    env.rt.block_on(client.init()).map_err(err("fred connect"))?;
    let (shape, op) = (sc.shape, sc.op);
    let result = run_tasks(sc, env, |ctl| {
        let client = client.clone();
        let value = value.clone();
        async move {
            let e = err("fred");
            Ok(match shape {
                Shape::Callers(_) => match op {
                    Op::Get => timed_loop!(ctl, {
                        client.get::<Option<Bytes>, _>(KEY).await.map_err(&e)?;
                    }),
                    Op::Set => timed_loop!(ctl, {
                        client
                            .set::<(), _, _>(KEY, value.clone(), None, None, false)
                            .await
                            .map_err(&e)?;
                    }),
                },
                Shape::Batch(n) => timed_loop!(ctl, {
                    let p = client.pipeline();
                    for _ in 0..n {
                        match op {
                            Op::Get => p.get::<(), _>(KEY).await.map_err(&e)?,
                            Op::Set => p
                                .set::<(), _, _>(KEY, value.clone(), None, None, false)
                                .await
                                .map_err(&e)?,
                        }
                    }
                    p.all::<Value>().await.map_err(&e)?;
                }),
            })
        }
    });
    let _ = env.rt.block_on(client.quit());
    result
}
