//! The commands a fresh connection sends before any request (HELLO, AUTH, SELECT, CLIENT
//! SETNAME), and how their replies are judged.

use bytes::Bytes;

use crate::error::{Error, ServerError};
use crate::resp::{CommandBuf, Value};

/// What a handshake needs to know, taken from the client's configuration.
#[derive(Clone, Default)]
pub(crate) struct HandshakeConfig {
    /// 2 or 3.
    pub(crate) protocol: u8,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Vec<u8>>,
    pub(crate) db: i64,
    pub(crate) client_name: Option<String>,
}

impl std::fmt::Debug for HandshakeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeConfig")
            .field("protocol", &self.protocol)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("db", &self.db)
            .field("client_name", &self.client_name)
            .finish()
    }
}

/// One step of the handshake, kept in the in-flight queue to judge its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Hello,
    Auth,
    Select,
    SetName,
    /// Only to hear from the server (see [`Handshake::confirmed`]); any reply will do.
    Ping,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Hello => "HELLO",
            Step::Auth => "AUTH",
            Step::Select => "SELECT",
            Step::SetName => "CLIENT SETNAME",
            Step::Ping => "PING",
        }
    }
}

/// The encoded handshake, built once per client and replayed on every connection.
#[derive(Clone, Default)]
pub(crate) struct Handshake {
    steps: Vec<(Step, Bytes)>,
}

impl std::fmt::Debug for Handshake {
    /// Step names only: the encoded commands hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.steps.iter().map(|(step, _)| step)).finish()
    }
}

impl Handshake {
    /// Builds the pipelined handshake: `HELLO 3 [AUTH u p] [SETNAME n]` for RESP3; for RESP2
    /// `AUTH [u] p` and `CLIENT SETNAME n` (so servers older than 6.0 work too); then
    /// `SELECT db` when the database is not 0.
    ///
    /// A user name without a password authenticates with an empty password, which is how an
    /// ACL user marked `nopass` logs in.
    pub(crate) fn new(cfg: &HandshakeConfig) -> Self {
        let mut steps = Vec::new();
        let password = match (&cfg.username, &cfg.password) {
            (_, Some(p)) => Some(p.as_slice()),
            (Some(_), None) => Some(&b""[..]),
            (None, None) => None,
        };
        if cfg.protocol == 3 {
            let mut c = CommandBuf::new();
            c.push(b"HELLO");
            c.push(b"3");
            if let Some(pass) = password {
                c.push(b"AUTH");
                c.push(cfg.username.as_deref().unwrap_or("default").as_bytes());
                c.push(pass);
            }
            if let Some(name) = &cfg.client_name {
                c.push(b"SETNAME");
                c.push(name.as_bytes());
            }
            steps.push((Step::Hello, c.finish()));
        } else {
            if let Some(pass) = password {
                let mut c = CommandBuf::new();
                c.push(b"AUTH");
                if let Some(user) = &cfg.username {
                    c.push(user.as_bytes());
                }
                c.push(pass);
                steps.push((Step::Auth, c.finish()));
            }
            if let Some(name) = &cfg.client_name {
                let mut c = CommandBuf::new();
                c.push(b"CLIENT");
                c.push(b"SETNAME");
                c.push(name.as_bytes());
                steps.push((Step::SetName, c.finish()));
            }
        }
        if cfg.db != 0 {
            let mut c = CommandBuf::new();
            c.push(b"SELECT");
            c.push_int(cfg.db);
            steps.push((Step::Select, c.finish()));
        }
        Handshake { steps }
    }

    /// Adds a `PING` when no step would reach the server, so the connection is ready only
    /// once the server has answered. Used over TLS: in TLS 1.3 the server judges the client's
    /// certificate (or its absence) after the client has finished its side of the handshake,
    /// so only a reply proves the connection was accepted.
    pub(crate) fn confirmed(mut self) -> Self {
        if self.steps.is_empty() {
            let mut c = CommandBuf::new();
            c.push(b"PING");
            self.steps.push((Step::Ping, c.finish()));
        }
        self
    }

    /// Makes `bytes` the step `step`: it replaces the step of that kind, or comes last (an
    /// exclusive connection's SELECT or CLIENT SETNAME, replayed on every reconnect).
    pub(crate) fn set(&mut self, step: Step, bytes: Bytes) {
        match self.steps.iter_mut().find(|(s, _)| *s == step) {
            Some(slot) => slot.1 = bytes,
            None => self.steps.push((step, bytes)),
        }
    }

    /// The steps in the order they are written.
    pub(crate) fn steps(&self) -> &[(Step, Bytes)] {
        &self.steps
    }
}

/// What a handshake reply means for the connection.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The step succeeded; for HELLO, the server version when the reply carried one.
    Ok { server_version: Option<String> },
    /// The step failed for a reason that may pass (server loading, busy): reconnect later.
    Transient(Error),
    /// The step failed for a reason that will not change (wrong password, unknown database,
    /// ACL refusal, unsupported protocol): stop connecting and fail every request with it.
    Permanent(Error),
}

/// Judges the reply to one handshake step.
pub(crate) fn judge(step: Step, reply: Value) -> Verdict {
    match reply {
        // An error (NOAUTH without a password) belongs to the requests that follow, as it
        // would without the PING.
        _ if step == Step::Ping => Verdict::Ok { server_version: None },
        Value::Error(e) => {
            // `-ERR max number of clients reached` is how Redis turns away a connection over
            // `maxclients`: it passes as clients leave.
            let transient = matches!(e.code(), "LOADING" | "BUSY" | "MASTERDOWN" | "TRYAGAIN")
                || e.detail().starts_with("max number of clients reached");
            // The server's code stays first so `Error::server_code()` still answers WRONGPASS.
            let line =
                format!("{} {} refused by the server: {}", e.code(), step.name(), e.detail());
            let err = Error::Redis(ServerError::new(line));
            if transient {
                Verdict::Transient(err)
            } else {
                Verdict::Permanent(err)
            }
        }
        Value::Map(pairs) if step == Step::Hello => Verdict::Ok { server_version: version(&pairs) },
        Value::Array(items) if step == Step::Hello => {
            let pairs: Vec<(Value, Value)> =
                items.chunks_exact(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect();
            Verdict::Ok { server_version: version(&pairs) }
        }
        _ => Verdict::Ok { server_version: None },
    }
}

fn version(pairs: &[(Value, Value)]) -> Option<String> {
    pairs.iter().find_map(|(k, v)| match (k.as_bytes(), v.as_bytes()) {
        (Some(k), Some(v)) if &k[..] == b"version" => Some(String::from_utf8_lossy(v).into_owned()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(steps: &Handshake) -> Vec<String> {
        steps.steps().iter().map(|(_, b)| String::from_utf8_lossy(b).replace("\r\n", " ")).collect()
    }

    #[test]
    fn resp2_uses_auth_setname_select() {
        let h = Handshake::new(&HandshakeConfig {
            protocol: 2,
            username: Some("ada".into()),
            password: Some(b"pw".to_vec()),
            db: 3,
            client_name: Some("app".into()),
        });
        assert_eq!(
            text(&h),
            ["*3 $4 AUTH $3 ada $2 pw ", "*3 $6 CLIENT $7 SETNAME $3 app ", "*2 $6 SELECT $1 3 "]
        );
    }

    #[test]
    fn resp3_folds_auth_and_name_into_hello() {
        let h = Handshake::new(&HandshakeConfig {
            protocol: 3,
            password: Some(b"pw".to_vec()),
            client_name: Some("app".into()),
            ..Default::default()
        });
        assert_eq!(text(&h), ["*7 $5 HELLO $1 3 $4 AUTH $7 default $2 pw $7 SETNAME $3 app "]);
    }

    #[test]
    fn plain_connection_needs_no_handshake() {
        let h = Handshake::new(&HandshakeConfig { protocol: 2, ..Default::default() });
        assert!(h.steps().is_empty());
    }

    #[test]
    fn confirmed_adds_a_ping_only_to_an_empty_handshake() {
        let h = Handshake::new(&HandshakeConfig { protocol: 2, ..Default::default() }).confirmed();
        assert_eq!(text(&h), ["*1 $4 PING "]);
        let v =
            judge(Step::Ping, Value::Error(ServerError::new("NOAUTH Authentication required.")));
        assert!(matches!(v, Verdict::Ok { server_version: None }), "{v:?}");
        let h = Handshake::new(&HandshakeConfig { protocol: 3, ..Default::default() }).confirmed();
        assert_eq!(text(&h), ["*2 $5 HELLO $1 3 "]);
    }

    #[test]
    fn wrong_password_is_permanent_and_keeps_its_code() {
        let v = judge(
            Step::Auth,
            Value::Error(ServerError::new("WRONGPASS invalid username-password pair")),
        );
        match v {
            Verdict::Permanent(e) => {
                assert_eq!(e.server_code(), Some("WRONGPASS"));
                assert!(e.to_string().contains("AUTH refused"));
            }
            other => panic!("{other:?}"),
        }
        let v = judge(Step::Select, Value::Error(ServerError::new("LOADING loading dataset")));
        assert!(matches!(v, Verdict::Transient(_)));
    }

    #[test]
    fn hello_reports_the_server_version() {
        let reply = Value::Map(vec![
            (Value::BulkString("server".into()), Value::BulkString("redis".into())),
            (Value::BulkString("version".into()), Value::BulkString("7.0.15".into())),
        ]);
        match judge(Step::Hello, reply) {
            Verdict::Ok { server_version } => assert_eq!(server_version.as_deref(), Some("7.0.15")),
            other => panic!("{other:?}"),
        }
    }
}
