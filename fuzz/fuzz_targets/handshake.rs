//! The handshake: what a peer controls in its first request (the URI with
//! its query, the headers, the CONNECT auth object) read by the engine and
//! the server's `Handshake` the way `authenticate` handlers read it. Nothing
//! may panic; the query and auth seen are the ones sent.
//!
//! Input: lines. The first is the request target (path and query), each
//! further line a `name: value` header, after an empty line the auth JSON.

#![no_main]

use ignis_socketio_engine::io::HandshakeSource;
use ignis_socketio_server::Handshake;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn request_parts(head: &[u8]) -> Option<http::request::Parts> {
    let mut lines = head.split(|&b| b == b'\n');
    let target = lines.next()?;
    let mut builder = http::Request::builder().uri(target);
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    Some(parts)
}

fuzz_target!(|data: &[u8]| {
    let (head, auth) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &b""[..]),
    };
    let Some(parts) = request_parts(head) else {
        return;
    };
    let auth: Value = serde_json::from_slice(auth).unwrap_or(Value::Null);

    let source = HandshakeSource::from_parts(&parts, &auth);
    let _ = source.to_node_json();
    let _ = HandshakeSource::is_secure(&parts);
    let _ = ignis_socketio_engine::io::peer_address(&parts);

    let handshake = Handshake::from_request_parts(&parts, Some(auth.clone()));
    let _ = handshake.to_node_json();
    let _ = handshake.bearer_token();
    let _ = handshake.credentials();
    let _ = handshake.url();
    let _ = handshake.header("authorization");
    let _ = handshake.auth_field("token");
    for (name, value) in handshake.query() {
        assert_eq!(handshake.query_param(name), Some(value.as_str()));
    }
    if auth.is_object() {
        assert_eq!(handshake.auth(), &auth);
    }
});
