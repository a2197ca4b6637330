//! Tests of `parse.rs`.
use super::*;

fn b(s: &'static str) -> Value {
    Value::BulkString(Bytes::from_static(s.as_bytes()))
}

fn s(s: &'static str) -> Value {
    Value::SimpleString(Bytes::from_static(s.as_bytes()))
}

/// Decodes one frame that must span the whole input, through both `scan` on the whole
/// input and `parse_frame`, and through a byte-at-a-time `decode`; all must agree.
fn one(input: &[u8]) -> Value {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.scan(input).unwrap(), Some(input.len()), "{input:?}");
    let value = parse_frame(&Bytes::copy_from_slice(input), &Limits::default()).unwrap();
    let mut buf = BytesMut::new();
    for (i, &byte) in input.iter().enumerate() {
        buf.extend_from_slice(&[byte]);
        let got = decoder.decode(&mut buf).unwrap();
        if i + 1 < input.len() {
            assert_eq!(got, None, "complete after {} of {} bytes", i + 1, input.len());
        } else {
            // Debug text, so that NaN compares equal to itself.
            assert_eq!(format!("{got:?}"), format!("{:?}", Some(&value)));
        }
    }
    assert!(buf.is_empty());
    value
}

#[test]
fn simple_string() {
    assert_eq!(one(b"+OK\r\n"), s("OK"));
    assert_eq!(one(b"+\r\n"), s(""));
}

#[test]
fn error_line_is_a_value_error() {
    let Value::Error(e) = one(b"-WRONGTYPE Operation against a key\r\n") else { panic!() };
    assert_eq!(e.code(), "WRONGTYPE");
    assert_eq!(e.detail(), "Operation against a key");
}

#[test]
fn integers() {
    assert_eq!(one(b":0\r\n"), Value::Int(0));
    assert_eq!(one(b":-42\r\n"), Value::Int(-42));
    assert_eq!(one(b":+7\r\n"), Value::Int(7));
    assert_eq!(one(b":9223372036854775807\r\n"), Value::Int(i64::MAX));
    assert_eq!(one(b":-9223372036854775808\r\n"), Value::Int(i64::MIN));
}

#[test]
fn bulk_strings_and_resp2_nulls() {
    assert_eq!(one(b"$5\r\nhello\r\n"), b("hello"));
    assert_eq!(one(b"$0\r\n\r\n"), b(""));
    assert_eq!(one(b"$4\r\na\r\nb\r\n"), b("a\r\nb"));
    assert_eq!(one(b"$-1\r\n"), Value::Nil);
    assert_eq!(one(b"*-1\r\n"), Value::Nil);
    assert_eq!(one(b"_\r\n"), Value::Nil);
}

#[test]
fn doubles() {
    assert_eq!(one(b",1.5\r\n"), Value::Double(1.5));
    assert_eq!(one(b",-0.25\r\n"), Value::Double(-0.25));
    assert_eq!(one(b",10\r\n"), Value::Double(10.0));
    assert_eq!(one(b",1e3\r\n"), Value::Double(1000.0));
    assert_eq!(one(b",-1.5E-3\r\n"), Value::Double(-0.0015));
    assert_eq!(one(b",2.5e+2\r\n"), Value::Double(250.0));
    assert_eq!(one(b",inf\r\n"), Value::Double(f64::INFINITY));
    assert_eq!(one(b",-inf\r\n"), Value::Double(f64::NEG_INFINITY));
    let Value::Double(x) = one(b",nan\r\n") else { panic!() };
    assert!(x.is_nan());
}

#[test]
fn booleans() {
    assert_eq!(one(b"#t\r\n"), Value::Boolean(true));
    assert_eq!(one(b"#f\r\n"), Value::Boolean(false));
}

#[test]
fn big_numbers_keep_their_digits() {
    let digits = "3492890328409238509324850943850943825024385";
    let frame = format!("({digits}\r\n");
    assert_eq!(one(frame.as_bytes()), Value::BigNumber(digits.into()));
    assert_eq!(one(b"(-12\r\n"), Value::BigNumber("-12".into()));
}

#[test]
fn verbatim_strings() {
    let v = one(b"=15\r\ntxt:Some string\r\n");
    assert_eq!(v, Value::Verbatim { format: *b"txt", text: "Some string".into() });
    let v = one(b"=4\r\nmkd:\r\n");
    assert_eq!(v, Value::Verbatim { format: *b"mkd", text: "".into() });
}

#[test]
fn bulk_errors() {
    let Value::Error(e) = one(b"!21\r\nSYNTAX invalid syntax\r\n") else { panic!() };
    assert_eq!(e.code(), "SYNTAX");
    assert_eq!(e.detail(), "invalid syntax");
}

#[test]
fn arrays_nested_and_empty() {
    let v = one(b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n_\r\n");
    let inner = Value::Array(vec![b("a"), Value::Array(vec![])]);
    assert_eq!(v, Value::Array(vec![Value::Int(1), inner, Value::Nil]));
    assert_eq!(one(b"*0\r\n"), Value::Array(vec![]));
}

#[test]
fn maps() {
    let v = one(b"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n");
    let want = Value::Map(vec![(s("first"), Value::Int(1)), (b("second"), Value::Boolean(false))]);
    assert_eq!(v, want);
    assert_eq!(one(b"%0\r\n"), Value::Map(vec![]));
}

#[test]
fn sets() {
    assert_eq!(one(b"~2\r\n+a\r\n+b\r\n"), Value::Set(vec![s("a"), s("b")]));
    assert_eq!(one(b"~0\r\n"), Value::Set(vec![]));
}

#[test]
fn pushes() {
    let v = one(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    assert_eq!(v, Value::Push(vec![b("message"), b("ch"), b("hi")]));
}

#[test]
fn attributes_annotate_the_following_value() {
    let v =
        one(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n");
    let want = Value::Attribute {
        attributes: vec![(s("key-popularity"), Value::Map(vec![(b("a"), Value::Double(0.1923))]))],
        value: Box::new(Value::Array(vec![Value::Int(2039123), Value::Int(9543892)])),
    };
    assert_eq!(v, want);
    // Inside an aggregate, the attribute and its value are one element.
    let v = one(b"*2\r\n|0\r\n:1\r\n:2\r\n");
    let attr = Value::Attribute { attributes: vec![], value: Box::new(Value::Int(1)) };
    assert_eq!(v, Value::Array(vec![attr, Value::Int(2)]));
}

#[test]
fn payloads_share_the_frame() {
    let frame = Bytes::from_static(b"*2\r\n$3\r\nabc\r\n+de\r\n");
    let Value::Array(items) = parse_frame(&frame, &Limits::default()).unwrap() else { panic!() };
    let Value::BulkString(abc) = &items[0] else { panic!() };
    assert_eq!(abc.as_ptr(), frame[8..].as_ptr());
}

/// A buffer of many frames of every type, and the values it holds.
fn stream() -> (Vec<u8>, Vec<Value>) {
    let frames: &[&[u8]] = &[
        b"+OK\r\n",
        b"-ERR no\r\n",
        b":-5\r\n",
        b"$3\r\nfoo\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"_\r\n",
        b",3.25\r\n",
        b"#t\r\n",
        b"(123456789012345678901234567890\r\n",
        b"!3\r\nERR\r\n",
        b"=7\r\ntxt:abc\r\n",
        b"*2\r\n*1\r\n+x\r\n%1\r\n:1\r\n~1\r\n#f\r\n",
        b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n",
        b">2\r\n+pubsub\r\n$0\r\n\r\n",
        b"*0\r\n",
    ];
    let values = frames
        .iter()
        .map(|f| parse_frame(&Bytes::copy_from_slice(f), &Limits::default()).unwrap())
        .collect();
    (frames.concat(), values)
}

fn decode_pieces(pieces: &[&[u8]]) -> Vec<Value> {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(v) = decoder.decode(&mut buf).unwrap() {
            out.push(v);
        }
    }
    assert!(buf.is_empty());
    out
}

#[test]
fn every_split_one_byte_at_a_time() {
    let (wire, values) = stream();
    let pieces: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(decode_pieces(&pieces), values);
}

#[test]
fn every_split_in_two_pieces() {
    let (wire, values) = stream();
    for cut in 0..=wire.len() {
        let (a, b) = wire.split_at(cut);
        assert_eq!(decode_pieces(&[a, b]), values, "cut at {cut}");
    }
}

#[test]
fn big_bulk_in_small_reads_reads_its_header_once() {
    const LEN: usize = 64 << 20;
    let mut wire = b"$67108864\r\n".to_vec();
    wire.resize(wire.len() + LEN, b'x');
    wire.extend_from_slice(b"\r\n");
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::with_capacity(wire.len());
    let mut calls = 0;
    let mut done = None;
    for chunk in wire.chunks(16 << 10) {
        buf.extend_from_slice(chunk);
        calls += 1;
        done = decoder.scan(&buf).unwrap();
        if done.is_none() {
            // The decoder remembers where the payload ends and has read one token only.
            assert_eq!(decoder.bytes_needed(), Some(wire.len()));
            assert_eq!(decoder.tokens_read, 1);
        }
    }
    assert_eq!(calls, 4097);
    assert_eq!(done, Some(wire.len()));
    assert_eq!(decoder.tokens_read, 1);
    assert_eq!(decoder.bytes_needed(), None);
    let v = parse_frame(&buf.freeze(), &Limits::default()).unwrap();
    assert_eq!(v.as_bytes().map(|b| b.len()), Some(LEN));
}

#[test]
fn array_in_small_reads_is_read_once() {
    let mut cmd = crate::resp::CommandBuf::new();
    for i in 0..10_000 {
        cmd.push_int(i);
    }
    let wire = cmd.finish();
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut calls = 0u64;
    let mut done = None;
    for chunk in wire.chunks(16) {
        buf.extend_from_slice(chunk);
        calls += 1;
        done = decoder.scan(&buf).unwrap();
    }
    assert_eq!(done, Some(wire.len()));
    // 10,001 tokens, plus at most one partial token re-read per call.
    assert!(decoder.tokens_read <= 10_001 + calls, "{} tokens", decoder.tokens_read);
}

#[test]
fn long_line_in_pieces_resumes_its_search() {
    let mut decoder = Decoder::new();
    let mut buf = b"+".to_vec();
    for _ in 0..100 {
        buf.extend_from_slice(&[b'a'; 1000]);
        assert_eq!(decoder.scan(&buf).unwrap(), None);
        assert_eq!(decoder.line_resume, buf.len());
    }
    buf.extend_from_slice(b"\r");
    assert_eq!(decoder.scan(&buf).unwrap(), None);
    assert_eq!(decoder.line_resume, buf.len() - 1);
    buf.extend_from_slice(b"\n");
    assert_eq!(decoder.scan(&buf).unwrap(), Some(buf.len()));
}

fn nested(depth: usize) -> Vec<u8> {
    let mut wire = b"*1\r\n".repeat(depth - 1);
    wire.extend_from_slice(b"*0\r\n");
    wire
}

#[test]
fn nesting_at_the_limit_is_accepted() {
    let wire = nested(128);
    assert_eq!(Decoder::new().scan(&wire).unwrap(), Some(wire.len()));
    let mut v = parse_frame(&Bytes::from(wire), &Limits::default()).unwrap();
    let mut depth = 1;
    while let Value::Array(mut items) = v {
        let Some(inner) = items.pop() else { break };
        v = inner;
        depth += 1;
    }
    assert_eq!(depth, 128);
}

#[test]
fn nesting_over_the_limit_is_rejected() {
    let wire = nested(129);
    let e = Decoder::new().scan(&wire).unwrap_err().to_string();
    assert!(e.contains("deeper than max_depth (128) at byte 512"), "{e}");
    let e = parse_frame(&Bytes::from(wire), &Limits::default()).unwrap_err().to_string();
    assert!(e.contains("deeper than max_depth (128) at byte 512"), "{e}");
    // Maps and attributes count as levels too.
    let limits = Limits { max_depth: 2, ..Limits::default() };
    let wire = b"%1\r\n:1\r\n|1\r\n:1\r\n:1\r\n*0\r\n";
    assert!(Decoder::with_limits(limits).scan(wire).is_err());
    assert!(parse_frame(&Bytes::from_static(wire), &limits).is_err());
}

#[test]
fn deep_nesting_with_a_raised_limit_does_not_recurse() {
    let limits = Limits { max_depth: 20_000, ..Limits::default() };
    let wire = Bytes::from(nested(20_000));
    assert_eq!(Decoder::with_limits(limits).scan(&wire).unwrap(), Some(wire.len()));
    let v = parse_frame(&wire, &limits).unwrap();
    // Dropping a Value recurses, so take it apart level by level.
    let mut v = Some(v);
    while let Some(Value::Array(mut items)) = v {
        v = items.pop();
    }
}

#[test]
fn reset_forgets_the_frame_in_progress() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.scan(b"*2\r\n$10\r\nabc").unwrap(), None);
    decoder.reset();
    assert_eq!(decoder.bytes_needed(), None);
    assert_eq!(decoder.scan(b":1\r\n").unwrap(), Some(4));
}

/// Every frame kind cut at every point, completed, then followed by every frame kind: the
/// decoder finds each next frame's exact end (a quick-path completion once left the line
/// search of the split frame behind for the next one).
#[test]
fn a_frame_completed_after_any_split_leaves_nothing_behind_for_the_next() {
    let frames: &[&[u8]] = &[
        b"+OK\r\n",
        b"+PONG\r\n",
        b"+Stringx\r\n",
        b"+a status line longer than thirty-two bytes\r\n",
        b"-ERR wrong\r\n",
        b":0\r\n",
        b":-123456789\r\n",
        b"$5\r\nhello\r\n",
        b"$0\r\n\r\n",
        b"$-1\r\n",
        b"*2\r\n+a\r\n+b\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"_\r\n",
        b",1.5\r\n",
        b"#t\r\n",
        b"(123\r\n",
        b"=7\r\ntxt:abc\r\n",
        b"%1\r\n+k\r\n:1\r\n",
        b"~1\r\n$1\r\nx\r\n",
        b">2\r\n+message\r\n+m\r\n",
        b"|1\r\n+ttl\r\n:3\r\n+v\r\n",
    ];
    let mut checked = 0;
    for first in frames {
        for cut in 1..first.len() {
            for next in frames {
                let mut decoder = Decoder::new();
                assert_eq!(decoder.scan(&first[..cut]).unwrap(), None, "{first:?} cut at {cut}");
                assert_eq!(decoder.scan(first).unwrap(), Some(first.len()), "{first:?}");
                let mut rest = next.to_vec();
                rest.extend_from_slice(b":1\r\n");
                assert_eq!(
                    decoder.scan(&rest).unwrap(),
                    Some(next.len()),
                    "{next:?} after {first:?} cut at {cut}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 4_000, "{checked}");
}
