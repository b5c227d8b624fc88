//! The project's server helper on the Redis adapter, next to a Node socket.io
//! server on `@socket.io/redis-adapter`: the helper's own-id join makes its
//! clients reachable by id from every server, and its sends cross Redis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ignis_socketio_server::{AuthError, Handshake, Identity, SocketIOServerHelper, Target};
use serde_json::json;

async fn helper_server(key: &str) -> (SocketIOServerHelper, String, tokio::task::JoinHandle<()>) {
    let state = connect_state(&redis_url(), key).await;
    let io = SocketIOServerHelper::builder()
        .authenticate(|hs: Handshake| async move {
            match hs.bearer_token() {
                Some("good") => Ok(Identity::new("user-good")),
                _ => Err(AuthError::missing_token()),
            }
        })
        .build_with_adapter(state.adapter("/"))
        .await
        .expect("helper on the Redis adapter");
    let app = io.attach(axum::Router::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (io, url, task)
}

async fn authenticated_client(url: &str, name: &str) -> (NodeProc, String) {
    let mut client =
        NodeProc::spawn("client.mjs", &[url, name, "/io", r#"{"token":"good"}"#]).await;
    let connected = client.wait_for(|v| v["type"] == "connected").await;
    let id = connected["id"].as_str().unwrap().to_owned();
    client
        .call(json!({"cmd": "send", "event": "authenticate", "args": []}))
        .await;
    client.event("authenticated").await;
    (client, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_clients_are_reachable_from_other_helpers_and_node_servers() {
    let key = random_key();
    let (a, a_url, _a_task) = helper_server(&key).await;
    let (b, _b_url, _b_task) = helper_server(&key).await;
    let mut node = NodeProc::spawn("node-server.mjs", &[&redis_url(), &key]).await;
    node.wait_for(|v| v["type"] == "ready").await;
    let (mut client, id) = authenticated_client(&a_url, "ca").await;

    // Helper B reaches A's client by id and by default room.
    b.send(Target::socket(id.clone()), "direct", &json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(client.event("direct").await, json!([{"n": 1}]));
    b.send(Target::room("io-default"), "to-default", &json!("d"))
        .await
        .unwrap();
    assert_eq!(client.event("to-default").await, json!(["d"]));
    // Node reaches it by id (the own-id room) and sees its rooms.
    node.call(json!({"cmd": "emit", "rooms": [id], "event": "from-node", "args": [2]}))
        .await;
    assert_eq!(client.event("from-node").await, json!([2]));
    let fetched = node
        .call(json!({"cmd": "fetchSockets", "rooms": [id]}))
        .await;
    let rooms = fetched["reply"][0]["rooms"].as_array().unwrap().clone();
    assert!(
        rooms.contains(&json!(id)) && rooms.contains(&json!("io-default")),
        "{fetched}"
    );
    // Helper B's cluster-wide view includes A's client.
    let ids = b
        .fetch_socket_ids(Target::room("io-default"))
        .await
        .unwrap();
    assert!(ids.contains(&id), "{ids:?}");
    a.shutdown().await;
    b.shutdown().await;
}
