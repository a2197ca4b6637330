//! [`ServerTime`]: the reply of TIME.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::fields::tuple;
use crate::error::Error;
use crate::resp::{FromValue, Value};

/// The server's clock, from `TIME`: seconds and microseconds since the Unix epoch (a reply
/// beyond 2^40 seconds is refused as a conversion error).
///
/// # Examples
///
/// ```
/// use redpoll::{replies::ServerTime, Value};
///
/// let reply = Value::Array(vec![Value::BulkString("1700000000".into()), Value::BulkString("250".into())]);
/// let t: ServerTime = reply.decode()?;
/// assert_eq!((t.seconds, t.microseconds), (1_700_000_000, 250));
/// let at: std::time::SystemTime = t.into();
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerTime {
    /// Whole seconds since the Unix epoch.
    pub seconds: u64,
    /// Microseconds into the current second.
    pub microseconds: u64,
}

impl ServerTime {
    /// The time since the Unix epoch.
    pub fn as_duration_since_epoch(&self) -> Duration {
        Duration::from_secs(self.seconds) + Duration::from_micros(self.microseconds)
    }

    /// The time as a [`SystemTime`] (at most 2^40 s after the epoch).
    pub fn to_system_time(&self) -> SystemTime {
        let max = UNIX_EPOCH + Duration::from_secs(MAX_SECONDS);
        UNIX_EPOCH.checked_add(self.as_duration_since_epoch()).map_or(max, |t| t.min(max))
    }
}

impl From<ServerTime> for SystemTime {
    fn from(t: ServerTime) -> SystemTime {
        t.to_system_time()
    }
}

/// 2^40 s: about the year 36,800.
const MAX_SECONDS: u64 = 1 << 40;

impl FromValue for ServerTime {
    fn from_value(value: Value) -> Result<Self, Error> {
        let mut parts = tuple(value, 2, 2, "TIME's [seconds, microseconds]")?.into_iter();
        let (Some(s), Some(us)) = (parts.next(), parts.next()) else {
            return Err(Error::conversion("TIME's [seconds, microseconds]", "fewer elements"));
        };
        let microseconds = u64::from_value(us)?;
        if microseconds >= 1_000_000 {
            return Err(Error::conversion("microseconds below 1,000,000", "a larger number"));
        }
        let seconds = u64::from_value(s)?;
        // A clock past the year 36,000 is no clock; keeping it out keeps `SystemTime`
        // arithmetic from overflowing.
        if seconds > MAX_SECONDS {
            return Err(Error::conversion(
                "seconds since 1970 of a plausible clock",
                "a larger number",
            ));
        }
        Ok(ServerTime { seconds, microseconds })
    }
}
