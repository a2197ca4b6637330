//! [`Conditional`]: the reply of a SET that may not apply.

use bytes::Bytes;

/// The reply type of a SET after `.nx()` or `.xx()`: a plain SET's `()` becomes `bool`
/// (false when the condition kept the value from being set); with `.get()` the reply stays
/// the previous value (`Option<Bytes>`), whatever the order the options were called in.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let applied: bool = client.set("lock", "me").nx().ex(30).wait()?;
/// let previous: Option<bytes::Bytes> = client.set("k", "v").get().xx().wait()?;
/// # Ok(()) }
/// ```
pub trait Conditional {
    /// The reply type with the condition.
    type Reply;
}

impl Conditional for () {
    type Reply = bool;
}

impl Conditional for bool {
    type Reply = bool;
}

impl Conditional for Option<Bytes> {
    type Reply = Option<Bytes>;
}
