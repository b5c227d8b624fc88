//! RFC 7692: negotiation (accepting, adjusting and declining offers), the
//! compressed round trip, RSV1 rules in the reader, fragmented compressed
//! messages and the inflate limit.

use std::sync::Arc;

use super::*;

fn config() -> DeflateConfig {
    DeflateConfig::default()
}

fn answer(offer: &str) -> Option<String> {
    negotiate([offer], &config()).map(|p| p.response())
}

#[test]
fn answers_the_offers_of_browsers_and_node() {
    // Chromium and Node's ws both send this.
    assert_eq!(
        answer("permessage-deflate; client_max_window_bits").as_deref(),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
        )
    );
    // Without client_max_window_bits the answer must not name it.
    assert_eq!(
        answer("permessage-deflate").as_deref(),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10"
        )
    );
}

#[test]
fn adjusts_windows_to_what_the_client_allows() {
    let p = negotiate(
        ["permessage-deflate; server_max_window_bits=9; client_max_window_bits=10"],
        &config(),
    )
    .unwrap();
    assert_eq!(
        (p.server_max_window_bits, p.client_max_window_bits),
        (9, 10)
    );
    assert_eq!(p.send_window_bits(Role::Server), 9);
    assert_eq!(p.receive_window_bits(Role::Server), 10);
    // A server configured for context takeover still announces
    // no-context-takeover when the client asks for it.
    let open = DeflateConfig {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        ..config()
    };
    let p = negotiate(["permessage-deflate"], &open).unwrap();
    assert_eq!(p.response(), "permessage-deflate");
    assert!(p.receive_keeps_context(Role::Server));
    let p = negotiate(["permessage-deflate; server_no_context_takeover"], &open).unwrap();
    assert_eq!(
        p.response(),
        "permessage-deflate; server_no_context_takeover"
    );
}

#[test]
fn declines_bad_offers_and_takes_the_next_one() {
    for bad in [
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; unknown_parameter",
        // The backend cannot compress with a 2^8 window.
        "permessage-deflate; server_max_window_bits=8",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(answer(bad), None, "{bad}");
    }
    let p = negotiate(
        [
            "x-other, permessage-deflate; server_max_window_bits=99",
            "permessage-deflate; client_max_window_bits=15",
        ],
        &config(),
    )
    .unwrap();
    assert_eq!(p.client_max_window_bits, 12);
}

#[test]
fn a_client_checks_the_answer() {
    let c = config();
    let offer = client_offer(&c);
    let server = negotiate([offer.as_str()], &c).unwrap();
    let client = accept_response([server.response().as_str()], &c)
        .unwrap()
        .unwrap();
    assert_eq!(client, server);
    assert_eq!(client.send_window_bits(Role::Client), 12);
    assert_eq!(accept_response([], &c), Ok(None));
    assert!(accept_response(["x-other"], &c).is_err());
    assert!(accept_response(["permessage-deflate; bogus"], &c).is_err());
    // server_no_context_takeover was asked for and must be in the answer.
    assert!(accept_response(["permessage-deflate"], &c).is_err());
}

fn pool() -> Arc<DeflatePool> {
    Arc::new(DeflatePool::new(config()))
}

fn dashboard(len: usize) -> String {
    let mut out = String::from("[");
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!(
            "{{\"id\":{i},\"name\":\"sensor-{i}\",\"value\":{}.{},\"status\":\"ok\"}},",
            i * 7 % 100,
            i % 10
        ));
        i += 1;
    }
    out.push(']');
    out
}

fn compressed(pool: &DeflatePool, data: &[u8]) -> Vec<u8> {
    match pool.compress(data, 10) {
        Compressed::Smaller(bytes) => bytes.to_vec(),
        other => panic!("not compressed: {other:?}"),
    }
}

#[test]
fn compresses_without_the_tail_and_inflates_back() {
    let pool = pool();
    let text = dashboard(16 * 1024);
    let small = compressed(&pool, text.as_bytes());
    assert!(!small.ends_with(&TAIL));
    assert!(small.len() * 4 <= text.len(), "{} bytes", small.len());
    let mut inflater = Inflater::new(pool.clone(), 15, false);
    assert_eq!(inflater.inflate(&small, 1 << 20).unwrap(), text.as_bytes());
    // The same context serves the next message (no takeover between them).
    assert_eq!(inflater.inflate(&small, 1 << 20).unwrap(), text.as_bytes());
    // Random bytes do not shrink and are sent as they are.
    let noise: Vec<u8> = (0..5000).map(|_| rand::random::<u8>()).collect();
    assert_eq!(pool.compress(&noise, 10), Compressed::NotSmaller);
    assert!(pool.wants(4096) && !pool.wants(4095));
}

#[test]
fn inflate_stops_at_the_limit() {
    let pool = pool();
    let bomb = vec![0u8; 2 << 20];
    let small = compressed(&pool, &bomb);
    assert!(small.len() < 20_000);
    let mut inflater = Inflater::new(pool.clone(), 15, false);
    assert!(matches!(
        inflater.inflate(&small, 1_000_000),
        Err(InflateError::TooBig { limit: 1_000_000 })
    ));
    assert!(matches!(
        inflater.inflate(&[0xff, 0xff, 0xff], 1000),
        Err(InflateError::Corrupt(_))
    ));
}

/// A masked client frame with the given first byte (FIN, RSV, opcode).
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [1, 2, 3, 4];
    let mut out = vec![b0];
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

fn reader(max: usize) -> FrameReader {
    let mut r = FrameReader::new(max);
    r.set_inflater(Inflater::new(pool(), 15, false));
    r
}

#[test]
fn reads_compressed_messages_whole_and_fragmented() {
    let pool = pool();
    let text = dashboard(8000);
    let small = compressed(&pool, text.as_bytes());
    let mut r = reader(1 << 20);
    let mut out = Vec::new();
    // Whole, RSV1 + text.
    r.feed(&frame(0xC1, &small), &mut out).unwrap();
    // Fragmented: RSV1 on the first frame only, a ping in between.
    let (a, b) = small.split_at(small.len() / 3);
    let mut bytes = frame(0x42, a);
    bytes.extend(frame(0x89, b"p"));
    bytes.extend(frame(0x80, b));
    r.feed(&bytes, &mut out).unwrap();
    // An uncompressed message still passes.
    r.feed(&frame(0x82, &[1, 2, 3]), &mut out).unwrap();
    assert_eq!(
        out,
        vec![
            WsEvent::Text(text.clone()),
            WsEvent::Ping(bytes::Bytes::from_static(b"p")),
            WsEvent::Binary(bytes::Bytes::from(text.into_bytes())),
            WsEvent::Binary(bytes::Bytes::from_static(&[1, 2, 3])),
        ]
    );
    assert!(r.is_idle());
}

#[test]
fn rsv1_rules() {
    let cases = [
        frame(0xC9, b""),                                // compressed ping
        [frame(0x41, b"a"), frame(0xC0, b"b")].concat(), // RSV1 on a continuation
        frame(0xA1, b"a"),                               // RSV2
        frame(0x91, b"a"),                               // RSV3
    ];
    for (i, bytes) in cases.iter().enumerate() {
        let err = reader(1 << 20).feed(bytes, &mut Vec::new()).unwrap_err();
        assert_eq!(err.code, close_code::PROTOCOL, "case {i}");
    }
    // Without the extension RSV1 is a protocol error too.
    let err = FrameReader::new(1 << 20)
        .feed(&frame(0xC1, b"a"), &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.code, close_code::PROTOCOL);
}

#[test]
fn a_zip_bomb_is_refused_with_1009_and_garbage_with_1007() {
    let pool = pool();
    let bomb = compressed(&pool, &vec![b'a'; 2 << 20]);
    let err = reader(1_000_000)
        .feed(&frame(0xC1, &bomb), &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.code, close_code::TOO_BIG);
    let err = reader(1_000_000)
        .feed(&frame(0xC2, &[0xff, 0xee, 0xdd]), &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.code, close_code::INVALID_DATA);
    // Text that inflates to something that is not UTF-8.
    let not_utf8 = compressed(&pool, &vec![0xffu8; 5000]);
    let err = reader(1_000_000)
        .feed(&frame(0xC1, &not_utf8), &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.code, close_code::INVALID_DATA);
}

#[test]
fn context_takeover_keeps_the_window_between_messages() {
    use flate2::{Compress, Compression, FlushCompress};
    // A client keeping its context: the second message refers to the first.
    let mut c = Compress::new_with_window_bits(Compression::default(), false, 15);
    let text = dashboard(6000);
    let mut first = Vec::with_capacity(10_000);
    c.compress_vec(text.as_bytes(), &mut first, FlushCompress::Sync)
        .unwrap();
    let mut second = Vec::with_capacity(10_000);
    c.compress_vec(text.as_bytes(), &mut second, FlushCompress::Sync)
        .unwrap();
    assert!(second.len() < first.len() / 4);
    let strip = |v: &[u8]| v[..v.len() - 4].to_vec();
    let mut inflater = Inflater::new(pool(), 15, true);
    assert_eq!(
        inflater.inflate(&strip(&first), 1 << 20).unwrap(),
        text.as_bytes()
    );
    assert_eq!(
        inflater.inflate(&strip(&second), 1 << 20).unwrap(),
        text.as_bytes()
    );
}

#[test]
fn server_headers_carry_rsv1_for_compressed_messages() {
    let (h, n) = data_frame_header(OpCode::Text, 300, true);
    assert_eq!(&h[..n], &[0xC1, 126, 1, 44]);
    assert_eq!(frame_header(OpCode::Binary, 5).0[0], 0x82);
}

#[test]
fn both_roles_compress_with_their_window_and_read_each_other() {
    let c = config();
    let params = negotiate([client_offer(&c).as_str()], &c).unwrap();
    let pool = pool();
    let (client_out, client_in) = params.codecs(&pool, Role::Client);
    let (server_out, server_in) = params.codecs(&pool, Role::Server);
    assert_eq!(client_out.window_bits(), 12);
    assert_eq!(server_out.window_bits(), 10);
    let big = dashboard(16 * 1024);
    // Under the threshold a message goes as it is.
    assert_eq!(client_out.message(b"4small"), None);
    let packed = client_out.message(big.as_bytes()).unwrap();
    assert!(packed.len() < big.len() / 2);
    // The client masks the frame and sets RSV1; a server reader inflates it.
    let mut wire = Vec::new();
    write_masked_message(&mut wire, OpCode::Text, &packed, [1, 2, 3, 4], true);
    assert_eq!(wire[0], 0x80 | 0x40 | 0x1);
    let mut server = FrameReader::new(1 << 20);
    server.set_inflater(server_in);
    let mut events = Vec::new();
    server.feed(&wire, &mut events).unwrap();
    assert_eq!(events, vec![WsEvent::Text(big.clone())]);
    // And the other way: an unmasked server frame read by a client reader.
    let packed = server_out.message(big.as_bytes()).unwrap();
    let (header, used) = data_frame_header(OpCode::Text, packed.len(), true);
    let mut wire = header[..used].to_vec();
    wire.extend_from_slice(&packed);
    let mut client = FrameReader::for_client(1 << 20);
    client.set_inflater(client_in);
    events.clear();
    client.feed(&wire, &mut events).unwrap();
    assert_eq!(events, vec![WsEvent::Text(big)]);
}
