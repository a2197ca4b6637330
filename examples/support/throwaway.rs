//! A throwaway redis-server for the examples: started on a free loopback port when
//! `REDIS_URL` is not set, killed (by its pid) when the example ends.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server an example talks to: `REDIS_URL`, or a redis-server of its own.
pub struct Server {
    url: String,
    child: Option<Child>,
    dir: Option<std::path::PathBuf>,
}

impl Server {
    /// Uses `REDIS_URL` when set; otherwise starts `redis-server` from PATH.
    pub fn start() -> Server {
        if let Ok(url) = std::env::var("REDIS_URL") {
            println!("using REDIS_URL={}", redact(&url));
            return Server { url, child: None, dir: None };
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| fail(&format!("no free loopback port: {e}")));
        let dir =
            std::env::temp_dir().join(format!("redpoll-example-{}-{port}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                fail(&format!(
                    "could not start redis-server ({e}).\n\
                     Install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL."
                ))
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                fail("redis-server did not start listening within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("started a throwaway redis-server on 127.0.0.1:{port} (pid {})", child.id());
        Server { url: format!("redis://127.0.0.1:{port}"), child: Some(child), dir: Some(dir) }
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}
