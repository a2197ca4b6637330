//! All of the rustls glue, in one file (rustls's next major version rewrites this API): a
//! checked `TlsConfig` becomes a `rustls::ClientConfig` once per client, and a
//! [`TlsStream`] is driven by the poll loop without ever blocking.
//!
//! - [`TlsConnector::new`] builds the `ClientConfig` with an explicit crypto provider (ring),
//!   never the process default, and checks what the config module could not: certificates
//!   that do not parse, a private key that does not match its certificate. It is built once
//!   per client and shared by every reconnect, so rustls's in-memory session cache resumes
//!   TLS sessions.
//! - [`TlsStream::handshake`] runs one step of the handshake on readiness: write what rustls
//!   has, read what the socket has, until either would block. The connection stays
//!   "connecting" for the session until the handshake is over, so `connect_timeout` bounds
//!   TCP, TLS and the Redis handshake together.
//! - [`TlsStream::read_once`] / [`TlsStream::write_vectored`] mirror the plain transport's
//!   read and write: plaintext moves into the connection's read buffer with one copy, and
//!   encrypted bytes that did not fit in the socket stay in rustls until the next writable
//!   event ([`TlsStream::flush`]).
//!
//! Without the `tls` cargo feature the types here are uninhabited: the reactor compiles the
//! same code paths, none of which can run (the builder refuses TLS configurations first).

use crate::error::Error;

pub(crate) use imp::{refusal, TlsConnector, TlsStream};

/// Why a TLS handshake failed, and whether trying again could help.
#[derive(Debug)]
pub(crate) struct HandshakeError {
    pub(crate) error: Error,
    /// A certificate was refused (by either side): retrying cannot help, so the session
    /// fails for good instead of reconnecting.
    pub(crate) permanent: bool,
}

#[cfg(feature = "tls")]
mod imp {
    use std::fmt;
    use std::io::{self, BufRead as _, IoSlice, Write as _};
    use std::sync::Arc;

    use bytes::BytesMut;
    use mio::net::TcpStream;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{self, CryptoProvider};
    use rustls::pki_types::pem::{self, PemObject as _};
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use rustls::{
        AlertDescription, ClientConfig, ClientConnection, DigitallySignedStruct, InconsistentKeys,
        RootCertStore, SignatureScheme,
    };

    use super::HandshakeError;
    use crate::config::{ClientAuth, Pem, ServerAddr, TlsConfig};
    use crate::error::Error;

    /// What every connection of one client shares: the rustls configuration (with its session
    /// cache) and the name the server's certificate must carry. One pointer wide.
    #[derive(Clone)]
    pub(crate) struct TlsConnector(Arc<Shared>);

    struct Shared {
        config: Arc<ClientConfig>,
        server_name: ServerName<'static>,
    }

    impl fmt::Debug for TlsConnector {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsConnector").field("server_name", &self.0.server_name).finish()
        }
    }

    impl TlsConnector {
        /// Builds the rustls configuration for one client.
        ///
        /// # Errors
        ///
        /// [`Error::Tls`] naming the file (or PEM option) whose contents cannot be used:
        /// certificates that do not parse or cannot be trust anchors, a private key that
        /// does not parse or does not match the certificate. [`Error::Config`] for a server
        /// name rustls does not accept, or a PEM source without any certificate.
        pub(crate) fn new(tls: &TlsConfig, addr: &ServerAddr) -> Result<Self, Error> {
            let provider = Arc::new(crypto::ring::default_provider());
            // Parsed even when verification is off, so a bad file is reported all the same.
            let roots = roots(tls.ca.as_ref())?;
            let builder = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Tls(format!("no usable TLS protocol version: {e}")))?;
            let builder = if tls.danger_accept_invalid_certs {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            } else {
                builder.with_root_certificates(roots)
            };
            let config = match &tls.client_auth {
                Some(auth) => {
                    let chain = certificates(&auth.cert)?;
                    let key = private_key(auth)?;
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(|e| client_auth_error(auth, &e))?
                }
                None => builder.with_no_client_auth(),
            };
            let name = match (&tls.server_name, addr) {
                (Some(name), _) => name.clone(),
                (None, ServerAddr::Tcp { host, .. }) => host.clone(),
                (None, ServerAddr::Unix(path)) => {
                    return Err(Error::config(format!(
                        "tls: not available over the unix socket {:?}",
                        path.display().to_string()
                    )))
                }
            };
            let server_name = ServerName::try_from(name.clone())
                .map_err(|e| Error::config(format!("tls server name {name:?}: {e}")))?;
            Ok(TlsConnector(Arc::new(Shared { config: Arc::new(config), server_name })))
        }

        /// Starts a TLS session over a connected TCP stream (nothing is sent yet: the first
        /// [`TlsStream::handshake`] sends the ClientHello). On failure the stream comes back.
        pub(crate) fn wrap(&self, tcp: TcpStream) -> Result<TlsStream, (TcpStream, Error)> {
            match ClientConnection::new(self.0.config.clone(), self.0.server_name.clone()) {
                Ok(conn) => Ok(TlsStream { tcp, conn }),
                Err(e) => Err((tcp, Error::Tls(format!("cannot start a TLS session: {e}")))),
            }
        }
    }

    /// A TCP stream with a rustls client session on top.
    #[derive(Debug)]
    pub(crate) struct TlsStream {
        tcp: TcpStream,
        conn: ClientConnection,
    }

    impl HandshakeError {
        fn transient(error: Error) -> Self {
            HandshakeError { error, permanent: false }
        }
    }

    fn would_block(e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::WouldBlock
    }

    fn interrupted(e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::Interrupted
    }

    impl TlsStream {
        /// The TCP stream underneath (for registration and connect checks).
        pub(crate) fn tcp(&self) -> &TcpStream {
            &self.tcp
        }

        /// The TCP stream underneath, mutably.
        pub(crate) fn tcp_mut(&mut self) -> &mut TcpStream {
            &mut self.tcp
        }

        /// One step of the handshake, on readiness: writes what rustls has to send, reads and
        /// processes what the socket has, until both would block. `Ok(true)` once the
        /// handshake is over (encrypted bytes may still wait for the next writable event).
        pub(crate) fn handshake(&mut self) -> Result<bool, HandshakeError> {
            loop {
                if let Err(e) = self.flush() {
                    return Err(HandshakeError::transient(Error::io(
                        "TLS handshake: write failed",
                        e,
                    )));
                }
                if !self.conn.is_handshaking() {
                    return Ok(true);
                }
                match self.conn.read_tls(&mut self.tcp) {
                    Ok(0) => {
                        return Err(HandshakeError::transient(Error::connection(
                            "the server closed the connection during the TLS handshake",
                        )))
                    }
                    Ok(_) => {
                        if let Err(e) = self.conn.process_new_packets() {
                            // rustls queued an alert telling the server why: best effort.
                            let _ = self.flush();
                            return Err(handshake_error(&e));
                        }
                    }
                    Err(e) if would_block(&e) => return Ok(false),
                    Err(e) if interrupted(&e) => {}
                    Err(e) => {
                        return Err(HandshakeError::transient(Error::io(
                            "TLS handshake: read failed",
                            e,
                        )))
                    }
                }
            }
        }

        /// Reads decrypted bytes into the spare room of `buf` (one copy out of rustls),
        /// reading and decrypting from the socket as needed. Returns the plaintext bytes
        /// added; 0 means the server closed the connection. `WouldBlock` once the socket is
        /// drained. `hint` is how many more bytes a partial frame needs: room for all of it
        /// is reserved at once. A TLS error comes back as an `InvalidData` I/O error carrying
        /// the `rustls::Error` (see [`refusal`]).
        pub(crate) fn read_once(&mut self, buf: &mut BytesMut, hint: usize) -> io::Result<usize> {
            loop {
                let mut reader = self.conn.reader();
                let mut added = 0;
                loop {
                    match reader.fill_buf() {
                        // A clean close_notify, everything before it read.
                        Ok([]) => return Ok(added),
                        Ok(chunk) => {
                            let want = hint.saturating_sub(added).max(chunk.len());
                            if buf.capacity() - buf.len() < want {
                                buf.reserve(want);
                            }
                            buf.extend_from_slice(chunk);
                            let n = chunk.len();
                            reader.consume(n);
                            added += n;
                        }
                        Err(e) if would_block(&e) => break,
                        // The TCP stream ended without close_notify: Redis does that.
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(added),
                        Err(e) => return Err(e),
                    }
                }
                if added > 0 {
                    return Ok(added);
                }
                match self.conn.read_tls(&mut self.tcp) {
                    Ok(0) => return Ok(0),
                    Ok(_) => {
                        let processed = self.conn.process_new_packets();
                        // Anything rustls must answer (a key update, or the alert of an
                        // error) goes out now, or on the next writable event.
                        let _ = self.flush();
                        processed.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    }
                    Err(e) if interrupted(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }

        /// Encrypts as much of `bufs` as rustls takes and writes it out; returns the
        /// plaintext bytes taken. Encrypted bytes left from before go first: while they
        /// cannot, no plaintext is taken (`WouldBlock`), which bounds what rustls buffers.
        pub(crate) fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.flush()?;
            if self.conn.wants_write() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let taken = self.conn.writer().write_vectored(bufs)?;
            // The plaintext is rustls's now; an error writing it out shows again on the next
            // write (sockets keep their errors), after `taken` has been accounted for.
            let _ = self.flush();
            Ok(taken)
        }

        /// True while encrypted bytes wait in rustls for the socket.
        #[cfg(test)]
        pub(crate) fn has_pending(&self) -> bool {
            self.conn.wants_write()
        }

        /// Writes encrypted bytes rustls holds until none are left or the socket would block.
        pub(crate) fn flush(&mut self) -> io::Result<()> {
            while self.conn.wants_write() {
                match self.conn.write_tls(&mut self.tcp) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(_) => {}
                    Err(e) if would_block(&e) => return Ok(()),
                    Err(e) if interrupted(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }

    /// For an error from [`TlsStream::read_once`]: `Some(Error::Tls)` when it says a
    /// certificate was refused, which no retry will change. This happens after the client
    /// finished its side of a TLS 1.3 handshake: the server checks the client's certificate
    /// (or its absence) last and answers with an alert while the Redis handshake runs.
    pub(crate) fn refusal(err: &io::Error) -> Option<Error> {
        let e = err.get_ref()?.downcast_ref::<rustls::Error>()?;
        is_certificate_error(e).then(|| Error::Tls(describe(e)))
    }

    fn is_certificate_error(e: &rustls::Error) -> bool {
        match e {
            rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::UnsupportedNameType
            | rustls::Error::InvalidCertRevocationList(_) => true,
            rustls::Error::AlertReceived(alert) => matches!(
                alert,
                AlertDescription::NoCertificate
                    | AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA
                    | AlertDescription::AccessDenied
                    | AlertDescription::CertificateRequired
            ),
            _ => false,
        }
    }

    fn describe(e: &rustls::Error) -> String {
        match e {
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
                format!("the server requires a client certificate (mutual TLS): {e}")
            }
            rustls::Error::AlertReceived(_) if is_certificate_error(e) => {
                format!("the server refused the client certificate: {e}")
            }
            _ if is_certificate_error(e) => format!("the server's certificate was refused: {e}"),
            _ => format!("TLS handshake failed: {e}"),
        }
    }

    fn handshake_error(e: &rustls::Error) -> HandshakeError {
        HandshakeError { error: Error::Tls(describe(e)), permanent: is_certificate_error(e) }
    }

    /// The webpki roots, or the certificates of `ca` instead.
    fn roots(ca: Option<&Pem>) -> Result<RootCertStore, Error> {
        let Some(ca) = ca else {
            return Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
        };
        let mut store = RootCertStore::empty();
        for (i, cert) in certificates(ca)?.into_iter().enumerate() {
            store.add(cert).map_err(|e| {
                Error::Tls(format!(
                    "{}: certificate {} cannot be a trust anchor: {e}",
                    ca.origin,
                    i + 1
                ))
            })?;
        }
        Ok(store)
    }

    /// Every `CERTIFICATE` block of a PEM source, in order.
    fn certificates(pem: &Pem) -> Result<Vec<CertificateDer<'static>>, Error> {
        let certs = CertificateDer::pem_slice_iter(&pem.bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Tls(format!("{}: malformed PEM: {e}", pem.origin)))?;
        if certs.is_empty() {
            return Err(Error::config(format!("{}: no certificate", pem.origin)));
        }
        Ok(certs)
    }

    /// The first private key (PKCS#8, PKCS#1 or SEC1) of the key source. The messages never
    /// quote the file's contents.
    fn private_key(auth: &ClientAuth) -> Result<PrivateKeyDer<'static>, Error> {
        PrivateKeyDer::from_pem_slice(auth.key.expose()).map_err(|e| {
            let why = match e {
                pem::Error::NoItemsFound => "no private key (PKCS#8, PKCS#1 or SEC1 PEM expected)",
                _ => "malformed PEM",
            };
            Error::Tls(format!("{}: {why}", auth.key_origin))
        })
    }

    fn client_auth_error(auth: &ClientAuth, e: &rustls::Error) -> Error {
        match e {
            rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => Error::Tls(format!(
                "{} does not match the certificate of {}",
                auth.key_origin, auth.cert.origin
            )),
            _ => Error::Tls(format!(
                "{} and {} cannot be used for client authentication: {e}",
                auth.cert.origin, auth.key_origin
            )),
        }
    }

    /// The verifier behind `danger_accept_invalid_certs(true)`: **accepts every server
    /// certificate** — any issuer, any name, expired or not — so a man in the middle can
    /// read and change all traffic. Only the handshake signatures are checked (they prove
    /// the server holds the key of the certificate it sent, whatever that certificate is).
    #[derive(Debug)]
    struct AcceptAnyCert(Arc<CryptoProvider>);

    impl ServerCertVerifier for AcceptAnyCert {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

/// Without the `tls` feature: nothing here can exist. `ClientBuilder::build` refuses TLS
/// configurations before the reactor sees them; [`TlsConnector::new`] says so again.
#[cfg(not(feature = "tls"))]
mod imp {
    use std::io::{self, IoSlice};

    use bytes::BytesMut;
    use mio::net::TcpStream;

    use super::HandshakeError;
    use crate::config::{ServerAddr, TlsConfig};
    use crate::error::Error;

    #[derive(Debug, Clone)]
    pub(crate) enum TlsConnector {}

    impl TlsConnector {
        pub(crate) fn new(_tls: &TlsConfig, _addr: &ServerAddr) -> Result<Self, Error> {
            Err(Error::config(
                "tls: this build of redpoll has no TLS support (enable the \"tls\" feature)",
            ))
        }

        pub(crate) fn wrap(&self, _tcp: TcpStream) -> Result<TlsStream, (TcpStream, Error)> {
            match *self {}
        }
    }

    #[derive(Debug)]
    pub(crate) enum TlsStream {}

    impl TlsStream {
        pub(crate) fn tcp(&self) -> &TcpStream {
            match *self {}
        }

        pub(crate) fn tcp_mut(&mut self) -> &mut TcpStream {
            match *self {}
        }

        pub(crate) fn handshake(&mut self) -> Result<bool, HandshakeError> {
            match *self {}
        }

        pub(crate) fn read_once(&mut self, _buf: &mut BytesMut, _hint: usize) -> io::Result<usize> {
            match *self {}
        }

        pub(crate) fn write_vectored(&mut self, _bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            match *self {}
        }

        pub(crate) fn flush(&mut self) -> io::Result<()> {
            match *self {}
        }
    }

    pub(crate) fn refusal(_err: &io::Error) -> Option<Error> {
        None
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use std::io::{self, IoSlice, Read as _};
    use std::sync::mpsc::Sender;
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use super::refusal;
    use super::TlsConnector;
    use crate::config::{ServerAddr, Tls};
    use crate::error::Error;

    fn tcp_addr(host: &str) -> ServerAddr {
        ServerAddr::Tcp { host: host.into(), port: 6380 }
    }

    fn self_signed(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn builds_with_webpki_roots_for_a_name_or_an_address() {
        let tls = Tls::new().load().unwrap();
        for host in ["cache.example", "127.0.0.1", "::1"] {
            let c = TlsConnector::new(&tls, &tcp_addr(host)).unwrap();
            assert!(format!("{c:?}").contains("TlsConnector"), "{c:?}");
        }
    }

    #[test]
    fn pem_bytes_work_like_files_and_keys_must_match() {
        let (cert, key) = self_signed("localhost");
        let (_, other_key) = self_signed("localhost");
        let ok = Tls::new().ca_pem(&cert).client_auth_pem(&cert, &key).load().unwrap();
        TlsConnector::new(&ok, &tcp_addr("localhost")).unwrap();

        let bad = Tls::new().client_auth_pem(&cert, &other_key).load().unwrap();
        match TlsConnector::new(&bad, &tcp_addr("localhost")) {
            Err(Error::Tls(m)) => {
                assert!(m.contains("tls client key does not match"), "{m}");
                assert!(!m.contains("PRIVATE KEY"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A TLS server on a loopback thread that completes the handshake, waits for `go`, then
    /// reads everything until EOF and returns it.
    fn server(cert: &str, key: &str) -> (std::net::SocketAddr, Sender<()>, JoinHandle<Vec<u8>>) {
        use rustls::pki_types::pem::PemObject as _;
        let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (go, wait) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            while tls.conn.is_handshaking() {
                tls.conn.complete_io(&mut tls.sock).unwrap();
            }
            wait.recv().unwrap();
            let mut all = Vec::new();
            let _ = tls.read_to_end(&mut all);
            all
        });
        (addr, go, thread)
    }

    #[test]
    fn bytes_taken_are_bytes_delivered_across_would_block() {
        let (cert, key) = self_signed("localhost");
        let (addr, go, thread) = server(&cert, &key);
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_send_buffer_size(4096).unwrap();
        socket.connect(&addr.into()).unwrap();
        socket.set_nonblocking(true).unwrap();
        let tcp = mio::net::TcpStream::from_std(socket.into());
        let tls = Tls::new().ca_pem(&cert).load().unwrap();
        let mut stream =
            TlsConnector::new(&tls, &tcp_addr("localhost")).unwrap().wrap(tcp).unwrap();
        while !stream.handshake().unwrap() {
            std::thread::sleep(Duration::from_millis(1));
        }

        // The server reads nothing yet: writes stop at WouldBlock with records in rustls.
        let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 241) as u8).collect();
        let mut taken = 0;
        loop {
            match stream.write_vectored(&[IoSlice::new(&data[taken..])]) {
                Ok(n) => taken += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(taken > 0 && taken < data.len(), "{taken}");
        assert!(stream.has_pending(), "encrypted bytes wait in rustls");
        go.send(()).unwrap();
        // Only what was taken gets out, through flushes alone.
        while stream.has_pending() {
            stream.flush().unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        stream.tcp_mut().shutdown(std::net::Shutdown::Write).unwrap();
        let got = thread.join().unwrap();
        assert!(got[..] == data[..taken], "{} bytes arrived, {taken} taken", got.len());
    }

    #[test]
    fn only_certificate_errors_are_refusals() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        let msg = match refusal(&wrap(alert)) {
            Some(Error::Tls(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg.contains("requires a client certificate"), "{msg}");
        let bad = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        assert!(matches!(refusal(&wrap(bad)), Some(Error::Tls(_))));

        assert!(refusal(&wrap(rustls::Error::DecryptError)).is_none());
        let other_alert = rustls::Error::AlertReceived(rustls::AlertDescription::InternalError);
        assert!(refusal(&wrap(other_alert)).is_none());
        assert!(refusal(&io::Error::from(io::ErrorKind::ConnectionReset)).is_none());
    }
}
