//! Property tests of the RESP parser: any value survives encode → arbitrary chunking → decode,
//! and no input, however broken, makes the decoder panic or disagree with `parse_frame`.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use redpoll::resp::{encode_value, parse_frame, Decoder, Limits};
use redpoll::{ServerError, Value};

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Line content: no CR or LF (simple strings); for errors it must also be UTF-8, since a
/// `ServerError` keeps its line as a `String`.
fn line() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'), 0..12)
        .prop_map(Bytes::from)
}

fn error_line() -> impl Strategy<Value = ServerError> {
    "[A-Z]{0,6}( [ -~]{0,10})?".prop_map(ServerError::new)
}

/// Finite doubles and infinities; NaN is left out because it is not equal to itself (the
/// inline tests cover `,nan`).
fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("not NaN", |x| !x.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1000i32..1000).prop_map(|n| f64::from(n) / 8.0),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        line().prop_map(Value::SimpleString),
        bytes(40).prop_map(Value::BulkString),
        any::<i64>().prop_map(Value::Int),
        double().prop_map(Value::Double),
        any::<bool>().prop_map(Value::Boolean),
        "-?[0-9]{1,40}".prop_map(|s| Value::BigNumber(s.into())),
        (any::<[u8; 3]>(), bytes(20)).prop_map(|(format, text)| Value::Verbatim { format, text }),
        error_line().prop_map(Value::Error),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        let pairs = vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec(inner.clone(), 0..6).prop_map(Value::Set),
            vec(inner.clone(), 0..6).prop_map(Value::Push),
            pairs.clone().prop_map(Value::Map),
            (pairs, inner).prop_map(|(attributes, value)| Value::Attribute {
                attributes,
                value: Box::new(value)
            }),
        ]
    })
}

/// Cuts `wire` into pieces whose lengths cycle through `sizes` (each at least 1).
fn chunks<'a>(wire: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = wire;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

/// Feeds the pieces to `Decoder::decode`, collecting frames until the first error.
fn decode_all(pieces: &[&[u8]]) -> (Vec<Value>, Option<redpoll::Error>, usize) {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(v)) => out.push(v),
                Ok(None) => break,
                Err(e) => return (out, Some(e), buf.len()),
            }
        }
    }
    (out, None, buf.len())
}

/// Checks that `scan` and `parse_frame` agree about the front of `input`.
fn scan_and_parse_agree(input: &[u8]) {
    let limits = Limits::default();
    let whole = Bytes::copy_from_slice(input);
    match Decoder::new().scan(input) {
        Ok(Some(len)) => {
            let frame = whole.slice(..len);
            let parsed = parse_frame(&frame, &limits);
            assert!(parsed.is_ok(), "scan accepted {frame:?}, parse_frame said {parsed:?}");
        }
        Ok(None) => assert!(parse_frame(&whole, &limits).is_err(), "incomplete {whole:?} parsed"),
        Err(e) => {
            let parsed = parse_frame(&whole, &limits);
            assert_eq!(parsed.map_err(|e| e.to_string()), Err(e.to_string()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn values_survive_encode_and_chunked_decode(
        values in vec(value(), 1..4),
        sizes in vec(1usize..24, 1..8),
    ) {
        let mut wire = Vec::new();
        for v in &values {
            encode_value(v, &mut wire);
        }
        let (decoded, err, left) = decode_all(&chunks(&wire, &sizes));
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(left, 0);
        prop_assert_eq!(decoded, values);
    }

    #[test]
    fn one_value_scans_to_its_full_length(v in value()) {
        let mut wire = Vec::new();
        encode_value(&v, &mut wire);
        prop_assert_eq!(Decoder::new().scan(&wire).unwrap(), Some(wire.len()));
        let parsed = parse_frame(&Bytes::from(wire), &Limits::default()).unwrap();
        prop_assert_eq!(parsed, v);
    }

    #[test]
    fn garbage_never_panics(
        input in vec(prop_oneof![
            4 => prop::sample::select(b"$*:+-%_,#(!=~|>\r\n0123456789-tfx".to_vec()),
            1 => any::<u8>(),
        ], 0..64),
        sizes in vec(1usize..16, 1..4),
    ) {
        scan_and_parse_agree(&input);
        let _ = decode_all(&chunks(&input, &sizes));
    }

    #[test]
    fn mutated_frames_never_panic_and_chunking_does_not_change_the_outcome(
        v in value(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
        sizes in vec(1usize..16, 1..4),
    ) {
        let mut wire = Vec::new();
        encode_value(&v, &mut wire);
        for (at, byte, op) in edits {
            let i = at.index(wire.len() + 1);
            match op {
                0 if i < wire.len() => wire[i] = byte,
                1 => wire.insert(i, byte),
                _ if i < wire.len() => { wire.remove(i); }
                _ => {}
            }
        }
        scan_and_parse_agree(&wire);
        let (whole, whole_err, _) = decode_all(&[&wire]);
        let (pieces, pieces_err, _) = decode_all(&chunks(&wire, &sizes));
        prop_assert_eq!(format!("{whole:?}"), format!("{pieces:?}"));
        prop_assert_eq!(whole_err.is_some(), pieces_err.is_some());
    }
}
