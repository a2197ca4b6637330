//! TEMPORARY stand-ins until the typed replies land.
#![allow(missing_docs)]
use crate::resp::Value;
pub type Info = Value;
pub type ServerTime = (u64, u64);
pub type ClientList = Value;
pub type ClientInfo = Value;
pub type StreamEntry = Value;
pub type StreamKeyEntries = Value;
pub type AutoClaim = Value;
pub type Pending = Value;
pub type PendingEntry = Value;
pub type StreamInfo = Value;
pub type StreamGroupInfo = Value;
pub type StreamConsumerInfo = Value;
pub type ScanPage<T> = (u64, Vec<T>);
pub type GeoMember = Value;
