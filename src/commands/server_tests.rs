//! `key_indices` against `COMMAND GETKEYS` of a real redis-server (the one on `PATH`, 7.0 on
//! the test machines; its key specs equal 7.2.6's for every command tested here).
//!
//! The server is started on a free loopback port and killed when the test ends. The RESP
//! client is a few lines over a blocking `TcpStream`, local to this test on purpose.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{key_indices, lookup};

/// A redis-server child process, killed (by its pid) on drop.
pub(super) struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts a redis-server on a free port and waits until it answers. A port can be taken
    /// by another test's server between choosing it and binding it: the connection must
    /// reach this child (its pid, from `INFO server`), or the start is tried on another port.
    pub(super) fn start() -> Server {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
                .args(["--appendonly", "no", "--protected-mode", "yes"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH");
            let mut server = Server { child, port };
            if server.answers_as_itself() {
                return server;
            }
        }
        panic!("redis-server did not start on a free port in 5 tries");
    }

    /// Waits (up to 10 s) until this child answers on its port; false if it exited or
    /// another process answers there.
    fn answers_as_itself(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = format!("process_id:{}\r\n", self.child.id());
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut conn = BufReader::new(stream);
                let info = conn
                    .get_mut()
                    .write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
                    .ok()
                    .and_then(|()| bulk(&mut conn));
                return info.is_some_and(|text| text.contains(&pid));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub(super) fn connect(&self) -> BufReader<TcpStream> {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis-server is up");
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        BufReader::new(stream)
    }
}

/// One bulk-string reply as text, `None` on anything else.
fn bulk(conn: &mut BufReader<TcpStream>) -> Option<String> {
    let mut header = Vec::new();
    conn.read_until(b'\n', &mut header).ok()?;
    let len: usize =
        std::str::from_utf8(header.strip_prefix(b"$")?).ok()?.trim_end().parse().ok()?;
    let mut buf = vec![0; len + 2];
    std::io::Read::read_exact(conn, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply: the array of bulk strings `COMMAND GETKEYS` returns, or an error line.
pub(super) fn request(
    conn: &mut BufReader<TcpStream>,
    args: &[&str],
) -> Result<Vec<Vec<u8>>, String> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    conn.get_mut().write_all(&out).unwrap();
    let header = line(conn);
    match header.split_first() {
        Some((b'-', msg)) => Err(String::from_utf8_lossy(msg).into_owned()),
        Some((b'*', n)) => {
            let n: usize = std::str::from_utf8(n).unwrap().parse().unwrap();
            (0..n)
                .map(|_| {
                    let len = line(conn);
                    assert_eq!(len.first(), Some(&b'$'), "bulk string expected");
                    let len: usize = std::str::from_utf8(&len[1..]).unwrap().parse().unwrap();
                    let mut buf = vec![0; len + 2];
                    std::io::Read::read_exact(conn, &mut buf).unwrap();
                    buf.truncate(len);
                    Ok(buf)
                })
                .collect()
        }
        _ => panic!("unexpected reply {:?}", String::from_utf8_lossy(&header)),
    }
}

fn line(conn: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut buf = Vec::new();
    conn.read_until(b'\n', &mut buf).unwrap();
    assert!(buf.ends_with(b"\r\n"), "truncated reply");
    buf.truncate(buf.len() - 2);
    buf
}

/// Commands whose key arguments are named so that the key names identify their positions.
const CASES: &[&str] = &[
    "GET k1",
    "SET k1 v EX 10 GET",
    "MSET k1 v1 k2 v2 k3 v3",
    "MSETNX k1 v k2 v",
    "MGET k1 k2 k3",
    "DEL k1 k2",
    "TOUCH k1 k2 k3",
    "RENAME k1 k2",
    "COPY k1 k2 DB 1 REPLACE",
    "SMOVE k1 k2 m",
    "RPOPLPUSH k1 k2",
    "EXPIRE k1 10 NX",
    "BLPOP k1 k2 5",
    "BLMOVE k1 k2 LEFT RIGHT 0",
    "BITOP AND dst k1 k2",
    "PFMERGE dst k1 k2",
    "SUNIONSTORE dst k1 k2",
    "ZRANGESTORE dst k1 0 -1",
    "GEOSEARCHSTORE dst k1 FROMMEMBER m BYRADIUS 1 km",
    "ZUNIONSTORE dst 2 k1 k2 WEIGHTS 1 2",
    "ZINTERSTORE dst 2 k1 k2 AGGREGATE MAX",
    "ZDIFF 2 k1 k2 WITHSCORES",
    "ZUNION 2 k1 k2",
    "EVAL s 0",
    "EVAL s 2 k1 k2 a1",
    "EVAL s 01 k1",
    "EVAL s 3 k1",
    "EVALSHA_RO sha 1 k1",
    "FCALL f 2 k1 k2 x",
    "XREAD COUNT 2 STREAMS k1 k2 0 0",
    "XREAD BLOCK 0 STREAMS k1 $",
    "XREAD STREAMS k1 k2 0",
    "XREADGROUP GROUP g c COUNT 1 STREAMS k1 k2 > >",
    "XREADGROUP GROUP g STREAMS STREAMS k1 >",
    "XADD k1 * f v",
    "GEORADIUS k1 15 37 200 km STORE dst",
    "GEORADIUS k1 15 37 200 km STORE dst STOREDIST dst2",
    "GEORADIUSBYMEMBER k1 m 10 km STOREDIST dst",
    "GEORADIUS_RO k1 15 37 200 km",
    "SORT k1 BY w_* GET o_* LIMIT 0 10 STORE dst",
    "SORT k1 STORE dst1 ALPHA STORE dst2",
    "SORT k1",
    "SORT_RO k1 BY w_* GET #",
    "MIGRATE host 6379 k1 0 5000",
    "MIGRATE host 6379 _ 0 5000 COPY REPLACE KEYS k1 k2",
    "MIGRATE host 6379 _ 0 5000 AUTH2 keys pw KEYS k1",
    "OBJECT ENCODING k1",
    "MEMORY USAGE k1",
    "XINFO STREAM k1 FULL",
    "LCS k1 k2",
    "LMPOP 2 k1 k2 LEFT COUNT 3",
    "BLMPOP 1 2 k1 k2 RIGHT",
    "BZMPOP 0 1 k1 MIN",
    "ZINTERCARD 2 k1 k2 LIMIT 1",
    "SINTERCARD 3 k1 k2 k3",
    "BITFIELD k1 GET u8 0",
    "BITFIELD_RO k1 GET u8 0",
    "WATCH k1 k2",
    "SPUBLISH ch msg",
    "ECHO hi",
];

#[test]
fn key_indices_match_command_getkeys() {
    let server = Server::start();
    let mut conn = server.connect();
    let mut failures = Vec::new();
    for case in CASES {
        // `_` stands for the empty string MIGRATE's KEYS form needs.
        let args: Vec<&str> = case.split(' ').map(|a| if a == "_" { "" } else { a }).collect();
        let info = lookup(&args).unwrap_or_else(|| panic!("unknown command in {case}"));
        let ours: Vec<String> = key_indices(info, &args).map(|i| args[i].to_string()).collect();
        let mut request_args = vec!["COMMAND", "GETKEYS"];
        request_args.extend(&args);
        let theirs: Vec<String> = match request(&mut conn, &request_args) {
            Ok(keys) => keys.iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect(),
            // The server's way of saying "no keys".
            Err(e) if e.contains("no key arguments") || e.contains("Invalid arguments") => vec![],
            Err(e) => panic!("{case}: server error {e}"),
        };
        if ours != theirs {
            failures.push(format!("{case}: ours {ours:?}, server {theirs:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(CASES.len() >= 40);
}
