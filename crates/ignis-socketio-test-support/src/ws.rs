//! Raw WebSocket clients (tokio-tungstenite) speaking the Engine.IO and
//! Socket.IO framing by hand: for frames no Socket.IO client would send.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A raw WebSocket client.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The next text message (heartbeat pings answered and skipped); `None` at close.
pub async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("no message within 10 s")?;
        match message {
            Ok(Message::Text(t)) if t.as_str() == "2" => ws.send(Message::text("3")).await.ok()?,
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// A client of the WebSocket endpoint `url` (`ws://…?EIO=4&transport=websocket`)
/// sending `authorization: Bearer <token>`, past the Engine.IO handshake and
/// the CONNECT of `/`.
pub async fn connect_bearer(url: &str, token: &str) -> Ws {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert!(next_text(&mut ws).await.unwrap().starts_with("0{"));
    ws.send(Message::text("40")).await.unwrap();
    assert!(next_text(&mut ws).await.unwrap().starts_with("40{"));
    ws
}
