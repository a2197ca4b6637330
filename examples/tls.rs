//! TLS with a private CA: `REDIS_URL=rediss://host:port REDIS_CA=ca.pem cargo run --example tls`.
//!
//! This example generates nothing and starts no server: it connects to the TLS server named
//! by `REDIS_URL` (a `rediss://` URI) and verifies its certificate against the CA
//! certificates in the PEM file `REDIS_CA`. Optional: `REDIS_CLIENT_CERT` and
//! `REDIS_CLIENT_KEY` (PEM files) for mutual TLS, `REDIS_SERVER_NAME` to verify the
//! certificate against another name than the URI's host.
//!
//! When `REDIS_URL` or `REDIS_CA` is not set it prints how to run it and exits with status 0.
//!
//! A server to try it on (certificates from any CA you control):
//!
//! ```sh
//! redis-server --port 0 --tls-port 6380 --tls-cert-file server.crt \
//!     --tls-key-file server.key --tls-ca-cert-file ca.pem --tls-auth-clients no
//! REDIS_URL=rediss://127.0.0.1:6380 REDIS_CA=ca.pem cargo run --example tls
//! ```

use std::time::Duration;

use redpoll::{Client, Error, Tls};

const USAGE: &str = "\
usage: REDIS_URL=rediss://host:port REDIS_CA=ca.pem cargo run --example tls
optional: REDIS_CLIENT_CERT=client.crt REDIS_CLIENT_KEY=client.key (mutual TLS),
          REDIS_SERVER_NAME=name (verify the certificate against this name)
REDIS_URL or REDIS_CA is not set: nothing to do.";

fn main() -> Result<(), Error> {
    let (Ok(url), Ok(ca)) = (std::env::var("REDIS_URL"), std::env::var("REDIS_CA")) else {
        println!("{USAGE}");
        return Ok(());
    };

    // The server's certificate must chain to a CA in `ca` (instead of the webpki roots) and
    // carry the URI's host (or REDIS_SERVER_NAME).
    let mut tls = Tls::new().ca_file(&ca);
    if let (Ok(cert), Ok(key)) =
        (std::env::var("REDIS_CLIENT_CERT"), std::env::var("REDIS_CLIENT_KEY"))
    {
        tls = tls.client_auth_files(cert, key);
    }
    if let Ok(name) = std::env::var("REDIS_SERVER_NAME") {
        tls = tls.server_name(name);
    }

    // Bad files (missing, no certificate, a key that does not match) fail here, naming the
    // file; a refused certificate fails `connect()` with `Error::Tls` and is not retried.
    let client = Client::builder()
        .url(&url)
        .tls(tls)
        .connect_timeout(Duration::from_secs(5))
        .client_name("redpoll-tls-example")
        .build()?;
    client.connect().wait()?;

    client.set("redpoll:tls-example", "hello over TLS").wait()?;
    let back: Option<String> = client.get("redpoll:tls-example").decode().wait()?;
    println!("PING -> {}", client.ping().wait()?);
    println!("GET redpoll:tls-example -> {back:?}");
    Ok(())
}
