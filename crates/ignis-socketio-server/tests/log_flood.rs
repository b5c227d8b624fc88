//! One client cannot flood the logs: malformed room requests and a handler
//! that fails on every event write a few warnings per client and window, not
//! a line per packet, and the client is still served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::{AuthenticatedClient, ServerError};
use serde_json::{Value, json};

const FLOOD: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_requests_writes_a_bounded_number_of_warnings() {
    // The only test of this binary: a global subscriber is fine.
    let logs = common::capture_logs(tracing::Level::INFO);

    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            client.on("fail", |_: AuthenticatedClient, _: Value| async move {
                Err::<(), _>(ServerError::UnknownClient("always fails".to_owned()))
            });
            client.on(
                "echo",
                |client: AuthenticatedClient, data: Value| async move {
                    client.emit("echo:response", &data)
                },
            );
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    let id = d
        .connect_authenticated("flooder", &server, "websocket")
        .await;
    for i in 0..FLOOD {
        d.emit("flooder", "join", json!(["not a room request"]))
            .await;
        d.emit("flooder", "fail", json!([i])).await;
    }
    // Events of one client are handled in order: once the echo is back,
    // every flooding packet before it was handled.
    d.emit("flooder", "echo", json!(["after the flood"])).await;
    d.wait_event("flooder", "echo:response").await;

    let logs = logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("WARN") && line.contains(&id))
        .collect();
    assert!(!warnings.is_empty(), "the flood is still reported: {logs}");
    // Five per ten-second window; the flood spans at most a few windows.
    assert!(
        warnings.len() <= 15,
        "{} warning lines for {} bad packets:\n{}",
        warnings.len(),
        2 * FLOOD,
        warnings.join("\n")
    );
}
