//! `SocketDetails::from_request` builds the same Node handshake as the server
//! helper's `Handshake::to_node_json` (one builder, in the engine), which the
//! server crate's `node_handshake` test compares with a Node server's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use ignis_socketio_redis::SocketDetails;
use ignis_socketio_server::Handshake;
use serde_json::{Value, json};

#[test]
fn socket_details_carry_the_server_helpers_node_handshake() {
    let (mut parts, ()) = http::Request::builder()
        .uri("/io/?EIO=4&transport=websocket&name=a%20b&tag=1&tag=2")
        .header("host", "example.test")
        .header("origin", "http://example.test")
        .header("x-custom", "one")
        .header("x-custom", "two")
        .body(())
        .unwrap()
        .into_parts();
    let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
    parts.extensions.insert(ConnectInfo(peer));
    let auth = json!({"token": "t"});
    let mut details = SocketDetails::from_request(&parts, auth.clone(), Value::Null).handshake;
    let mut helper = Handshake::from_request_parts(&parts, Some(auth)).to_node_json();
    for volatile in ["time", "issued"] {
        details[volatile].take();
        helper[volatile].take();
    }
    assert_eq!(details, helper);
    // What the Redis builder used to get wrong.
    assert_eq!(details["xdomain"], true, "an Origin header, as Node");
    assert_eq!(details["query"]["name"], "a b");
    assert_eq!(details["headers"]["x-custom"], "one, two");
    assert_eq!(details["address"], "127.0.0.1");
}
