//! A server on 127.0.0.1:0 and a raw WebSocket client speaking the protocol.

#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ignis_socketio_engine::io::{IoConfig, SocketIo};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use ignis_socketio_test_support::ws::{Ws, next_text};

/// Serves `io` (the engine's `serve`, HTTP/1.1 with upgrades) on a free port.
pub async fn serve(io: &SocketIo) -> SocketAddr {
    let listener = ignis_socketio_engine::bind_listener(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().layer(io.layer());
    tokio::spawn(ignis_socketio_engine::serve(
        listener,
        app,
        std::future::pending(),
    ));
    addr
}

pub fn config() -> IoConfig {
    IoConfig::default()
}

/// A WebSocket session on `/socket.io/`, past the Engine.IO handshake.
pub async fn open(addr: SocketAddr) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let open = next_text(&mut ws).await.unwrap();
    assert!(open.starts_with("0{"), "{open}");
    ws
}

/// Opens a session and joins namespace `/`; returns the socket id.
pub async fn connect(addr: SocketAddr) -> (Ws, String) {
    let mut ws = open(addr).await;
    ws.send(Message::text("40")).await.unwrap();
    let answer = next_text(&mut ws).await.unwrap();
    let sid: serde_json::Value = serde_json::from_str(answer.strip_prefix("40").unwrap()).unwrap();
    (ws, sid["sid"].as_str().unwrap().to_owned())
}

pub use ignis_socketio_test_support::wait::eventually;
