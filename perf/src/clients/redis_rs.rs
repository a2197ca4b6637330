//! The `redis` crate: blocking `Connection`s (one per caller thread, as that API requires)
//! and the tokio `MultiplexedConnection` (one, cloned into every task). Batches use its
//! explicit pipeline (`redis::pipe()`). TCP_NODELAY is turned on (its default is off), as a
//! latency-minded user would. TLS: `rediss://` with the run's CA as root (rustls, ring).

use std::time::Duration;

use bytes::Bytes;
use redis::aio::MultiplexedConnection;
use redis::io::tcp::TcpSettings;
use redis::{AsyncConnectionConfig, IntoConnectionInfo};

use super::{err, run_tasks, run_threads, Env, Target};
use crate::measure::Sample;
use crate::scenario::{Op, Scenario, Shape, KEY};
use crate::timed_loop;

/// The same request timeout as redpoll's default (redis-rs's own default is shorter).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for `sc`'s server: TLS ones trust the run's CA (rustls, ring provider).
pub fn client(sc: &Scenario, env: &Env) -> Result<redis::Client, String> {
    let target = env.target(sc)?;
    let url = match &target {
        Target::Tcp { url } => url,
        Target::Tls(t) => t.url.as_str(),
    };
    let info = url.into_connection_info().map_err(err("redis-rs url"))?;
    let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
    match target {
        Target::Tcp { .. } => redis::Client::open(info),
        Target::Tls(t) => redis::Client::build_with_tls(
            info,
            redis::TlsCertificates { client_tls: None, root_cert: Some(t.ca_pem()?) },
        ),
    }
    .map_err(err("redis-rs open"))
}

fn pipeline(op: Op, n: usize, value: &[u8]) -> redis::Pipeline {
    let mut p = redis::pipe();
    for i in 0..n {
        match op {
            Op::Get => p.cmd("GET").arg(KEY),
            Op::Set => p.cmd("SET").arg(KEY).arg(value).ignore(),
            Op::SetGet if i < n / 2 => p.cmd("SET").arg(KEY).arg(value).ignore(),
            Op::SetGet => p.cmd("GET").arg(KEY),
        };
    }
    p
}

pub fn run_blocking(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let client = client(sc, env)?;
    run_threads(sc, env, |ctl| {
        let e = err("redis-rs");
        let mut con = client.get_connection().map_err(&e)?;
        Ok(match sc.shape {
            Shape::Callers(_) => match sc.op {
                Op::Get => timed_loop!(ctl, {
                    redis::cmd("GET").arg(KEY).query::<Option<Vec<u8>>>(&mut con).map_err(&e)?;
                }),
                Op::Set => timed_loop!(ctl, {
                    redis::cmd("SET").arg(KEY).arg(&value[..]).query::<()>(&mut con).map_err(&e)?;
                }),
                Op::SetGet => return Err("SET+GET runs as a batch only".into()),
            },
            Shape::Batch(n) => timed_loop!(ctl, {
                // Built per batch, as a caller with fresh data would.
                let p = pipeline(sc.op, n, value);
                p.query::<redis::Value>(&mut con).map_err(&e)?;
            }),
        })
    })
}

pub fn run_multiplexed(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let client = client(sc, env)?;
    let config = AsyncConnectionConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
    let con: MultiplexedConnection = env
        .rt
        .block_on(client.get_multiplexed_async_connection_with_config(&config))
        .map_err(err("redis-rs connect"))?;
    let (shape, op) = (sc.shape, sc.op);
    run_tasks(sc, env, |ctl| {
        let mut con = con.clone();
        let value = value.clone();
        async move {
            let e = err("redis-rs");
            Ok(match shape {
                Shape::Callers(_) => match op {
                    Op::Get => timed_loop!(ctl, {
                        redis::cmd("GET")
                            .arg(KEY)
                            .query_async::<Option<Vec<u8>>>(&mut con)
                            .await
                            .map_err(&e)?;
                    }),
                    Op::Set => timed_loop!(ctl, {
                        redis::cmd("SET")
                            .arg(KEY)
                            .arg(&value[..])
                            .query_async::<()>(&mut con)
                            .await
                            .map_err(&e)?;
                    }),
                    Op::SetGet => return Err("SET+GET runs as a batch only".into()),
                },
                Shape::Batch(n) => timed_loop!(ctl, {
                    let p = pipeline(op, n, &value);
                    p.query_async::<redis::Value>(&mut con).await.map_err(&e)?;
                }),
            })
        }
    })
}
