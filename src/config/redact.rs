//! Redaction: the URL formatter every error message uses, and the quoting of bad parts.
//!
//! Both work on arbitrary, possibly malformed text, so they rely only on landmarks that a
//! credential cannot hide behind:
//!
//! - everything between `scheme://` (or the start, when there is no `://`) and the **last**
//!   `@` is userinfo. The URI parser draws the same line (for unix sockets, an earlier one), so
//!   whatever the parser takes for a password is inside the masked region. When the userinfo
//!   has a `:`, the part before it (the user name) stays readable and the rest becomes `***`;
//!   userinfo without a `:` is masked whole, because some clients (ioredis) read
//!   `redis://secret@host` as a password even though the URL standard makes it a user name;
//! - when there is no `@` at all, `redis://ada:secret` looks like `host:port`: so a "port"
//!   that is not 1 to 5 digits is masked (the parser does not quote it either);
//! - in `name=value` pairs, the value of any name that looks like a credential (`password`,
//!   `pass`, `pwd`, `secret`, `token`, `auth`, `key`, in any case) becomes `***`.

/// Names of query parameters whose values are masked (matched as substrings, any case).
const SECRET_KEYS: [&str; 6] = ["pass", "pwd", "secret", "token", "auth", "key"];

/// The URL with its credentials replaced by `***`, for error messages and `Debug` output.
///
/// Never panics, whatever the input.
pub(crate) fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len() + 3);
    let rest = match url.rfind('@') {
        Some(at) => {
            let start = url[..at].find("://").map_or(0, |i| i + 3);
            let userinfo = &url[start..at];
            out.push_str(&url[..start]);
            match userinfo.find(':') {
                _ if userinfo.is_empty() => {}
                Some(colon) => {
                    out.push_str(&userinfo[..=colon]);
                    out.push_str("***");
                }
                None => out.push_str("***"),
            }
            &url[at..]
        }
        None => {
            let start = url.find("://").map_or(0, |i| i + 3);
            let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
            out.push_str(&url[..start]);
            out.push_str(&mask_bare_port(&url[start..end]));
            &url[end..]
        }
    };
    out.push_str(&mask_params(rest));
    out
}

/// True when `text` can be shown as a port: 1 to 5 ASCII digits.
pub(crate) fn looks_like_port(text: &str) -> bool {
    (1..=5).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// In an authority without userinfo, masks whatever follows the first `:` (after an IPv6
/// literal's `]`) unless it looks like a port: it may be a password that lost its `@host`.
fn mask_bare_port(authority: &str) -> String {
    let split = match authority.strip_prefix('[') {
        Some(inner) => inner.find(']').map_or(0, |i| i + 2),
        None => 0,
    };
    let (head, tail) = authority.split_at(split);
    match tail.split_once(':') {
        Some((host, port)) if !looks_like_port(port) => format!("{head}{host}:***"),
        _ => authority.to_owned(),
    }
}

/// A part of a URL (or an option value) quoted for an error message: `"x"`, with control
/// characters escaped, anything before an `@` masked, and credential-looking parameters
/// masked.
pub(crate) fn quote(part: &str) -> String {
    let masked = match part.rfind('@') {
        Some(at) => format!("***{}", mask_params(&part[at..])),
        None => mask_params(part),
    };
    format!("{masked:?}")
}

/// Masks the values of credential-looking `name=value` pairs separated by `&` (the first
/// name may follow a `?`).
fn mask_params(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, segment) in s.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match segment.find('=') {
            Some(eq) => {
                let name = &segment[..eq];
                let name = &name[name.rfind('?').map_or(0, |q| q + 1)..];
                if is_secret_name(name) {
                    out.push_str(&segment[..=eq]);
                    out.push_str("***");
                } else {
                    out.push_str(segment);
                }
            }
            None => out.push_str(segment),
        }
    }
    out
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|k| name.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_and_keeps_user() {
        assert_eq!(redact_url("redis://ada:s3cret@h:1/2"), "redis://ada:***@h:1/2");
        assert_eq!(redact_url("redis://:s3cret@h"), "redis://:***@h");
        assert_eq!(redact_url("redis://h:6379/0"), "redis://h:6379/0");
        assert_eq!(redact_url("redis://@h"), "redis://@h");
    }

    #[test]
    fn masks_lone_userinfo_and_everything_up_to_the_last_at() {
        assert_eq!(redact_url("redis://s3cret@h"), "redis://***@h");
        assert_eq!(redact_url("redis://ada:p@ss/w?rd@h:x"), "redis://ada:***@h:x");
        assert_eq!(redact_url("ada:s3cret@h:6379"), "ada:***@h:6379");
        assert_eq!(redact_url("ada:s3cret@redis://h"), "ada:***@redis://h");
    }

    #[test]
    fn masks_a_bare_port_that_is_not_a_number() {
        assert_eq!(redact_url("redis://ada:s3cret"), "redis://ada:***");
        assert_eq!(redact_url("redis://ada:s3cret/0?db=1"), "redis://ada:***/0?db=1");
        assert_eq!(redact_url("redis://:s3cret:h:1"), "redis://:***");
        assert_eq!(redact_url("redis://[::1]:s3cret"), "redis://[::1]:***");
        assert_eq!(redact_url("redis://h:6379/0"), "redis://h:6379/0");
        assert_eq!(redact_url("redis://[::1]:6379"), "redis://[::1]:6379");
        assert_eq!(redact_url("redis://h:70000"), "redis://h:70000");
        assert_eq!(redact_url("redis://h:123456"), "redis://h:***");
    }

    #[test]
    fn masks_credential_parameters() {
        assert_eq!(
            redact_url("redis+unix:///s?db=1&pass=s3cret&user=ada"),
            "redis+unix:///s?db=1&pass=***&user=ada"
        );
        assert_eq!(redact_url("unix:///s?PASSWORD=s3cret"), "unix:///s?PASSWORD=***");
        assert_eq!(redact_url("redis://h?auth_token=s3cret"), "redis://h?auth_token=***");
    }

    #[test]
    fn quote_escapes_and_masks() {
        assert_eq!(quote("x\n"), "\"x\\n\"");
        assert_eq!(quote("s3cret@h"), "\"***@h\"");
        assert_eq!(quote("0&password=s3cret"), "\"0&password=***\"");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in ["", "@", "://", "://@", "a://b@", "é@é:é", "?=&=@=", "@@@", "redis://é:é@é"]
        {
            let r = redact_url(s);
            assert!(!r.is_empty() || s.is_empty());
            let _ = quote(s);
        }
    }
}
