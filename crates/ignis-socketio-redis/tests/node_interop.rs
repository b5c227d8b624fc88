//! A mixed cluster on one Redis: a socketioxide server with our adapter, a Node
//! socket.io 4.8 server with `@socket.io/redis-adapter` 8.3, a Node
//! `@socket.io/redis-emitter` 5.1 and our `RedisEmitter`. Each row of the protocol
//! table is checked in both directions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::*;
use ignis_socketio_engine::codec::Args;
use ignis_socketio_redis::{RedisConfig, RedisEmitter};
use serde_json::{Value, json};

struct Mixed {
    rust: RustServer,
    node: NodeProc,
    /// A client of the Rust server and a client of the Node server.
    cr: NodeProc,
    cr_id: String,
    cn: NodeProc,
    cn_id: String,
    key: String,
}

async fn mixed() -> Mixed {
    let url = redis_url();
    let key = random_key();
    let rust = start_rust_server(connect_state(&url, &key).await).await;
    let mut node = NodeProc::spawn("node-server.mjs", &[&url, &key]).await;
    let ready = node.wait_for(|v| v["type"] == "ready").await;
    let node_url = format!("http://127.0.0.1:{}", ready["port"]);
    wait_server_count(&rust.state, 2).await;
    let (cr, cr_id) = NodeProc::client(&rust.url(), "cr").await;
    let (cn, cn_id) = NodeProc::client(&node_url, "cn").await;
    Mixed {
        rust,
        node,
        cr,
        cr_id,
        cn,
        cn_id,
        key,
    }
}

async fn join(client: &mut NodeProc, room: &str) {
    let reply = client
        .call(json!({"cmd": "emit", "event": "join", "args": [room]}))
        .await;
    assert_eq!(reply["reply"], json!("joined"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_rooms_and_except_cross_between_node_and_rust() {
    let Mixed {
        rust,
        mut node,
        mut cr,
        cr_id,
        mut cn,
        cn_id,
        ..
    } = mixed().await;
    join(&mut cr, "both").await;
    join(&mut cn, "both").await;
    join(&mut cn, "node-only").await;

    // Node -> Rust: everyone, with binary inline.
    node.call(json!({"cmd": "emit", "event": "n-all", "args": ["x", {"bin": [1, 2, 3]}]}))
        .await;
    assert_eq!(cr.event("n-all").await, json!(["x", {"bin": [1, 2, 3]}]));
    assert_eq!(cn.event("n-all").await, json!(["x", {"bin": [1, 2, 3]}]));
    // Rust -> Node: everyone, tuple args and bytes.
    rust.io
        .emit("r-all", &("hello", bytes::Bytes::from_static(&[4, 5])))
        .await
        .unwrap();
    assert_eq!(cn.event("r-all").await, json!(["hello", {"bin": [4, 5]}]));
    assert_eq!(cr.event("r-all").await, json!(["hello", {"bin": [4, 5]}]));

    // Rooms both ways.
    node.call(json!({"cmd": "emit", "rooms": ["both"], "event": "n-room", "args": [1]}))
        .await;
    assert_eq!(cr.event("n-room").await, json!([1]));
    rust.io.to("node-only").emit("r-room", &2).await.unwrap();
    assert_eq!(cn.event("r-room").await, json!([2]));
    // Sockets by id (own-id rooms) both ways.
    node.call(json!({"cmd": "emit", "rooms": [cr_id], "event": "n-to-id", "args": []}))
        .await;
    cr.event("n-to-id").await;
    rust.io
        .to(cn_id.clone())
        .emit("r-to-id", &())
        .await
        .unwrap();
    cn.event("r-to-id").await;

    // Except both ways, checked with a later marker from the same publisher.
    node.call(json!({"cmd": "emit", "except": [cr_id], "event": "n-except", "args": []}))
        .await;
    node.call(json!({"cmd": "emit", "event": "n-marker", "args": []}))
        .await;
    cr.event("n-marker").await;
    assert!(!cr.saw_event("n-except"));
    cn.event("n-except").await;
    rust.io
        .except("node-only")
        .emit("r-except", &())
        .await
        .unwrap();
    rust.io.emit("r-marker", &()).await.unwrap();
    cn.event("r-marker").await;
    assert!(!cn.saw_event("r-except"));
    cr.event("r-except").await;
    // A Node socket's socket.broadcast reaches Rust clients, excluding the sender.
    cn.call(json!({"cmd": "emit", "event": "broadcast", "args": ["from-cn", "v"]}))
        .await;
    assert_eq!(cr.event("from-cn").await, json!(["v"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_emitter_and_rust_emitter_reach_both_kinds_of_server() {
    let Mixed {
        rust: _rust,
        node: _node,
        mut cr,
        cr_id,
        mut cn,
        cn_id,
        key,
    } = mixed().await;
    join(&mut cr, "both").await;
    join(&mut cn, "both").await;
    let mut node_emitter = NodeProc::spawn("emitter.mjs", &[&redis_url(), &key]).await;
    node_emitter.wait_for(|v| v["type"] == "ready").await;
    let rust_emitter = RedisEmitter::connect(redis_url().parse::<RedisConfig>().unwrap().key(&key))
        .await
        .unwrap();

    // Node emitter -> Rust server.
    node_emitter
        .call(json!({"cmd": "emit", "rooms": ["both"], "event": "ne", "args": [{"bin": [9]}, 1.5]}))
        .await;
    assert_eq!(cr.event("ne").await, json!([{"bin": [9]}, 1.5]));
    assert_eq!(cn.event("ne").await, json!([{"bin": [9]}, 1.5]));
    node_emitter
        .call(json!({"cmd": "join", "rooms": [cr_id], "room": "ne-joined"}))
        .await;
    node_emitter
        .call(json!({"cmd": "emit", "rooms": ["ne-joined"], "event": "ne-room", "args": []}))
        .await;
    cr.event("ne-room").await;

    // Rust emitter -> Node and Rust servers: room, except, volatile, binary.
    rust_emitter
        .to("both")
        .except(cr_id.clone())
        .emit("re", &("a", serde_json::json!({"n": [1, null]})))
        .await
        .unwrap();
    assert_eq!(cn.event("re").await, json!(["a", {"n": [1, null]}]));
    rust_emitter
        .volatile()
        .compress(true)
        .emit("re-all", &bytes::Bytes::from_static(&[7]))
        .await
        .unwrap();
    assert_eq!(cr.event("re-all").await, json!([{"bin": [7]}]));
    assert_eq!(cn.event("re-all").await, json!([{"bin": [7]}]));
    assert!(!cr.saw_event("re"), "cr was excluded");
    // Rust emitter joins and leaves sockets on both servers.
    rust_emitter
        .in_(vec![cr_id.clone(), cn_id.clone()])
        .sockets_join("re-joined")
        .await
        .unwrap();
    rust_emitter
        .to("re-joined")
        .emit("re-room", &1)
        .await
        .unwrap();
    cr.event("re-room").await;
    cn.event("re-room").await;
    rust_emitter.sockets_leave("re-joined").await.unwrap();
    rust_emitter
        .to("re-joined")
        .emit("re-room-2", &1)
        .await
        .unwrap();
    rust_emitter.emit("re-marker", &1).await.unwrap();
    cr.event("re-marker").await;
    cn.event("re-marker").await;
    assert!(!cr.saw_event("re-room-2") && !cn.saw_event("re-room-2"));
    // Reserved names are a typed error.
    assert!(matches!(
        rust_emitter.emit("connect", &1).await,
        Err(ignis_socketio_redis::RedisAdapterError::ReservedEvent(_))
    ));
    // Emitter disconnects, on the Rust server and the Node server.
    rust_emitter
        .in_(cn_id.clone())
        .disconnect_sockets(false)
        .await
        .unwrap();
    cn.wait_for(|v| v["type"] == "disconnected").await;
    node_emitter
        .call(json!({"cmd": "disconnect", "rooms": [cr_id]}))
        .await;
    cr.wait_for(|v| v["type"] == "disconnected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_fetch_rooms_sse_and_acks_work_both_ways() {
    let Mixed {
        rust,
        mut node,
        mut cr,
        cr_id,
        mut cn,
        cn_id,
        key,
    } = mixed().await;
    join(&mut cr, "rust-room").await;
    join(&mut cn, "node-room").await;

    // fetchSockets: Node sees the Rust socket with rooms, data and a handshake.
    let fetched = node.call(json!({"cmd": "fetchSockets"})).await;
    let mine = fetched["reply"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == json!(cr_id))
        .cloned()
        .unwrap_or_else(|| panic!("Rust socket missing: {fetched}"));
    let mut rooms = vec![cr_id.clone(), "rust-room".to_owned()];
    rooms.sort();
    assert_eq!(mine["rooms"], json!(rooms));
    assert_eq!(mine["data"], json!({"user": format!("rust-{cr_id}")}));
    assert_eq!(mine["hasHandshake"], json!(true));
    // ... and Rust sees the Node socket (20-character id) with its data.
    let sockets = rust
        .state
        .fetch_sockets("/", vec!["node-room".into()], vec![])
        .await
        .unwrap();
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].id, cn_id);
    assert_eq!(sockets[0].data, json!({"user": format!("node-{cn_id}")}));
    assert!(sockets[0].rooms.contains(&"node-room".to_owned()));

    // allRooms both ways.
    let node_rooms = node.call(json!({"cmd": "allRooms"})).await;
    for room in [&cr_id, &"rust-room".to_owned(), &cn_id] {
        assert!(
            node_rooms["reply"]
                .as_array()
                .unwrap()
                .contains(&json!(room)),
            "{room} not in {node_rooms}"
        );
    }
    let rust_rooms = rust.state.all_rooms("/").await.unwrap();
    assert!(rust_rooms.contains(&"node-room".to_owned()) && rust_rooms.contains(&cr_id));

    // Remote join/leave/disconnect requests from Node apply on Rust, and back.
    node.call(json!({"cmd": "join", "rooms": [cr_id], "room": "from-node"}))
        .await;
    rust.io.to(cn_id.clone()).join("from-rust").await.unwrap();
    // Node broadcasts to its local sockets before it reads its subscriber, so wait
    // until the join has been applied there.
    let mut applied = false;
    for _ in 0..50 {
        let found = node
            .call(json!({"cmd": "fetchSockets", "rooms": ["from-rust"]}))
            .await;
        if found["reply"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s["id"] == json!(cn_id)))
        {
            applied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(applied, "REMOTE_JOIN from Rust never applied on Node");
    node.call(
        json!({"cmd": "emit", "rooms": ["from-node", "from-rust"], "event": "joined", "args": []}),
    )
    .await;
    cr.event("joined").await;
    cn.event("joined").await;
    node.call(json!({"cmd": "leave", "rooms": [cr_id], "room": "from-node"}))
        .await;
    rust.io.to(cn_id.clone()).leave("from-rust").await.unwrap();
    rust.io
        .to(vec!["from-node", "from-rust"])
        .emit("left", &())
        .await
        .unwrap();
    rust.io.emit("left-marker", &()).await.unwrap();
    cr.event("left-marker").await;
    cn.event("left-marker").await;
    assert!(!cr.saw_event("left") && !cn.saw_event("left"));

    // serverSideEmit, without and with ack, both ways (and from the Node emitter).
    let received = Arc::new(std::sync::Mutex::new(Vec::<(String, Vec<Value>)>::new()));
    {
        let received = received.clone();
        rust.state.on_server_side_emit("/", move |ev| {
            received
                .lock()
                .unwrap()
                .push((ev.event.clone(), ev.args.clone()));
            if let Some(ack) = ev.ack {
                tokio::spawn(async move { ack.send(json!({"fromRust": true})).await });
            }
        });
    }
    node.call(json!({"cmd": "sse", "event": "sse", "args": [1, {"x": 2}]}))
        .await;
    let answers = node
        .call(json!({"cmd": "sseWithAck", "event": "sse", "args": [3]}))
        .await;
    assert_eq!(answers["reply"], json!([{"fromRust": true}]), "{answers}");
    let mut emitter = NodeProc::spawn("emitter.mjs", &[&redis_url(), &key]).await;
    emitter.wait_for(|v| v["type"] == "ready").await;
    emitter
        .call(json!({"cmd": "sse", "event": "sse", "args": ["from-emitter"]}))
        .await;
    let from_rust = rust
        .state
        .server_side_emit_with_ack("/", "sse", vec![json!(4)])
        .await
        .unwrap();
    assert_eq!(from_rust, vec![json!({"fromNode": true, "got": [4]})]);
    rust.state
        .server_side_emit("/", "sse", vec![json!("no-ack")])
        .await
        .unwrap();
    node.wait_for(|v| v["type"] == "sse" && v["args"] == json!(["no-ack"]))
        .await;
    for _ in 0..50 {
        if received.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = received.lock().unwrap().clone();
    assert!(received.contains(&("sse".to_owned(), vec![json!(1), json!({"x": 2})])));
    assert!(received.contains(&("sse".to_owned(), vec![json!(3)])));
    assert!(received.contains(&("sse".to_owned(), vec![json!("from-emitter")])));

    // Broadcast with acks: Node waits for the Rust server's client count and acks.
    let acks = node
        .call(json!({"cmd": "emitWithAck", "timeout": 3000, "event": "ackme", "args": [42]}))
        .await;
    let mut got: Vec<String> =
        serde_json::from_value(acks["reply"].clone()).unwrap_or_else(|_| panic!("no acks: {acks}"));
    got.sort();
    assert_eq!(got, ["ack-from-cn", "ack-from-cr"]);
    // A room with no socket on the Rust server: it must still answer clientCount 0.
    let acks = node
        .call(json!({"cmd": "emitWithAck", "rooms": ["node-room"], "timeout": 3000, "event": "ackme", "args": []}))
        .await;
    assert_eq!(acks["reply"], json!(["ack-from-cn"]), "{acks}");
    // Rust waits for the Node server's acks.
    let acks = rust
        .io
        .all()
        .emit_with_ack("ackme", &Args::json(vec![json!(7)]), Duration::from_secs(3))
        .await
        .unwrap();
    let mut got: Vec<String> = acks
        .into_iter()
        .map(|(_, r)| r.unwrap().values[0].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    assert_eq!(got, ["ack-from-cn", "ack-from-cr"]);

    // Remote disconnect both ways.
    node.call(json!({"cmd": "disconnect", "rooms": [cr_id]}))
        .await;
    cr.wait_for(|v| v["type"] == "disconnected").await;
    rust.io.to(cn_id.clone()).disconnect().await.unwrap();
    cn.wait_for(|v| v["type"] == "disconnected").await;
}
