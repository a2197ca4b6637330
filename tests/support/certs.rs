//! Certificates generated at test time (rcgen): a CA, a server certificate for localhost /
//! 127.0.0.1, a client certificate, and a stray key. Nothing is checked in that expires.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use redpoll::Tls;

use super::{RedisServer, TempDir};

/// Certificate files in a temp dir: a CA, a server certificate it signed for `localhost` and
/// `127.0.0.1`, a client certificate it signed, and a key that matches neither.
pub struct Certs {
    pub dir: TempDir,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub stray_key: PathBuf,
}

impl Certs {
    /// Generates a fresh CA, server and client certificate in a new temp dir.
    pub fn new() -> Certs {
        let dir = TempDir::new();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };

        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "redpoll test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
        let issuer = Issuer::new(ca, ca_key);

        let leaf = |names: Vec<String>, cn: &str, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(names).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            p.extended_key_usages = vec![usage];
            p.use_authority_key_identifier_extension = true;
            (p.signed_by(&key, &issuer).unwrap().pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            "localhost",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) =
            leaf(Vec::new(), "redpoll test client", ExtendedKeyUsagePurpose::ClientAuth);

        Certs {
            ca: write("ca.pem", ca_pem),
            server_cert: write("server.crt", server_cert),
            server_key: write("server.key", server_key),
            client_cert: write("client.crt", client_cert),
            client_key: write("client.key", client_key),
            stray_key: write("stray.key", KeyPair::generate().unwrap().serialize_pem()),
            dir,
        }
    }

    /// A TLS redis-server using these certificates (`auth_clients`: demand client certs).
    pub fn server(&self, auth_clients: bool) -> RedisServer {
        RedisServer::builder()
            .tls(&self.server_cert, &self.server_key, &self.ca, auth_clients)
            .start()
    }

    /// Verification against the test CA.
    pub fn tls(&self) -> Tls {
        Tls::new().ca_file(&self.ca)
    }
}
