//! The scenarios and the clients that run them.

use std::fmt;

/// Which command an operation sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Get,
    Set,
    /// A batch of n: n/2 SETs, then n/2 GETs (a pipeline object where the client has one).
    SetGet,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "GET",
            Op::Set => "SET",
            Op::SetGet => "SET+GET",
        }
    }
}

/// How the callers drive the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `callers` concurrent callers sharing one client, each sending one command and waiting
    /// for its reply before the next ((a) with 1 caller, (b), (d)).
    Callers(usize),
    /// One caller sending batches of `n` commands and waiting for all of their replies (c).
    Batch(usize),
}

/// The transport every client of a scenario uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    /// TLS variants of (a) and (b) (section (e)), against the harness's own TLS server.
    Tls,
}

/// The key every client uses: redis-benchmark's own, so its GET reads the value we set.
pub const KEY: &str = "key:__rand_int__";

/// Small values: the size of (a), (b) and (c).
pub const SMALL: usize = 16;

/// One measured situation.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Section of the report: "a" … "e".
    pub group: &'static str,
    pub op: Op,
    pub shape: Shape,
    pub value_size: usize,
    pub transport: Transport,
}

impl Scenario {
    /// A stable identifier: `get_c64`, `set_batch1000`, `get_1MiB`, with a `tls_` prefix.
    pub fn id(&self) -> String {
        let op = self.op.name().to_ascii_lowercase().replace('+', "");
        let tls = if self.transport == Transport::Tls { "tls_" } else { "" };
        let what = match self.shape {
            Shape::Batch(n) => format!("batch{n}"),
            Shape::Callers(n) if self.value_size == SMALL => format!("c{n}"),
            Shape::Callers(_) => size_name(self.value_size),
        };
        format!("{tls}{op}_{what}")
    }

    /// How many commands one operation is.
    pub fn per_op(&self) -> u64 {
        match self.shape {
            Shape::Callers(_) => 1,
            Shape::Batch(n) => n as u64,
        }
    }

    /// Concurrent callers.
    pub fn callers(&self) -> usize {
        match self.shape {
            Shape::Callers(n) => n,
            Shape::Batch(_) => 1,
        }
    }

    /// Bytes of payload one command carries (for MB/s), counted for big values only.
    pub fn payload(&self) -> Option<usize> {
        (self.value_size > SMALL).then_some(self.value_size)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tls = if self.transport == Transport::Tls { " TLS" } else { "" };
        match self.shape {
            Shape::Callers(1) if self.value_size == SMALL => {
                write!(f, "({}) {} sequential{tls}", self.group, self.op.name())
            }
            Shape::Callers(n) if self.value_size == SMALL => {
                write!(f, "({}) {} {n} callers{tls}", self.group, self.op.name())
            }
            Shape::Callers(_) => {
                write!(f, "({}) {} {}{tls}", self.group, self.op.name(), size_name(self.value_size))
            }
            Shape::Batch(n) => write!(f, "({}) {} batch of {n}{tls}", self.group, self.op.name()),
        }
    }
}

/// "16B", "1MiB", "16MiB".
pub fn size_name(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{}MiB", n >> 20)
    } else {
        format!("{n}B")
    }
}

/// Every scenario of a full comparison, in run order. (a) GET sequential is (b)'s 1 caller.
pub fn all() -> Vec<Scenario> {
    let mut v = Vec::new();
    let s = |group, op, shape, value_size, transport| Scenario {
        group,
        op,
        shape,
        value_size,
        transport,
    };
    let tcp = Transport::Tcp;
    v.push(s("a", Op::Set, Shape::Callers(1), SMALL, tcp));
    for n in [1, 8, 64, 256] {
        v.push(s(if n == 1 { "a" } else { "b" }, Op::Get, Shape::Callers(n), SMALL, tcp));
    }
    v.push(s("c", Op::Set, Shape::Batch(1000), SMALL, tcp));
    // A pipeline of 1,000 SET + 1,000 GET.
    v.push(s("c", Op::SetGet, Shape::Batch(2000), SMALL, tcp));
    for size in [1 << 20, 16 << 20] {
        v.push(s("d", Op::Get, Shape::Callers(1), size, tcp));
        v.push(s("d", Op::Set, Shape::Callers(1), size, tcp));
    }
    // (e): (a) and (b) again over TLS.
    v.push(s("e", Op::Set, Shape::Callers(1), SMALL, Transport::Tls));
    for n in [1, 8, 64, 256] {
        v.push(s("e", Op::Get, Shape::Callers(n), SMALL, Transport::Tls));
    }
    v
}

/// The clients compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKind {
    /// redpoll, callers are OS threads calling `.wait()`.
    RedpollWait,
    /// redpoll, callers are tokio tasks calling `.await`.
    RedpollAwait,
    /// The `redis` crate's blocking `Connection`, one per caller thread.
    RedisBlocking,
    /// The `redis` crate's tokio `MultiplexedConnection`, shared by tasks.
    RedisMultiplexed,
    /// `fred`'s tokio client, shared by tasks.
    Fred,
    /// `redis-benchmark`: the physical reference (its own connections, one per caller).
    RedisBenchmark,
}

impl ClientKind {
    pub const ALL: [ClientKind; 6] = [
        ClientKind::RedpollWait,
        ClientKind::RedpollAwait,
        ClientKind::RedisBlocking,
        ClientKind::RedisMultiplexed,
        ClientKind::Fred,
        ClientKind::RedisBenchmark,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ClientKind::RedpollWait => "redpoll .wait()",
            ClientKind::RedpollAwait => "redpoll .await",
            ClientKind::RedisBlocking => "redis-rs blocking",
            ClientKind::RedisMultiplexed => "redis-rs multiplexed",
            ClientKind::Fred => "fred",
            ClientKind::RedisBenchmark => "redis-benchmark",
        }
    }

    /// A short identifier for the CSV.
    pub fn id(self) -> &'static str {
        match self {
            ClientKind::RedpollWait => "redpoll_wait",
            ClientKind::RedpollAwait => "redpoll_await",
            ClientKind::RedisBlocking => "redis_blocking",
            ClientKind::RedisMultiplexed => "redis_multiplexed",
            ClientKind::Fred => "fred",
            ClientKind::RedisBenchmark => "redis_benchmark",
        }
    }

    /// How its callers run, for the report.
    pub fn callers_are(self) -> &'static str {
        match self {
            ClientKind::RedpollWait => "threads, one shared client",
            ClientKind::RedisBlocking => "threads, one connection each",
            ClientKind::RedpollAwait | ClientKind::RedisMultiplexed | ClientKind::Fred => {
                "tokio tasks, one shared client"
            }
            ClientKind::RedisBenchmark => "its own event loop, one connection per caller",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let ids: Vec<String> = all().iter().map(Scenario::id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "{ids:?}");
        assert!(ids.contains(&"get_c64".to_owned()));
        assert!(ids.contains(&"set_16MiB".to_owned()));
        assert!(ids.contains(&"tls_get_c1".to_owned()));
    }
}
