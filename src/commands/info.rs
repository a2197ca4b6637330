//! The hand-written types that the generated table (`table.rs`) is made of.

use super::flags::{CommandFlags, KeySpecFlags, Tips};

/// Static metadata of one Redis command or subcommand, from Redis 7.2.6's command specs.
///
/// One `static` per command lives in the generated table; get it with
/// [`lookup`](super::lookup) or iterate them with [`all`](super::all).
///
/// # Examples
///
/// ```
/// use redpoll::commands::{lookup, Group};
/// let info = lookup(&["client", "setname", "app"]).unwrap();
/// assert_eq!(info.name, "CLIENT SETNAME");
/// assert_eq!(info.arity, 3);
/// assert_eq!(info.group, Group::Connection);
/// assert_eq!(info.container(), Some("CLIENT"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct CommandInfo {
    /// Full upper-case name: `"GET"`, or container and subcommand: `"CLIENT SETNAME"`.
    pub name: &'static str,
    /// Argument count including the command (and subcommand) name: `N` means exactly `N`,
    /// `-N` at least `N`.
    pub arity: i16,
    /// Command flags.
    pub flags: CommandFlags,
    /// Where the keys are, in spec order (empty for key-less commands).
    pub key_specs: &'static [KeySpec],
    /// The Redis version that introduced the command (major, minor, patch).
    pub since: (u8, u8, u8),
    /// The documentation group.
    pub group: Group,
    /// Served only by Sentinel (the `SENTINEL` subcommands).
    pub sentinel_only: bool,
    /// Deprecated in 7.2.6 (a replacement exists).
    pub deprecated: bool,
    /// How a cluster client should route the command when it has no keys to hash.
    pub request_policy: RequestPolicy,
    /// How a cluster client should merge the replies of a fanned-out command.
    pub response_policy: ResponsePolicy,
    /// Nondeterminism tips.
    pub tips: Tips,
    /// The server's hand-written key finder for the command, if it has one.
    pub(crate) get_keys: Option<GetKeys>,
}

impl CommandInfo {
    /// True when `argc` arguments (counting the command and subcommand names) satisfy the
    /// arity.
    ///
    /// # Examples
    ///
    /// ```
    /// let get = redpoll::commands::lookup(&["GET"]).unwrap();
    /// assert!(get.accepts_argc(2));
    /// assert!(!get.accepts_argc(3));
    /// ```
    pub fn accepts_argc(&self, argc: usize) -> bool {
        let arity = usize::from(self.arity.unsigned_abs());
        if self.arity >= 0 {
            argc == arity
        } else {
            argc >= arity
        }
    }

    /// The container name (`"CLIENT"` for `CLIENT SETNAME`), or `None` for a top-level command.
    pub fn container(&self) -> Option<&'static str> {
        self.name.split_once(' ').map(|(container, _)| container)
    }

    /// True when the command has at least one key spec that describes real keys (not only
    /// shard channels).
    pub fn has_keys(&self) -> bool {
        self.get_keys.is_some()
            || self.key_specs.iter().any(|s| !s.flags.contains(KeySpecFlags::NOT_KEY))
    }
}

/// One key spec: where a run of key arguments starts ([`BeginSearch`]) and how far it goes
/// ([`FindKeys`]). Indexes count from `argv[0]`, the command name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySpec {
    /// Where the search for keys starts.
    pub begin: BeginSearch,
    /// Which arguments from there on are keys.
    pub find: FindKeys,
    /// How the command uses these keys.
    pub flags: KeySpecFlags,
}

/// The first step of a key spec: the position `first` where keys start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// `first` is this argument index.
    Index(u16),
    /// `first` is one past the argument equal (case-insensitively) to `keyword`, searched
    /// forwards from `argv[start_from]` when `start_from > 0`, backwards from
    /// `argv[argc + start_from]` otherwise. When the keyword is absent the spec has no keys.
    Keyword {
        /// The keyword, upper case (`"STREAMS"`).
        keyword: &'static str,
        /// Where the search starts.
        start_from: i16,
    },
    /// Positions cannot be described; the server uses its hand-written key finder.
    Unknown,
}

/// The second step of a key spec: which arguments from `first` on are keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys `first ..= last` every `step` arguments. `last_key >= 0`: `last = first + last_key`.
    /// `last_key < 0`, `limit == 0`: `last = argc + last_key` (-1 the last argument).
    /// `last_key == -1`, `limit > 0`: the first `1/limit` of the remaining arguments.
    Range {
        /// Last key, relative to `first` (>= 0) or to the end (< 0).
        last_key: i16,
        /// Distance between keys (2 for key/value pairs).
        step: u16,
        /// Divisor of the remaining arguments when `last_key` is negative (0 = none).
        limit: u16,
    },
    /// `argv[first + keynum_idx]` holds the key count; keys start at `argv[first + first_key]`.
    Keynum {
        /// Offset of the key count from `first`.
        keynum_idx: u16,
        /// Offset of the first key from `first`.
        first_key: u16,
        /// Distance between keys.
        step: u16,
    },
    /// Positions cannot be described; the server uses its hand-written key finder.
    Unknown,
}

/// The documentation group of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // the variant names are the groups' names
pub enum Group {
    Bitmap,
    Cluster,
    Connection,
    Generic,
    Geo,
    Hash,
    Hyperloglog,
    List,
    Pubsub,
    Scripting,
    Sentinel,
    Server,
    Set,
    SortedSet,
    Stream,
    String,
    Transactions,
}

impl Group {
    /// The group's name as Redis documents it (`"sorted-set"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Bitmap => "bitmap",
            Group::Cluster => "cluster",
            Group::Connection => "connection",
            Group::Generic => "generic",
            Group::Geo => "geo",
            Group::Hash => "hash",
            Group::Hyperloglog => "hyperloglog",
            Group::List => "list",
            Group::Pubsub => "pubsub",
            Group::Scripting => "scripting",
            Group::Sentinel => "sentinel",
            Group::Server => "server",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Stream => "stream",
            Group::String => "string",
            Group::Transactions => "transactions",
        }
    }
}

/// The `request_policy` tip: where a cluster client sends a command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestPolicy {
    /// No tip: route by the keys' slot, or to any node when there are no keys.
    #[default]
    Default,
    /// Send to every node, primaries and replicas (`CONFIG SET`).
    AllNodes,
    /// Send to every primary (`DBSIZE`, `SCAN`'s cursor per shard).
    AllShards,
    /// Split the keys by slot and send each part to its shard (`MSET`, `DEL`).
    MultiShard,
    /// Needs command-specific handling.
    Special,
}

/// The `response_policy` tip: how a cluster client merges the replies of a fanned-out command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponsePolicy {
    /// No tip: concatenate array replies, or the single reply as is.
    #[default]
    Default,
    /// Succeeds when at least one shard succeeded; the first non-error reply.
    OneSucceeded,
    /// Succeeds when all shards succeeded; any error fails it.
    AllSucceeded,
    /// Logical AND of the integer replies.
    AggLogicalAnd,
    /// Logical OR of the integer replies.
    AggLogicalOr,
    /// Minimum of the integer replies.
    AggMin,
    /// Maximum of the integer replies.
    AggMax,
    /// Sum of the integer replies.
    AggSum,
    /// Needs command-specific handling.
    Special,
}

/// The server's hand-written key finder (`get_keys_function` in the specs), used when the key
/// specs cannot answer. One variant per C function of Redis 7.2.6 `src/db.c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GetKeys {
    /// `setGetKeys`: `argv[1]`.
    Set,
    /// `bitfieldGetKeys`: `argv[1]`.
    Bitfield,
    /// `sortGetKeys`: `argv[1]` and the last `STORE` destination.
    Sort,
    /// `sortROGetKeys`: `argv[1]`.
    SortRo,
    /// `migrateGetKeys`: `argv[3]`, or the arguments after `KEYS`.
    Migrate,
    /// `georadiusGetKeys`: `argv[1]` and the last `STORE`/`STOREDIST` destination.
    Georadius,
    /// `xreadGetKeys`: the first half of what follows `STREAMS`.
    Xread,
    /// `evalGetKeys`: numkeys at 2, keys from 3.
    Eval,
    /// `functionGetKeys`: numkeys at 2, keys from 3.
    Function,
    /// `lmpopGetKeys`: numkeys at 1, keys from 2.
    Lmpop,
    /// `blmpopGetKeys`: numkeys at 2, keys from 3.
    Blmpop,
    /// `zmpopGetKeys`: numkeys at 1, keys from 2.
    Zmpop,
    /// `sintercardGetKeys`: numkeys at 1, keys from 2.
    Sintercard,
    /// `zunionInterDiffGetKeys`: numkeys at 1, keys from 2.
    ZunionInterDiff,
    /// `zunionInterDiffStoreGetKeys`: destination 1, numkeys at 2, keys from 3.
    ZunionInterDiffStore,
}

#[cfg(test)]
mod tests {
    use super::super::lookup;

    #[test]
    fn arity_and_container() {
        let set = lookup(&["SET"]).unwrap();
        assert!(!set.accepts_argc(2));
        assert!(set.accepts_argc(3) && set.accepts_argc(9));
        assert_eq!(set.container(), None);
        assert!(set.has_keys());
        let spublish = lookup(&["SPUBLISH"]).unwrap();
        assert!(!spublish.has_keys(), "shard channels are not keys");
        assert!(!lookup(&["PING"]).unwrap().has_keys());
    }
}
