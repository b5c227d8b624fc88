//! One client cannot take the server for itself: application events, room
//! requests and `authenticate` are limited per socket (token buckets). Events
//! over the limit are dropped, an acknowledgement they carry is answered with
//! a `rate_limited` error, the other clients are served as before, and a
//! client that stays over the limit is disconnected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::{AckResponder, AuthenticatedClient, ServerBuilder};
use serde_json::{Value, json};

/// `echo` emits its data back as `echo:response`; `count` acknowledges it.
fn with_echo(builder: ServerBuilder) -> ServerBuilder {
    builder
        .on(
            "echo",
            |client: AuthenticatedClient, data: Value| async move {
                client.emit("echo:response", &data)
            },
        )
        .on(
            "count",
            |_: AuthenticatedClient, data: Value, ack: Option<AckResponder>| async move {
                match ack {
                    Some(ack) => ack.send(&json!({ "counted": data })),
                    None => Ok(()),
                }
            },
        )
}

/// Floods `event` `count` times with acknowledgements from `name` and
/// returns the driver's summary (`ok`, `errors` by code, `timeouts`, `last`).
async fn flood_with_acks(d: &mut Driver, name: &str, event: &str, count: usize) -> Value {
    let tag = format!("{name}-{event}-{count}");
    d.send(
        json!({"cmd": "flood", "name": name, "event": event, "args": [{"n": 1}],
        "count": count, "ack": true, "tag": tag, "timeoutMs": 30_000}),
    )
    .await;
    d.wait_for_long(&format!("flood {tag}"), |v| {
        v["type"] == "flood" && v["tag"] == tag.as_str()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_application_events_is_cut_at_the_default_burst() {
    let server = TestServer::start(with_echo(builder())).await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("flooder", &server, "websocket")
        .await;
    d.connect_authenticated("bystander", &server, "websocket")
        .await;

    // 12 000 events in one go (their acks stay under the engine's bound of
    // 16 384 queued packets): the refill (2 500/s) cannot make up for the
    // 7 000 over the burst in the fraction of a second the flood takes.
    let summary = flood_with_acks(&mut d, "flooder", "count", 12_000).await;
    let ok = summary["ok"].as_u64().unwrap();
    let refused = summary["errors"]["rate_limited"].as_u64().unwrap_or(0);
    assert_eq!(summary["timeouts"], 0, "every ack is answered: {summary}");
    assert!(ok >= 5_000, "the burst is served: {summary}");
    assert!(refused >= 1_000, "the rest is refused: {summary}");
    assert_eq!(ok + refused, 12_000, "{summary}");
    assert_eq!(summary["last"]["error"]["code"], "rate_limited");

    // The bystander is served as ever.
    for i in 0..10 {
        let echoed = d
            .emit_then_wait("bystander", "echo", json!([{"i": i}]), "echo:response")
            .await;
        assert_eq!(echoed["data"]["i"], i);
    }
}
