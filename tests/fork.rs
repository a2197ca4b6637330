//! Fork safety: a client used in a child process after `fork()` opens its own connection on
//! the child's own I/O thread instead of touching the parent's socket.

mod support;

use std::time::Duration;

use redpoll::Client;
use support::{FakeServer, RedisServer, Script};

#[test]
fn a_forked_child_gets_its_own_connection() {
    let server = RedisServer::new();
    let client = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    assert_eq!(client.incr("forks").wait().unwrap(), 1);
    let parent_id: i64 = client.cmd("CLIENT").arg("ID").decode().wait().unwrap();

    // SAFETY: the child only uses the client (whose fork handling is under test), the
    // allocator (fork-safe in glibc) and `_exit`; it never returns into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // A child whose client hung (the parent's I/O thread does not exist here) dies of
        // SIGALRM instead of hanging the test.
        // SAFETY: `alarm` only arms a timer for this process.
        unsafe { libc::alarm(10) };
        let code = match (
            client.incr("forks").timeout(Duration::from_secs(5)).wait(),
            client.cmd("CLIENT").arg("ID").decode::<i64>().timeout(Duration::from_secs(5)).wait(),
        ) {
            (Ok(2), Ok(child_id)) if child_id != parent_id => 0,
            (Ok(_), Ok(_)) => 2,
            _ => 1,
        };
        // SAFETY: ends the child at once, without running the parent's destructors or the
        // test harness's exit handlers twice.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status), "the child did not exit normally: {status}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child's client failed (1) or shared the parent's connection (2)"
    );
    // The parent's client is untouched and still serves.
    assert_eq!(client.incr("forks").wait().unwrap(), 3);
    let still: i64 = client.cmd("CLIENT").arg("ID").decode().wait().unwrap();
    assert_eq!(still, parent_id);
}

#[test]
fn a_reply_pending_at_fork_resolves_in_the_child() {
    let server = FakeServer::start(Script::never_answer());
    let client = Client::builder()
        .url(server.url())
        .request_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let pending = client.cmd("GET").arg("k").send();
    std::thread::sleep(Duration::from_millis(50));
    // SAFETY: the child only waits on the reply, then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: `alarm` only arms a timer for this process.
        unsafe { libc::alarm(5) };
        // The request timeout is 500 ms: it should fail (Timeout or Disconnected) well
        // before the 5 s alarm.
        let code = match pending.wait() {
            Err(_) => 0,
            Ok(_) => 2,
        };
        // SAFETY: ends the child at once, running no destructor of the parent's.
        unsafe { libc::_exit(code) };
    }
    drop(pending);
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "the child hung on a reply sent before fork() (killed by signal {})",
        libc::WTERMSIG(status)
    );
    assert_eq!(libc::WEXITSTATUS(status), 0);
}
