//! Tests of TLS options: `rediss://`, `Tls` files and PEM bytes read and checked at
//! `into_config`, bad files named in the error, private keys never printed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{ClientBuilder, Config, Tls};
use crate::Error;

/// The password used below; no Debug or error output may contain it.
const PW: &str = "s3cr3tPW";
/// Marks the private key files; no Debug output may contain it.
const KEY_BODY: &str = "KEYMATERIALs3cr3t";

const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

fn key_pem() -> String {
    format!("-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n")
}

fn config(b: ClientBuilder) -> Config {
    b.into_config().unwrap_or_else(|e| panic!("should build: {e}"))
}

/// Builds a builder that must fail; checks the kind, that the message contains `needle`,
/// and that the password is nowhere in the error.
fn fails(b: ClientBuilder, needle: &str) -> String {
    let e = b.into_config().expect_err("should fail");
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
    assert!(!msg.contains(PW) && !format!("{e:?}").contains(PW), "{msg}");
    msg
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("redpoll-config-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn rediss_turns_tls_on_with_defaults() {
    let c = config(ClientBuilder::new().url("rediss://h:6380"));
    let tls = c.tls.expect("tls on");
    assert!(tls.ca.is_none() && tls.client_auth.is_none() && tls.server_name.is_none());
    assert!(!tls.danger_accept_invalid_certs);
    assert!(config(ClientBuilder::new().url("rediss://h").url("redis://h")).tls.is_none());
}

#[test]
fn explicit_tls_survives_a_plain_url_in_either_order() {
    let t = || Tls::new().server_name("cache.internal").danger_accept_invalid_certs(true);
    for b in [
        ClientBuilder::new().tls(t()).url("redis://h"),
        ClientBuilder::new().url("redis://h").tls(t()),
    ] {
        let tls = config(b).tls.expect("tls on");
        assert_eq!(tls.server_name.as_deref(), Some("cache.internal"));
        assert!(tls.danger_accept_invalid_certs);
    }
}

#[test]
fn tls_files_are_read_and_checked() {
    let dir = TempDir::new();
    let ca = dir.file("ca.pem", CERT_PEM);
    let cert = dir.file("client.crt", CERT_PEM);
    let key = dir.file("client.key", &key_pem());
    let b = ClientBuilder::new()
        .url(format!("rediss://:{PW}@h"))
        .tls(Tls::new().ca_file(&ca).client_auth_files(&cert, &key).server_name("10.0.0.1"));
    let builder_debug = format!("{b:?}");
    let c = config(b);
    let tls = c.tls.clone().unwrap();
    assert_eq!(&tls.ca.as_ref().unwrap().bytes[..], CERT_PEM.as_bytes());
    assert!(tls.ca.as_ref().unwrap().origin.contains("ca.pem"));
    let auth = tls.client_auth.as_ref().unwrap();
    assert_eq!(&auth.cert.bytes[..], CERT_PEM.as_bytes());
    assert_eq!(auth.key.expose(), key_pem().as_bytes());
    assert!(auth.key_origin.contains("client.key"));
    assert_eq!(tls.server_name.as_deref(), Some("10.0.0.1"));
    let config_debug = format!("{c:?}");
    for dbg in [&builder_debug, &config_debug] {
        assert!(!dbg.contains(KEY_BODY) && !dbg.contains(PW), "{dbg}");
    }
    assert!(
        config_debug.contains("ca.pem") && config_debug.contains("client.key"),
        "{config_debug}"
    );
}

#[test]
fn tls_pem_bytes_are_checked_and_the_key_never_printed() {
    let t = Tls::new().ca_pem(CERT_PEM).client_auth_pem(CERT_PEM.as_bytes(), key_pem());
    assert!(!format!("{t:?}").contains(KEY_BODY));
    let c = config(ClientBuilder::new().url("rediss://h").tls(t));
    assert!(!format!("{c:?}").contains(KEY_BODY));
    assert_eq!(c.tls.unwrap().ca.unwrap().origin, "tls ca_pem");
    fails(
        ClientBuilder::new().tls(Tls::new().ca_pem("not pem")),
        "tls ca_pem: no \"-----BEGIN CERTIFICATE-----\" block",
    );
    let msg = fails(
        ClientBuilder::new()
            .tls(Tls::new().client_auth_pem(CERT_PEM, format!("{KEY_BODY} garbage"))),
        "tls client key: no \"-----BEGIN … PRIVATE KEY-----\" block",
    );
    assert!(!msg.contains(KEY_BODY));
}

#[test]
fn bad_tls_files_are_named() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing-ca.pem");
    let msg = fails(ClientBuilder::new().tls(Tls::new().ca_file(&missing)), "tls ca_file");
    assert!(msg.contains("missing-ca.pem") && msg.contains("cannot open"), "{msg}");
    // A directory opens but cannot be read.
    let msg = fails(ClientBuilder::new().tls(Tls::new().ca_file(dir.path())), "cannot read");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    let not_pem = dir.file("notes.txt", "hello");
    fails(ClientBuilder::new().tls(Tls::new().ca_file(&not_pem)), "tls ca_file \"");
    let msg = fails(
        ClientBuilder::new().tls(Tls::new().ca_file(&not_pem)),
        "notes.txt\": no \"-----BEGIN CERTIFICATE-----\"",
    );
    let _ = msg;
    let cert = dir.file("c.crt", CERT_PEM);
    let bad_key = dir.file("c.key", &format!("{KEY_BODY}\n"));
    let msg = fails(
        ClientBuilder::new().tls(Tls::new().client_auth_files(&cert, &bad_key)),
        "tls client key file",
    );
    assert!(msg.contains("c.key") && !msg.contains(KEY_BODY), "{msg}");
    let msg = fails(
        ClientBuilder::new()
            .tls(Tls::new().client_auth_files(dir.path().join("nope.crt"), &bad_key)),
        "tls client cert file",
    );
    assert!(msg.contains("nope.crt"), "{msg}");
    fails(ClientBuilder::new().tls(Tls::new().server_name("bad name")), "tls server_name: a space");
    fails(ClientBuilder::new().tls(Tls::new().server_name("")), "tls server_name: empty");
}
