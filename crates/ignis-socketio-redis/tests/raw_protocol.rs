//! Hand-written Node-protocol frames published straight to Redis against one
//! socketioxide server with the adapter: what a Node peer would send, and exactly
//! what the Rust server answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use redis::AsyncCommands;
use rmpv::Value as Mp;
use serde_json::json;

fn mp_map(entries: Vec<(&str, Mp)>) -> Mp {
    Mp::Map(entries.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

fn msgpack(value: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, value).unwrap();
    out
}

/// A decoded response: JSON, or msgpack turned into JSON.
fn decode(payload: &[u8]) -> serde_json::Value {
    if payload.first() == Some(&b'{') {
        serde_json::from_slice(payload).unwrap()
    } else {
        let value = rmpv::decode::read_value(&mut &payload[..]).unwrap();
        serde_json::to_value(&value).unwrap()
    }
}

struct Raw {
    publisher: redis::aio::MultiplexedConnection,
    responses: std::pin::Pin<Box<dyn futures_util::Stream<Item = redis::Msg> + Send>>,
    key: String,
}

impl Raw {
    async fn publish(&mut self, channel: &str, payload: Vec<u8>) {
        let _: i64 = self.publisher.publish(channel, payload).await.unwrap();
    }

    async fn request(&mut self, payload: Vec<u8>) {
        let channel = format!("{}-request#/#", self.key);
        self.publish(&channel, payload).await;
    }

    /// Every response carrying `request_id` within `window`.
    async fn responses_for(
        &mut self,
        request_id: &str,
        window: Duration,
    ) -> Vec<serde_json::Value> {
        let mut found = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, self.responses.next()).await {
            let value = decode(msg.get_payload_bytes());
            if value["requestId"] == json!(request_id) {
                found.push(value);
            }
        }
        found
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_server_answers_hand_written_node_requests_exactly() {
    let url = redis_url();
    let key = random_key();
    let server = start_rust_server(connect_state(&url, &key).await).await;
    server.state.on_server_side_emit("/", |ev| {
        if let Some(ack) = ev.ack {
            let args = ev.args.clone();
            tokio::spawn(async move { ack.send(json!({"echo": args})).await });
        }
    });
    let (mut client, cid) = NodeProc::client(&server.url(), "c").await;
    client
        .call(json!({"cmd": "emit", "event": "join", "args": ["room1"]}))
        .await;

    let redis_client = redis::Client::open(url.as_str()).unwrap();
    let publisher = redis_client
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut pubsub = redis_client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(format!("{key}-response#/#"))
        .await
        .unwrap();
    let mut raw = Raw {
        publisher,
        responses: Box::pin(pubsub.into_on_message()),
        key: key.clone(),
    };

    // One SUBSCRIBE (not PSUBSCRIBE) to the request channel per server.
    let (_, numsub): (String, usize) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(format!("{key}-request#/#"))
        .query_async(&mut raw.publisher)
        .await
        .unwrap();
    assert_eq!(numsub, 1);

    // ALL_ROOMS (JSON).
    raw.request(br#"{"uid":"NODEuid","requestId":"r1","type":1}"#.to_vec())
        .await;
    let answers = raw.responses_for("r1", Duration::from_millis(500)).await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    let rooms = answers[0]["rooms"].as_array().unwrap();
    assert!(rooms.contains(&json!(cid)) && rooms.contains(&json!("room1")));

    // BROADCAST (7, msgpack): exactly one CLIENT_COUNT, then one BROADCAST_ACK.
    let broadcast = |id: &str, rooms: Vec<Mp>| {
        msgpack(&mp_map(vec![
            ("uid", Mp::from("NODEuid")),
            ("requestId", Mp::from(id)),
            ("type", Mp::from(7)),
            (
                "packet",
                mp_map(vec![
                    ("type", Mp::from(2)),
                    ("data", Mp::Array(vec![Mp::from("ackme"), Mp::from(1)])),
                    ("nsp", Mp::from("/")),
                ]),
            ),
            (
                "opts",
                mp_map(vec![
                    ("rooms", Mp::Array(rooms)),
                    ("except", Mp::Array(vec![])),
                    ("flags", mp_map(vec![("timeout", Mp::from(2000))])),
                ]),
            ),
        ]))
    };
    raw.request(broadcast("r2", vec![])).await;
    let answers = raw.responses_for("r2", Duration::from_millis(800)).await;
    let counts: Vec<_> = answers.iter().filter(|a| a["type"] == json!(8)).collect();
    let acks: Vec<_> = answers.iter().filter(|a| a["type"] == json!(9)).collect();
    assert_eq!(counts.len(), 1, "{answers:?}");
    assert_eq!(counts[0]["clientCount"], json!(1));
    assert_eq!(acks.len(), 1, "{answers:?}");
    assert_eq!(acks[0]["packet"], json!("ack-from-c"));
    assert_eq!(client.event("ackme").await, json!([1]));
    // ... and a count of 0 when no local socket matches.
    raw.request(broadcast("r3", vec![Mp::from("nobody-here")]))
        .await;
    let answers = raw.responses_for("r3", Duration::from_millis(500)).await;
    assert_eq!(
        answers,
        vec![json!({"type": 8, "requestId": "r3", "clientCount": 0})]
    );

    // Legacy SOCKETS (0).
    raw.request(
        serde_json::to_vec(
            &json!({"uid": "NODEuid", "requestId": "r4", "type": 0, "rooms": ["room1"]}),
        )
        .unwrap(),
    )
    .await;
    let answers = raw.responses_for("r4", Duration::from_millis(500)).await;
    assert_eq!(answers, vec![json!({"requestId": "r4", "sockets": [cid]})]);

    // REMOTE_JOIN sent as msgpack is applied (requests are sniffed), and the
    // legacy sid form is answered with {requestId}.
    raw.request(msgpack(&mp_map(vec![
        ("uid", Mp::from("NODEuid")),
        ("type", Mp::from(2)),
        (
            "opts",
            mp_map(vec![
                ("rooms", Mp::Array(vec![Mp::from(cid.as_str())])),
                ("except", Mp::Array(vec![])),
            ]),
        ),
        ("rooms", Mp::Array(vec![Mp::from("packed-room")])),
    ])))
    .await;
    raw.request(
        serde_json::to_vec(&json!({"uid": "NODEuid", "requestId": "r6", "type": 2, "sid": cid, "room": "legacy-room"}))
            .unwrap(),
    )
    .await;
    let answers = raw.responses_for("r6", Duration::from_millis(500)).await;
    assert_eq!(answers, vec![json!({"requestId": "r6"})]);
    let fetch = json!({"uid": "NODEuid", "requestId": "r7", "type": 5, "opts": {"rooms": ["packed-room"], "except": []}});
    raw.request(serde_json::to_vec(&fetch).unwrap()).await;
    let answers = raw.responses_for("r7", Duration::from_millis(500)).await;
    assert_eq!(answers.len(), 1);
    let socket = &answers[0]["sockets"][0];
    assert_eq!(socket["id"], json!(cid));
    let mut rooms: Vec<String> = serde_json::from_value(socket["rooms"].clone()).unwrap();
    rooms.sort();
    let mut expected = vec![
        cid.clone(),
        "legacy-room".into(),
        "packed-room".into(),
        "room1".into(),
    ];
    expected.sort();
    assert_eq!(rooms, expected);
    assert_eq!(socket["data"], json!({"user": format!("rust-{cid}")}));
    assert!(socket["handshake"]["headers"].is_object());

    // SERVER_SIDE_EMIT with requestId: answered once, type 6, on the generic channel.
    raw.request(
        serde_json::to_vec(
            &json!({"uid": "NODEuid", "requestId": "r8", "type": 6, "data": ["ev", {"a": 1}]}),
        )
        .unwrap(),
    )
    .await;
    let answers = raw.responses_for("r8", Duration::from_millis(500)).await;
    assert_eq!(
        answers,
        vec![json!({"type": 6, "requestId": "r8", "data": {"echo": [{"a": 1}]}})]
    );

    // A foreign broadcast without nsp or flags reaches the client; one for
    // another namespace on this channel is dropped.
    let foreign = |event: &str, nsp: Option<&str>| {
        let mut packet = vec![
            ("type", Mp::from(2)),
            (
                "data",
                Mp::Array(vec![Mp::from(event), Mp::Binary(vec![7])]),
            ),
        ];
        if let Some(nsp) = nsp {
            packet.push(("nsp", Mp::from(nsp)));
        }
        msgpack(&Mp::Array(vec![
            Mp::from("FOREIGNuid"),
            mp_map(packet),
            mp_map(vec![
                ("rooms", Mp::Array(vec![])),
                ("except", Mp::Array(vec![])),
            ]),
        ]))
    };
    let channel = format!("{key}#/#");
    raw.publish(&channel, foreign("other-nsp", Some("/admin")))
        .await;
    raw.publish(&channel, foreign("no-nsp", None)).await;
    assert_eq!(client.event("no-nsp").await, json!([{"bin": [7]}]));
    assert!(!client.saw_event("other-nsp"));
    server.state.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specific_response_channel_option_answers_on_the_requester_channel() {
    let url = redis_url();
    let key = random_key();
    let mut config: ignis_socketio_redis::RedisConfig = url.parse().unwrap();
    config = config.key(&key);
    config.publish_on_specific_response_channel = true;
    let state = ignis_socketio_redis::RedisAdapterState::connect(config)
        .await
        .unwrap();
    let server = start_rust_server(state).await;
    let redis_client = redis::Client::open(url.as_str()).unwrap();
    let publisher = redis_client
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut pubsub = redis_client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(format!("{key}-response#/#NODEuid#"))
        .await
        .unwrap();
    let mut raw = Raw {
        publisher,
        responses: Box::pin(pubsub.into_on_message()),
        key: key.clone(),
    };
    raw.request(br#"{"uid":"NODEuid","requestId":"s1","type":1}"#.to_vec())
        .await;
    let answers = raw.responses_for("s1", Duration::from_millis(500)).await;
    assert_eq!(answers, vec![json!({"requestId": "s1", "rooms": []})]);
    server.state.close().await;
}

/// Node's `io.in(undefined)` publishes `rooms: [null]` and matches no socket;
/// the Rust server must not read that as "every socket" (found by the mixed-fleet
/// interop suite: a disconnect of an undefined id disconnected everyone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_list_without_a_usable_name_targets_no_socket() {
    let url = redis_url();
    let key = random_key();
    let server = start_rust_server(connect_state(&url, &key).await).await;
    let (mut client, cid) = NodeProc::client(&server.url(), "c").await;

    let redis_client = redis::Client::open(url.as_str()).unwrap();
    let publisher = redis_client
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut pubsub = redis_client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(format!("{key}-response#/#"))
        .await
        .unwrap();
    let mut raw = Raw {
        publisher,
        responses: Box::pin(pubsub.into_on_message()),
        key: key.clone(),
    };
    let nothing = json!({"rooms": [null], "except": []});
    let request = |value: serde_json::Value| serde_json::to_vec(&value).unwrap();

    // Join, leave and disconnect aimed at no socket change nothing.
    raw.request(request(
        json!({"uid": "NODEuid", "type": 2, "opts": nothing, "rooms": ["wrongly-joined"]}),
    ))
    .await;
    raw.request(request(
        json!({"uid": "NODEuid", "type": 4, "opts": nothing, "close": true}),
    ))
    .await;
    // Fetch and legacy SOCKETS aimed at no socket answer an empty list.
    raw.request(request(
        json!({"uid": "NODEuid", "requestId": "f1", "type": 5, "opts": nothing}),
    ))
    .await;
    assert_eq!(
        raw.responses_for("f1", Duration::from_millis(500)).await,
        vec![json!({"requestId": "f1", "sockets": []})]
    );
    raw.request(request(
        json!({"uid": "NODEuid", "requestId": "s1", "type": 0, "rooms": [null]}),
    ))
    .await;
    assert_eq!(
        raw.responses_for("s1", Duration::from_millis(500)).await,
        vec![json!({"requestId": "s1", "sockets": []})]
    );
    // A broadcast with acks aimed at no socket counts 0 clients.
    raw.request(msgpack(&mp_map(vec![
        ("uid", Mp::from("NODEuid")),
        ("requestId", Mp::from("b1")),
        ("type", Mp::from(7)),
        (
            "packet",
            mp_map(vec![
                ("type", Mp::from(2)),
                ("data", Mp::Array(vec![Mp::from("not-for-anyone")])),
                ("nsp", Mp::from("/")),
            ]),
        ),
        (
            "opts",
            mp_map(vec![
                ("rooms", Mp::Array(vec![Mp::Nil])),
                ("except", Mp::Array(vec![])),
                ("flags", mp_map(vec![("timeout", Mp::from(1000))])),
            ]),
        ),
    ])))
    .await;
    assert_eq!(
        raw.responses_for("b1", Duration::from_millis(500)).await,
        vec![json!({"type": 8, "requestId": "b1", "clientCount": 0})]
    );
    // A plain broadcast aimed at no socket is not delivered; the next one is.
    let broadcast = |event: &str, rooms: Vec<Mp>| {
        msgpack(&Mp::Array(vec![
            Mp::from("FOREIGNuid"),
            mp_map(vec![
                ("type", Mp::from(2)),
                ("data", Mp::Array(vec![Mp::from(event)])),
                ("nsp", Mp::from("/")),
            ]),
            mp_map(vec![
                ("rooms", Mp::Array(rooms)),
                ("except", Mp::Array(vec![])),
            ]),
        ]))
    };
    let channel = format!("{key}#/#");
    raw.publish(
        &channel,
        broadcast("to-nobody", vec![Mp::Nil, Mp::Boolean(true)]),
    )
    .await;
    raw.publish(&channel, broadcast("to-everyone", vec![]))
        .await;
    assert_eq!(client.event("to-everyone").await, json!([]));
    assert!(!client.saw_event("not-for-anyone"));
    assert!(!client.saw_event("to-nobody"));

    // The client is still connected and did not join anything.
    let fetch = json!({"uid": "NODEuid", "requestId": "f2", "type": 5, "opts": {"rooms": [cid], "except": []}});
    raw.request(request(fetch)).await;
    let answers = raw.responses_for("f2", Duration::from_millis(500)).await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["sockets"][0]["id"], json!(cid));
    assert_eq!(answers[0]["sockets"][0]["rooms"], json!([cid]));
    assert!(!client.saw_event("disconnected"));
    server.state.close().await;
}
