//! [`Info`]: the reply of INFO, parsed.

use bytes::Bytes;

use super::fields::text;
use crate::error::Error;
use crate::resp::{FromValue, Value};

/// The reply of `INFO`, parsed into sections of `field:value` lines, with the raw text kept.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::Info, Value};
///
/// let text = "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n";
/// let info: Info = Value::BulkString(text.into()).decode()?;
/// assert_eq!(info.redis_version(), Some("7.0.15"));
/// assert_eq!(info.uptime_in_seconds(), Some(42));
/// assert_eq!(info.section("Server").map(|s| s.len()), Some(2));
/// assert_eq!(info.keyspace()[0].keys, 2);
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    raw: String,
    /// (section name, its fields in order); fields before any header are in a section named "".
    sections: Vec<(String, Vec<(String, String)>)>,
}

/// One database's line of INFO's `Keyspace` section (`db0:keys=1,expires=0,avg_ttl=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyspaceStats {
    /// The database number.
    pub db: u32,
    /// How many keys it holds.
    pub keys: u64,
    /// How many of them have a TTL.
    pub expires: u64,
    /// The average TTL in ms of the keys that have one.
    pub avg_ttl: u64,
}

impl Info {
    /// Parses INFO's text.
    pub fn parse(raw: &str) -> Info {
        let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for line in raw.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(name) = line.strip_prefix('#') {
                sections.push((name.trim().to_owned(), Vec::new()));
            } else if let Some((k, v)) = line.split_once(':') {
                if sections.is_empty() {
                    sections.push((String::new(), Vec::new()));
                }
                if let Some((_, fields)) = sections.last_mut() {
                    fields.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        Info { raw: raw.to_owned(), sections }
    }

    /// The text as the server sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The section names, in order (`Server`, `Clients`, `Memory`, ...).
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(n, _)| n.as_str())
    }

    /// A section's fields, by name (case-insensitive).
    pub fn section(&self, name: &str) -> Option<&[(String, String)]> {
        self.sections.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, f)| &f[..])
    }

    /// A field's value, from whichever section holds it.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.sections
            .iter()
            .flat_map(|(_, fields)| fields)
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// A field parsed as a number.
    pub fn get_u64(&self, field: &str) -> Option<u64> {
        self.get(field)?.parse().ok()
    }

    /// `redis_version`.
    pub fn redis_version(&self) -> Option<&str> {
        self.get("redis_version")
    }

    /// `role`: `master` or `slave`.
    pub fn role(&self) -> Option<&str> {
        self.get("role")
    }

    /// `uptime_in_seconds`.
    pub fn uptime_in_seconds(&self) -> Option<u64> {
        self.get_u64("uptime_in_seconds")
    }

    /// `connected_clients`.
    pub fn connected_clients(&self) -> Option<u64> {
        self.get_u64("connected_clients")
    }

    /// `used_memory`, in bytes.
    pub fn used_memory(&self) -> Option<u64> {
        self.get_u64("used_memory")
    }

    /// `total_commands_processed`.
    pub fn total_commands_processed(&self) -> Option<u64> {
        self.get_u64("total_commands_processed")
    }

    /// The `Keyspace` section: one entry per database that holds keys.
    pub fn keyspace(&self) -> Vec<KeyspaceStats> {
        let Some(fields) = self.section("Keyspace") else { return Vec::new() };
        fields
            .iter()
            .filter_map(|(k, v)| {
                let db = k.strip_prefix("db")?.parse().ok()?;
                let mut stats = KeyspaceStats { db, keys: 0, expires: 0, avg_ttl: 0 };
                for part in v.split(',') {
                    let (name, n) = part.split_once('=')?;
                    let n = n.parse().ok()?;
                    match name {
                        "keys" => stats.keys = n,
                        "expires" => stats.expires = n,
                        "avg_ttl" => stats.avg_ttl = n,
                        _ => {}
                    }
                }
                Some(stats)
            })
            .collect()
    }
}

impl FromValue for Info {
    fn from_value(value: Value) -> Result<Self, Error> {
        let bytes: Bytes = text(value, "INFO text")?;
        Ok(Info::parse(&String::from_utf8_lossy(&bytes)))
    }
}
