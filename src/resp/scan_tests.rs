//! Tests of `scan.rs`.
use bytes::Bytes;

use super::super::parse::{parse_frame, Decoder, Limits};

/// The message for input that is malformed, checking that `scan` on the whole input,
/// `scan` fed one byte at a time and `parse_frame` all reject it, with the same message.
fn fault_with(input: &[u8], limits: Limits) -> String {
    let scanned = Decoder::with_limits(limits).scan(input);
    let message = match scanned {
        Err(crate::Error::Protocol(m)) => m,
        other => panic!("scan of {input:?} gave {other:?}"),
    };
    let parsed = parse_frame(&Bytes::copy_from_slice(input), &limits).unwrap_err();
    assert_eq!(parsed.to_string(), format!("protocol error: {message}"));
    let mut decoder = Decoder::with_limits(limits);
    let rejected = (1..=input.len()).any(|n| match decoder.scan(&input[..n]) {
        Ok(None) => false,
        Ok(Some(len)) => panic!("{input:?} accepted as a frame of {len} bytes"),
        Err(_) => true,
    });
    assert!(rejected, "{input:?} not rejected when fed byte by byte");
    message
}

fn fault(input: &[u8]) -> String {
    fault_with(input, Limits::default())
}

#[track_caller]
fn says(message: String, expected: &str) {
    assert!(message.contains(expected), "{message:?} does not contain {expected:?}");
}

#[test]
fn bulk_over_the_limit_is_rejected_at_its_header() {
    says(
        fault(b"$536870913\r\n"),
        "blob length 536870913 exceeds max_bulk_len (536870912) at byte 1",
    );
    let limits = Limits { max_bulk_len: 10, ..Limits::default() };
    says(fault_with(b"*1\r\n$11\r\n", limits), "exceeds max_bulk_len (10) at byte 5");
    says(fault_with(b"!11\r\n", limits), "max_bulk_len");
    assert_eq!(Decoder::with_limits(limits).scan(b"$10\r\n").unwrap(), None);
}

#[test]
fn aggregate_over_the_limit_is_rejected_at_its_header() {
    says(fault(b"*2147483648\r\n"), "array length 2147483648 exceeds max_aggregate_len");
    let limits = Limits { max_aggregate_len: 3, ..Limits::default() };
    says(fault_with(b"%4\r\n", limits), "map length 4 exceeds max_aggregate_len (3) at byte 1");
    says(fault_with(b">4\r\n", limits), "push length 4");
    says(fault_with(b"~4\r\n", limits), "set length 4");
    says(fault_with(b"|4\r\n", limits), "attribute length 4");
}

#[test]
fn huge_count_is_not_trusted_for_allocation() {
    // Within the limit, but the frame is short: parse_frame must not reserve 2^31 slots.
    let frame = Bytes::from_static(b"*2147483647\r\n:1\r\n");
    says(parse_frame(&frame, &Limits::default()).unwrap_err().to_string(), "ends in the middle");
    let frame = Bytes::from_static(b"%2147483647\r\n:1\r\n:1\r\n");
    assert!(parse_frame(&frame, &Limits::default()).is_err());
}

#[test]
fn depth_over_the_limit() {
    let limits = Limits { max_depth: 1, ..Limits::default() };
    says(fault_with(b"*1\r\n*0\r\n", limits), "nested deeper than max_depth (1) at byte 4");
    let limits = Limits { max_depth: 0, ..Limits::default() };
    says(fault_with(b"~0\r\n", limits), "max_depth (0) at byte 0");
}

#[test]
fn wrong_type_byte() {
    says(fault(b"?"), "unknown RESP type byte '?' at byte 0");
    says(fault(b"*2\r\n:1\r\nX"), "unknown RESP type byte 'X' at byte 8");
    says(fault(b"\r\n"), "unknown RESP type byte 0x0d at byte 0");
}

#[test]
fn bare_line_feed() {
    says(fault(b"+OK\n"), "simple string line ends with a bare \\n (missing \\r) at byte 3");
    says(fault(b"$3\nabc\r\n"), "bulk string length line ends with a bare \\n");
    says(fault(b":12\n"), "integer line ends with a bare \\n");
    says(fault(b"_\n"), "null '_' followed by 0x0a");
}

#[test]
fn carriage_return_followed_by_another_byte() {
    says(fault(b"+OK\rX\n"), "\\r followed by 'X' instead of \\n in simple string line at byte 4");
    says(fault(b"*1\r:1\r\n"), "\\r followed by ':' instead of \\n in array length line at byte 3");
    says(fault(b"#t\r\r"), "in boolean line at byte 3");
}

#[test]
fn blob_payload_without_crlf() {
    says(fault(b"$3\r\nabcd\r\n"), "blob payload not followed by \\r\\n at byte 7");
    says(fault(b"$3\r\nabc\n\r"), "at byte 7");
}

#[test]
fn negative_lengths_other_than_minus_one() {
    says(fault(b"$-2\r\n"), "negative bulk string length (only $-1 and *-1 are allowed) at byte 1");
    says(fault(b"*-5\r\n"), "negative array length");
    says(fault(b"$-0\r\n"), "negative bulk string length");
    says(fault(b"%-1\r\n"), "negative map length");
    says(fault(b"!-1\r\n"), "negative bulk error length");
    says(fault(b"=-1\r\n"), "negative verbatim string length");
}

#[test]
fn non_digit_length() {
    says(fault(b"$1x\r\n"), "invalid byte 'x' in bulk string length at byte 2");
    says(fault(b"*x\r\n"), "invalid byte 'x' in array length at byte 1");
    says(fault(b"$+1\r\n"), "invalid byte '+' in bulk string length");
    says(fault(b"$ 1\r\n"), "invalid byte ' '");
}

#[test]
fn empty_length() {
    says(fault(b"$\r\n"), "empty bulk string length at byte 1");
    says(fault(b"*-\r\n"), "empty array length at byte 2");
}

#[test]
fn overflowing_length_does_not_wrap() {
    says(fault(b"$9223372036854775808\r\n"), "bulk string length overflows a signed 64-bit");
    // 2^64 + 5 would wrap to 5 in u64 arithmetic.
    says(fault(b"$18446744073709551621\r\n5char\r\n"), "more than 19 digits");
    says(fault(b"*99999999999999999999999\r\n"), "array length has more than 19 digits");
}

#[test]
fn integer_that_is_not_an_i64() {
    says(fault(b":9223372036854775808\r\n"), "integer overflows a signed 64-bit integer at byte 1");
    says(fault(b":-9223372036854775809\r\n"), "integer overflows");
    says(fault(b":123456789012345678901\r\n"), "integer has more than 19 digits");
    says(fault(b":12a\r\n"), "invalid byte 'a' in integer at byte 3");
    says(fault(b":\r\n"), "empty integer at byte 1");
    says(fault(b":-\r\n"), "empty integer at byte 2");
    says(fault(b":1.5\r\n"), "invalid byte '.' in integer");
}

#[test]
fn boolean_other_than_t_or_f() {
    says(fault(b"#x\r\n"), "invalid boolean 'x' (expected 't' or 'f') at byte 1");
    says(fault(b"#tt\r\n"), "invalid byte 't' in boolean at byte 2");
}

#[test]
fn null_with_content() {
    says(fault(b"_x\r\n"), "null '_' followed by 'x' instead of \\r\\n at byte 1");
}

#[test]
fn invalid_double() {
    says(fault(b",abc\r\n"), "invalid double at byte 1");
    says(fault(b",\r\n"), "invalid double");
    says(fault(b",1.5x\r\n"), "invalid double");
    says(fault(b",1e\r\n"), "invalid double");
}

#[test]
fn invalid_big_number() {
    says(fault(b"(12a\r\n"), "invalid big number");
    says(fault(b"(-\r\n"), "invalid big number");
    says(fault(b"(\r\n"), "invalid big number");
    says(fault(b"(+1\r\n"), "digits) at byte 1");
}

#[test]
fn verbatim_without_format() {
    says(fault(b"=3\r\ntxt\r\n"), "verbatim string of length 3 cannot hold its 4-byte");
    says(fault(b"=5\r\ntxtxy\r\n"), "format not followed by ':' (found 'x') at byte 7");
}

#[test]
fn line_over_the_limit() {
    let limits = Limits { max_bulk_len: 4, ..Limits::default() };
    says(fault_with(b"+abcde\r\n", limits), "line longer than max_bulk_len (4)");
    says(fault_with(b"-abcdefgh", limits), "line longer than max_bulk_len (4)");
    assert_eq!(Decoder::with_limits(limits).scan(b"+abcd\r\n").unwrap(), Some(7));
}

#[test]
fn parse_frame_rejects_short_and_long_frames() {
    let limits = Limits::default();
    let e = parse_frame(&Bytes::from_static(b"*2\r\n:1\r\n"), &limits).unwrap_err();
    says(e.to_string(), "frame ends in the middle of a value at byte 8");
    let e = parse_frame(&Bytes::from_static(b"$3\r\nab"), &limits).unwrap_err();
    says(e.to_string(), "ends in the middle");
    let e = parse_frame(&Bytes::from_static(b":1\r\n:2\r\n"), &limits).unwrap_err();
    says(e.to_string(), "4 bytes after the end of the frame at byte 4");
    assert!(parse_frame(&Bytes::new(), &limits).is_err());
}

#[test]
fn shrinking_buffer_is_an_error_not_a_panic() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.scan(b"*2\r\n:1\r\n").unwrap(), None);
    says(decoder.scan(b"*2").unwrap_err().to_string(), "shorter than the 8 already scanned");
    // The decoder was reset and serves a new stream.
    assert_eq!(decoder.scan(b":1\r\n").unwrap(), Some(4));
}

#[test]
fn errors_reset_the_decoder() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.scan(b"*3\r\n:1\r\n").unwrap(), None);
    assert!(decoder.scan(b"*3\r\n:1\r\n?").is_err());
    assert_eq!(decoder.scan(b"+OK\r\n").unwrap(), Some(5));
}
