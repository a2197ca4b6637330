//! Opening and dropping many clients leaks no thread and no file descriptor. Alone in its
//! own test binary so no other test's connections change the counts.

mod support;

use std::time::{Duration, Instant};

use redpoll::Client;
use support::RedisServer;

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// The (fds, threads) of this process once they have stopped changing for 300 ms: threads
/// of clients dropped just before (the warm-up's I/O thread exits after its last client is
/// gone) must not be counted. Waits at most 10 s, then returns what it sees.
fn quiet_counts() -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = (count("/proc/self/fd"), count("/proc/self/task"));
    let mut since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let now = (count("/proc/self/fd"), count("/proc/self/task"));
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_millis(300) {
            break;
        }
    }
    last
}

#[test]
fn a_thousand_clients_come_and_go_without_leaks() {
    let server = RedisServer::new();
    // Warm up: the first client starts the I/O thread; count once it has gone again.
    Client::open(&server.url()).unwrap().connect().wait().unwrap();
    let (fds, threads) = quiet_counts();
    for i in 0..1_000 {
        let client = Client::open(&server.url()).unwrap();
        if i % 10 == 0 {
            assert_eq!(client.ping().wait().unwrap(), "PONG");
        }
    }
    // The last drop joined the I/O thread; resolver threads are not involved for an IP.
    let deadline = Instant::now() + Duration::from_secs(5);
    while (count("/proc/self/fd") > fds || count("/proc/self/task") > threads)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count("/proc/self/fd"), fds, "file descriptors leaked");
    assert_eq!(count("/proc/self/task"), threads, "threads leaked");
}
