//! Tests of `parse_url`: every accepted form, and every error path (each message must name
//! the bad part and must never contain the password).

use std::path::PathBuf;

use super::{parse_url, ParsedUrl, Protocol, ServerAddr};
use crate::Error;

/// The password used in every URI below; no error message may contain it.
const PW: &str = "s3cr3tPW";

fn ok(url: &str) -> ParsedUrl {
    parse_url(url).unwrap_or_else(|e| panic!("{url:?} should parse, got {e}"))
}

/// Parses a URI that must fail; checks the error kind, that the message names `part`, and
/// that neither Display nor Debug contains the password.
fn err(url: &str, part: &str) -> String {
    let e = parse_url(url).expect_err(url);
    assert!(matches!(e, Error::Config(_)), "{url}: wrong kind {e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("invalid configuration: {part}")), "{url}: {msg}");
    assert!(!msg.contains(PW), "{url}: password in message {msg}");
    assert!(!format!("{e:?}").contains(PW), "{url}: password in Debug {e:?}");
    msg
}

fn tcp(host: &str, port: u16) -> ServerAddr {
    ServerAddr::Tcp { host: host.into(), port }
}

fn unix(path: &str) -> ServerAddr {
    ServerAddr::Unix(PathBuf::from(path))
}

fn password(p: &ParsedUrl) -> Option<&[u8]> {
    p.password.as_ref().map(|s| s.expose())
}

#[test]
fn plain_host_gets_defaults() {
    let p = ok("redis://127.0.0.1");
    assert_eq!(p.addr, tcp("127.0.0.1", 6379));
    assert!(!p.tls);
    assert_eq!(
        (p.username, p.password, p.db, p.protocol, p.client_name),
        (None, None, None, None, None)
    );
}

#[test]
fn host_port_db() {
    let p = ok("redis://cache.example:6380/2");
    assert_eq!((p.addr, p.db), (tcp("cache.example", 6380), Some(2)));
    assert_eq!(ok("redis://h:65535/0").addr, tcp("h", 65535));
    assert_eq!(ok("redis://h/0").db, Some(0));
    assert_eq!(ok("redis://h/").db, None);
    assert_eq!(ok("redis://h:1/4294967295").db, Some(u32::MAX));
}

#[test]
fn schemes_are_case_insensitive_and_rediss_turns_tls_on() {
    assert!(ok("rediss://h").tls);
    assert!(ok("REDISS://h").tls);
    assert!(!ok("Redis://h").tls);
    assert_eq!(ok("rediss://h").addr, tcp("h", 6379));
}

#[test]
fn userinfo_follows_the_url_standard() {
    let p = ok(&format!("redis://:{PW}@h"));
    assert_eq!((p.username.as_deref(), password(&p)), (None, Some(PW.as_bytes())));
    let p = ok(&format!("redis://ada:{PW}@h"));
    assert_eq!((p.username.as_deref(), password(&p)), (Some("ada"), Some(PW.as_bytes())));
    let p = ok("redis://ada@h");
    assert_eq!((p.username.as_deref(), password(&p)), (Some("ada"), None));
    let p = ok("redis://@h");
    assert_eq!((p.username, p.password), (None, None));
    let p = ok("redis://:@h");
    assert_eq!((p.username, p.password), (None, None));
}

#[test]
fn userinfo_is_percent_decoded() {
    let p = ok("redis://ad%40a:p%3Aw%2F%25%20x@h");
    assert_eq!(p.username.as_deref(), Some("ad@a"));
    assert_eq!(password(&p), Some(&b"p:w/% x"[..]));
    let p = ok("redis://:%FF%00@h");
    assert_eq!(password(&p), Some(&[0xFF, 0][..]));
    let p = ok("redis://ada:%C3%A9@h");
    assert_eq!(password(&p), Some("é".as_bytes()));
}

#[test]
fn password_may_hold_raw_delimiters_up_to_the_last_at() {
    let p = ok("redis://ada:p@ss/w?rd#x:y@h:1/2");
    assert_eq!(password(&p), Some(&b"p@ss/w?rd#x:y"[..]));
    assert_eq!((p.addr, p.db), (tcp("h", 1), Some(2)));
}

#[test]
fn ipv6_in_brackets() {
    assert_eq!(ok("redis://[::1]").addr, tcp("::1", 6379));
    let p = ok(&format!("redis://:{PW}@[::1]:6380/1"));
    assert_eq!((p.addr, p.db), (tcp("::1", 6380), Some(1)));
    assert_eq!(ok("rediss://[fe80::1:2]:7000").addr, tcp("fe80::1:2", 7000));
}

#[test]
fn db_from_path_or_query() {
    assert_eq!(ok("redis://h?db=3").db, Some(3));
    assert_eq!(ok("redis://h/3?db=3").db, Some(3));
    assert_eq!(ok("redis://h/03").db, Some(3));
}

#[test]
fn query_parameters() {
    let p = ok("redis://h?protocol=3&client_name=my-app:1");
    assert_eq!(p.protocol, Some(Protocol::Resp3));
    assert_eq!(p.client_name.as_deref(), Some("my-app:1"));
    assert_eq!(ok("redis://h?protocol=resp2").protocol, Some(Protocol::Resp2));
    assert_eq!(ok("redis://h?PROTOCOL=RESP3").protocol, Some(Protocol::Resp3));
    assert_eq!(ok("redis://h?protocol=2").protocol, Some(Protocol::Resp2));
    assert_eq!(ok("redis://h?&db=1&&").db, Some(1));
    assert_eq!(ok("redis://h?").db, None);
    let p = ok(&format!("redis://h?user=ada&pass={PW}"));
    assert_eq!((p.username.as_deref(), password(&p)), (Some("ada"), Some(PW.as_bytes())));
    let p = ok(&format!("redis://ada:{PW}@h?username=ada&password={PW}"));
    assert_eq!((p.username.as_deref(), password(&p)), (Some("ada"), Some(PW.as_bytes())));
    assert_eq!(ok("redis://h?client_name=a%2Bb").client_name.as_deref(), Some("a+b"));
}

#[test]
fn unix_socket_forms() {
    let p = ok("redis+unix:///tmp/redis.sock");
    assert_eq!((p.addr, p.db, p.tls), (unix("/tmp/redis.sock"), None, false));
    let p = ok("redis+unix:///run/redis/redis.sock?db=2&protocol=3");
    assert_eq!(
        (p.addr, p.db, p.protocol),
        (unix("/run/redis/redis.sock"), Some(2), Some(Protocol::Resp3))
    );
    assert_eq!(ok("unix:///tmp/r.sock").addr, unix("/tmp/r.sock"));
    assert_eq!(ok("unix:/tmp/r.sock").addr, unix("/tmp/r.sock"));
    assert_eq!(ok("redis+unix:/tmp/r.sock").addr, unix("/tmp/r.sock"));
    assert_eq!(ok("unix:///tmp/with%20space.sock").addr, unix("/tmp/with space.sock"));
    assert_eq!(ok("unix:///tmp/a@b.sock").addr, unix("/tmp/a@b.sock"));
    let p = ok(&format!("redis+unix://ada:{PW}@/tmp/r.sock?db=1"));
    assert_eq!(p.addr, unix("/tmp/r.sock"));
    assert_eq!(
        (p.username.as_deref(), password(&p), p.db),
        (Some("ada"), Some(PW.as_bytes()), Some(1))
    );
    let p = ok(&format!("unix:///tmp/r.sock?pass={PW}"));
    assert_eq!(password(&p), Some(PW.as_bytes()));
}

#[test]
fn bad_port_names_the_port_and_hides_the_password() {
    let e = parse_url(&format!("redis://ada:{PW}@host:x")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid configuration: port: expected a number from 1 to 65535, found \"x\" \
         in redis://ada:***@host:x"
    );
    for port in ["", "0", "65536", "6379abc", "63 79", "-1", "+80", "99999999999999999999"] {
        let msg = err(&format!("redis://ada:{PW}@host:{port}"), "port");
        assert!(msg.contains(&format!("found {port:?}")), "{msg}");
    }
    err(&format!("redis://:{PW}@[::1]x"), "port");
}

#[test]
fn a_password_that_lost_its_at_is_not_quoted_as_a_port() {
    let msg = err(&format!("redis://ada:{PW}"), "port");
    assert!(msg.ends_with("in redis://ada:***"), "{msg}");
    let msg = err(&format!("redis://:{PW}/0"), "port");
    assert!(msg.contains("not shown"), "{msg}");
    // Digits that cannot be a port are still quoted.
    assert!(err("redis://h:70000", "port").contains("found \"70000\""));
}

#[test]
fn bad_host() {
    assert!(err(&format!("redis://ada:{PW}@"), "host").contains("host: empty"));
    assert!(err(&format!("redis://ada:{PW}@:6379"), "host").contains("host: empty"));
    assert!(err("redis://", "host").contains("host: empty"));
    assert!(err(&format!("redis://ada:{PW}@ho st"), "host").contains("a space"));
    assert!(err(&format!("redis://:{PW}@h%41"), "host").contains("'%'"));
    assert!(err(&format!("redis://:{PW}@::1"), "host").contains("brackets"));
    assert!(err(&format!("redis://:{PW}@[::1"), "host").contains("missing \"]\""));
    assert!(err(&format!("redis://:{PW}@[::g]:1"), "host").contains("invalid IPv6"));
}

#[test]
fn bad_scheme() {
    assert!(err(&format!("http://ada:{PW}@h"), "scheme").contains("found \"http\""));
    assert!(err(&format!("ada:{PW}@h:6379"), "scheme").contains("ada:***@h:6379"));
    err(&format!("{PW}@h"), "scheme");
    err(&format!("{PW}@h:1"), "scheme");
    err(&format!("{PW}@redis://h"), "scheme");
    err("localhost:6379", "scheme");
    err(" redis://h", "scheme");
    assert!(err("redis:h", "url").contains("\"//\""));
    assert_eq!(parse_url("").unwrap_err().to_string(), "invalid configuration: url: empty");
}

#[test]
fn bad_db() {
    for path in ["x", "3/", "-1", "+1", "1.5", "4294967296", "0\n"] {
        err(&format!("redis://ada:{PW}@h/{path}"), "db");
    }
    assert!(err("redis://h/0\n", "db").contains("\"0\\n\""));
    let msg = err(&format!("redis://:{PW}@h/3?db=4"), "db");
    assert!(msg.contains("/3") && msg.contains("db=4"), "{msg}");
    err(&format!("redis://:{PW}@h?db=x"), "db");
    err(&format!("redis://:{PW}@h?db="), "db");
    err(&format!("redis://:{PW}@h?db=-1"), "db");
    err(&format!("unix:///s?db=x&pass={PW}"), "db");
    err(&format!("redis://h?password={PW}&db=x"), "db");
    err(&format!("redis://h/0&password={PW}"), "db");
}

#[test]
fn bad_query_parameters_are_named() {
    err(&format!("redis://:{PW}@h?foo=1"), "query parameter \"foo\": unknown");
    assert!(err(&format!("redis://:{PW}@h?timeout"), "query parameter \"timeout\"")
        .contains("name=value"));
    err(&format!("redis://:{PW}@h?db=1&db=1"), "query parameter \"db\": given more than once");
    err(&format!("redis://:{PW}@h?user=a&username=a"), "query parameter \"username\"");
    err(&format!("redis://:{PW}@h?protocol=4"), "protocol");
    err(&format!("redis://:{PW}@h?protocol=resp"), "protocol");
    err(&format!("redis://:{PW}@h?client_name=a%20b"), "client_name");
    err(&format!("redis://:{PW}@h?client_name="), "client_name: empty");
    err(&format!("redis+unix:///tmp/x?pass={PW}&foo=1"), "query parameter \"foo\"");
    err(&format!("redis+unix:///tmp/x?passwd={PW}"), "query parameter \"passwd\"");
}

#[test]
fn conflicting_credentials() {
    err(&format!("redis://ada:{PW}@h?password=other"), "password: given both");
    err(&format!("redis://ada:other@h?password={PW}"), "password: given both");
    err(&format!("redis://ada:{PW}@h?user=bob"), "username: given both");
}

#[test]
fn bad_escapes_and_spaces_never_echo_the_password() {
    err(&format!("redis://ada:{PW}%zz@h"), "password: invalid percent-escape");
    err(&format!("redis://ada:{PW}%2@h"), "password: invalid percent-escape");
    err(&format!("redis://ada:{PW}%@h"), "password: invalid percent-escape");
    err(&format!("redis://ada:{PW} x@h"), "password: contains a space");
    err(&format!("redis://ada:{PW}\t@h"), "password: contains a space or a control");
    err(&format!("redis://ad%a:{PW}@h"), "username: invalid percent-escape");
    err(&format!("redis://%FF:{PW}@h"), "username: not valid UTF-8");
    err(&format!("redis://h?password={PW}%G0"), "password: invalid percent-escape");
    err(&format!("redis://:{PW}@h?client_name=%ZZ"), "client_name: invalid percent-escape");
    err("unix:///tmp/a%zz", "path: invalid percent-escape");
    err("unix:///tmp/a b", "path: contains a space");
}

#[test]
fn bad_unix_forms() {
    err("unix://relative/path", "path: expected an absolute socket path");
    err("unix:relative", "path: expected an absolute socket path");
    err("redis+unix:", "path: expected an absolute socket path");
    err(&format!("redis+unix://ada:{PW}@relative"), "path: expected an absolute socket path");
    err("unix:///tmp/x%00", "path: contains a NUL byte");
    err("unix:///tmp/x#y", "url: a #fragment");
}

#[test]
fn fragments_are_refused() {
    err(&format!("redis://:{PW}@h:1/0#frag"), "url: a #fragment");
}

#[test]
fn no_error_ever_contains_the_password() {
    // Mutations of a valid URI: every prefix, and every single-character replacement by a
    // delimiter. Whatever the outcome, a failure must not quote the password.
    let url = format!("redis://ada:{PW}@cache.example:6380/2?protocol=3&client_name=app");
    for end in 0..=url.len() {
        if let Err(e) = parse_url(&url[..end]) {
            assert!(!e.to_string().contains(PW) && !format!("{e:?}").contains(PW), "{e}");
        }
    }
    for i in 0..url.len() {
        let mut shorter = url.clone();
        shorter.remove(i);
        if let Err(e) = parse_url(&shorter) {
            assert!(!e.to_string().contains(PW) && !format!("{e:?}").contains(PW), "{e}");
        }
        for c in ['@', ':', '/', '?', '#', '%', ' ', '&', '=', '[', ']'] {
            let mut bad = url.clone();
            bad.replace_range(i..i + 1, &c.to_string());
            if let Err(e) = parse_url(&bad) {
                let (msg, dbg) = (e.to_string(), format!("{e:?}"));
                assert!(!msg.contains(PW) && !dbg.contains(PW), "{bad}: {msg}");
            }
        }
    }
}
