//! Fuzzes the RESP parser: `Decoder::scan` over input split at a data-chosen point must agree
//! with `scan` over the whole input, and with `parse_frame` on the frame it delimits.
//!
//! Input layout: two bytes choose the split point, one byte chooses the limits (default, or
//! tight ones so that the limit checks are reached), the rest is the stream.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use redpoll::resp::{parse_frame, Decoder, Limits};

fuzz_target!(|data: &[u8]| {
    let [c0, c1, mode, ref input @ ..] = *data else { return };
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        Limits { max_bulk_len: 64, max_depth: 4, max_aggregate_len: 8 }
    };
    let cut = usize::from(u16::from_le_bytes([c0, c1])) % (input.len() + 1);
    check(input, cut, &limits);
});

fn check(input: &[u8], cut: usize, limits: &Limits) {
    // scan over the whole input, and over its first part and then the whole.
    let whole = Decoder::with_limits(*limits).scan(input);
    let mut split_decoder = Decoder::with_limits(*limits);
    let split = match split_decoder.scan(&input[..cut]) {
        Ok(None) => split_decoder.scan(input),
        done => done,
    };
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "split at {cut} changed the frame length"),
        (Err(_), Err(_)) => {}
        _ => panic!("split at {cut}: whole {whole:?}, split {split:?}"),
    }

    // parse_frame agrees with scan.
    let bytes = Bytes::copy_from_slice(input);
    match whole {
        Ok(Some(len)) => {
            let value = parse_frame(&bytes.slice(..len), limits)
                .unwrap_or_else(|e| panic!("scan accepted {len} bytes, parse_frame said {e}"));
            let mut buf = BytesMut::from(input);
            let decoded = Decoder::with_limits(*limits).decode(&mut buf).expect("decode");
            assert_eq!(format!("{decoded:?}"), format!("{:?}", Some(value)));
            assert_eq!(buf.len(), input.len() - len);
        }
        Ok(None) => assert!(parse_frame(&bytes, limits).is_err(), "incomplete input parsed"),
        Err(e) => {
            let parsed = parse_frame(&bytes, limits).expect_err("scan rejected, parse accepted");
            assert_eq!(parsed.to_string(), e.to_string());
        }
    }

    // A whole stream of frames decodes the same in two pieces as in one.
    let (frames_whole, err_whole) = decode_all(&[input], limits);
    let (frames_split, err_split) = decode_all(&[&input[..cut], &input[cut..]], limits);
    assert_eq!(frames_whole, frames_split);
    assert_eq!(err_whole, err_split);
}

fn decode_all(pieces: &[&[u8]], limits: &Limits) -> (Vec<String>, bool) {
    let mut decoder = Decoder::with_limits(*limits);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(v)) => out.push(format!("{v:?}")),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}
