//! Minimal Engine.IO v4 / Socket.IO v5 text framing, enough for a load tool.
//!
//! Only the default namespace and text frames are used: `0{..}` open,
//! `2`/`3` heartbeats, `40` connect, `44` connect error, `42[..]` events.

use serde::Serialize;

/// What a text frame from the server means to the generator.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Engine.IO open packet (`0{...}`).
    Open,
    /// Engine.IO ping (`2`): must be answered with `3`.
    Ping,
    /// Engine.IO close (`1`).
    Close,
    /// Socket.IO CONNECT acknowledgement (`40{...}`) with its payload.
    Connected(&'a str),
    /// Socket.IO CONNECT_ERROR (`44{...}`) with its payload.
    ConnectError(&'a str),
    /// Socket.IO EVENT (`42[...]`): the JSON array text.
    Event(&'a str),
    /// Socket.IO DISCONNECT (`41`).
    Disconnect,
    /// Anything else (acks, binary, noop).
    Other,
}

/// Classify one text frame.
pub fn classify(text: &str) -> Frame<'_> {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'0') => Frame::Open,
        Some(b'1') => Frame::Close,
        Some(b'2') => Frame::Ping,
        Some(b'4') => match bytes.get(1) {
            Some(b'0') => Frame::Connected(&text[2..]),
            Some(b'1') => Frame::Disconnect,
            Some(b'2') => Frame::Event(&text[2..]),
            Some(b'4') => Frame::ConnectError(&text[2..]),
            _ => Frame::Other,
        },
        _ => Frame::Other,
    }
}

/// The event name of a `42[...]` payload, read without parsing the rest.
/// Event names used here never contain escaped quotes.
pub fn event_name(array: &str) -> Option<&str> {
    let rest = array.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Where `needle` first occurs in `haystack`. Slices are compared only where
/// the first byte matches: comparing at every position is a `memcmp` call
/// each, which showed in the generator's fan-out profile.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    (0..(haystack.len() + 1).saturating_sub(needle.len()))
        .find(|&i| haystack[i] == first && haystack[i..].starts_with(needle))
}

/// `40{"token":"..."}`: connect to `/` with `auth: {token}`.
pub fn connect_packet(token: &str) -> String {
    format!("40{}", serde_json::json!({ "token": token }))
}

/// `42["name",data]`.
pub fn event_packet<T: Serialize + ?Sized>(name: &str, data: &T) -> String {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    format!("42[{},{}]", serde_json::Value::from(name), data)
}

/// `42["name"]`: an event without arguments.
pub fn bare_event_packet(name: &str) -> String {
    format!("42[{}]", serde_json::Value::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_reads_engine_and_socket_packets() {
        assert_eq!(classify("0{\"sid\":\"x\"}"), Frame::Open);
        assert_eq!(classify("2"), Frame::Ping);
        assert_eq!(
            classify("40{\"sid\":\"a\"}"),
            Frame::Connected("{\"sid\":\"a\"}")
        );
        assert_eq!(
            classify("44{\"message\":\"no\"}"),
            Frame::ConnectError("{\"message\":\"no\"}")
        );
        assert_eq!(classify("42[\"ev\",1]"), Frame::Event("[\"ev\",1]"));
        assert_eq!(classify("41"), Frame::Disconnect);
        assert_eq!(classify("6"), Frame::Other);
    }

    #[test]
    fn event_name_is_the_first_array_string() {
        assert_eq!(event_name("[\"echo:response\",{}]"), Some("echo:response"));
        assert_eq!(event_name("[\"authenticate\"]"), Some("authenticate"));
        assert_eq!(event_name("[1]"), None);
    }

    #[test]
    fn find_locates_the_first_occurrence() {
        assert_eq!(find(b"HTTP/1.1 101\r\n\r\nrest", b"\r\n\r\n"), Some(12));
        assert_eq!(find(b"ab", b"ab"), Some(0));
        assert_eq!(find(b"a", b"ab"), None);
        assert_eq!(find(b"abc", b""), None);
    }

    #[test]
    fn packets_are_framed_as_socket_io_v5() {
        assert_eq!(connect_packet("t"), "40{\"token\":\"t\"}");
        assert_eq!(bare_event_packet("authenticate"), "42[\"authenticate\"]");
        assert_eq!(
            event_packet("echo", &serde_json::json!({"t":1})),
            "42[\"echo\",{\"t\":1}]"
        );
    }
}
