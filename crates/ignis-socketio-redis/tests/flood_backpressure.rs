//! A chat flood while Redis is paused (`CLIENT PAUSE`, a real pause of the
//! real server) piles nothing up: each client's events wait unread behind
//! the one broadcast in flight, PUBLISH commands in flight stay under
//! `max_in_flight_publishes` (waits are counted), and once Redis resumes
//! every event is handled and every broadcast delivered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{random_key, redis_url};
use futures_util::{SinkExt, StreamExt};
use ignis_socketio_redis::{RedisAdapterState, RedisConfig};
use ignis_socketio_server::{
    AuthError, AuthenticatedClient, Handshake, Identity, SocketIOServerHelper, Target,
};
use ignis_socketio_test_support::ws::{Ws, connect_bearer, next_text};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 4;
const PER_CLIENT: usize = 1500;
const MAX_IN_FLIGHT: usize = 2;
const PAUSE_MS: u64 = 2000;

/// A raw client, connected and authenticated.
async fn client(port: u16) -> Ws {
    let url = format!("ws://127.0.0.1:{port}/io/?EIO=4&transport=websocket");
    let mut ws = connect_bearer(&url, "good").await;
    ws.send(Message::text("420[\"authenticate\"]"))
        .await
        .unwrap();
    while !next_text(&mut ws)
        .await
        .expect("connection open")
        .starts_with("430[")
    {}
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_while_redis_is_paused_holds_clients_back_and_drains_after() {
    let url = redis_url();
    let mut config: RedisConfig = url.parse().unwrap();
    config = config.key(random_key());
    config.pool_size = 1;
    config.max_in_flight_publishes = MAX_IN_FLIGHT;
    let state = RedisAdapterState::connect(config).await.unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let counted = handled.clone();
    let io = SocketIOServerHelper::builder()
        .authenticate(|hs: Handshake| async move {
            match hs.bearer_token() {
                Some("good") => Ok(Identity::new("user")),
                _ => Err(AuthError::missing_token()),
            }
        })
        .on_client_connected(move |client: AuthenticatedClient| {
            let counted = counted.clone();
            async move {
                client.on(
                    "chat:message",
                    move |client: AuthenticatedClient, data: Value| {
                        counted.fetch_add(1, Ordering::SeqCst);
                        async move {
                            client
                                .server()
                                .send(Target::all(), "chat:broadcast", &data)
                                .await
                        }
                    },
                );
            }
        })
        .build_with_adapter(state.adapter("/"))
        .await
        .unwrap();
    let app = io.attach(axum::Router::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(client(port).await);
    }

    // Pause every client of Redis but this one (the server's connections).
    let admin = redis::Client::open(url.as_str()).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(PAUSE_MS)
        .query_async(&mut admin)
        .await
        .unwrap();
    let paused_at = tokio::time::Instant::now();

    let received = Arc::new(AtomicUsize::new(0));
    let mut floods = Vec::new();
    for ws in clients {
        let (mut sink, mut stream) = ws.split();
        let received = received.clone();
        // Reads what the server sends (its broadcasts), answering heartbeats.
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(t) = message {
                    if t.as_str() == "2" {
                        let _ = pong_tx.send(());
                    } else if t.starts_with("42[\"chat:broadcast\"") {
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        });
        floods.push(tokio::spawn(async move {
            for i in 0..PER_CLIENT {
                while pong_rx.try_recv().is_ok() {
                    sink.send(Message::text("3")).await.unwrap();
                }
                let frame = format!("42[\"chat:message\",{{\"message\":\"line {i}\"}}]");
                sink.feed(Message::text(frame)).await.unwrap();
            }
            sink.flush().await.unwrap();
            sink
        }));
    }

    // While Redis is paused: each client has one event in its handler,
    // waiting for its broadcast; the rest wait unread (on the server, at
    // most the engine's bound of read-ahead messages; the others in TCP).
    let mut peak_handled = 0;
    while paused_at.elapsed() < Duration::from_millis(PAUSE_MS - 300) {
        peak_handled = handled.load(Ordering::SeqCst);
        let counters = state.counters();
        assert!(
            counters.publishes_in_flight <= MAX_IN_FLIGHT as u64,
            "{counters:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A publish Redis does not answer in time fails (the client's handler
    // returns an error, its next event is handled): each costs the response
    // timeout, so few happen, and none piles up.
    let counters = state.counters();
    assert!(
        peak_handled as u64 <= CLIENTS as u64 + counters.publish_failures,
        "{peak_handled} events handled while Redis was paused: handlers did not wait; {counters:?}"
    );
    assert!(
        counters.publish_waits > 0,
        "the bound was never reached: {counters:?}"
    );
    assert!(
        counters.publishes_in_flight_peak <= MAX_IN_FLIGHT as u64,
        "{counters:?}"
    );

    // Redis resumes: everything drains, every broadcast reaches every client.
    // The senders are kept (open) until every broadcast is counted.
    let mut senders = Vec::new();
    for flood in floods {
        let sender = tokio::time::timeout(Duration::from_secs(60), flood)
            .await
            .expect("the flood is sent once Redis resumes")
            .unwrap();
        senders.push(sender);
    }
    let total = CLIENTS * PER_CLIENT;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counters = state.counters();
        let published = counters.publishes + counters.publish_failures;
        let delivered = received.load(Ordering::SeqCst) as u64;
        if published == total as u64 && delivered == counters.publishes * CLIENTS as u64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "handled {} of {total}, received {delivered}: {counters:?}",
            handled.load(Ordering::SeqCst),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(handled.load(Ordering::SeqCst), total);
    let counters = state.counters();
    assert_eq!(counters.publishes_in_flight, 0, "{counters:?}");
    // Most of the flood went through once Redis was back.
    assert!(counters.publishes > (total / 2) as u64, "{counters:?}");
}
