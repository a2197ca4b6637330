//! The command surface and the command metadata, both generated from Redis's command specs.
//!
//! - [`Commands`]: one method per command and subcommand ([`COUNT`] of them), with typed
//!   arguments ([`args`]), typed options on the returned [`Cmd`](crate::Cmd) ([`opts`]) and
//!   default reply types; generated into `generated/` by `cargo run -p gen` from the Redis
//!   7.2.6 specs vendored in `gen/specs/`, for any [`Receiver`] ([`Shared`]: a client's
//!   connection).
//! - The metadata table (`table.rs`, generated from the same specs), and hand-written over it:
//!
//! - [`lookup`] finds a command's [`CommandInfo`] from its arguments (case-insensitive,
//!   containers resolved with their subcommand), without allocating;
//! - [`key_indices`] / [`slot_indices`] give the argument positions of its keys, as the
//!   server's `COMMAND GETKEYS` does (for key prefixing and cluster routing);
//! - [`is_blocking`] tells whether it blocks server-side and for how long.
//!
//! # Examples
//!
//! ```
//! use redpoll::commands::{is_blocking, key_indices, lookup, BlockTimeout, CommandFlags};
//! let args = ["BLMOVE", "src", "dst", "LEFT", "RIGHT", "2.5"];
//! let info = lookup(&args).unwrap();
//! assert!(info.flags.contains(CommandFlags::WRITE | CommandFlags::BLOCKING));
//! assert_eq!(key_indices(info, &args).collect::<Vec<_>>(), [1, 2]);
//! assert_eq!(is_blocking(info, &args), Some(BlockTimeout::Millis(2500)));
//! ```

mod blocking;
mod conditional;
mod flags;
mod generated;
mod getkeys;
mod info;
mod lookup;
pub(crate) mod prefix;
mod surface;
mod table;

#[cfg(test)]
mod prefix_server_tests;
#[cfg(test)]
mod samples;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod tests;

pub use blocking::{is_blocking, BlockTimeout};
pub use conditional::Conditional;
pub use flags::{CommandFlags, KeySpecFlags, Tips};
pub use generated::{args, opts, COUNT};
pub use getkeys::{key_indices, slot_indices, KeyIndices};
pub use info::{BeginSearch, CommandInfo, FindKeys, Group, KeySpec, RequestPolicy, ResponsePolicy};
pub use lookup::{all, lookup};
pub use surface::{Commands, Exclusive, Owned, Receiver, Shared};
