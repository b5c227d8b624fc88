//! `authenticate` racing the server's own CONNECT bookkeeping: socketioxide
//! queues the CONNECT reply before it marks the socket connected, and refuses
//! emits until then. A client answering the CONNECT reply at once must still
//! get every handshake message (`ping`, `authenticated`, `unauthenticated`).
//!
//! End to end over real WebSockets: the window is a few instructions wide, so
//! these runs only catch a regression under load. The deterministic check of
//! the same rule (a socket held in that window) is in `src/core.rs`'s tests.
//! (Sending `authenticate` in the same burst as CONNECT, before its reply, is
//! not valid: socketioxide, like Node, closes such a connection.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Driver, TestServer};
use ignis_socketio_server::{AuthError, Handshake, SocketIOServerHelper};
use serde_json::{Value, json};

const CLIENTS: usize = 300;

/// Opens [`CLIENTS`] bare WebSockets that send `authenticate` (with `token`)
/// the moment the CONNECT reply arrives, and returns the driver's report.
async fn burst(server: &TestServer, tag: &str, token: &str, expect: Value) -> Value {
    let mut d = Driver::spawn().await;
    let authenticate = format!(r#"42["authenticate",{{"token":"{token}"}}]"#);
    d.send(json!({
        "cmd": "raw_burst", "prefix": tag, "tag": tag, "count": CLIENTS, "url": server.url,
        "path": "/io", "frames": [authenticate], "afterConnect": true, "expect": expect,
        "timeoutMs": 30000
    }))
    .await;
    d.wait_for_long("raw burst report", |v| v["type"] == "raw_burst")
        .await
}

/// A builder whose authenticator reads the token from the `authenticate` payload.
fn payload_token_builder() -> ignis_socketio_server::ServerBuilder {
    SocketIOServerHelper::builder().authenticate(|hs: Handshake| async move {
        let token = hs
            .credentials()
            .and_then(|c| c.get("token"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match token.as_deref() {
            Some("good") => Ok(ignis_socketio_server::Identity::new("user-good")),
            _ => Err(AuthError::rejected("wrong token")),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticate_answering_the_connect_reply_always_gets_ping_and_authenticated() {
    let server = TestServer::start(payload_token_builder()).await;
    let report = burst(
        &server,
        "accepted",
        "good",
        json!(["ping", "authenticated"]),
    )
    .await;
    assert_eq!(report["opened"], CLIENTS, "{report}");
    assert_eq!(report["complete"], CLIENTS, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticate_refused_at_once_after_the_connect_reply_always_gets_unauthenticated() {
    let server = TestServer::start(payload_token_builder()).await;
    let report = burst(&server, "refused", "bad", json!(["unauthenticated"])).await;
    assert_eq!(report["opened"], CLIENTS, "{report}");
    assert_eq!(report["complete"], CLIENTS, "{report}");
    server
        .wait_registry("every refused client gone", |io| io.client_count() == 0)
        .await;
}
