//! RFC 6455 conformance of the frame reader: masking, lengths, fragmentation,
//! interleaved control frames, close codes, UTF-8 and limits.

use super::frame::*;

/// A masked client frame.
fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn read_all(reader: &mut FrameReader, bytes: &[u8]) -> Result<Vec<WsEvent>, WsError> {
    let mut out = Vec::new();
    reader.feed(bytes, &mut out)?;
    Ok(out)
}

#[test]
fn unmasks_text_and_binary_messages() {
    let mut r = FrameReader::new(1 << 20);
    let mut bytes = client_frame(true, 1, b"4hello");
    bytes.extend(client_frame(true, 2, &[1, 2, 3, 4]));
    let events = read_all(&mut r, &bytes).unwrap();
    assert_eq!(
        events,
        vec![
            WsEvent::Text("4hello".into()),
            WsEvent::Binary(vec![1, 2, 3, 4].into())
        ]
    );
    assert!(r.is_idle());
}

#[test]
fn reads_16_and_64_bit_lengths_fed_one_byte_at_a_time() {
    let mut r = FrameReader::new(1 << 20);
    let medium = vec![b'a'; 300];
    let large = vec![7u8; 70_000];
    let mut bytes = client_frame(true, 1, &medium);
    bytes.extend(client_frame(true, 2, &large));
    let mut events = Vec::new();
    for byte in &bytes {
        r.feed(std::slice::from_ref(byte), &mut events).unwrap();
    }
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], WsEvent::Text(String::from_utf8(medium).unwrap()));
    assert_eq!(events[1], WsEvent::Binary(large.into()));
    assert!(r.is_idle());
}

#[test]
fn assembles_fragments_with_control_frames_between_them() {
    let mut r = FrameReader::new(1 << 20);
    let mut bytes = client_frame(false, 1, b"4hel");
    bytes.extend(client_frame(true, 9, b"p"));
    bytes.extend(client_frame(false, 0, b"lo "));
    bytes.extend(client_frame(true, 0xA, b""));
    bytes.extend(client_frame(true, 0, "wörld".as_bytes()));
    let events = read_all(&mut r, &bytes).unwrap();
    assert_eq!(
        events,
        vec![
            WsEvent::Ping(bytes::Bytes::from_static(b"p")),
            WsEvent::Pong,
            WsEvent::Text("4hello wörld".into())
        ]
    );
}

#[test]
fn utf8_is_checked_on_the_whole_message_so_split_characters_pass() {
    let mut r = FrameReader::new(1 << 20);
    let euro = "€".as_bytes();
    let mut bytes = client_frame(false, 1, &euro[..1]);
    bytes.extend(client_frame(true, 0, &euro[1..]));
    assert_eq!(
        read_all(&mut r, &bytes).unwrap(),
        vec![WsEvent::Text("€".into())]
    );
    let mut r = FrameReader::new(1 << 20);
    let err = read_all(&mut r, &client_frame(true, 1, &[0xce, 0xba, 0xff])).unwrap_err();
    assert_eq!(err.code, close_code::INVALID_DATA);
}

#[test]
fn protocol_errors_close_with_1002() {
    let cases: Vec<Vec<u8>> = vec![
        vec![0x81, 0x02, b'h', b'i'],  // unmasked
        client_frame(true, 3, b"x"),   // reserved opcode
        client_frame(true, 0xB, b"x"), // reserved control opcode
        [vec![0xC1], client_frame(true, 1, b"x")[1..].to_vec()].concat(), // RSV1 without extension
        client_frame(false, 9, b"x"),  // fragmented ping
        client_frame(true, 9, &[0u8; 126]), // ping over 125 bytes
        client_frame(true, 0, b"x"),   // continuation without a message
        [client_frame(false, 1, b"a"), client_frame(true, 1, b"b")].concat(), // new message mid-fragment
        client_frame(true, 8, &[0x03]),                                       // one-byte close body
        client_frame(true, 8, &1005u16.to_be_bytes()),                        // reserved close code
        client_frame(true, 8, &999u16.to_be_bytes()),
        client_frame(true, 8, &5000u16.to_be_bytes()),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        let mut r = FrameReader::new(1 << 20);
        let err = read_all(&mut r, bytes).unwrap_err();
        assert_eq!(err.code, close_code::PROTOCOL, "case {i}: {err}");
    }
}

#[test]
fn close_frames_carry_code_and_reason() {
    let mut r = FrameReader::new(1 << 20);
    let mut body = 1000u16.to_be_bytes().to_vec();
    body.extend_from_slice(b"bye");
    let mut bytes = client_frame(true, 8, &body);
    bytes.extend(client_frame(true, 8, b""));
    bytes.extend(client_frame(true, 8, &4000u16.to_be_bytes()));
    assert_eq!(
        read_all(&mut r, &bytes).unwrap(),
        vec![
            WsEvent::Close(1000, "bye".into()),
            WsEvent::Close(1005, String::new()),
            WsEvent::Close(4000, String::new())
        ]
    );
    let mut bad_reason = 1000u16.to_be_bytes().to_vec();
    bad_reason.push(0xff);
    let err = read_all(
        &mut FrameReader::new(1 << 20),
        &client_frame(true, 8, &bad_reason),
    )
    .unwrap_err();
    assert_eq!(err.code, close_code::INVALID_DATA);
}

#[test]
fn oversized_frames_are_refused_from_their_header_before_any_payload() {
    let mut r = FrameReader::new(1000);
    // Only the header of a 16 MiB frame: refused without waiting for (or buffering) the body.
    let header = &client_frame(true, 2, &vec![0u8; 16 << 20])[..14];
    assert_eq!(
        read_all(&mut r, header).unwrap_err().code,
        close_code::TOO_BIG
    );
    // Fragments adding up past the limit.
    let mut r = FrameReader::new(1000);
    let mut bytes = client_frame(false, 2, &[0u8; 600]);
    bytes.extend(client_frame(true, 0, &[0u8; 600]));
    assert_eq!(
        read_all(&mut r, &bytes).unwrap_err().code,
        close_code::TOO_BIG
    );
    // A 64-bit length with the high bit set.
    let mut r = FrameReader::new(usize::MAX);
    let mut bytes = vec![0x82, 0xFF];
    bytes.extend_from_slice(&u64::MAX.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(
        read_all(&mut r, &bytes).unwrap_err().code,
        close_code::PROTOCOL
    );
}

#[test]
fn server_headers_use_the_shortest_length_form() {
    assert_eq!(frame_header(OpCode::Text, 5).1, 2);
    let (h, n) = frame_header(OpCode::Binary, 300);
    assert_eq!((&h[..n], n), (&[0x82, 126, 1, 44][..], 4));
    let (h, n) = frame_header(OpCode::Binary, 70_000);
    assert_eq!((h[1], n), (127, 10));
    let close = close_frame(1000, &"é".repeat(100));
    assert!(
        close.len() <= 2 + 125,
        "control frame too long: {}",
        close.len()
    );
    assert!(
        std::str::from_utf8(&close[4..]).is_ok(),
        "reason cut inside a character"
    );
}
