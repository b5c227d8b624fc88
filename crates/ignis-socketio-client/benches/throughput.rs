//! The client's own cost: how many messages one `SocketClient` receives and
//! sends per second, and how many acknowledged round trips it completes,
//! against an in-process server on the project's engine on 127.0.0.1 (same process, so
//! the server's work is included in the figures: they are a lower bound).
//!
//! `cargo bench -p ignis-socketio-client --bench throughput [-- N]`
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ignis_socketio_client::{ClientPayload, Event, SocketClient};
use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::engine::EngineConfig;
use ignis_socketio_engine::io::{
    AckSender, ConnectRefusal, Event as ServerEvent, HandlerFuture, IoConfig, NamespaceHandler,
    Socket, SocketIo,
};
use serde_json::{Value, json};

/// `blast` emits that many `tick`s, `msg` is counted, `rt` is acknowledged with its arguments.
struct Bench {
    received: Arc<AtomicUsize>,
}

impl NamespaceHandler for Bench {
    fn on_connect(&self, _: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        Box::pin(async { Ok(()) })
    }

    fn on_event(&self, s: Socket, event: ServerEvent, ack: Option<AckSender>) -> HandlerFuture<()> {
        match event.name.as_str() {
            "blast" => {
                let count = event
                    .args
                    .values
                    .first()
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                for i in 0..count {
                    let _ = s.emit("tick", &json!({"i": i, "text": "hello"}));
                }
            }
            "msg" => {
                self.received.fetch_add(1, Ordering::Relaxed);
            }
            "rt" => {
                if let Some(ack) = ack {
                    let _ = ack.send(&Args::json(event.args.values));
                }
            }
            _ => {}
        }
        Box::pin(async {})
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let received_by_server = Arc::new(AtomicUsize::new(0));
    let counter = received_by_server.clone();

    let io = SocketIo::new(IoConfig {
        engine: EngineConfig {
            path: "/io".to_owned(),
            max_buffered_packets: n + 1024,
            max_buffered_bytes: (n + 1024) * 64,
            ..EngineConfig::default()
        },
        ..IoConfig::default()
    });
    io.ns("/", Bench { received: counter });
    let app = axum::Router::new().layer(io.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ignis_socketio_engine::serve(
        listener,
        app,
        std::future::pending(),
    ));

    let client = SocketClient::builder(format!("http://{addr}"))
        .path("/io")
        .build()
        .unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    client.on("tick", move |_e: Event| {
        g.fetch_add(1, Ordering::Relaxed);
        std::future::ready(())
    });
    client.connect().unwrap();
    assert!(client.wait_connected(Duration::from_secs(5)).await);

    // Receive: the server emits n events as fast as it can.
    let start = Instant::now();
    client.emit("blast", json!(n)).unwrap();
    while got.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "receive: {n} events in {secs:.3} s = {:.0} msg/s",
        n as f64 / secs
    );

    // Send: the client emits n events, waiting for queue room when needed.
    let start = Instant::now();
    for i in 0..n {
        client
            .emit_async("msg", json!({"i": i, "text": "hello"}))
            .await
            .unwrap();
    }
    while received_by_server.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "send:    {n} events in {secs:.3} s = {:.0} msg/s",
        n as f64 / secs
    );

    // Acknowledged round trips, one at a time.
    let rounds = (n / 20).max(100);
    let start = Instant::now();
    for i in 0..rounds {
        client
            .emit_with_ack("rt", ClientPayload::from(json!(i)), Duration::from_secs(5))
            .await
            .unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "ack:     {rounds} sequential round trips in {secs:.3} s = {:.0} /s ({:.1} us each)",
        rounds as f64 / secs,
        secs * 1e6 / rounds as f64
    );
    client.shutdown().await;
}
