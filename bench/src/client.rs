//! One load-generator connection: WebSocket only, one task per connection,
//! small buffers.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::BenchResult;
use crate::wire::{self, Frame};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// Server port on 127.0.0.1.
    pub port: u16,
    /// Socket.IO path, `/io` by contract.
    pub path: String,
    /// Token sent as `auth.token` in the CONNECT packet.
    pub token: String,
}

impl Target {
    fn url(&self) -> String {
        format!(
            "ws://127.0.0.1:{}{}/?EIO=4&transport=websocket",
            self.port,
            self.path.trim_end_matches('/')
        )
    }
}

/// Source address for client `index` out of `total`: spread over
/// 127.0.0.2..=127.0.0.9 when many clients would exhaust one address's
/// ephemeral ports.
pub fn source_address(index: usize, total: usize) -> Ipv4Addr {
    if total <= 2_000 {
        Ipv4Addr::LOCALHOST
    } else {
        Ipv4Addr::new(127, 0, 0, 2 + (index % 8) as u8)
    }
}

/// A received `42[...]` frame. The generator reads hundreds of thousands of
/// them per second on the cores the server uses: it is not copied.
pub struct EventFrame(Utf8Bytes);

impl EventFrame {
    /// The event's JSON array text (`["name",...]`).
    pub fn array(&self) -> &str {
        self.0.as_str().get(2..).unwrap_or_default()
    }
}

/// An authenticated Socket.IO connection.
pub struct Conn {
    ws: WebSocketStream<TcpStream>,
    /// The socket id the server announced in `authenticated`.
    pub sid: String,
}

/// Give up on a handshake step after this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

impl Conn {
    /// Connect, send CONNECT with the token, emit `authenticate` and wait
    /// for `authenticated`.
    pub async fn connect(target: &Target, source: Ipv4Addr) -> BenchResult<Conn> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
        let stream = socket
            .connect(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::LOCALHOST,
                target.port,
            )))
            .await?;
        stream.set_nodelay(true)?;
        // tungstenite zeroes the whole read buffer before each read: a small
        // one keeps that cheap (the generator's frames are under 100 bytes).
        let config = WebSocketConfig::default()
            .read_buffer_size(1024)
            .write_buffer_size(0)
            .max_message_size(Some(1 << 20));
        let (ws, _) = client_async_with_config(target.url(), stream, Some(config)).await?;
        let mut conn = Conn {
            ws,
            sid: String::new(),
        };
        tokio::time::timeout(STEP_TIMEOUT, conn.handshake(&target.token))
            .await
            .map_err(|_| "handshake timed out")??;
        Ok(conn)
    }

    async fn handshake(&mut self, token: &str) -> BenchResult<()> {
        // Engine.IO open.
        loop {
            let text = self.next_text().await?;
            match wire::classify(&text) {
                Frame::Open => break,
                Frame::Ping => self.send_text("3".to_owned()).await?,
                _ => {}
            }
        }
        self.send_text(wire::connect_packet(token)).await?;
        loop {
            let text = self.next_text().await?;
            match wire::classify(&text) {
                Frame::Connected(_) => break,
                Frame::ConnectError(why) => return Err(format!("connect refused: {why}").into()),
                Frame::Ping => self.send_text("3".to_owned()).await?,
                _ => {}
            }
        }
        self.send_text(wire::bare_event_packet("authenticate"))
            .await?;
        loop {
            let event = self.next_event().await?;
            let array = event.array();
            match wire::event_name(array) {
                Some("authenticated") => {
                    let (_, data): (String, serde_json::Value) = serde_json::from_str(array)?;
                    self.sid = data
                        .get("id")
                        .and_then(|v| v.as_str())
                        .ok_or("authenticated without id")?
                        .to_owned();
                    return Ok(());
                }
                Some("unauthenticated") => return Err("unauthenticated".into()),
                _ => {}
            }
        }
    }

    /// Send one text frame.
    pub async fn send_text(&mut self, text: String) -> BenchResult<()> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next text frame, without copying it out of the frame buffer.
    async fn next_text(&mut self) -> BenchResult<Utf8Bytes> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(t),
                Some(Ok(Message::Close(_))) | None => return Err("connection closed".into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// The next Socket.IO event; answers heartbeats on the way.
    pub async fn next_event(&mut self) -> BenchResult<EventFrame> {
        loop {
            let text = self.next_text().await?;
            match wire::classify(&text) {
                Frame::Event(_) => return Ok(EventFrame(text)),
                Frame::Ping => self.send_text("3".to_owned()).await?,
                Frame::Close | Frame::Disconnect => return Err("server disconnected".into()),
                _ => {}
            }
        }
    }

    /// Close the WebSocket politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
