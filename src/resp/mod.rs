//! The sans-IO RESP2/RESP3 codec: values, the incremental parser, the command encoder, and
//! the conversions between replies and Rust types ([`FromValue`], [`ToArg`]).
//!
//! Nothing in this module touches a socket, a thread or a clock.

pub(crate) mod convert;
mod encode;
mod parse;
mod scan;
mod value;

pub use convert::{FromValue, ToArg};
pub use encode::{encode_value, Args, CommandBuf};
pub use parse::{parse_frame, Decoder, Limits};
pub use value::Value;
