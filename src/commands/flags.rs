//! Small bit sets for command metadata: [`CommandFlags`], [`KeySpecFlags`], [`Tips`].
//!
//! Hand-rolled rather than the `bitflags` crate: three fixed sets with `const` constructors are
//! all the generated table needs.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Defines a `Copy` bit-set newtype with one associated constant per flag.
macro_rules! bit_set {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $( $(#[$fmeta:meta])* $flag:ident = $bit:expr, $spelling:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($repr);

        impl $name {
            $( $(#[$fmeta])* pub const $flag: Self = Self(1 << $bit); )*

            /// Every flag with its spelling in Redis's specs, in bit order.
            const NAMED: &'static [(Self, &'static str)] = &[$((Self::$flag, $spelling)),*];

            /// The empty set.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The raw bits.
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// True when no flag is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// True when every flag of `other` is also set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// True when at least one flag of `other` is set in `self`.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// The flags of both sets (usable in `const` context, unlike `|`).
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// The names of the set flags, spelled as in Redis's specs, in bit order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                Self::NAMED.iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| *n)
            }

            /// The flag spelled `name` in Redis's specs (case-insensitive), if there is one.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::NAMED.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(f, _)| *f)
            }
        }

        impl BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                self.union(rhs)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                for (i, name) in self.names().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    f.write_str(name)?;
                }
                f.write_str(")")
            }
        }
    };
}

bit_set! {
    /// Command flags (`command_flags` in the specs, the third field of `COMMAND INFO`).
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::commands::{lookup, CommandFlags};
    /// let get = lookup(&["GET", "k"]).unwrap();
    /// assert!(get.flags.contains(CommandFlags::READONLY | CommandFlags::FAST));
    /// assert!(!get.flags.contains(CommandFlags::WRITE));
    /// ```
    CommandFlags(u32) {
        /// May modify the dataset.
        WRITE = 0, "write";
        /// Only reads the dataset.
        READONLY = 1, "readonly";
        /// May grow memory use: refused when the server is over `maxmemory`.
        DENYOOM = 2, "denyoom";
        /// Administrative command.
        ADMIN = 3, "admin";
        /// Pub/Sub related.
        PUBSUB = 4, "pubsub";
        /// Not allowed inside scripts.
        NOSCRIPT = 5, "noscript";
        /// May block the connection until served or timed out.
        BLOCKING = 6, "blocking";
        /// Allowed while the server loads its dataset.
        LOADING = 7, "loading";
        /// Allowed on a replica with stale data.
        STALE = 8, "stale";
        /// Not shown by `MONITOR`.
        SKIP_MONITOR = 9, "skip_monitor";
        /// Not shown in the slow log.
        SKIP_SLOWLOG = 10, "skip_slowlog";
        /// Allowed on an importing slot in cluster mode (`ASKING`).
        ASKING = 11, "asking";
        /// O(1) or O(log N), never delays the server.
        FAST = 12, "fast";
        /// Allowed before authentication.
        NO_AUTH = 13, "no_auth";
        /// May take key arguments but does not need any.
        NO_MANDATORY_KEYS = 14, "no_mandatory_keys";
        /// Refused during asynchronous loading (replica diskless load).
        NO_ASYNC_LOADING = 15, "no_async_loading";
        /// Not allowed inside `MULTI`.
        NO_MULTI = 16, "no_multi";
        /// Allowed while a script or module command is busy.
        ALLOW_BUSY = 17, "allow_busy";
        /// Key positions depend on the arguments (derived by the server from the key specs).
        MOVABLEKEYS = 18, "movablekeys";
    }
}

bit_set! {
    /// Flags of one key spec (how the command uses the keys the spec finds).
    ///
    /// Exactly one of `RO`/`RW`/`OW`/`RM` is set, except on `NOT_KEY` specs, which have none.
    KeySpecFlags(u16) {
        /// Read-only access to the key.
        RO = 0, "RO";
        /// Read-write access.
        RW = 1, "RW";
        /// Overwrite: the old value is not read.
        OW = 2, "OW";
        /// Remove: the key is deleted.
        RM = 3, "RM";
        /// The value is returned, copied or otherwise used.
        ACCESS = 4, "access";
        /// The value is updated in place.
        UPDATE = 5, "update";
        /// Data is only added.
        INSERT = 6, "insert";
        /// Data is only removed.
        DELETE = 7, "delete";
        /// Not a key: only hashed for cluster slot routing (shard channels). Never prefix it.
        NOT_KEY = 8, "not_key";
        /// The spec may miss keys (never reports wrong ones); the server uses its
        /// hand-written key finder instead.
        INCOMPLETE = 9, "incomplete";
        /// The flags depend on the arguments (SET with GET, BITFIELD GET vs SET).
        VARIABLE_FLAGS = 10, "variable_flags";
    }
}

bit_set! {
    /// Boolean command tips (`hints` in the specs) that are not routing policies.
    Tips(u8) {
        /// The reply may differ between calls with the same arguments and dataset.
        NONDETERMINISTIC_OUTPUT = 0, "nondeterministic_output";
        /// The reply's order may differ between calls (set-like replies).
        NONDETERMINISTIC_OUTPUT_ORDER = 1, "nondeterministic_output_order";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let f = CommandFlags::WRITE | CommandFlags::DENYOOM;
        assert!(f.contains(CommandFlags::WRITE));
        assert!(!f.contains(CommandFlags::WRITE | CommandFlags::FAST));
        assert!(f.intersects(CommandFlags::WRITE | CommandFlags::FAST));
        assert!(CommandFlags::empty().is_empty());
        assert_eq!(f.bits(), 0b101);
        assert_eq!(format!("{f:?}"), "CommandFlags(write | denyoom)");
        assert_eq!(CommandFlags::from_name("MOVABLEKEYS"), Some(CommandFlags::MOVABLEKEYS));
        assert_eq!(KeySpecFlags::from_name("not_key"), Some(KeySpecFlags::NOT_KEY));
        assert_eq!(Tips::from_name("nope"), None);
    }
}
