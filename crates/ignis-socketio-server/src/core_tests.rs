//! The core against a socket the engine has not accepted yet.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ignis_socketio_engine::io::AckError;
use serde_json::{Value, json};

use super::*;
use crate::socket_handle::SocketHandle;
use crate::{Handshake, Payload, ServerError};

/// A socket between the connect handler and the engine accepting it:
/// like the engine's `Socket::emit`, every emit fails until
/// [`finish_connecting`](Self::finish_connecting).
#[derive(Default)]
struct ConnectingSocket {
    connected: AtomicBool,
    sent: Mutex<Vec<String>>,
}

impl ConnectingSocket {
    fn finish_connecting(&self) {
        self.connected.store(true, Ordering::SeqCst);
    }

    fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl SocketHandle for ConnectingSocket {
    fn emit(&self, event: &str, _data: &Payload) -> Result<(), ServerError> {
        if !self.connected.load(Ordering::SeqCst) {
            return Err(ServerError::Socket {
                id: "s".to_owned(),
                reason: "socket closed".to_owned(),
            });
        }
        self.sent.lock().unwrap().push(event.to_owned());
        Ok(())
    }
    async fn emit_with_ack(
        &self,
        _event: &str,
        _data: &Payload,
        _timeout: Duration,
    ) -> Result<Value, ServerError> {
        Err(ServerError::Ack(AckError::Disconnected))
    }
    fn join(&self, _rooms: Vec<String>) {}
    fn leave(&self, _rooms: Vec<String>) {}
    fn rooms(&self) -> Vec<String> {
        Vec::new()
    }
    fn disconnect(&self) {
        self.sent.lock().unwrap().push("<disconnect>".to_owned());
    }
    fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
    fn transport(&self) -> &'static str {
        "websocket"
    }
}

/// Runs `authenticate` (with `token` as payload) on a socket that is only
/// marked connected 50 ms later; returns what was emitted to it.
async fn authenticate_before_marked_connected(token: &str) -> Vec<String> {
    let helper = SocketIOServerHelper::builder()
        .authenticate(
            async |hs: Handshake| match hs.credentials().and_then(|c| c.get("token")) {
                Some(token) if token == "good" => Ok(Identity::new("user-good")),
                _ => Err(AuthError::rejected("wrong token")),
            },
        )
        .build()
        .unwrap();
    let core = helper.engine.core().clone();
    let socket = Arc::new(ConnectingSocket::default());
    let (parts, ()) = http::Request::builder()
        .uri("/io/?EIO=4&transport=websocket")
        .body(())
        .unwrap()
        .into_parts();
    let record = Arc::new(ClientRecord::new(
        "s".to_owned(),
        socket.clone(),
        Handshake::from_request_parts(&parts, None),
        "test",
    ));
    core.register(record.clone());
    let authenticating = tokio::spawn({
        let (core, record) = (core.clone(), record.clone());
        let credentials = json!({ "token": token });
        async move {
            core.handle_authenticate(helper, record, Some(credentials), None)
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    socket.finish_connecting();
    record.signal_connected();
    tokio::time::timeout(Duration::from_secs(5), authenticating)
        .await
        .expect("authenticate is handled")
        .unwrap();
    socket.sent()
}

#[tokio::test]
async fn authenticate_before_the_socket_is_marked_connected_still_gets_ping_and_authenticated() {
    let sent = authenticate_before_marked_connected("good").await;
    assert_eq!(sent, ["ping", "authenticated"]);
}

#[tokio::test]
async fn authenticate_refused_before_the_socket_is_marked_connected_still_gets_unauthenticated() {
    let sent = authenticate_before_marked_connected("bad").await;
    assert_eq!(sent, ["unauthenticated", "<disconnect>"]);
}
