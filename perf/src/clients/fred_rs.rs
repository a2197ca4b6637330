//! fred: one tokio `Client` (one connection, auto-pipelining on, its default) cloned into
//! every task. Batches use its explicit pipeline. TCP_NODELAY is turned on (fred leaves the
//! OS default, which is off), as a latency-minded user would. TLS: `rediss://` with a rustls
//! (ring) configuration that trusts the run's CA.

use std::sync::Arc;

use bytes::Bytes;
use fred::prelude::{Builder, ClientLike, Config, KeysInterface, TcpConfig, TlsConnector, Value};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::{err, run_tasks, Env, Target, TlsEnv};
use crate::measure::Sample;
use crate::scenario::{Op, Scenario, Shape, KEY};
use crate::timed_loop;

pub fn run(sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    let config = match env.target(sc)? {
        Target::Tcp { url } => Config::from_url(url).map_err(err("fred url"))?,
        Target::Tls(t) => {
            let mut config = Config::from_url(&t.url).map_err(err("fred url"))?;
            config.tls = Some(TlsConnector::from(rustls_config(t)?).into());
            config
        }
    };
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
                    Op::SetGet => return Err("SET+GET runs as a batch only".into()),
                },
                Shape::Batch(n) => timed_loop!(ctl, {
                    let p = client.pipeline();
                    for i in 0..n {
                        let op = match op {
                            Op::SetGet if i < n / 2 => Op::Set,
                            Op::SetGet => Op::Get,
                            other => other,
                        };
                        match op {
                            Op::Get | Op::SetGet => p.get::<(), _>(KEY).await.map_err(&e)?,
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

/// A rustls client configuration (ring provider) that trusts only the run's CA.
fn rustls_config(t: &TlsEnv) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&t.ca_pem()?) {
        roots.add(cert.map_err(err("fred CA"))?).map_err(err("fred CA"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(err("fred TLS"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
