//! CLIENT INFO and CLIENT LIST: `k=v` lines.

use super::fields::text;
use crate::error::Error;
use crate::resp::{FromValue, Value};

/// One client connection, as `CLIENT INFO` describes it (and each line of `CLIENT LIST`).
///
/// The common fields are typed; every field, those a later server adds included, is in
/// `fields` and reachable through [`get`](ClientInfo::get).
///
/// # Examples
///
/// ```
/// use redpoll::{replies::ClientInfo, Value};
///
/// let line = "id=7 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name=app age=3 idle=0 flags=N db=2 sub=0 psub=0 multi=-1 cmd=client|info user=default resp=3";
/// let c: ClientInfo = Value::BulkString(line.into()).decode()?;
/// assert_eq!((c.id, c.db, c.name.as_deref()), (7, 2, Some("app")));
/// assert_eq!(c.get("cmd"), Some("client|info"));
/// assert_eq!(c.resp, Some(3));
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's ID (`CLIENT ID`).
    pub id: i64,
    /// Its address and port as the server sees it.
    pub addr: String,
    /// The server's address and port of the connection.
    pub laddr: Option<String>,
    /// The connection name (`None` when not set).
    pub name: Option<String>,
    /// Seconds since it connected.
    pub age: Option<u64>,
    /// Seconds since its last command.
    pub idle: Option<u64>,
    /// Its flags (`N`, `M`, `S`, `x`, ...).
    pub flags: String,
    /// The selected database.
    pub db: i64,
    /// Channel subscriptions.
    pub sub: Option<u64>,
    /// Pattern subscriptions.
    pub psub: Option<u64>,
    /// Shard-channel subscriptions (Redis 7).
    pub ssub: Option<u64>,
    /// Commands queued in MULTI (-1 outside one).
    pub multi: Option<i64>,
    /// Its last command.
    pub cmd: Option<String>,
    /// Its ACL user.
    pub user: Option<String>,
    /// Its protocol version (Redis 7).
    pub resp: Option<u8>,
    /// The client library's name and version (Redis 7.2, `CLIENT SETINFO`).
    pub lib_name: Option<String>,
    /// The client library's version (Redis 7.2).
    pub lib_ver: Option<String>,
    /// Every field, in order.
    pub fields: Vec<(String, String)>,
}

impl ClientInfo {
    /// Parses one `k=v k=v …` line.
    ///
    /// # Errors
    ///
    /// [`Error::Conversion`] when the line has no `id` or `addr`.
    pub fn parse(line: &str) -> Result<ClientInfo, Error> {
        let fields: Vec<(String, String)> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let num = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
        let id = get("id").and_then(|v| v.parse().ok());
        let (Some(id), Some(addr)) = (id, get("addr")) else {
            return Err(Error::conversion(
                "a client line with id= and addr=",
                "a line without them",
            ));
        };
        Ok(ClientInfo {
            id,
            addr,
            laddr: get("laddr"),
            name: get("name").filter(|n| !n.is_empty()),
            age: num("age"),
            idle: num("idle"),
            flags: get("flags").unwrap_or_default(),
            db: get("db").and_then(|v| v.parse().ok()).unwrap_or(0),
            sub: num("sub"),
            psub: num("psub"),
            ssub: num("ssub"),
            multi: get("multi").and_then(|v| v.parse().ok()),
            cmd: get("cmd"),
            user: get("user"),
            resp: get("resp").and_then(|v| v.parse().ok()),
            lib_name: get("lib-name").filter(|n| !n.is_empty()),
            lib_ver: get("lib-ver").filter(|n| !n.is_empty()),
            fields,
        })
    }

    /// Any field by name, as sent.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == field).map(|(_, v)| v.as_str())
    }
}

impl FromValue for ClientInfo {
    fn from_value(value: Value) -> Result<Self, Error> {
        let bytes = text(value, "a client line")?;
        ClientInfo::parse(String::from_utf8_lossy(&bytes).trim())
    }
}

/// The reply of `CLIENT LIST`: one [`ClientInfo`] per connection.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::ClientList, Value};
///
/// let text = "id=1 addr=127.0.0.1:1 fd=5 name= db=0\nid=2 addr=127.0.0.1:2 fd=6 name=w db=1\n";
/// let list: ClientList = Value::BulkString(text.into()).decode()?;
/// assert_eq!(list.len(), 2);
/// assert_eq!(list[1].name.as_deref(), Some("w"));
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientList(pub Vec<ClientInfo>);

impl std::ops::Deref for ClientList {
    type Target = [ClientInfo];

    fn deref(&self) -> &[ClientInfo] {
        &self.0
    }
}

impl IntoIterator for ClientList {
    type Item = ClientInfo;
    type IntoIter = std::vec::IntoIter<ClientInfo>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromValue for ClientList {
    fn from_value(value: Value) -> Result<Self, Error> {
        let bytes = text(value, "CLIENT LIST's text")?;
        let text = String::from_utf8_lossy(&bytes);
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(ClientInfo::parse)
            .collect::<Result<_, _>>()
            .map(ClientList)
    }
}
