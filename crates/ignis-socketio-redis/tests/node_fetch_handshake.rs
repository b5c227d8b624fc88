//! Node's `fetchSockets()` over `@socket.io/redis-adapter` returns the
//! handshake and data of the server helper's clients, published to the Redis
//! adapter by a `SocketObserver` (the server crate knows nothing of Redis).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use ignis_socketio_redis::{RedisAdapterState, SocketDetails};
use ignis_socketio_server::{
    AuthError, Handshake, Identity, SocketIOServerHelper, SocketObserver, bind_listener,
};
use serde_json::{Value, json};

/// Publishes each socket's Node handshake (and, once authenticated, its
/// identity as `socket.data`) to the adapter; forgets it on disconnect.
struct RedisSocketDetails(RedisAdapterState);

impl SocketObserver for RedisSocketDetails {
    fn socket_connected(&self, id: &str, handshake: &Handshake) {
        let details = SocketDetails {
            handshake: handshake.to_node_json(),
            data: Value::Null,
        };
        self.0.register_socket("/", id, details);
    }

    fn socket_authenticated(&self, id: &str, handshake: &Handshake, identity: &Identity) {
        let details = SocketDetails {
            handshake: handshake.to_node_json(),
            data: identity.to_node_data(),
        };
        self.0.register_socket("/", id, details);
    }

    fn socket_disconnected(&self, id: &str) {
        self.0.unregister_socket("/", id);
    }
}

async fn helper_server(
    key: &str,
) -> (
    SocketIOServerHelper,
    RedisAdapterState,
    String,
    tokio::task::JoinHandle<()>,
) {
    let state = connect_state(&redis_url(), key).await;
    let registry = state.clone();
    let io = SocketIOServerHelper::builder()
        .authenticate(|hs: Handshake| async move {
            match hs.bearer_token() {
                Some("good") => {
                    Ok(Identity::new("user-good").with_claims(json!({"role": "admin"})))
                }
                _ => Err(AuthError::missing_token()),
            }
        })
        .observer(Arc::new(RedisSocketDetails(state.clone())))
        .build_with_adapter(state.adapter("/"))
        .await
        .expect("helper on the Redis adapter");
    let app = io.attach(axum::Router::new());
    let listener = bind_listener("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (io, registry, url, task)
}

/// Node's `fetchSockets()` on the sockets in `room`, as the Node server sees them.
async fn node_fetch(node: &mut NodeProc, room: &str) -> Vec<Value> {
    let fetched = node
        .call(json!({"cmd": "fetchSockets", "rooms": [room]}))
        .await;
    assert!(fetched["error"].is_null(), "{fetched}");
    fetched["reply"].as_array().unwrap().clone()
}

fn assert_node_handshake(handshake: &Value, auth: Value) {
    assert_eq!(handshake["auth"], auth, "{handshake}");
    assert_eq!(handshake["query"]["tenant"], "acme", "{handshake}");
    assert_eq!(handshake["query"]["EIO"], "4", "{handshake}");
    assert_eq!(handshake["query"]["transport"], "websocket", "{handshake}");
    assert_eq!(handshake["headers"]["x-client"], "cli", "{handshake}");
    assert!(handshake["headers"]["host"].is_string(), "{handshake}");
    assert_eq!(handshake["address"], "127.0.0.1", "{handshake}");
    assert_eq!(handshake["xdomain"], false, "{handshake}");
    assert_eq!(handshake["secure"], false, "{handshake}");
    assert!(
        handshake["issued"].as_u64().is_some_and(|t| t > 0),
        "{handshake}"
    );
    assert!(
        handshake["time"]
            .as_str()
            .is_some_and(|t| t.ends_with("GMT+0000 (Coordinated Universal Time)")),
        "{handshake}"
    );
    let url = handshake["url"].as_str().unwrap();
    assert!(
        url.starts_with("/io/?") && url.contains("tenant=acme"),
        "{handshake}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_fetch_sockets_returns_the_handshake_and_identity_of_helper_clients() {
    let key = random_key();
    let (io, state, url, _task) = helper_server(&key).await;
    let mut node = NodeProc::spawn("../server/redis-fetch.mjs", &[&redis_url(), &key]).await;
    node.wait_for(|v| v["type"] == "ready").await;
    // The script is ready once it listens, not once its adapter subscribed;
    // before that Node counts one server and fetchSockets() stays local.
    wait_server_count(&state, 2).await;
    let connect = |auth: Value, authenticate: bool| {
        json!({
            "cmd": "connect", "url": url, "path": "/io", "auth": auth,
            "query": {"tenant": "acme"}, "headers": {"x-client": "cli"},
            "authenticate": authenticate,
        })
    };

    // Connected, not authenticated yet: the handshake is there, no data.
    let pending = node.call(connect(json!({"device": 1}), false)).await;
    assert!(pending["error"].is_null(), "{pending}");
    let pending_id = pending["reply"]["id"].as_str().unwrap().to_owned();
    let sockets = node_fetch(&mut node, &pending_id).await;
    assert_eq!(sockets.len(), 1, "{sockets:?}");
    assert_eq!(sockets[0]["id"], pending_id.as_str());
    assert_node_handshake(&sockets[0]["handshake"], json!({"device": 1}));
    assert_eq!(sockets[0]["data"], Value::Null);

    // Authenticated: the identity is Node's `socket.data`.
    let accepted = node.call(connect(json!({"token": "good"}), true)).await;
    assert!(accepted["error"].is_null(), "{accepted}");
    let id = accepted["reply"]["id"].as_str().unwrap().to_owned();
    let sockets = node_fetch(&mut node, &id).await;
    assert_eq!(sockets.len(), 1, "{sockets:?}");
    let socket = &sockets[0];
    assert_eq!(socket["id"], id.as_str());
    assert_node_handshake(&socket["handshake"], json!({"token": "good"}));
    assert_eq!(
        socket["data"],
        json!({"identity": {"id": "user-good", "claims": {"role": "admin"}}})
    );
    let rooms = socket["rooms"].as_array().unwrap();
    assert!(
        rooms.contains(&json!(id)) && rooms.contains(&json!("io-default")),
        "{socket}"
    );
    // The whole default room: only the authenticated client is in it.
    let in_default = node_fetch(&mut node, "io-default").await;
    assert_eq!(in_default.len(), 1, "{in_default:?}");
    assert_eq!(in_default[0]["data"], socket["data"]);

    // Gone: Node no longer sees it.
    node.call(json!({"cmd": "disconnect"})).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while io.get_client(&id).is_some() {
        assert!(tokio::time::Instant::now() < deadline, "client never left");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(node_fetch(&mut node, &id).await.is_empty());
    io.shutdown().await;
}
