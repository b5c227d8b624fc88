//! One client cannot take the server for itself: application events, room
//! requests and `authenticate` are limited per socket (token buckets). Events
//! over the limit are dropped, an acknowledgement they carry is answered with
//! a `rate_limited` error, the other clients are served as before, and a
//! client that stays over the limit is disconnected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::{
    AckResponder, AuthenticatedClient, ClientInfo, JoinRequest, RateLimit, ServerBuilder,
};
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
async fn flood_with_acks(
    d: &mut Driver,
    name: &str,
    event: &str,
    data: Value,
    count: usize,
) -> Value {
    let tag = format!("{name}-{event}-{count}");
    d.send(
        json!({"cmd": "flood", "name": name, "event": event, "args": [data],
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
    let summary = flood_with_acks(&mut d, "flooder", "count", json!({"n": 1}), 12_000).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_requests_and_authenticate_have_their_own_buckets() {
    let server = TestServer::start(
        with_echo(builder())
            .validate_rooms(|request: JoinRequest| async move { request.rooms })
            .room_rate_limit(RateLimit::new(5, 1))
            .auth_rate_limit(RateLimit::new(3, 1))
            .rate_limit_disconnect_after(None),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;

    // `join` and `leave` share a bucket of 5 (plus one a second).
    let joins = flood_with_acks(&mut d, "a", "join", json!({"rooms": ["r1"]}), 50).await;
    let ok = joins["ok"].as_u64().unwrap();
    assert!((5..=15).contains(&ok), "{joins}");
    assert_eq!(
        joins["ok"].as_u64().unwrap() + joins["errors"]["rate_limited"].as_u64().unwrap(),
        50
    );
    // Refused as other join requests are: nothing joined, an error.
    assert_eq!(joins["last"]["joined"], json!([]), "{joins}");
    assert_eq!(joins["last"]["rejected"], json!([]), "{joins}");
    let leaves = flood_with_acks(&mut d, "a", "leave", json!({"rooms": ["r1"]}), 50).await;
    assert!(
        leaves["errors"]["rate_limited"].as_u64().unwrap() >= 35,
        "{leaves}"
    );
    assert_eq!(leaves["last"]["left"], json!([]), "{leaves}");

    // `authenticate`: 3 at once, the first spent on authenticating.
    let auths = flood_with_acks(&mut d, "a", "authenticate", json!(null), 30).await;
    let refused = auths["errors"]["rate_limited"].as_u64().unwrap();
    assert!(refused >= 17, "{auths}");
    assert_eq!(
        auths["last"]["state"], "authenticated",
        "state unchanged: {auths}"
    );
    assert_eq!(auths["last"]["error"]["code"], "rate_limited");

    // Application events are in a bucket of their own.
    let echoed = d
        .emit_then_wait("a", "echo", json!([{"after": "floods"}]), "echo:response")
        .await;
    assert_eq!(echoed["data"]["after"], "floods");
    assert_eq!(server.io.counters().rate_limit_disconnects, 0, "off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stays_over_the_limit_is_disconnected_with_bounded_warnings() {
    // The only test of this binary that reads logs (a global subscriber);
    // lines are told apart by socket id.
    let logs = common::capture_logs(tracing::Level::INFO);
    let reasons = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let seen = reasons.clone();
    let server = TestServer::start(
        with_echo(builder())
            .event_rate_limit(RateLimit::new(10, 10))
            .rate_limit_disconnect_after(Duration::from_secs(1))
            .on_client_disconnected(move |client: ClientInfo, reason: String| {
                let seen = seen.clone();
                async move { seen.lock().unwrap().push((client.id, reason)) }
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    let id = d
        .connect_authenticated("flooder", &server, "websocket")
        .await;
    d.connect_authenticated("bystander", &server, "websocket")
        .await;

    // 20 events every 50 ms (400/s against 10/s) until the server gives up
    // on the client (after about a second; 15 s is the bound).
    let mut sent = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while d.of("flooder").iter().all(|v| v["type"] != "disconnect") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still connected after {sent} events"
        );
        d.send(
            json!({"cmd": "flood", "name": "flooder", "event": "echo", "args": [{}],
            "count": 20, "ack": false}),
        )
        .await;
        sent += 20;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let disconnect = d.wait_type("flooder", "disconnect").await;
    assert_eq!(disconnect["reason"], "io server disconnect", "{disconnect}");
    server
        .wait_registry("the flooder is gone", |io| io.get_client(&id).is_none())
        .await;
    let counters = server.io.counters();
    assert_eq!(counters.rate_limit_disconnects, 1);
    assert!(counters.events_rate_limited >= 100, "{counters:?}");
    // Its transport is closed too, as for refused sockets.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.io.counters().sessions_closed < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session stays open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let reason = loop {
        if let Some((_, reason)) = reasons.lock().unwrap().iter().find(|(c, _)| *c == id) {
            break reason.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no disconnect handler call"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        reason.starts_with("rate limit: application events over event_rate_limit"),
        "{reason}"
    );

    // The bystander is served as ever.
    let echoed = d
        .emit_then_wait(
            "bystander",
            "echo",
            json!([{"still": "here"}]),
            "echo:response",
        )
        .await;
    assert_eq!(echoed["data"]["still"], "here");

    // Hundreds of dropped events, a handful of lines: five per ten-second
    // window (the flood spans one or two), and the disconnect.
    let logs = logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("WARN") && line.contains(&id))
        .collect();
    assert!(
        warnings.iter().any(|l| l.contains("over the rate limit")),
        "{logs}"
    );
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("rate limit: application events")),
        "{logs}"
    );
    assert!(
        warnings.len() <= 16,
        "{} warning lines for {} dropped events:\n{}",
        warnings.len(),
        counters.events_rate_limited,
        warnings.join("\n")
    );
}
