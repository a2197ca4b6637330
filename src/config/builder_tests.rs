//! Tests of `ClientBuilder` and `into_config`: defaults, overrides, how the address options
//! combine, every remembered error, TLS files, hooks and redaction.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::{ClientBuilder, Config, ConnectInfo, DisconnectReason, Protocol, ServerAddr, Tls};
use crate::Error;

/// The password used below; no Debug or error output may contain it.
const PW: &str = "s3cr3tPW";
fn config(b: ClientBuilder) -> Config {
    b.into_config().unwrap_or_else(|e| panic!("should build: {e}"))
}

/// Builds a builder that must fail; checks the kind, that the message contains `needle`,
/// and that the password is nowhere in the error.
fn fails(b: ClientBuilder, needle: &str) -> String {
    let e = b.into_config().expect_err("should fail");
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
    assert!(!msg.contains(PW) && !format!("{e:?}").contains(PW), "{msg}");
    msg
}

fn tcp(host: &str, port: u16) -> ServerAddr {
    ServerAddr::Tcp { host: host.into(), port }
}

#[test]
fn public_types_are_send_sync_and_builders_clone() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ClientBuilder>();
    send_sync::<Config>();
    send_sync::<Tls>();
    send_sync::<ConnectInfo>();
    send_sync::<DisconnectReason>();
    let b = ClientBuilder::new().db(3);
    assert_eq!(config(b.clone()).db, config(b).db);
}

#[test]
fn defaults_are_those_of_the_api() {
    let c = config(ClientBuilder::new());
    assert_eq!(c.addr, tcp("127.0.0.1", 6379));
    assert!(c.tls.is_none());
    assert_eq!((c.username.as_deref(), c.password.is_none(), c.db), (None, true, 0));
    assert_eq!(c.protocol, Protocol::Resp2);
    assert_eq!(c.client_name, None);
    assert_eq!(c.connect_timeout, Duration::from_secs(10));
    assert_eq!(c.read_timeout, Duration::from_secs(30));
    assert_eq!(c.write_timeout, Duration::from_secs(30));
    assert_eq!(c.request_timeout, Duration::from_secs(5));
    assert_eq!(c.blocking_timeout_buffer, Duration::from_secs(2));
    assert!(c.command_timeouts.is_empty());
    assert!(c.reconnect);
    assert_eq!(c.reconnect_delay, Duration::from_millis(100));
    assert_eq!(c.reconnect_delay_max, Duration::from_secs(60));
    assert_eq!(c.reconnect_jitter, 0.25);
    assert_eq!(c.queue_size, 1000);
    assert_eq!(c.prefix, None);
    assert!(c.on_connect.is_none() && c.on_disconnect.is_none() && c.on_error.is_none());
    assert!(c.tcp_nodelay);
    assert_eq!(c.tcp_keepalive, Some(Duration::from_secs(60)));
    assert_eq!((c.recv_buffer_size, c.send_buffer_size), (None, None));
    assert_eq!(c.max_bulk_len, 512 * 1024 * 1024);
    assert_eq!(c.max_depth, 128);
    assert!(c.idempotent_commands.is_empty());
    assert!(!c.retry_maybe_executed);
    // Default and new agree.
    assert_eq!(format!("{:?}", ClientBuilder::default()), format!("{:?}", ClientBuilder::new()));
}

#[test]
fn every_setter_is_stored() {
    let c = config(
        ClientBuilder::new()
            .host("cache")
            .port(7000)
            .username("ada")
            .password(PW)
            .db(4)
            .protocol(3)
            .connect_timeout(Duration::from_secs(1))
            .read_timeout(Duration::from_secs(2))
            .write_timeout(Duration::from_secs(3))
            .request_timeout(Duration::from_secs(4))
            .blocking_timeout_buffer(Duration::ZERO)
            .reconnect(false)
            .reconnect_delay(Duration::from_millis(5))
            .reconnect_delay_max(Duration::from_millis(50))
            .reconnect_jitter(1.0)
            .queue_size(7)
            .client_name("app-1")
            .prefix("app:")
            .tcp_nodelay(false)
            .tcp_keepalive(None)
            .recv_buffer_size(1 << 16)
            .send_buffer_size(1 << 17)
            .max_bulk_len(1024)
            .max_depth(8)
            .retry_maybe_executed(true),
    );
    assert_eq!(c.addr, tcp("cache", 7000));
    assert_eq!(c.username.as_deref(), Some("ada"));
    assert_eq!(c.password.as_ref().map(|p| p.expose()), Some(PW.as_bytes()));
    assert_eq!((c.db, c.protocol), (4, Protocol::Resp3));
    assert_eq!(c.connect_timeout, Duration::from_secs(1));
    assert_eq!(c.read_timeout, Duration::from_secs(2));
    assert_eq!(c.write_timeout, Duration::from_secs(3));
    assert_eq!(c.request_timeout, Duration::from_secs(4));
    assert_eq!(c.blocking_timeout_buffer, Duration::ZERO);
    assert!(!c.reconnect);
    assert_eq!(c.reconnect_delay, Duration::from_millis(5));
    assert_eq!(c.reconnect_delay_max, Duration::from_millis(50));
    assert_eq!(c.reconnect_jitter, 1.0);
    assert_eq!(c.queue_size, 7);
    assert_eq!(c.client_name.as_deref(), Some("app-1"));
    assert_eq!(c.prefix, Some(Bytes::from_static(b"app:")));
    assert!(!c.tcp_nodelay);
    assert_eq!(c.tcp_keepalive, None);
    assert_eq!((c.recv_buffer_size, c.send_buffer_size), (Some(1 << 16), Some(1 << 17)));
    assert_eq!((c.max_bulk_len, c.max_depth), (1024, 8));
    assert!(c.retry_maybe_executed);
}

#[test]
fn later_setters_win_over_the_url_and_the_url_over_earlier_ones() {
    let c = config(ClientBuilder::new().url(format!("redis://ada:{PW}@h:1/2?protocol=3")).db(5));
    assert_eq!((c.addr, c.db, c.protocol), (tcp("h", 1), 5, Protocol::Resp3));
    let c = config(ClientBuilder::new().db(5).protocol(3).url("redis://h/2"));
    assert_eq!((c.db, c.protocol), (2, Protocol::Resp3), "the URL sets db, keeps protocol");
    let c = config(ClientBuilder::new().db(5).password(PW).username("bob").url("redis://h"));
    assert_eq!(c.db, 5, "a URL without a db keeps the earlier one");
    assert_eq!(c.password.as_ref().map(|p| p.expose()), Some(PW.as_bytes()));
    assert_eq!(c.username.as_deref(), Some("bob"));
    let c = config(ClientBuilder::new().url("redis://ada:x@h").password(PW).username("bob"));
    assert_eq!(c.password.as_ref().map(|p| p.expose()), Some(PW.as_bytes()));
    assert_eq!(c.username.as_deref(), Some("bob"));
    let c = config(ClientBuilder::new().port(7000).url("redis://h"));
    assert_eq!(c.addr, tcp("h", 6379), "a URL sets the whole address");
    let c = config(ClientBuilder::new().url("redis://h?client_name=a").client_name("b"));
    assert_eq!(c.client_name.as_deref(), Some("b"));
}

#[test]
fn host_port_and_path_combine() {
    assert_eq!(config(ClientBuilder::new().port(7000).host("h")).addr, tcp("h", 7000));
    assert_eq!(config(ClientBuilder::new().url("redis://a:1").host("b")).addr, tcp("b", 1));
    assert_eq!(config(ClientBuilder::new().host("[::1]").port(2)).addr, tcp("::1", 2));
    assert_eq!(config(ClientBuilder::new().host("::1")).addr, tcp("::1", 6379));
    let unix = ServerAddr::Unix(PathBuf::from("/run/r.sock"));
    assert_eq!(config(ClientBuilder::new().host("h").port(1).path("/run/r.sock")).addr, unix);
    assert_eq!(config(ClientBuilder::new().path("/run/r.sock").host("h")).addr, tcp("h", 6379));
    assert_eq!(config(ClientBuilder::new().url("unix:///x").host("h")).addr, tcp("h", 6379));
    assert_eq!(config(ClientBuilder::new().path("/x").url("redis://h:3")).addr, tcp("h", 3));
    fails(
        ClientBuilder::new().path("/run/r.sock").port(1),
        "port: the address is the unix socket \"/run/r.sock\"",
    );
    fails(ClientBuilder::new().port(0), "port: expected a number from 1 to 65535, found 0");
    fails(ClientBuilder::new().host(""), "host: empty");
    fails(ClientBuilder::new().host("a b"), "host: a space");
    fails(ClientBuilder::new().path(""), "path: empty");
}

#[test]
fn empty_credentials_mean_none() {
    let c = config(ClientBuilder::new().username("").password(""));
    assert!(c.username.is_none() && c.password.is_none());
    let c = config(ClientBuilder::new().password(vec![0xFF, 0x00]));
    assert_eq!(c.password.as_ref().map(|p| p.expose()), Some(&[0xFF, 0][..]));
}

#[test]
fn zero_durations_are_refused_where_zero_makes_no_sense() {
    let zero = Duration::ZERO;
    fails(ClientBuilder::new().connect_timeout(zero), "connect_timeout: must be greater than zero");
    fails(ClientBuilder::new().read_timeout(zero), "read_timeout: must be greater than zero");
    fails(ClientBuilder::new().write_timeout(zero), "write_timeout: must be greater than zero");
    fails(ClientBuilder::new().request_timeout(zero), "request_timeout: must be greater than zero");
    fails(ClientBuilder::new().reconnect_delay(zero), "reconnect_delay: must be greater than zero");
    fails(ClientBuilder::new().reconnect_delay_max(zero), "reconnect_delay_max: must be greater");
    fails(ClientBuilder::new().tcp_keepalive(zero), "tcp_keepalive: must be greater than zero");
    fails(ClientBuilder::new().command_timeout("KEYS", zero), "command_timeout \"KEYS\": must be");
    // A zero buffer and a huge timeout are fine.
    let c =
        config(ClientBuilder::new().blocking_timeout_buffer(zero).request_timeout(Duration::MAX));
    assert_eq!(c.request_timeout, Duration::MAX);
}

#[test]
fn out_of_range_values_are_named() {
    fails(
        ClientBuilder::new().reconnect_jitter(1.5),
        "reconnect_jitter: expected a number from 0.0 to 1.0, found 1.5",
    );
    fails(ClientBuilder::new().reconnect_jitter(-0.1), "reconnect_jitter");
    fails(ClientBuilder::new().reconnect_jitter(f64::NAN), "found NaN");
    fails(
        ClientBuilder::new().queue_size(0),
        "queue_size: expected a number from 1 to 1048576, found 0",
    );
    fails(ClientBuilder::new().queue_size(usize::MAX), "queue_size");
    fails(ClientBuilder::new().protocol(4), "protocol: expected 2 or 3, found 4");
    fails(ClientBuilder::new().max_depth(0), "max_depth");
    fails(
        ClientBuilder::new().max_depth(2000),
        "max_depth: expected a number from 1 to 1024, found 2000",
    );
    fails(ClientBuilder::new().max_bulk_len(0), "max_bulk_len");
    fails(ClientBuilder::new().recv_buffer_size(0), "recv_buffer_size");
    fails(ClientBuilder::new().send_buffer_size(usize::MAX), "send_buffer_size");
    fails(
        ClientBuilder::new()
            .reconnect_delay(Duration::from_secs(5))
            .reconnect_delay_max(Duration::from_secs(1)),
        "reconnect_delay: 5s is longer than reconnect_delay_max 1s",
    );
}

#[test]
fn client_names_follow_redis_rules() {
    fails(ClientBuilder::new().client_name("my app"), "client_name: \"my app\" contains a space");
    fails(ClientBuilder::new().client_name("a\nb"), "client_name: \"a\\nb\"");
    fails(ClientBuilder::new().client_name(""), "client_name: empty");
}

#[test]
fn all_problems_are_reported_together_and_a_later_fix_clears_one() {
    let msg = fails(
        ClientBuilder::new()
            .url(format!("redis://ada:{PW}@host:x"))
            .queue_size(0)
            .reconnect_jitter(2.0),
        "port: expected a number from 1 to 65535, found \"x\" in redis://ada:***@host:x",
    );
    assert!(msg.contains("; queue_size") && msg.contains("; reconnect_jitter"), "{msg}");
    // Setting an option again with a valid value clears its problem.
    let c = config(
        ClientBuilder::new()
            .url(format!("redis://ada:{PW}@host:x"))
            .url("redis://host:1")
            .reconnect_jitter(2.0)
            .reconnect_jitter(0.5)
            .client_name("a b")
            .client_name("ab")
            .protocol(9)
            .url("redis://host:1?protocol=3")
            .path("/s")
            .port(1)
            .host("h")
            .port(2)
            .command_timeout("KEYS", Duration::ZERO)
            .command_timeout("keys", Duration::from_secs(1)),
    );
    assert_eq!((&c.addr, c.reconnect_jitter), (&tcp("h", 2), 0.5));
    assert_eq!(c.timeout_for(b"KEYS"), Duration::from_secs(1));
    assert_eq!((c.client_name.as_deref(), c.protocol), (Some("ab"), Protocol::Resp3));
}

#[test]
fn a_lone_user_name_is_masked_in_debug() {
    let c = config(ClientBuilder::new().url("redis://maybe-a-password@h"));
    assert_eq!(c.username.as_deref(), Some("maybe-a-password"));
    assert!(!format!("{c:?}").contains("maybe-a-password"));
    let c = config(ClientBuilder::new().url(format!("redis://ada:{PW}@h")));
    assert!(format!("{c:?}").contains("username: Some(\"ada\")"));
}

#[test]
fn a_bad_command_timeout_stays_reported() {
    fails(
        ClientBuilder::new().command_timeout("", Duration::from_secs(1)),
        "command_timeout: \"\" is not a command name",
    );
    fails(
        ClientBuilder::new()
            .command_timeout("A  B", Duration::from_secs(1))
            .command_timeout("KEYS", Duration::from_secs(1)),
        "command_timeout: \"A  B\"",
    );
}

#[test]
fn command_timeouts_are_case_insensitive_and_last_wins() {
    let c = config(
        ClientBuilder::new()
            .request_timeout(Duration::from_secs(5))
            .command_timeout("keys", Duration::from_secs(60))
            .command_timeout("KEYS", Duration::from_secs(90))
            .command_timeout("Client List", Duration::from_secs(7)),
    );
    assert_eq!(c.command_timeouts.len(), 2);
    assert_eq!(c.timeout_for(b"KEYS"), Duration::from_secs(90));
    assert_eq!(c.timeout_for(b"keys"), Duration::from_secs(90));
    assert_eq!(c.timeout_for(b"client list"), Duration::from_secs(7));
    assert_eq!(c.timeout_for(b"GET"), Duration::from_secs(5));
}

#[test]
fn idempotent_commands_replace_and_normalise() {
    let c = config(
        ClientBuilder::new()
            .idempotent_commands(["set"])
            .idempotent_commands(&["GET", "mget", "get"]),
    );
    assert_eq!(c.idempotent_commands, vec!["GET".to_string(), "MGET".to_string()]);
    assert!(c.is_idempotent(b"get") && c.is_idempotent(b"MGET") && !c.is_idempotent(b"SET"));
    let v: Vec<String> = vec!["incr".into()];
    assert!(config(ClientBuilder::new().idempotent_commands(v)).is_idempotent(b"INCR"));
    fails(ClientBuilder::new().idempotent_commands(["GET", " "]), "idempotent_commands: \" \"");
}

#[test]
fn prefix_accepts_strings_and_bytes() {
    let p = |b: ClientBuilder| config(b).prefix;
    let want = Some(Bytes::from_static(b"p:"));
    assert_eq!(p(ClientBuilder::new().prefix("p:")), want);
    assert_eq!(p(ClientBuilder::new().prefix(String::from("p:"))), want);
    assert_eq!(p(ClientBuilder::new().prefix(Vec::from(&b"p:"[..]))), want);
    assert_eq!(p(ClientBuilder::new().prefix(&b"p:"[..])), want);
    assert_eq!(p(ClientBuilder::new().prefix(Bytes::from_static(b"p:"))), want);
    assert_eq!(p(ClientBuilder::new().prefix("p:").prefix("")), None);
}

#[test]
fn tcp_keepalive_takes_a_duration_or_none() {
    let c = config(ClientBuilder::new().tcp_keepalive(Duration::from_secs(5)));
    assert_eq!(c.tcp_keepalive, Some(Duration::from_secs(5)));
    let c = config(ClientBuilder::new().tcp_keepalive(Some(Duration::from_secs(6))));
    assert_eq!(c.tcp_keepalive, Some(Duration::from_secs(6)));
}

#[test]
fn hooks_are_stored_and_called_and_a_panic_is_contained() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let c = config(
        ClientBuilder::new()
            .url("redis://[::1]:7000/3?client_name=app")
            .on_connect(move |info| s1.lock().unwrap().push(format!("connect {}", info.address)))
            .on_disconnect(move |reason| s2.lock().unwrap().push(format!("disconnect {reason}")))
            .on_error(move |err| s3.lock().unwrap().push(format!("error {err}"))),
    );
    let info = c.connect_info(Some("7.0.15".into()));
    assert_eq!(
        info,
        ConnectInfo {
            address: "[::1]:7000".into(),
            db: 3,
            protocol: Protocol::Resp2,
            client_name: Some("app".into()),
            server_version: Some("7.0.15".into()),
        }
    );
    assert!(c.on_connect.as_ref().unwrap().call(&info));
    assert!(c.clone().on_disconnect.unwrap().call(&DisconnectReason::Timeout));
    assert!(c.on_error.as_ref().unwrap().call(&Error::connection("reset")));
    assert_eq!(
        *seen.lock().unwrap(),
        ["connect [::1]:7000", "disconnect timeout", "error connection error: reset"]
    );
    let c = config(ClientBuilder::new().on_disconnect(|_| panic!("buggy hook")));
    assert!(!c.on_disconnect.unwrap().call(&DisconnectReason::ServerClosed));
    assert!(format!("{:?}", config(ClientBuilder::new().on_error(|_| {})))
        .contains("on_error: Some(<fn>)"));
}

#[test]
fn connect_info_address_for_each_kind() {
    assert_eq!(config(ClientBuilder::new().host("h").port(1)).connect_info(None).address, "h:1");
    assert_eq!(
        config(ClientBuilder::new().path("/tmp/r.sock")).connect_info(None).address,
        "/tmp/r.sock"
    );
}

#[test]
#[cfg(not(feature = "tls"))]
fn tls_without_the_feature_is_a_config_error() {
    fails(ClientBuilder::new().url("rediss://h"), "tls: this build of redpoll has no TLS support");
    fails(ClientBuilder::new().tls(Tls::new()), "enable the \"tls\" feature");
}

#[test]
fn tls_over_a_unix_socket_is_refused() {
    fails(
        ClientBuilder::new().url("rediss://h").path("/tmp/r.sock"),
        "tls: not available over the unix socket \"/tmp/r.sock\"",
    );
    fails(ClientBuilder::new().url("unix:///tmp/r.sock").tls(Tls::new()), "tls: not available");
}

#[test]
fn debug_of_builders_configs_and_errors_never_shows_the_password() {
    let urls = [
        format!("redis://ada:{PW}@h:6380/2"),
        format!("redis://:{PW}@h:1"),
        format!("redis://{PW}@h"),
        format!("redis+unix://ada:{PW}@/tmp/r.sock?db=1"),
        format!("unix:///tmp/r.sock?password={PW}"),
        format!("redis://h?pass={PW}&protocol=3"),
    ];
    for url in &urls {
        let b = ClientBuilder::new().url(url);
        let dbg = format!("{b:?}");
        assert!(!dbg.contains(PW) && dbg.contains("***"), "{dbg}");
        let c = config(b);
        assert!(!format!("{c:?}").contains(PW));
    }
    let b = ClientBuilder::new().username("ada").password(PW);
    assert!(!format!("{b:?}").contains(PW));
    assert!(!format!("{:?}", config(b)).contains(PW));
    // Builders holding a failed URI with a password, and their errors.
    for url in [
        format!("redis://ada:{PW}@h:x"),
        format!("redis://ada:{PW}@h?bogus=1"),
        format!("http://:{PW}@h"),
    ] {
        let b = ClientBuilder::new().url(&url);
        let dbg = format!("{b:?}");
        assert!(!dbg.contains(PW) && dbg.contains("***"), "{dbg}");
        fails(b, "in ");
    }
}
