//! Three socketioxide servers with the Redis adapter on one Redis, driven by Node
//! socket.io-client processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::*;
use ignis_socketio_engine::codec::Args;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_rust_servers_share_broadcasts_rooms_acks_and_requests() {
    let url = redis_url();
    let key = random_key();
    let s1 = start_rust_server(connect_state(&url, &key).await).await;
    let s2 = start_rust_server(connect_state(&url, &key).await).await;
    let s3 = start_rust_server(connect_state(&url, &key).await).await;
    wait_server_count(&s1.state, 3).await;

    let (mut c1, id1) = NodeProc::client(&s1.url(), "c1").await;
    let (mut c2, id2) = NodeProc::client(&s2.url(), "c2").await;
    let (mut c3, id3) = NodeProc::client(&s3.url(), "c3").await;
    for c in [&mut c1, &mut c3] {
        let reply = c
            .call(json!({"cmd": "emit", "event": "join", "args": ["room"]}))
            .await;
        assert_eq!(reply["reply"], json!("joined"));
    }

    // A room broadcast from the server that has none of the room's sockets.
    s2.io.to("room").emit("to-room", &("hi", 1)).await.unwrap();
    assert_eq!(c1.event("to-room").await, json!(["hi", 1]));
    assert_eq!(c3.event("to-room").await, json!(["hi", 1]));
    // Everyone, with binary data.
    s3.io
        .emit("all", &bytes::Bytes::from_static(&[1, 2, 3]))
        .await
        .unwrap();
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("all").await, json!([{"bin": [1, 2, 3]}]));
    }
    assert!(!c2.saw_event("to-room"), "c2 is not in the room");

    // socket.broadcast from c1 reaches the others, not c1.
    c1.call(json!({"cmd": "emit", "event": "broadcast", "args": ["from-c1", {"k": 1}]}))
        .await;
    assert_eq!(c2.event("from-c1").await, json!([{"k": 1}]));
    assert_eq!(c3.event("from-c1").await, json!([{"k": 1}]));
    // Except by socket id (the own-id room).
    s1.io.except(id2.clone()).emit("not-c2", &()).await.unwrap();
    s1.io.emit("marker", &()).await.unwrap();
    c2.event("marker").await;
    assert!(!c2.saw_event("not-c2"));
    assert!(!c1.saw_event("from-c1"));
    c3.event("not-c2").await;

    // Broadcast with acks across servers.
    let acks = s1
        .io
        .all()
        .emit_with_ack("ackme", &Args::json(vec![json!(1)]), Duration::from_secs(3))
        .await
        .unwrap();
    let mut got: Vec<String> = acks
        .into_iter()
        .map(|(_, r)| r.unwrap().values[0].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    assert_eq!(got, ["ack-from-c1", "ack-from-c2", "ack-from-c3"]);

    // Remote join by socket id, then a room broadcast.
    s2.io.to(id3.clone()).join("joined-remotely").await.unwrap();
    s1.io
        .to("joined-remotely")
        .emit("remote-join", &())
        .await
        .unwrap();
    c3.event("remote-join").await;

    // fetchSockets and allRooms with string ids, handshake and data.
    let sockets = s2.state.fetch_sockets("/", vec![], vec![]).await.unwrap();
    let mut ids: Vec<String> = sockets.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    let mut expected = vec![id1.clone(), id2.clone(), id3.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let c3_info = sockets.iter().find(|s| s.id == id3).unwrap();
    assert!(c3_info.rooms.contains(&id3) && c3_info.rooms.contains(&"joined-remotely".to_owned()));
    assert_eq!(c3_info.data, json!({"user": format!("rust-{id3}")}));
    assert!(c3_info.handshake["url"].as_str().unwrap().contains("EIO=4"));
    let rooms = s1.state.all_rooms("/").await.unwrap();
    for room in [&id1, &id2, &id3, &"room".to_owned()] {
        assert!(rooms.contains(room), "{room} missing from {rooms:?}");
    }
    // The engine's fetch_sockets sees the Rust sockets of every server, and
    // operations on one socket reach it through its own-id room.
    let all = s3.io.all().fetch_sockets().await.unwrap();
    assert_eq!(all.len(), 3);
    let remote_c1 = s2.io.to(id1.clone());
    remote_c1.emit("remote-socket", &"x").await.unwrap();
    assert_eq!(c1.event("remote-socket").await, json!(["x"]));
    remote_c1.join("remote-socket-room").await.unwrap();
    let found = remote_c1.fetch_sockets().await.unwrap();
    assert_eq!(found.len(), 1);
    let mut rooms = found[0].rooms.clone();
    rooms.sort();
    let mut expected_rooms = vec![id1.clone(), "remote-socket-room".into(), "room".into()];
    expected_rooms.sort();
    assert_eq!(rooms, expected_rooms);
    let acks = remote_c1
        .emit_with_ack("remote-ack", &Args::default(), Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(
        acks[0].1.as_ref().unwrap().values,
        vec![json!("ack-from-c1")]
    );

    // Server-side emit with and without ack.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    for s in [&s2, &s3] {
        let seen = seen.clone();
        s.state.on_server_side_emit("/", move |ev| {
            seen.lock()
                .unwrap()
                .push((ev.event.clone(), ev.args.clone()));
            if let Some(ack) = ev.ack {
                tokio::spawn(async move { ack.send(json!("pong")).await });
            }
        });
    }
    let answers = s1
        .state
        .server_side_emit_with_ack("/", "ping", vec![json!(1)])
        .await
        .unwrap();
    assert_eq!(answers, vec![json!("pong"), json!("pong")]);
    assert!(matches!(
        s1.state.server_side_emit("/", "disconnect", vec![]).await,
        Err(ignis_socketio_redis::RedisAdapterError::ReservedEvent(_))
    ));

    // Remote disconnect.
    s1.io.to(id2.clone()).disconnect().await.unwrap();
    c2.wait_for(|v| v["type"] == "disconnected").await;
    assert_eq!(seen.lock().unwrap().len(), 2);
    for s in [&s1, &s2, &s3] {
        s.state.close().await;
        assert!(!s.state.is_healthy());
    }
}

/// One client's 10 000 events, each handled by a handler that awaits 0-2 ms
/// and relays it through Redis to a member on another server: all arrive, in
/// order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_of_one_client_reach_another_server_in_order() {
    const COUNT: u64 = 10_000;
    let url = redis_url();
    let key = random_key();
    let s1 = start_rust_server(connect_state(&url, &key).await).await;
    let s2 = start_rust_server(connect_state(&url, &key).await).await;
    wait_server_count(&s1.state, 2).await;
    let (mut sender, _) = NodeProc::client(&s1.url(), "sender").await;
    let (mut member, _) = NodeProc::client(&s2.url(), "member").await;
    let joined = member
        .call(json!({"cmd": "emit", "event": "join", "args": ["relay"]}))
        .await;
    assert_eq!(joined["reply"], json!("joined"));
    sender
        .call(json!({"cmd": "burst", "event": "relay", "count": COUNT}))
        .await;
    let mut inversions = 0;
    let mut last = None;
    for _ in 0..COUNT {
        let args = member.event("relayed").await;
        let n = args[0].as_u64().unwrap();
        if last.is_some_and(|l| n < l) {
            inversions += 1;
        }
        last = Some(n);
    }
    assert_eq!(inversions, 0, "events out of order");
    assert_eq!(last, Some(COUNT - 1));
}
