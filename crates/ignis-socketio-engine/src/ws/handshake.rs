//! The WebSocket opening handshake (RFC 6455 §4.2): checking the client's
//! upgrade request and computing `Sec-WebSocket-Accept`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, Method, header};
use sha1::{Digest, Sha1};

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Why an upgrade request is not a valid WebSocket opening handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Not a GET request.
    #[error("a WebSocket upgrade must be a GET request")]
    Method,
    /// `Upgrade: websocket` or `Connection: upgrade` is missing.
    #[error("missing `Upgrade: websocket` or `Connection: upgrade`")]
    NotUpgrade,
    /// `Sec-WebSocket-Version` is not 13.
    #[error("unsupported Sec-WebSocket-Version (13 is required)")]
    Version,
    /// `Sec-WebSocket-Key` is missing or not 16 bytes in base64.
    #[error("missing or malformed Sec-WebSocket-Key")]
    Key,
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .map(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// Whether the request asks for a WebSocket upgrade at all.
pub fn is_upgrade_request(headers: &HeaderMap) -> bool {
    has_token(headers, header::UPGRADE, "websocket")
}

/// Checks the opening handshake and returns the `Sec-WebSocket-Accept` value.
pub fn accept_key(method: &Method, headers: &HeaderMap) -> Result<String, HandshakeError> {
    if method != Method::GET {
        return Err(HandshakeError::Method);
    }
    if !is_upgrade_request(headers) || !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(HandshakeError::NotUpgrade);
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        return Err(HandshakeError::Version);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(HandshakeError::Key)?
        .as_bytes();
    match BASE64.decode(key) {
        Ok(raw) if raw.len() == 16 => {}
        _ => return Err(HandshakeError::Key),
    }
    Ok(accept_for(key))
}

/// The `Sec-WebSocket-Accept` value answering the `Sec-WebSocket-Key` `key`.
pub(crate) fn accept_for(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    BASE64.encode(sha.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn computes_the_rfc_example_accept_key() {
        let h = headers(&[
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert_eq!(
            accept_key(&Method::GET, &h).unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn refuses_incomplete_handshakes() {
        let good = [
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        assert_eq!(
            accept_key(&Method::POST, &headers(&good)),
            Err(HandshakeError::Method)
        );
        assert_eq!(
            accept_key(&Method::GET, &headers(&good[1..])),
            Err(HandshakeError::NotUpgrade)
        );
        let mut v8 = good;
        v8[2] = ("sec-websocket-version", "8");
        assert_eq!(
            accept_key(&Method::GET, &headers(&v8)),
            Err(HandshakeError::Version)
        );
        let mut short_key = good;
        short_key[3] = ("sec-websocket-key", "c2hvcnQ=");
        assert_eq!(
            accept_key(&Method::GET, &headers(&short_key)),
            Err(HandshakeError::Key)
        );
        assert_eq!(
            accept_key(&Method::GET, &headers(&good[..3])),
            Err(HandshakeError::Key)
        );
    }
}
