//! Checks shared by the URI parser and the builder. Each returns the error message text
//! (`"part: problem"`) so the caller can add context.

use std::net::Ipv6Addr;

use super::redact::quote;

/// Longest host name accepted (DNS limit).
const MAX_HOST_LEN: usize = 253;

/// A host is a DNS name, an IPv4 address or an IPv6 address (without brackets). `part` names
/// the option in the message (`host`, `tls server_name`).
pub(crate) fn check_host(part: &str, host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err(format!("{part}: empty"));
    }
    if host.parse::<Ipv6Addr>().is_ok() {
        return Ok(());
    }
    if host.len() > MAX_HOST_LEN {
        return Err(format!("{part}: longer than {MAX_HOST_LEN} characters"));
    }
    if let Some(c) = host.chars().find(|&c| !(c.is_ascii_alphanumeric() || "-._".contains(c))) {
        let what = if c.is_whitespace() { "a space" } else { "the character" };
        return Err(format!("{part}: {what} {c:?} is not allowed in {}", quote(host)));
    }
    Ok(())
}

/// A port: 1 to 65535 written in decimal digits.
pub(crate) fn parse_port(text: &str) -> Result<u16, String> {
    let digits = !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
    match digits.then(|| text.parse::<u32>().ok()).flatten() {
        Some(n @ 1..=65535) => Ok(n as u16),
        _ => Err(format!("port: expected a number from 1 to 65535, found {}", quote(text))),
    }
}

/// A database number: decimal digits only (no sign), fitting a `u32`.
pub(crate) fn parse_db(text: &str) -> Option<u32> {
    let digits = !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse::<u32>().ok()).flatten()
}

/// `CLIENT SETNAME` refuses empty names and any character outside `!`..=`~` (spaces,
/// newlines, non-ASCII).
pub(crate) fn check_client_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("client_name: empty".into());
    }
    if !name.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return Err(format!(
            "client_name: {} contains a space, a newline or another character that Redis \
             refuses (printable ASCII without spaces only)",
            quote(name)
        ));
    }
    Ok(())
}

/// A command name for a per-command setting: printable ASCII words separated by single
/// spaces (`"KEYS"`, `"CLIENT LIST"`), returned in upper case.
pub(crate) fn normalize_command(option: &str, name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.split(' ').all(|w| !w.is_empty() && w.bytes().all(|b| (b'!'..=b'~').contains(&b)));
    if ok {
        Ok(name.to_ascii_uppercase())
    } else {
        Err(format!(
            "{option}: {} is not a command name (printable ASCII words separated by one space)",
            quote(name)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for ok in ["localhost", "10.0.0.1", "cache-1.example.com", "::1", "fe80::1", "my_host"] {
            assert_eq!(check_host("host", ok), Ok(()), "{ok}");
        }
        assert_eq!(check_host("host", "").unwrap_err(), "host: empty");
        assert!(check_host("host", "a b").unwrap_err().contains("a space ' '"));
        assert!(check_host("x", "a/b").unwrap_err().starts_with("x: the character '/'"));
        assert!(check_host("host", &"a".repeat(254)).is_err());
    }

    #[test]
    fn ports_and_dbs() {
        assert_eq!(parse_port("6379"), Ok(6379));
        assert_eq!(parse_port("65535"), Ok(65535));
        for bad in ["", "0", "65536", "+1", "x", "99999999999", "6379 "] {
            assert!(parse_port(bad).unwrap_err().starts_with("port: expected"), "{bad}");
        }
        assert_eq!(parse_db("0"), Some(0));
        assert_eq!(parse_db("4294967295"), Some(u32::MAX));
        for bad in ["", "-1", "+1", "4294967296", "1.0", "a"] {
            assert_eq!(parse_db(bad), None, "{bad}");
        }
    }

    #[test]
    fn client_names_follow_redis_rules() {
        assert_eq!(check_client_name("my-app:1"), Ok(()));
        assert!(check_client_name("my app").is_err());
        assert!(check_client_name("a\nb").unwrap_err().contains("\"a\\nb\""));
        assert!(check_client_name("").is_err());
        assert!(check_client_name("café").is_err());
    }

    #[test]
    fn command_names_are_uppercased() {
        assert_eq!(normalize_command("x", "keys").unwrap(), "KEYS");
        assert_eq!(normalize_command("x", "client list").unwrap(), "CLIENT LIST");
        for bad in ["", " KEYS", "KEYS ", "A  B", "A\tB"] {
            assert!(normalize_command("x", bad).is_err(), "{bad:?}");
        }
    }
}
