//! [`Tls`]: the TLS options a user sets, and [`TlsConfig`], what they become once checked.
//!
//! This file stores paths and bytes and checks that files can be read and look like PEM. It
//! does not depend on rustls: turning a [`TlsConfig`] into a `rustls::ClientConfig` is the
//! reactor's TLS glue's job.

use std::fmt;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::validate::check_host;
use super::Secret;

/// Largest certificate or key file read (a full CA bundle is about 250 KB).
const MAX_PEM_FILE: u64 = 4 * 1024 * 1024;

const CERT_MARKER: &[u8] = b"-----BEGIN CERTIFICATE-----";
const KEY_BEGIN: &[u8] = b"-----BEGIN ";
const KEY_MARKER: &[u8] = b"PRIVATE KEY-----";

/// TLS options for [`ClientBuilder::tls`](crate::ClientBuilder::tls).
///
/// Without any option (`Tls::new()`, or just a `rediss://` URI) the server's certificate is
/// verified against the Mozilla roots of `webpki-roots` and the host name. Setting an option
/// replaces an earlier setting of the same option.
///
/// Files are read when the client is built (`build()`); a missing, unreadable or non-PEM file
/// is an [`Error::Config`](crate::Error::Config) naming the file, and PEM whose certificates
/// or key cannot be used (bad encoding, a key that does not match its certificate) an
/// [`Error::Tls`](crate::Error::Tls) naming it. The `Debug` output never shows the private
/// key.
///
/// # Examples
///
/// ```
/// use redpoll::{ClientBuilder, Tls};
///
/// let builder = ClientBuilder::new()
///     .url("rediss://cache.internal:6380")
///     .tls(Tls::new()
///         .ca_file("ca.pem")
///         .client_auth_files("client.crt", "client.key")
///         .server_name("cache.internal"));
/// ```
#[derive(Clone, Default)]
pub struct Tls {
    ca: Option<PemSource>,
    client_auth: Option<(PemSource, KeySource)>,
    server_name: Option<String>,
    danger_accept_invalid_certs: bool,
}

#[derive(Clone)]
enum PemSource {
    File(PathBuf),
    Bytes(Bytes),
}

#[derive(Clone)]
enum KeySource {
    File(PathBuf),
    Bytes(Secret),
}

impl Tls {
    /// TLS with the default verification (webpki roots, the URI's host as server name).
    pub fn new() -> Self {
        Tls::default()
    }

    /// Trust the certificate authorities in this PEM file instead of the webpki roots.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca = Some(PemSource::File(path.as_ref().to_path_buf()));
        self
    }

    /// Trust the certificate authorities in these PEM bytes instead of the webpki roots.
    ///
    /// # Examples
    ///
    /// ```
    /// let pem = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n";
    /// let tls = redpoll::Tls::new().ca_pem(pem);
    /// ```
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.ca = Some(PemSource::Bytes(Bytes::copy_from_slice(pem.as_ref())));
        self
    }

    /// Present this certificate chain and private key (PEM files) to the server: mutual TLS.
    pub fn client_auth_files(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        let cert = PemSource::File(cert.as_ref().to_path_buf());
        self.client_auth = Some((cert, KeySource::File(key.as_ref().to_path_buf())));
        self
    }

    /// Present this certificate chain and private key (PEM bytes) to the server: mutual TLS.
    pub fn client_auth_pem(mut self, cert: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        let cert = PemSource::Bytes(Bytes::copy_from_slice(cert.as_ref()));
        self.client_auth = Some((cert, KeySource::Bytes(Secret::new(key.as_ref()))));
        self
    }

    /// Verify the certificate against this name instead of the host the client connects to
    /// (useful when connecting by IP address or through a tunnel).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// **Dangerous:** accept any server certificate — any issuer, any name, expired or
    /// not. The connection is still encrypted, but to whoever answers: a man in the middle
    /// can read and change every command and reply, passwords included. Use it only for
    /// tests against throwaway self-signed servers, never in production; to trust a private
    /// CA use [`ca_file`](Tls::ca_file) instead. The CA option, if set, is still read and
    /// checked, but not used.
    ///
    /// # Examples
    ///
    /// ```
    /// // A test against a local server with a self-signed certificate.
    /// let tls = redpoll::Tls::new().danger_accept_invalid_certs(true);
    /// ```
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Reads the files and checks every option; the error is the message text, naming the
    /// file or option.
    pub(crate) fn load(&self) -> Result<TlsConfig, String> {
        let ca = match &self.ca {
            Some(source) => Some(load_pem(source, "tls ca_file", "tls ca_pem", CertKind::Cert)?),
            None => None,
        };
        let client_auth = match &self.client_auth {
            Some((cert, key)) => {
                let cert =
                    load_pem(cert, "tls client cert file", "tls client cert", CertKind::Cert)?;
                let (key, key_origin) = match key {
                    KeySource::File(path) => {
                        let what = format!("tls client key file {:?}", path.display().to_string());
                        let bytes = read_limited(path, &what)?;
                        check_pem(&bytes, &what, CertKind::Key)?;
                        (Secret::new(bytes), what)
                    }
                    KeySource::Bytes(secret) => {
                        let what = "tls client key".to_owned();
                        check_pem(secret.expose(), &what, CertKind::Key)?;
                        (secret.clone(), what)
                    }
                };
                Some(ClientAuth { cert, key, key_origin })
            }
            None => None,
        };
        if let Some(name) = &self.server_name {
            check_host("tls server_name", name)?;
        }
        Ok(TlsConfig {
            ca,
            client_auth,
            server_name: self.server_name.clone(),
            danger_accept_invalid_certs: self.danger_accept_invalid_certs,
        })
    }
}

impl fmt::Debug for PemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemSource::File(path) => f.debug_tuple("File").field(path).finish(),
            PemSource::Bytes(b) => write!(f, "Pem(<{} bytes>)", b.len()),
        }
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            KeySource::Bytes(key) => write!(f, "Pem({key:?})"),
        }
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("ca", &self.ca)
            .field("client_auth", &self.client_auth)
            .field("server_name", &self.server_name)
            .field("danger_accept_invalid_certs", &self.danger_accept_invalid_certs)
            .finish()
    }
}

/// Checked TLS settings, files already read.
#[derive(Debug, Clone)]
#[cfg_attr(any(not(test), not(feature = "tls")), allow(dead_code))] // read by the rustls glue
pub(crate) struct TlsConfig {
    /// Trusted CAs; `None` means the webpki roots.
    pub(crate) ca: Option<Pem>,
    /// Certificate chain and key for mutual TLS.
    pub(crate) client_auth: Option<ClientAuth>,
    /// Name to verify instead of the connection's host (already checked to be a DNS name or
    /// an IP address).
    pub(crate) server_name: Option<String>,
    /// Skip certificate verification.
    pub(crate) danger_accept_invalid_certs: bool,
}

/// PEM bytes and where they came from (for the rustls glue's error messages).
#[derive(Clone)]
pub(crate) struct Pem {
    /// `tls ca_file "ca.pem"`, `tls ca_pem`, …: names the source in messages.
    pub(crate) origin: String,
    /// Contains at least one `-----BEGIN CERTIFICATE-----` block.
    pub(crate) bytes: Bytes,
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pem({}, <{} bytes>)", self.origin, self.bytes.len())
    }
}

/// Client certificate chain and private key for mutual TLS.
#[derive(Debug, Clone)]
#[cfg_attr(any(not(test), not(feature = "tls")), allow(dead_code))] // read by the rustls glue
pub(crate) struct ClientAuth {
    /// The certificate chain.
    pub(crate) cert: Pem,
    /// The private key in PEM form (contains a `PRIVATE KEY-----` block).
    pub(crate) key: Secret,
    /// Names the key's source in messages (`tls client key file "client.key"`).
    pub(crate) key_origin: String,
}

#[derive(Clone, Copy)]
enum CertKind {
    Cert,
    Key,
}

fn load_pem(
    source: &PemSource,
    file_what: &str,
    bytes_what: &str,
    kind: CertKind,
) -> Result<Pem, String> {
    let (origin, bytes) = match source {
        PemSource::File(path) => {
            let what = format!("{file_what} {:?}", path.display().to_string());
            let bytes = Bytes::from(read_limited(path, &what)?);
            (what, bytes)
        }
        PemSource::Bytes(bytes) => (bytes_what.to_owned(), bytes.clone()),
    };
    check_pem(&bytes, &origin, kind)?;
    Ok(Pem { origin, bytes })
}

fn read_limited(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("{what}: cannot open: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{what}: cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_PEM_FILE {
        return Err(format!("{what}: larger than {MAX_PEM_FILE} bytes"));
    }
    Ok(bytes)
}

fn check_pem(bytes: &[u8], what: &str, kind: CertKind) -> Result<(), String> {
    let ok = match kind {
        CertKind::Cert => memchr::memmem::find(bytes, CERT_MARKER).is_some(),
        CertKind::Key => {
            memchr::memmem::find(bytes, KEY_BEGIN).is_some()
                && memchr::memmem::find(bytes, KEY_MARKER).is_some()
        }
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        CertKind::Cert => {
            format!("{what}: no \"-----BEGIN CERTIFICATE-----\" block (PEM expected)")
        }
        CertKind::Key => {
            format!("{what}: no \"-----BEGIN … PRIVATE KEY-----\" block (PEM expected)")
        }
    })
}
