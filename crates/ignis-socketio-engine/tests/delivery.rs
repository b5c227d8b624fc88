//! The engine's delivery guarantees, with real sockets: events in order per
//! client, a slow consumer disconnected with a reason, a refused client's
//! transport closed after its last message, oversized frames refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::engine::EngineConfig;
use ignis_socketio_engine::io::{
    AckSender, BroadcastOptions, ConnectRefusal, DisconnectReason, Event, HandlerFuture, IoConfig,
    NamespaceHandler, Socket, SocketIo,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// Records what reaches it; event handlers await a random 0–2 ms.
#[derive(Default, Clone)]
struct Recorder {
    events: Arc<Mutex<Vec<i64>>>,
    disconnects: Arc<Mutex<Vec<String>>>,
    refuse: bool,
}

impl NamespaceHandler for Recorder {
    fn on_connect(&self, _: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        let refuse = self.refuse;
        Box::pin(async move {
            if refuse {
                Err(ConnectRefusal::new("not you"))
            } else {
                Ok(())
            }
        })
    }

    fn on_event(&self, socket: Socket, event: Event, _: Option<AckSender>) -> HandlerFuture<()> {
        let events = self.events.clone();
        Box::pin(async move {
            if event.name == "refuse-me" {
                let _ = socket.emit("unauthenticated", &"bye");
                socket.close("refused");
                return;
            }
            let pause = rand::random_range(0..=2000u64);
            tokio::time::sleep(Duration::from_micros(pause)).await;
            let n = event
                .args
                .values
                .first()
                .and_then(|v| v.as_i64())
                .unwrap_or(-1);
            events.lock().unwrap().push(n);
        })
    }

    fn on_disconnect(&self, _: Socket, reason: DisconnectReason) {
        self.disconnects.lock().unwrap().push(reason.to_string());
    }
}

#[tokio::test]
async fn ten_thousand_events_of_one_client_reach_handlers_in_order_even_when_handlers_await() {
    let io = SocketIo::new(config());
    let recorder = Recorder::default();
    io.ns("/", recorder.clone());
    let addr = serve(&io).await;
    let (mut ws, _) = connect(addr).await;
    for i in 0..10_000 {
        ws.feed(Message::text(format!("42[\"n\",{i}]")))
            .await
            .unwrap();
    }
    ws.flush().await.unwrap();
    let events = recorder.events.clone();
    // Each handler awaits 1 ms on average, one at a time: about 10 s.
    for _ in 0..6 {
        if events.lock().unwrap().len() == 10_000 {
            break;
        }
        eventually("10 000 events handled", || {
            events.lock().unwrap().len() == 10_000
        })
        .await
        .ok();
    }
    let seen = recorder.events.lock().unwrap().clone();
    assert_eq!(
        seen,
        (0..10_000).collect::<Vec<i64>>(),
        "events out of order or lost"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_as_a_slow_consumer() {
    let io = SocketIo::new(IoConfig {
        engine: EngineConfig {
            max_buffered_bytes: 256 * 1024,
            ..EngineConfig::default()
        },
        ..config()
    });
    let recorder = Recorder::default();
    let ns = io.ns("/", recorder.clone());
    let addr = serve(&io).await;
    let (ws, _) = connect(addr).await;
    let (mut reader, _) = connect(addr).await;
    // `ws` never reads again; broadcast 1 KB messages until the server gives up on it.
    let payload = Args::json(vec![serde_json::Value::String("x".repeat(1024))]);
    let disconnects = recorder.disconnects.clone();
    let mut sent = 0;
    while disconnects.lock().unwrap().is_empty() && sent < 200_000 {
        ns.broadcast(&BroadcastOptions::default(), "flood", &payload)
            .await
            .unwrap();
        sent += 1;
        if sent % 64 == 0 {
            // The reading client keeps up.
            while let Ok(Some(Ok(_))) = tokio::time::timeout(
                Duration::from_millis(1),
                futures_util::StreamExt::next(&mut reader),
            )
            .await
            {}
            tokio::task::yield_now().await;
        }
    }
    let reasons = recorder.disconnects.lock().unwrap().clone();
    assert_eq!(
        reasons.len(),
        1,
        "only the slow client is dropped: {reasons:?}"
    );
    assert!(reasons[0].contains("slow consumer"), "{reasons:?}");
    assert_eq!(ns.socket_count(), 1, "the reading client stays connected");
    assert_eq!(io.counters().slow_consumers, 1, "counted");
    drop(ws);
}

#[tokio::test]
async fn a_refused_client_gets_its_last_message_and_then_its_transport_closes() {
    let io = SocketIo::new(config());
    io.ns("/", Recorder::default());
    let addr = serve(&io).await;
    let (mut ws, _) = connect(addr).await;
    ws.send(Message::text("42[\"refuse-me\"]")).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some("42[\"unauthenticated\",\"bye\"]")
    );
    assert_eq!(next_text(&mut ws).await, None, "the transport stays open");
    assert_eq!(io.engine().session_count(), 0);
}

#[tokio::test]
async fn a_refused_connect_is_answered_with_connect_error() {
    let io = SocketIo::new(config());
    io.ns(
        "/",
        Recorder {
            refuse: true,
            ..Recorder::default()
        },
    );
    let addr = serve(&io).await;
    let mut ws = open(addr).await;
    ws.send(Message::text("40")).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some("44{\"message\":\"not you\"}")
    );
}

#[tokio::test]
async fn sessions_that_never_connect_are_closed_at_the_connect_timeout() {
    let io = SocketIo::new(IoConfig {
        connect_timeout: Duration::from_millis(200),
        ..config()
    });
    io.ns("/", Recorder::default());
    let addr = serve(&io).await;
    let mut ws = open(addr).await;
    assert_eq!(next_text(&mut ws).await, None);
    assert_eq!(io.engine().session_count(), 0);
}

#[tokio::test]
async fn a_frame_over_the_payload_limit_is_refused_from_its_header() {
    let io = SocketIo::new(IoConfig {
        engine: EngineConfig {
            max_payload: 1000,
            ..EngineConfig::default()
        },
        ..config()
    });
    io.ns("/", Recorder::default());
    let addr = serve(&io).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    // Announce a 16 MiB binary frame and send none of its body.
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(16u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    tcp.write_all(&header).await.unwrap();
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the connection stayed open");
    // The close frame carries 1009 (message too big).
    let close = [0x88, 0x02, 0x03, 0xF1];
    assert!(
        received.windows(4).any(|w| w == close),
        "no 1009 close frame in {:?}",
        &received[received.len().saturating_sub(8)..]
    );
    assert_eq!(io.engine().session_count(), 0);
}
