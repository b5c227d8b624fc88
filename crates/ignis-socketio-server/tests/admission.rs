//! Admission before a session exists: the `Origin` check of a bare helper
//! (polling and WebSocket alike), and the caps on connections that have not
//! authenticated yet, in total and per client address (the peer's, or the
//! one a trusted proxy header names). Driven with raw HTTP/1.1 and WebSocket
//! handshakes over real sockets, the way a hostile client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{TestServer, builder};
use http::HeaderName;
use ignis_socketio_test_support::http::{http, read_response, status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HANDSHAKE: &str = "/io/?EIO=4&transport=polling";

/// A WebSocket handshake (Engine.IO, no session yet) with `origin`; returns
/// the status line's code and keeps nothing open.
async fn websocket_status(addr: SocketAddr, origin: Option<&str>) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let request = format!(
        "GET /io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{origin}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert_eq!(read, 1, "connection closed mid-head: {head:?}");
        head.push(byte[0]);
    }
    status(&String::from_utf8_lossy(&head))
}

/// An Engine.IO polling session opened with `headers`: the response status
/// and the session id when one was opened.
async fn open_polling(addr: SocketAddr, headers: &[(&str, &str)]) -> (u16, Option<String>) {
    let response = http(addr, "GET", HANDSHAKE, headers).await;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let sid = body
        .strip_prefix('0')
        .and_then(|open| serde_json::from_str::<serde_json::Value>(open).ok())
        .and_then(|open| open["sid"].as_str().map(str::to_owned));
    (status(&response), sid)
}

/// POSTs one Engine.IO payload to session `sid`; returns the status.
async fn post(addr: SocketAddr, sid: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {HANDSHAKE}&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    status(&read_response(&mut stream).await)
}

/// Connects session `sid` to Socket.IO with the good token and authenticates.
async fn authenticate(addr: SocketAddr, sid: &str) {
    assert_eq!(post(addr, sid, r#"40{"token":"good"}"#).await, 200);
    // The CONNECT answer, then the authentication.
    let connected = http(addr, "GET", &format!("{HANDSHAKE}&sid={sid}"), &[]).await;
    assert!(connected.contains("40{"), "{connected}");
    assert_eq!(post(addr, sid, r#"42["authenticate"]"#).await, 200);
}

async fn wait_unauthenticated(server: &TestServer, expected: usize) {
    server
        .wait_registry(&format!("{expected} unauthenticated"), |io| {
            io.unauthenticated_connections() == expected
        })
        .await;
}

#[tokio::test]
async fn a_bare_helper_with_an_allow_list_refuses_a_foreign_origin_upgrade() {
    let server = TestServer::start(builder().allowed_origins(["https://app.example"])).await;
    let addr = server.addr;
    assert_eq!(
        websocket_status(addr, Some("https://evil.example")).await,
        403,
        "a page of another site must not open a WebSocket with its visitors' cookies"
    );
    assert_eq!(
        websocket_status(addr, Some("https://app.example")).await,
        101
    );
    assert_eq!(
        websocket_status(addr, None).await,
        101,
        "non-browser clients send no Origin"
    );
    // Polling is checked alike, and the refusal is counted.
    let evil = http(
        addr,
        "GET",
        HANDSHAKE,
        &[("Origin", "https://evil.example")],
    )
    .await;
    assert_eq!(status(&evil), 403, "{evil}");
    assert!(
        evil.contains(r#""code":4"#),
        "Engine.IO's error shape: {evil}"
    );
    assert_eq!(server.io.counters().origins_refused, 2);
    // The server's own origin is allowed too.
    let own = format!("http://{addr}");
    let same = http(
        addr,
        "GET",
        HANDSHAKE,
        &[("Origin", &own), ("Host", &addr.to_string())],
    )
    .await;
    assert_eq!(status(&same), 200, "{same}");
}

#[tokio::test]
async fn without_an_allow_list_the_helper_checks_no_origin() {
    // Open by default (documented): nothing is refused.
    let server = TestServer::start(builder()).await;
    assert_eq!(
        websocket_status(server.addr, Some("https://evil.example")).await,
        101
    );
    let dev = TestServer::start(builder().allow_any_origin_in_development()).await;
    assert_eq!(
        websocket_status(dev.addr, Some("https://evil.example")).await,
        101
    );
}

#[tokio::test]
async fn the_connection_over_the_total_cap_is_refused_until_one_authenticates() {
    let server = TestServer::start(
        builder()
            .max_unauthenticated_connections(2, None)
            .metrics(true),
    )
    .await;
    let addr = server.addr;
    let (first, sid1) = open_polling(addr, &[]).await;
    let (second, sid2) = open_polling(addr, &[]).await;
    assert_eq!((first, second), (200, 200));
    wait_unauthenticated(&server, 2).await;

    let (third, none) = open_polling(addr, &[]).await;
    assert_eq!(
        third, 503,
        "the third unauthenticated connection is refused"
    );
    assert_eq!(none, None, "no session is opened for it");
    assert_eq!(websocket_status(addr, None).await, 503, "nor upgraded");
    assert_eq!(server.io.counters().connections_refused, 2);
    assert_eq!(
        server.io.counters().sessions_opened,
        2,
        "a refused handshake costs no session"
    );
    let mut registry = prometheus_client::registry::Registry::default();
    assert!(server.io.register_metrics(&mut registry));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(r#"socketio_requests_refused_total{reason="connection_cap"} 2"#),
        "{text}"
    );

    // An authenticated connection frees its slot.
    authenticate(addr, &sid1.unwrap()).await;
    server
        .wait_registry("one authenticated", |io| {
            io.get_clients()
                .iter()
                .any(|c| c.authenticated_at.is_some())
        })
        .await;
    wait_unauthenticated(&server, 1).await;
    let (fourth, sid4) = open_polling(addr, &[]).await;
    assert_eq!(fourth, 200);
    assert_eq!(open_polling(addr, &[]).await.0, 503);

    // A connection that goes away (never connected to Socket.IO) frees its slot too.
    assert_eq!(post(addr, &sid2.unwrap(), "1").await, 200);
    wait_unauthenticated(&server, 1).await;
    assert_eq!(websocket_status(addr, None).await, 101);
    drop(sid4);
}

#[tokio::test]
async fn the_per_address_cap_counts_the_trusted_proxy_header_s_address() {
    let server = TestServer::start(
        builder()
            .max_unauthenticated_connections(None, 1)
            .trusted_proxy_header(HeaderName::from_static("x-forwarded-for")),
    )
    .await;
    let addr = server.addr;
    let from = |xff: &'static str| [("X-Forwarded-For", xff)];
    assert_eq!(open_polling(addr, &from("1.1.1.1")).await.0, 200);
    // The right-most address is the one the proxy added; the rest is the client's say.
    assert_eq!(
        open_polling(addr, &from("9.9.9.9, 1.1.1.1")).await.0,
        429,
        "a second unauthenticated connection from 1.1.1.1"
    );
    assert_eq!(open_polling(addr, &from("1.1.1.1, 2.2.2.2")).await.0, 200);
    // Without the header: the peer address (127.0.0.1), its own count.
    assert_eq!(open_polling(addr, &[]).await.0, 200);
    assert_eq!(open_polling(addr, &[]).await.0, 429);
    assert_eq!(server.io.counters().connections_refused, 2);
    wait_unauthenticated(&server, 3).await;
}

#[tokio::test]
async fn without_caps_unauthenticated_connections_are_not_limited() {
    let server = TestServer::start(builder()).await;
    for _ in 0..20 {
        assert_eq!(open_polling(server.addr, &[]).await.0, 200);
    }
    assert_eq!(server.io.counters().connections_refused, 0);
}

#[tokio::test]
async fn an_admin_page_whose_login_is_accepted_gives_its_place_back() {
    let server = TestServer::start(
        builder()
            .max_unauthenticated_connections(1, None)
            .admin_ui(ignis_socketio_server::AdminUiOptions::without_auth()),
    )
    .await;
    let addr = server.addr;
    let (opened, sid) = open_polling(addr, &[]).await;
    assert_eq!(opened, 200);
    assert_eq!(open_polling(addr, &[]).await.0, 503);
    assert_eq!(post(addr, &sid.unwrap(), "40/admin,").await, 200);
    wait_unauthenticated(&server, 0).await;
    assert_eq!(open_polling(addr, &[]).await.0, 200);
}
