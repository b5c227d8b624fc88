//! Handlers run inside a tracing span carrying the socket id and the identifier.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::AuthenticatedClient;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_run_in_a_span_with_socket_id_and_identifier() {
    // The only test of this binary: a global subscriber is fine.
    let logs = common::capture_logs(tracing::Level::INFO);

    let server = TestServer::start(builder().identifier("span-test").on_client_connected(
        |client: AuthenticatedClient| async move {
            tracing::info!("connected handler ran");
            client.on(
                "echo",
                |client: AuthenticatedClient, data: Value| async move {
                    tracing::info!("event handler ran");
                    client.emit("echo:response", &data)
                },
            );
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    d.emit("a", "echo", json!([1])).await;
    d.wait_event("a", "echo:response").await;

    let logs = logs();
    let span = format!("socket{{socket_id={id} identifier=span-test}}");
    for message in [
        "connected handler ran",
        "event handler ran",
        "client authenticated",
    ] {
        let line = logs
            .lines()
            .find(|l| l.contains(message))
            .unwrap_or_else(|| panic!("no log line {message:?} in:\n{logs}"));
        assert!(line.contains(&span), "{line} lacks {span}");
    }
}
