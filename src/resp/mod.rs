//! The sans-IO RESP2/RESP3 codec: values, the incremental parser and the command encoder.
//!
//! Nothing in this module touches a socket, a thread or a clock.

mod encode;
mod parse;
mod scan;
mod value;

pub use encode::{encode_value, CommandBuf};
pub use parse::{parse_frame, Decoder, Limits};
pub use value::Value;
