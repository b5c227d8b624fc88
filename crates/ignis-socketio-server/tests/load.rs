//! A thousand clients connecting and authenticating at once, from one Node process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::{ClientState, Target};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_clients_connect_and_authenticate_at_once() {
    const CLIENTS: usize = 1000;
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    d.send(json!({
        "cmd": "bulk", "prefix": "load", "count": CLIENTS, "url": server.url, "path": "/io",
        "transport": "websocket", "auth": {"token": "good"}, "timeoutMs": 60000
    }))
    .await;
    let report = d
        .wait_for_long("bulk report", |v| v["type"] == "bulk")
        .await;
    assert_eq!(report["authenticated"], CLIENTS, "{report}");
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");

    let clients = server.io.get_clients();
    assert_eq!(clients.len(), CLIENTS);
    assert!(
        clients
            .iter()
            .all(|c| c.state == ClientState::Authenticated)
    );

    // Every one of them is reached by a broadcast, exactly once.
    server
        .io
        .send(Target::all(), "hello", &json!({"to": "all"}))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let count = d
            .request(
                json!({"cmd": "bulk_count", "prefix": "load", "event": "hello"}),
                |v| v["type"] == "bulk_count",
            )
            .await["count"]
            .as_u64()
            .unwrap();
        if count as usize == CLIENTS {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {count} of {CLIENTS} got the broadcast"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    d.send(json!({"cmd": "bulk_disconnect", "prefix": "load"}))
        .await;
    server
        .wait_registry("all gone", |io| io.client_count() == 0)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_client_of_a_burst_reads_unauthenticated_before_disconnect() {
    const CLIENTS: usize = 200;
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    for transport in ["websocket", "polling"] {
        d.send(json!({
            "cmd": "bulk", "prefix": transport, "tag": transport, "count": CLIENTS, "url": server.url,
            "path": "/io", "transport": transport, "auth": {"token": "bad"}, "timeoutMs": 60000
        }))
        .await;
    }
    for transport in ["websocket", "polling"] {
        let report = d
            .wait_for_long(transport, |v| v["type"] == "bulk" && v["tag"] == transport)
            .await;
        assert_eq!(report["refused"], CLIENTS, "{report}");
        assert_eq!(report["authenticated"], 0, "{report}");
        assert_eq!(report["errors"], json!([]), "{report}");
    }
    server
        .wait_registry("all refused clients gone", |io| io.client_count() == 0)
        .await;
}
