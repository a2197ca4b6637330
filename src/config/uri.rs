//! URI parsing: `redis://`, `rediss://`, `redis+unix://` and `unix:`.
//!
//! # Grammar
//!
//! ```text
//! redis://[[username][:password]@]host[:port][/db][?params]     rediss://… turns TLS on
//! redis+unix://[[username][:password]@]/path/to/socket[?params]  also unix://…
//! redis+unix:/path/to/socket[?params]                            also unix:/…
//! params: db=N  protocol=2|3|resp2|resp3  client_name=NAME  username=U (user=U)
//!         password=P (pass=P)
//! ```
//!
//! # Decisions
//!
//! - Schemes are case-insensitive. Anything else (`http://`, a missing scheme) is an error.
//! - Userinfo follows the URL standard: `redis://:secret@h` is a password alone,
//!   `redis://ada:secret@h` an ACL user with a password, and `redis://ada@h` a **user name
//!   without a password** (redis-rs reads it the same way; ioredis would take it for a
//!   password). An empty user name or password counts as absent. The userinfo extends to the
//!   *last* `@` of the URL, so a password may contain raw `@`, `/`, `?` or `#`; a `@` in a
//!   query value must then be written `%40`. For unix sockets the userinfo ends at the last
//!   `@/`.
//! - User name, password, socket path and query values are percent-decoded; a `%` not
//!   followed by two hex digits, and any raw space or control character, is an error. The
//!   password may decode to any bytes; the other parts must decode to UTF-8.
//! - Hosts: DNS names, IPv4, and IPv6 in brackets (`[::1]`, `[::1]:6380`). The port defaults
//!   to 6379 and must be 1..=65535 when given (`host:` with an empty port is an error).
//! - The database comes from the path (`/3`, TCP only) or `?db=3`; both given and different
//!   is an error. `/` alone means no database.
//! - An unknown query parameter, a parameter given twice, or a parameter without `=` is an
//!   error naming it, so a typo is never ignored. Parameter names are case-insensitive.
//!   Credentials may be given both in the userinfo and as parameters only if they agree.
//! - A `#fragment` is an error.
//!
//! Every error is an [`Error::Config`] whose message names the bad part and ends with the
//! URL as [`redact_url`] prints it; no message ever contains the password.

use std::net::Ipv6Addr;
use std::path::PathBuf;

pub(crate) use super::redact::redact_url;
use super::redact::{looks_like_port, quote};
use super::validate::{check_client_name, check_host, parse_db, parse_port};
use super::{Protocol, Secret, ServerAddr};
use crate::Error;

/// The port used when a `redis://` URI names none.
pub(crate) const DEFAULT_PORT: u16 = 6379;

/// What a URI says. Parts it does not spell out are `None`; the address is always complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    /// Host and port (the default port filled in), or the socket path.
    pub(crate) addr: ServerAddr,
    /// True for `rediss://`.
    pub(crate) tls: bool,
    /// The ACL user name, if the URI has a non-empty one.
    pub(crate) username: Option<String>,
    /// The password, if the URI has a non-empty one.
    pub(crate) password: Option<Secret>,
    /// The database from the path or `?db=`.
    pub(crate) db: Option<u32>,
    /// From `?protocol=`.
    pub(crate) protocol: Option<Protocol>,
    /// From `?client_name=`, already checked against Redis's rules.
    pub(crate) client_name: Option<String>,
}

/// Parses a connection URI (see the [module documentation](self) for the grammar).
///
/// # Errors
///
/// [`Error::Config`] naming the bad part, followed by the redacted URL, e.g.
/// `port: expected a number from 1 to 65535, found "x" in redis://ada:***@host:x`.
pub(crate) fn parse_url(url: &str) -> Result<ParsedUrl, Error> {
    if url.is_empty() {
        return Err(Error::config("url: empty"));
    }
    parse(url).map_err(|problem| Error::config(format!("{problem} in {}", redact_url(url))))
}

/// What the query string may carry.
#[derive(Default)]
struct Params {
    db: Option<u32>,
    protocol: Option<Protocol>,
    client_name: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
}

fn parse(url: &str) -> Result<ParsedUrl, String> {
    let Some(colon) = url.find(':') else {
        return Err("scheme: missing (expected redis://, rediss://, redis+unix:// or unix:)".into());
    };
    let (scheme, rest) = (&url[..colon], &url[colon + 1..]);
    match scheme.to_ascii_lowercase().as_str() {
        "redis" => parse_tcp(scheme, rest, false),
        "rediss" => parse_tcp(scheme, rest, true),
        "redis+unix" | "unix" => parse_unix(scheme, rest),
        _ => Err(format!(
            "scheme: expected redis, rediss, redis+unix or unix, found {}",
            quote(scheme)
        )),
    }
}

fn parse_tcp(scheme: &str, rest: &str, tls: bool) -> Result<ParsedUrl, String> {
    let Some(rest) = rest.strip_prefix("//") else {
        return Err(format!("url: expected \"//\" after \"{scheme}:\""));
    };
    let (userinfo, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    reject_fragment(after)?;
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(end);
    let (path, query) = split_query(tail);

    let (host, port) = parse_authority(authority, userinfo.is_some())?;
    let path_db = match path {
        "" | "/" => None,
        _ => {
            let text = &path[1..];
            Some(parse_db(text).ok_or_else(|| {
                format!("db: expected a database number after \"/\", found {}", quote(text))
            })?)
        }
    };
    let params = parse_params(query)?;
    let (username, password) = parse_userinfo(userinfo)?;
    let db = merge_db(path_db, params.db)?;
    let (username, password) = merge_credentials(username, password, &params)?;
    Ok(ParsedUrl {
        addr: ServerAddr::Tcp { host: host.to_owned(), port },
        tls,
        username,
        password,
        db,
        protocol: params.protocol,
        client_name: params.client_name,
    })
}

fn parse_unix(scheme: &str, rest: &str) -> Result<ParsedUrl, String> {
    let not_absolute =
        || format!("path: expected an absolute socket path, as in {scheme}:///run/redis.sock");
    let (userinfo, path_and_query) = match rest.strip_prefix("//") {
        Some(after) if after.starts_with('/') => (None, after),
        Some(after) => match after.rfind("@/") {
            Some(at) => (Some(&after[..at]), &after[at + 1..]),
            None => return Err(not_absolute()),
        },
        None if rest.starts_with('/') => (None, rest),
        None => return Err(not_absolute()),
    };
    reject_fragment(path_and_query)?;
    let (raw_path, query) = split_query(path_and_query);
    let path = decode_utf8("path", raw_path)?;
    if path.contains('\0') {
        return Err("path: contains a NUL byte".into());
    }
    let params = parse_params(query)?;
    let (username, password) = parse_userinfo(userinfo)?;
    let (username, password) = merge_credentials(username, password, &params)?;
    Ok(ParsedUrl {
        addr: ServerAddr::Unix(PathBuf::from(path)),
        tls: false,
        username,
        password,
        db: params.db,
        protocol: params.protocol,
        client_name: params.client_name,
    })
}

fn reject_fragment(s: &str) -> Result<(), String> {
    match s.contains('#') {
        true => Err("url: a #fragment is not allowed (percent-encode a literal # as %23)".into()),
        false => Ok(()),
    }
}

fn split_query(s: &str) -> (&str, &str) {
    match s.split_once('?') {
        Some((before, query)) => (before, query),
        None => (s, ""),
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` → host (without brackets) and port.
///
/// Without userinfo, `ada:secret` has the shape of `host:port`, so a bad port that does not
/// even look like a number is not quoted (it may be a password that lost its `@host`).
fn parse_authority(authority: &str, has_userinfo: bool) -> Result<(&str, u16), String> {
    if authority.is_empty() {
        return Err("host: empty".into());
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(format!("host: missing \"]\" in {}", quote(authority)));
        };
        let ip = &inner[..close];
        if ip.parse::<Ipv6Addr>().is_err() {
            return Err(format!("host: invalid IPv6 address {}", quote(ip)));
        }
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(format!(
                    "port: expected \":\" and a port after \"[{ip}]\", found {}",
                    quote(after)
                ))
            }
        };
        (ip, port)
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err("host: an IPv6 address must be written in brackets, as in \
                            redis://[::1]:6379"
                    .into())
            }
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(text) if !has_userinfo && !looks_like_port(text) => {
            return Err("port: expected a number from 1 to 65535, found text that is not shown \
                        (a password missing its \"@host\"?)"
                .into())
        }
        Some(text) => parse_port(text)?,
        None => DEFAULT_PORT,
    };
    check_host("host", host)?;
    Ok((host, port))
}

fn parse_userinfo(userinfo: Option<&str>) -> Result<(Option<String>, Option<Secret>), String> {
    let Some(userinfo) = userinfo else {
        return Ok((None, None));
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let username = decode_utf8("username", user)?;
    let password = match password {
        Some(p) => Some(Secret::new(percent_decode("password", p)?)),
        None => None,
    };
    Ok((non_empty(username), password.filter(|p| !p.is_empty())))
}

fn parse_params(query: &str) -> Result<Params, String> {
    let mut params = Params::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!("query parameter {}: expected name=value", quote(pair)));
        };
        let canonical = match name.to_ascii_lowercase().as_str() {
            "db" => "db",
            "protocol" => "protocol",
            "client_name" => "client_name",
            "username" | "user" => "username",
            "password" | "pass" => "password",
            _ => {
                return Err(format!(
                    "query parameter {}: unknown (expected db, protocol, client_name, \
                     username or password)",
                    quote(name)
                ))
            }
        };
        if seen.contains(&canonical) {
            return Err(format!("query parameter {canonical:?}: given more than once"));
        }
        seen.push(canonical);
        match canonical {
            "db" => {
                params.db = Some(parse_db(value).ok_or_else(|| {
                    format!("db: expected a non-negative integer, found {}", quote(value))
                })?)
            }
            "protocol" => {
                let version = value.to_ascii_lowercase();
                let version = version.strip_prefix("resp").unwrap_or(&version);
                params.protocol = Some(
                    version.parse().ok().and_then(Protocol::from_version).ok_or_else(|| {
                        format!("protocol: expected 2, 3, resp2 or resp3, found {}", quote(value))
                    })?,
                )
            }
            "client_name" => {
                let name = decode_utf8("client_name", value)?;
                check_client_name(&name)?;
                params.client_name = Some(name);
            }
            "username" => params.username = non_empty(decode_utf8("username", value)?),
            _ => {
                let password = Secret::new(percent_decode("password", value)?);
                params.password = Some(password).filter(|p| !p.is_empty());
            }
        }
    }
    Ok(params)
}

fn merge_db(path: Option<u32>, query: Option<u32>) -> Result<Option<u32>, String> {
    match (path, query) {
        (Some(a), Some(b)) if a != b => {
            Err(format!("db: the path says /{a} but the query says db={b}"))
        }
        (a, b) => Ok(a.or(b)),
    }
}

fn merge_credentials(
    username: Option<String>,
    password: Option<Secret>,
    params: &Params,
) -> Result<(Option<String>, Option<Secret>), String> {
    if username.is_some() && params.username.is_some() && username != params.username {
        return Err("username: given both before \"@\" and as a query parameter, \
                    with different values"
            .into());
    }
    if password.is_some() && params.password.is_some() && password != params.password {
        return Err("password: given both before \"@\" and as a query parameter, \
                    with different values"
            .into());
    }
    Ok((username.or_else(|| params.username.clone()), password.or_else(|| params.password.clone())))
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// Percent-decodes a URL part and requires UTF-8.
fn decode_utf8(part: &str, raw: &str) -> Result<String, String> {
    String::from_utf8(percent_decode(part, raw)?)
        .map_err(|_| format!("{part}: not valid UTF-8 after percent-decoding"))
}

/// Percent-decodes a URL part. A `%` without two hex digits after it, a raw space and a raw
/// control character are errors; the message never quotes the part (it may be a password).
fn percent_decode(part: &str, raw: &str) -> Result<Vec<u8>, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| Some(hex(h[0])? << 4 | hex(h[1])?));
                let Some(byte) = hex else {
                    return Err(format!(
                        "{part}: invalid percent-escape (a % must be followed by two hex \
                         digits; write a literal % as %25)"
                    ));
                };
                out.push(byte);
                i += 3;
            }
            b if b <= b' ' || b == 0x7f => {
                return Err(format!(
                    "{part}: contains a space or a control character (percent-encode it, \
                     e.g. a space as %20)"
                ));
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}
