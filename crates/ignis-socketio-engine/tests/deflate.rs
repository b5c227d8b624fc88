//! permessage-deflate on real sockets, with a raw RFC 6455 client that checks
//! every frame: the negotiated answer, RSV1 on large messages and not on
//! small ones, broadcasts, fragmented compressed input, control frames, and
//! a zip bomb refused with 1009.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::engine::EngineConfig;
use ignis_socketio_engine::io::{
    AckSender, BroadcastOptions, ConnectRefusal, Event, HandlerFuture, IoConfig, NamespaceHandler,
    Socket, SocketIo,
};
use ignis_socketio_engine::ws::{Compressed, DeflateConfig, DeflatePool, Inflater};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes every event back with the same arguments.
struct Echo;

impl NamespaceHandler for Echo {
    fn on_connect(&self, _: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        Box::pin(async { Ok(()) })
    }

    fn on_event(&self, socket: Socket, event: Event, _: Option<AckSender>) -> HandlerFuture<()> {
        Box::pin(async move {
            let _ = socket.emit_args(&event.name, &event.args);
        })
    }
}

async fn server(deflate: Option<DeflateConfig>, max_payload: usize) -> (SocketIo, SocketAddr) {
    let io = SocketIo::new(IoConfig {
        engine: EngineConfig {
            max_payload,
            per_message_deflate: deflate,
            ..EngineConfig::default()
        },
        ..config()
    });
    io.ns("/", Echo);
    let addr = serve(&io).await;
    (io, addr)
}

/// One frame as received: FIN, RSV1, opcode, payload.
#[derive(Debug)]
struct Received {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    payload: Vec<u8>,
}

struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
    /// The `Sec-WebSocket-Extensions` answer, if any.
    extensions: Option<String>,
}

impl Raw {
    async fn connect(addr: SocketAddr, offer: Option<&str>) -> Raw {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let offer = offer
            .map(|o| format!("Sec-WebSocket-Extensions: {o}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offer}\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = tcp.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed during the handshake");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..end].to_vec()).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let extensions = head
            .lines()
            .find_map(|l| l.strip_prefix("sec-websocket-extensions: "))
            .map(str::to_owned);
        buf.drain(..end);
        Raw {
            tcp,
            buf,
            extensions,
        }
    }

    /// The next frame; `None` when the server closed the connection.
    async fn frame(&mut self) -> Option<Received> {
        loop {
            if self.buf.len() >= 2 {
                let (b0, b1) = (self.buf[0], self.buf[1]);
                let (len, at) = match b1 & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    127 if self.buf.len() >= 10 => (
                        u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
                        10,
                    ),
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    assert_eq!(b1 & 0x80, 0, "server frames are not masked");
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some(Received {
                        fin: b0 & 0x80 != 0,
                        rsv1: b0 & 0x40 != 0,
                        opcode: b0 & 0x0f,
                        payload,
                    });
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk))
                .await
                .expect("no frame within 10 s")
                .ok()?;
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next data frame, pings answered (Engine.IO and WebSocket).
    async fn data(&mut self) -> Option<Received> {
        loop {
            let frame = self.frame().await?;
            match (frame.opcode, frame.payload.as_slice()) {
                (1, b"2") => self.send(0x81, b"3").await,
                (1 | 2 | 0 | 8, _) => return Some(frame),
                _ => {}
            }
        }
    }

    /// Sends one masked frame with first byte `b0`.
    async fn send(&mut self, b0: u8, payload: &[u8]) {
        let mask = [9, 8, 7, 6];
        let mut out = vec![b0];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&out).await.unwrap();
    }

    /// Past the Engine.IO open packet, connected to namespace `/`.
    async fn join(&mut self) {
        let open = self.data().await.unwrap();
        assert!(open.payload.starts_with(b"0{"), "{open:?}");
        self.send(0x81, b"40").await;
        let connected = self.data().await.unwrap();
        assert!(connected.payload.starts_with(b"40{"), "{connected:?}");
    }
}

fn dashboard(len: usize) -> String {
    let mut rows = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < len {
        let row = format!(
            "{{\"id\":{i},\"host\":\"web-{}\",\"cpu\":{}.{},\"mem\":{},\"status\":\"{}\"}}",
            i % 17,
            i * 13 % 100,
            i % 10,
            1000 + i * 37 % 4000,
            if i % 9 == 0 { "warn" } else { "ok" }
        );
        size += row.len() + 1;
        rows.push(row);
        i += 1;
    }
    format!("[{}]", rows.join(","))
}

fn client_pool() -> Arc<DeflatePool> {
    Arc::new(DeflatePool::new(DeflateConfig::default()))
}

/// The JSON of a Socket.IO event frame's text (`42[...]`), for comparing
/// (the server re-encodes objects with its own key order).
fn event_json(text: &str) -> serde_json::Value {
    let at = text.find('[').expect("an event");
    serde_json::from_str(&text[at..]).expect("event JSON")
}

fn inflate(payload: &[u8]) -> String {
    let mut inflater = Inflater::new(client_pool(), 15, false);
    String::from_utf8(inflater.inflate(payload, 1 << 24).unwrap()).unwrap()
}

const BROWSER_OFFER: &str = "permessage-deflate; client_max_window_bits";

#[tokio::test]
async fn negotiated_with_the_reference_settings_large_messages_compressed_small_ones_not() {
    let (_io, addr) = server(Some(DeflateConfig::default()), 1_000_000).await;
    let mut raw = Raw::connect(addr, Some(BROWSER_OFFER)).await;
    assert_eq!(
        raw.extensions.as_deref(),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
        )
    );
    raw.join().await;
    let small = r#"42["small",{"ok":true}]"#;
    raw.send(0x81, small.as_bytes()).await;
    let frame = raw.data().await.unwrap();
    assert!(!frame.rsv1, "a small message is sent as before");
    assert_eq!(frame.payload, small.as_bytes());
    let big = format!(r#"42["big",{}]"#, dashboard(16 * 1024));
    raw.send(0x81, big.as_bytes()).await;
    let frame = raw.data().await.unwrap();
    assert!(frame.rsv1 && frame.fin && frame.opcode == 1, "{frame:?}");
    assert!(
        frame.payload.len() * 4 <= big.len(),
        "{} bytes on the wire for {}",
        frame.payload.len(),
        big.len()
    );
    assert!(event_json(&inflate(&frame.payload)) == event_json(&big));
}

#[tokio::test]
async fn compressed_and_fragmented_input_text_and_binary_with_control_frames_between() {
    let (_io, addr) = server(Some(DeflateConfig::default()), 1_000_000).await;
    let mut raw = Raw::connect(addr, Some(BROWSER_OFFER)).await;
    raw.join().await;
    let pool = client_pool();
    let compress = |data: &[u8]| match pool.compress(data, 12) {
        Compressed::Smaller(b) => b.to_vec(),
        other => panic!("{other:?}"),
    };
    // A binary event: its text part compressed whole, its attachment
    // compressed and fragmented with a ping in the middle.
    let attachment: Vec<u8> = dashboard(20_000).into_bytes();
    let text = format!(
        r#"451-["bin",{{"_placeholder":true,"num":0}},"{}"]"#,
        "compressible ".repeat(40)
    );
    raw.send(0xC1, &compress(text.as_bytes())).await;
    let packed = compress(&attachment);
    let (a, b) = packed.split_at(packed.len() / 2);
    raw.send(0x42, a).await;
    raw.send(0x89, b"hi").await;
    raw.send(0x80, b).await;
    let pong = raw.frame().await.unwrap();
    assert_eq!(
        (pong.opcode, pong.rsv1, pong.payload.as_slice()),
        (0xA, false, &b"hi"[..])
    );
    let echoed_text = raw.data().await.unwrap();
    assert!(!echoed_text.rsv1, "under the threshold");
    assert_eq!(echoed_text.payload, text.as_bytes());
    let echoed_bin = raw.data().await.unwrap();
    assert_eq!(echoed_bin.opcode, 2);
    assert!(echoed_bin.rsv1, "a 20 KB attachment goes compressed");
    assert_eq!(inflate(&echoed_bin.payload).into_bytes(), attachment);
}

#[tokio::test]
async fn a_broadcast_is_compressed_for_every_member() {
    let (io, addr) = server(Some(DeflateConfig::default()), 1_000_000).await;
    let mut members = Vec::new();
    for _ in 0..3 {
        let mut raw = Raw::connect(addr, Some(BROWSER_OFFER)).await;
        raw.join().await;
        members.push(raw);
    }
    // One member without the extension gets the same message uncompressed.
    let mut plain = Raw::connect(addr, None).await;
    assert_eq!(plain.extensions, None);
    plain.join().await;
    let data = dashboard(16 * 1024);
    let args = Args::json(vec![serde_json::from_str(&data).unwrap()]);
    io.of("/")
        .unwrap()
        .broadcast(&BroadcastOptions::default(), "board", &args)
        .await
        .unwrap();
    let mut sizes = Vec::new();
    for raw in &mut members {
        let frame = raw.data().await.unwrap();
        assert!(frame.rsv1);
        assert!(
            event_json(&inflate(&frame.payload)) == event_json(&format!(r#"42["board",{data}]"#))
        );
        sizes.push(frame.payload.len());
    }
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
    let frame = plain.data().await.unwrap();
    assert!(!frame.rsv1);
    let text = String::from_utf8(frame.payload).unwrap();
    assert!(event_json(&text) == event_json(&format!(r#"42["board",{data}]"#)));
}

#[tokio::test]
async fn a_message_inflating_past_the_payload_limit_is_refused_and_the_connection_closed() {
    let (io, addr) = server(Some(DeflateConfig::default()), 100_000).await;
    let mut raw = Raw::connect(addr, Some(BROWSER_OFFER)).await;
    raw.join().await;
    let bomb = format!(r#"42["bomb","{}"]"#, "a".repeat(5 << 20));
    let Compressed::Smaller(packed) = client_pool().compress(bomb.as_bytes(), 12) else {
        panic!("not compressed");
    };
    assert!(
        packed.len() < 100_000,
        "the compressed form is within the limit"
    );
    raw.send(0xC1, &packed).await;
    let close = loop {
        let frame = raw.data().await.expect("closed without a close frame");
        if frame.opcode == 8 {
            break frame;
        }
    };
    assert_eq!(close.payload[..2], 1009u16.to_be_bytes());
    assert!(raw.frame().await.is_none(), "the connection is closed");
    eventually("session gone", || io.engine().session_count() == 0)
        .await
        .unwrap();
}

#[tokio::test]
async fn without_the_setting_offers_are_not_answered_and_rsv1_is_refused() {
    let (_io, addr) = server(None, 1_000_000).await;
    let mut raw = Raw::connect(addr, Some(BROWSER_OFFER)).await;
    assert_eq!(raw.extensions, None);
    raw.join().await;
    let big = format!(r#"42["big","{}"]"#, "x".repeat(10_000));
    raw.send(0x81, big.as_bytes()).await;
    let frame = raw.data().await.unwrap();
    assert!(!frame.rsv1);
    assert_eq!(frame.payload, big.as_bytes());
    raw.send(0xC1, b"anything").await;
    let close = raw.data().await.unwrap();
    assert_eq!(close.opcode, 8);
    assert_eq!(close.payload[..2], 1002u16.to_be_bytes());
}
