//! The client side of the WebSocket opening handshake (RFC 6455 §4.1): the
//! upgrade request with a fresh `Sec-WebSocket-Key` (and, when asked, an
//! RFC 7692 permessage-deflate offer), and the check of the server's answer
//! (`101`, `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, and
//! `Sec-WebSocket-Extensions` against what was offered).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;

use super::deflate::DeflateConfig;
use super::extension::{DeflateParams, NegotiationError, accept_response, client_offer};
use super::handshake::accept_for;

/// Largest response head a client reads before giving up.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// Headers a response head may carry at most.
const MAX_HEADERS: usize = 64;

/// Why the server's answer to an upgrade request is not a WebSocket handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    /// The response head is not HTTP/1.1.
    #[error("malformed HTTP response to the upgrade request")]
    Malformed(#[from] httparse::Error),
    /// The response head is over [`MAX_RESPONSE_HEAD`] bytes.
    #[error("HTTP response head over {MAX_RESPONSE_HEAD} bytes")]
    TooLarge,
    /// The server answered with another status than `101 Switching Protocols`.
    #[error("the server answered the upgrade with status {0}")]
    Status(u16),
    /// `Upgrade: websocket` or `Connection: upgrade` is missing from the answer.
    #[error("the answer lacks `Upgrade: websocket` or `Connection: upgrade`")]
    NotUpgrade,
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    #[error("Sec-WebSocket-Accept missing or not matching the key")]
    Accept,
    /// `Sec-WebSocket-Extensions` names an extension or parameters that were
    /// not offered (RFC 6455 §9.1: the client fails the connection).
    #[error("Sec-WebSocket-Extensions answer refused")]
    Extension(#[from] NegotiationError),
}

/// The server's answer, once accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgraded {
    /// Bytes of the response head; what follows are frames.
    pub head_len: usize,
    /// The permessage-deflate parameters agreed, `None` when the server
    /// declined the offer (or none was made).
    pub deflate: Option<DeflateParams>,
}

/// One client opening handshake: the key it sent, to check the answer with,
/// and the permessage-deflate settings it offered, if any.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    key: String,
    deflate: Option<DeflateConfig>,
}

impl Default for ClientHandshake {
    fn default() -> Self {
        ClientHandshake::new()
    }
}

fn has_token(value: &[u8], token: &str) -> bool {
    std::str::from_utf8(value)
        .map(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        .unwrap_or(false)
}

impl ClientHandshake {
    /// A handshake with a random 16-byte key (§4.1: a nonce per connection).
    pub fn new() -> ClientHandshake {
        ClientHandshake::with_key(rand::random::<[u8; 16]>())
    }

    /// A handshake with a chosen key (tests and reproducible traces).
    pub fn with_key(key: [u8; 16]) -> ClientHandshake {
        ClientHandshake {
            key: BASE64.encode(key),
            deflate: None,
        }
    }

    /// Offers permessage-deflate with `config` ([`client_offer`]); the
    /// answer is then checked against this offer.
    pub fn offer_deflate(mut self, config: DeflateConfig) -> ClientHandshake {
        self.deflate = Some(config);
        self
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The request head for `path_and_query` on `host` (`host[:port]`), with
    /// `headers` added after the handshake's own.
    pub fn request(&self, host: &str, path_and_query: &str, headers: &HeaderMap) -> Vec<u8> {
        let mut head = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n",
            self.key
        )
        .into_bytes();
        if let Some(config) = &self.deflate {
            head.extend_from_slice(b"Sec-WebSocket-Extensions: ");
            head.extend_from_slice(client_offer(config).as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        for (name, value) in headers {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    /// Reads the server's answer from the front of `buf`: `Ok(None)` while the
    /// head is incomplete, `Ok(Some(_))` once it is complete and accepts this
    /// handshake, with the length of the head and the extension agreed.
    pub fn read_response(&self, buf: &[u8]) -> Result<Option<Upgraded>, UpgradeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let used = match response.parse(buf)? {
            httparse::Status::Complete(used) => used,
            httparse::Status::Partial if buf.len() > MAX_RESPONSE_HEAD => {
                return Err(UpgradeError::TooLarge);
            }
            httparse::Status::Partial => return Ok(None),
        };
        let status = response.code.unwrap_or(0);
        if status != 101 {
            return Err(UpgradeError::Status(status));
        }
        let all = &*response.headers;
        let find = |name: &'static str| {
            all.iter()
                .filter(move |h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
        };
        if !find("upgrade").any(|v| has_token(v, "websocket"))
            || !find("connection").any(|v| has_token(v, "upgrade"))
        {
            return Err(UpgradeError::NotUpgrade);
        }
        let expected = accept_for(self.key.as_bytes());
        let mut accepts = find("sec-websocket-accept");
        match (accepts.next(), accepts.next()) {
            (Some(value), None) if value == expected.as_bytes() => {}
            _ => return Err(UpgradeError::Accept),
        }
        let answers = find("sec-websocket-extensions")
            .map(|v| std::str::from_utf8(v).map_err(|_| NegotiationError::BadParameter))
            .collect::<Result<Vec<&str>, _>>()?;
        let deflate = match &self.deflate {
            Some(config) => accept_response(answers, config)?,
            None if answers
                .iter()
                .flat_map(|v| v.split(','))
                .all(|e| e.trim().is_empty()) =>
            {
                None
            }
            None => return Err(NegotiationError::NotOffered.into()),
        };
        Ok(Some(Upgraded {
            head_len: used,
            deflate,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::{FrameReader, OpCode, Role, WsEvent, write_masked_frame};
    use http::HeaderValue;

    /// The RFC 6455 §1.3 example: key "the sample nonce".
    fn sample() -> ClientHandshake {
        ClientHandshake::with_key(*b"the sample nonce")
    }

    #[test]
    fn request_carries_the_key_and_extra_headers() {
        let hs = sample();
        assert_eq!(hs.key(), "dGhlIHNhbXBsZSBub25jZQ==");
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        let head = String::from_utf8(hs.request("h:1", "/io/?EIO=4", &headers)).unwrap();
        assert!(head.starts_with("GET /io/?EIO=4 HTTP/1.1\r\nHost: h:1\r\n"));
        assert!(head.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        assert!(head.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(head.ends_with("authorization: Bearer t\r\n\r\n"));
    }

    #[test]
    fn accepts_the_rfc_answer_and_counts_its_head() {
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x00";
        let hs = sample();
        assert_eq!(hs.read_response(&answer[..20]), Ok(None));
        assert_eq!(
            hs.read_response(answer),
            Ok(Some(Upgraded {
                head_len: answer.len() - 2,
                deflate: None
            }))
        );
    }

    #[test]
    fn refuses_wrong_answers() {
        let hs = sample();
        let cases: [(&[u8], UpgradeError); 4] = [
            (
                b"HTTP/1.1 400 Bad Request\r\n\r\n",
                UpgradeError::Status(400),
            ),
            (
                b"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                UpgradeError::NotUpgrade,
            ),
            (
                b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
                UpgradeError::Accept,
            ),
            (
                b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                UpgradeError::Accept,
            ),
        ];
        for (answer, error) in cases {
            assert_eq!(hs.read_response(answer), Err(error));
        }
        assert!(matches!(
            hs.read_response(b"NOT HTTP\r\n\r\n"),
            Err(UpgradeError::Malformed(_))
        ));
        let endless = vec![b'a'; MAX_RESPONSE_HEAD + 1];
        let mut head = b"HTTP/1.1 101 OK\r\nX: ".to_vec();
        head.extend_from_slice(&endless);
        assert_eq!(hs.read_response(&head), Err(UpgradeError::TooLarge));
    }

    fn answer_with(extensions: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extensions}\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn a_deflate_offer_is_sent_and_the_answer_checked_against_it() {
        let client = DeflateConfig {
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            ..DeflateConfig::default()
        };
        let hs = sample().offer_deflate(client);
        let head = String::from_utf8(hs.request("h", "/", &HeaderMap::new())).unwrap();
        assert!(head.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        ));
        let agreed = |extensions: &str| {
            let answer = answer_with(extensions);
            hs.read_response(&answer).map(|u| u.and_then(|u| u.deflate))
        };
        // Declined: no extension, plain frames.
        assert_eq!(agreed(""), Ok(None));
        let params = agreed(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
             client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(params.send_window_bits(Role::Client), 12);
        assert_eq!(params.receive_window_bits(Role::Client), 10);
        assert!(!params.receive_keeps_context(Role::Client));
        let plain = agreed("Sec-WebSocket-Extensions: permessage-deflate\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(plain.receive_window_bits(Role::Client), 15);
        assert!(plain.receive_keeps_context(Role::Client));
        let refused = [
            ("x-webkit-deflate-frame", NegotiationError::NotOffered),
            (
                "permessage-deflate, permessage-deflate",
                NegotiationError::NotOffered,
            ),
            (
                "permessage-deflate; mystery",
                NegotiationError::BadParameter,
            ),
            (
                "permessage-deflate; client_max_window_bits=8",
                NegotiationError::BadParameter,
            ),
            (
                "permessage-deflate; server_max_window_bits=99",
                NegotiationError::BadParameter,
            ),
        ];
        for (answer, error) in refused {
            let header = format!("Sec-WebSocket-Extensions: {answer}\r\n");
            assert_eq!(
                agreed(&header),
                Err(UpgradeError::Extension(error)),
                "{answer}"
            );
        }
    }

    #[test]
    fn without_an_offer_any_extension_in_the_answer_is_refused() {
        let hs = sample();
        let head = String::from_utf8(hs.request("h", "/", &HeaderMap::new())).unwrap();
        assert!(!head.contains("Sec-WebSocket-Extensions"));
        let answer = answer_with("Sec-WebSocket-Extensions: permessage-deflate\r\n");
        assert_eq!(
            hs.read_response(&answer),
            Err(UpgradeError::Extension(NegotiationError::NotOffered))
        );
        let empty = answer_with("Sec-WebSocket-Extensions: \r\n");
        assert!(matches!(hs.read_response(&empty), Ok(Some(u)) if u.deflate.is_none()));
    }

    #[test]
    fn client_frames_are_masked_and_a_server_reader_reads_them() {
        let mut wire = Vec::new();
        write_masked_frame(&mut wire, OpCode::Text, b"4hello", [1, 2, 3, 4]);
        assert_eq!(&wire[..6], &[0x81, 0x86, 1, 2, 3, 4]);
        assert_ne!(&wire[6..], b"4hello");
        let mut big = Vec::new();
        write_masked_frame(&mut big, OpCode::Binary, &[7; 300], [9, 8, 7, 6]);
        assert_eq!(&big[..4], &[0x82, 0x80 | 126, 1, 44]);
        wire.extend(big);
        let mut server = FrameReader::new(1 << 20);
        let mut out = Vec::new();
        server.feed(&wire, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                WsEvent::Text("4hello".into()),
                WsEvent::Binary(vec![7; 300].into())
            ]
        );
    }

    #[test]
    fn a_client_reader_takes_unmasked_frames_and_refuses_masked_ones() {
        let mut client = FrameReader::for_client(1 << 20);
        let mut out = Vec::new();
        client.feed(b"\x81\x0240\x89\x00", &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                WsEvent::Text("40".into()),
                WsEvent::Ping(Default::default())
            ]
        );
        let mut masked = Vec::new();
        write_masked_frame(&mut masked, OpCode::Text, b"x", [1, 1, 1, 1]);
        let error = client.feed(&masked, &mut out).unwrap_err();
        assert_eq!(error.code, crate::ws::close_code::PROTOCOL);
        let mut server = FrameReader::new(1 << 20);
        assert!(server.feed(b"\x81\x0240", &mut out).is_err());
    }
}
