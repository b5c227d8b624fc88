//! Prometheus metrics (docs/operations.md): counted where the events happen,
//! scraped in the text format, and nothing when the helper has metrics off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::{AuthenticatedClient, JoinRequest, SocketIOServerHelper, Target};
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};

/// The helper's metrics as `series -> value` (`name{labels}` as printed).
fn scrape(io: &SocketIOServerHelper) -> HashMap<String, f64> {
    let mut registry = Registry::default();
    assert!(io.register_metrics(&mut registry));
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn value(metrics: &HashMap<String, f64>, series: &str) -> f64 {
    *metrics
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in {metrics:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_as_the_traffic_says() {
    let io = builder()
        .metrics(true)
        .validate_rooms(|req: JoinRequest| async move { req.keep(|r| r.starts_with("ok-")) })
        .on(
            "echo",
            |client: AuthenticatedClient, data: Value| async move {
                let _ = client.emit("echo:response", &data);
            },
        )
        .build()
        .unwrap();
    let server = TestServer::serve(io).await;
    let before = scrape(&server.io);
    assert_eq!(
        value(&before, r#"socketio_authentications_total{outcome="ok"}"#),
        0.0
    );
    assert_eq!(
        value(&before, r#"socketio_sockets{state="authenticated"}"#),
        0.0
    );

    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;
    d.connect(
        "refused",
        &server,
        json!({"auth": {"token": "bad"}, "authenticate": true}),
    )
    .await;
    d.wait_event("refused", "unauthenticated").await;
    let joined = d
        .emit_ack("a", "join", json!([{"rooms": ["ok-1", "nope"]}]))
        .await;
    assert_eq!(joined["joined"], json!(["ok-1"]));
    d.emit_ack("a", "join", json!([{"rooms": ["ok-2"]}])).await;
    d.emit_then_wait("a", "echo", json!([{"n": 1}]), "echo:response")
        .await;
    d.emit("a", "unknown", json!([1])).await;
    server.io.send(Target::all(), "news", &1).await.unwrap();
    server
        .io
        .send(Target::room("ok-1"), "news", &2)
        .await
        .unwrap();
    d.wait_count("two news", 2, |v| v["event"] == "news").await;
    // The unknown event was read before the barrier's answer.
    d.emit_then_wait("a", "echo", json!([{"n": 2}]), "echo:response")
        .await;

    let m = scrape(&server.io);
    assert_eq!(
        value(&m, r#"socketio_authentications_total{outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        value(&m, r#"socketio_authentications_total{outcome="rejected"}"#),
        1.0
    );
    assert_eq!(
        value(&m, "socketio_authentication_duration_seconds_count"),
        2.0
    );
    assert_eq!(
        value(
            &m,
            r#"socketio_room_requests_total{request="join",outcome="partial"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            r#"socketio_room_requests_total{request="join",outcome="granted"}"#
        ),
        1.0
    );
    // echo twice and unknown once.
    assert_eq!(value(&m, "socketio_events_received_total"), 3.0);
    assert_eq!(
        value(
            &m,
            r#"socketio_messages_dropped_total{reason="no_handler"}"#
        ),
        1.0
    );
    assert_eq!(
        value(&m, r#"socketio_sends_total{target="all",outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        value(&m, r#"socketio_sends_total{target="rooms",outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        value(
            &m,
            r#"socketio_send_duration_seconds_count{target="rooms"}"#
        ),
        1.0
    );
    // ping + authenticated (a), unauthenticated (refused), two echo answers.
    assert!(value(&m, "socketio_events_emitted_total") >= 5.0);
    assert_eq!(value(&m, r#"socketio_sockets{state="authenticated"}"#), 1.0);
    assert!(value(&m, "socketio_engine_sessions_opened_total") >= 2.0);

    d.disconnect("a").await;
    server
        .wait_registry("a gone", |io| io.client_count() == 0)
        .await;
    let after = scrape(&server.io);
    assert_eq!(
        value(&after, r#"socketio_sockets{state="authenticated"}"#),
        0.0
    );
}

#[tokio::test]
async fn a_helper_without_metrics_registers_nothing() {
    let io = builder().build().unwrap();
    let mut registry = Registry::default();
    assert!(!io.register_metrics(&mut registry));
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(!text.contains("socketio_"), "{text}");
}
