//! Rooms (docs/protocol.md "Rooms"): validation, protected rooms, malformed payloads, limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::{
    JoinRequest, RoomLimits, ServerError, ServerOptions, Target, UNAUTHENTICATED_ROOM,
};
use serde_json::{Value, json};

fn reasons(ack: &Value) -> Vec<(String, String)> {
    ack["rejected"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| {
                    (
                        r["room"]
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| r["room"].to_string()),
                        r["reason"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn public_only() -> ignis_socketio_server::ServerBuilder {
    // Returns more than allowed, including rooms never requested.
    builder().validate_rooms(|req: JoinRequest| async move {
        let mut allowed: Vec<String> = req
            .rooms
            .iter()
            .filter(|r| r.starts_with("public-"))
            .cloned()
            .collect();
        allowed.push("admin".to_owned());
        allowed.push(UNAUTHENTICATED_ROOM.to_owned());
        allowed
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_keeps_only_rooms_both_requested_and_allowed() {
    let server = TestServer::start(public_only()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    let ack = d
        .emit_ack(
            "a",
            "join",
            json!([{"rooms": ["public-1", "secret", "public-2"]}]),
        )
        .await;
    assert_eq!(ack["joined"], json!(["public-1", "public-2"]), "{ack}");
    assert_eq!(
        reasons(&ack),
        vec![("secret".to_owned(), "not_allowed".to_owned())]
    );
    let rooms = server.io.get_client(&id).unwrap().rooms;
    assert!(rooms.contains(&"public-1".to_owned()) && rooms.contains(&"public-2".to_owned()));
    assert!(
        !rooms.contains(&"admin".to_owned()),
        "returned but never requested: {rooms:?}"
    );
    assert!(!rooms.contains(&"secret".to_owned()));

    // Joined rooms receive sends.
    server
        .io
        .send(Target::room("public-2"), "news", &json!("hi"))
        .await
        .unwrap();
    assert_eq!(d.wait_event("a", "news").await["data"], "hi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_without_validator_is_refused() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    let ack = d
        .emit_ack("a", "join", json!([{"rooms": ["r1", "r2"]}]))
        .await;
    assert_eq!(ack["joined"], json!([]));
    assert_eq!(
        reasons(&ack),
        vec![
            ("r1".into(), "not_allowed".into()),
            ("r2".into(), "not_allowed".into())
        ]
    );
    // Without an ack too: nothing joined.
    d.emit("a", "join", json!([{"rooms": ["r3"]}])).await;
    let again = d.emit_ack("a", "join", json!([{"rooms": []}])).await;
    assert_eq!(again["joined"], json!([]));
    let rooms = server.io.get_client(&id).unwrap().rooms;
    assert_eq!(rooms.len(), 3, "own id + default rooms only: {rooms:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_cannot_remove_own_id_room_nor_default_rooms() {
    let server = TestServer::start(public_only()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "polling").await;
    d.emit_ack("a", "join", json!([{"rooms": ["public-x"]}]))
        .await;
    let ack = d
        .emit_ack(
            "a",
            "leave",
            json!([{"rooms": [id, "io-default", "io-notification", UNAUTHENTICATED_ROOM, "public-x"]}]),
        )
        .await;
    assert_eq!(ack["left"], json!(["public-x"]), "{ack}");
    let rejected = reasons(&ack);
    assert_eq!(rejected.len(), 4, "{ack}");
    assert!(
        rejected.iter().all(|(_, reason)| reason == "protected"),
        "{ack}"
    );

    let mut expected = vec![
        id.clone(),
        "io-default".to_owned(),
        "io-notification".to_owned(),
    ];
    expected.sort();
    assert_eq!(server.io.get_client(&id).unwrap().rooms, expected);
    // Still reachable through its id and the default rooms.
    server
        .io
        .send(Target::socket(&id), "direct", &1)
        .await
        .unwrap();
    server
        .io
        .send(Target::room("io-default"), "room", &2)
        .await
        .unwrap();
    d.wait_event("a", "direct").await;
    d.wait_event("a", "room").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_room_cannot_be_joined() {
    let server = TestServer::start(public_only()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    let ack = d
        .emit_ack("a", "join", json!([{"rooms": [UNAUTHENTICATED_ROOM]}]))
        .await;
    assert_eq!(
        reasons(&ack),
        vec![(UNAUTHENTICATED_ROOM.to_owned(), "protected".to_owned())]
    );
    let err = server.io.join_rooms(&id, [UNAUTHENTICATED_ROOM]).unwrap();
    assert_eq!(err.joined, Vec::<String>::new());
    // Broadcasts still reach it: it is not in the internal room.
    server.io.send(Target::all(), "all", &true).await.unwrap();
    assert_eq!(d.wait_event("a", "all").await["data"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_room_payloads_are_refused_and_server_keeps_serving() {
    let server = TestServer::start(public_only()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    let long = "x".repeat(300);
    let thousands: Vec<String> = (0..5000).map(|i| format!("public-{i}")).collect();

    // Refused whole, with an error body.
    for (payload, code) in [
        (json!([null]), "invalid_payload"),
        (json!(["x"]), "invalid_payload"),
        (json!([{"rooms": "x"}]), "invalid_payload"),
        (json!([{"rooms": null}]), "invalid_payload"),
        (json!([42]), "invalid_payload"),
        (json!([]), "invalid_payload"),
        (json!([{"rooms": thousands}]), "too_many_rooms"),
    ] {
        for event in ["join", "leave"] {
            let ack = d.emit_ack("a", event, payload.clone()).await;
            assert_eq!(ack["error"]["code"], code, "{event} {payload}: {ack}");
            assert!(
                ack["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
            // The same without an ack must not break anything either.
            d.emit("a", event, payload.clone()).await;
        }
    }
    // Refused entry by entry.
    let ack = d
        .emit_ack(
            "a",
            "join",
            json!([{"rooms": [1, "", long, null, {"a": 1}, "public-ok", "public-ok"]}]),
        )
        .await;
    assert_eq!(ack["joined"], json!(["public-ok"]), "{ack}");
    let got: Vec<String> = reasons(&ack).into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        got,
        [
            "not_a_string",
            "empty",
            "too_long",
            "not_a_string",
            "not_a_string",
            "duplicate"
        ]
    );
    let echoed = ack["rejected"][2]["room"].as_str().unwrap();
    assert!(echoed.len() < 300, "overlong names are not echoed whole");
    let ack = d.emit_ack("a", "leave", json!([{"rooms": [7, ""]}])).await;
    assert_eq!(reasons(&ack).len(), 2);

    // The same client and others are still served.
    let mut expected = vec![
        id.clone(),
        "io-default".into(),
        "io-notification".into(),
        "public-ok".into(),
    ];
    expected.sort();
    assert_eq!(server.io.get_client(&id).unwrap().rooms, expected);
    d.connect_authenticated("b", &server, "polling").await;
    let ack = d
        .emit_ack("b", "join", json!([{"rooms": ["public-b"]}]))
        .await;
    assert_eq!(ack["joined"], json!(["public-b"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_limits_per_request_and_per_socket_hold() {
    let limits = RoomLimits {
        max_room_name_len: 16,
        max_rooms_per_request: 3,
        max_rooms_per_socket: 5,
    };
    let server = TestServer::start(public_only().options(ServerOptions {
        room_limits: limits,
        ..ServerOptions::default()
    }))
    .await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    let ack = d
        .emit_ack(
            "a",
            "join",
            json!([{"rooms": ["public-1", "public-2", "public-3", "public-4"]}]),
        )
        .await;
    assert_eq!(ack["error"]["code"], "too_many_rooms", "{ack}");
    let ack = d
        .emit_ack(
            "a",
            "join",
            json!([{"rooms": ["public-1", "public-2", "public-3"]}]),
        )
        .await;
    // Own id + 2 default rooms + 2 = 5 rooms.
    assert_eq!(ack["joined"], json!(["public-1", "public-2"]), "{ack}");
    assert_eq!(
        reasons(&ack),
        vec![("public-3".to_owned(), "socket_room_limit".to_owned())]
    );
    let ack = d
        .emit_ack("a", "join", json!([{"rooms": ["public-this-is-too-long"]}]))
        .await;
    assert_eq!(reasons(&ack)[0].1, "too_long");
    assert_eq!(server.io.get_client(&id).unwrap().rooms.len(), 5);
    // Server-side joins obey the same limit.
    let ack = server.io.join_rooms(&id, ["extra"]).unwrap();
    assert_eq!(ack.rejected.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_join_and_leave_by_client_id() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;

    // No validator configured, yet the server may join rooms on its own authority.
    let ack = server.io.join_rooms(&id, ["ops", "alerts"]).unwrap();
    assert_eq!(ack.joined, vec!["ops".to_owned(), "alerts".to_owned()]);
    server
        .io
        .send(Target::room("ops"), "ops", &"up")
        .await
        .unwrap();
    d.wait_event("a", "ops").await;

    let ack = server
        .io
        .leave_rooms(&id, ["ops", "io-default", id.as_str()])
        .unwrap();
    assert_eq!(ack.left, vec!["ops".to_owned()]);
    assert_eq!(ack.rejected.len(), 2);
    assert!(
        !server
            .io
            .get_client(&id)
            .unwrap()
            .rooms
            .contains(&"ops".to_owned())
    );

    assert!(
        matches!(server.io.join_rooms("unknown", ["x"]), Err(ServerError::UnknownClient(id)) if id == "unknown")
    );
    assert!(matches!(
        server.io.leave_rooms("unknown", ["x"]),
        Err(ServerError::UnknownClient(_))
    ));
    assert!(matches!(server.io.join_rooms(&id, [""]), Ok(ack) if ack.rejected.len() == 1));

    // An unauthenticated client cannot be put in rooms.
    d.connect("b", &server, json!({})).await;
    let pending = d.wait_type("b", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(matches!(
        server.io.join_rooms(&pending, ["ops"]),
        Err(ServerError::NotAuthenticated(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_queries_go_through_the_adapter() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let a = d.connect_authenticated("a", &server, "websocket").await;
    let b = d.connect_authenticated("b", &server, "polling").await;
    d.connect("pending", &server, json!({})).await;
    d.wait_type("pending", "connect").await;
    server.io.join_rooms(&a, ["red"]).unwrap();

    let mut all = server.io.fetch_socket_ids(Target::all()).await.unwrap();
    all.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(all, expected, "authenticated sockets only");
    assert_eq!(
        server
            .io
            .fetch_socket_ids(Target::room("red"))
            .await
            .unwrap(),
        vec![a.clone()]
    );

    let rooms = server.io.fetch_rooms().await.unwrap();
    for room in [
        "red",
        "io-default",
        "io-notification",
        a.as_str(),
        b.as_str(),
    ] {
        assert!(rooms.contains(&room.to_owned()), "{room} in {rooms:?}");
    }
    assert!(!rooms.contains(&UNAUTHENTICATED_ROOM.to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_room_validator_refuses_the_join_and_server_keeps_serving() {
    let server = TestServer::start(builder().validate_rooms(|req: JoinRequest| async move {
        if req.rooms.iter().any(|r| r == "boom") {
            panic!("validator exploded");
        }
        req.rooms
    }))
    .await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    let ack = d
        .emit_ack("a", "join", json!([{"rooms": ["boom", "fine"]}]))
        .await;
    assert_eq!(ack["joined"], json!([]), "{ack}");
    assert_eq!(ack["error"]["code"], "validator_failed", "{ack}");
    let ack = d.emit_ack("a", "join", json!([{"rooms": ["fine"]}])).await;
    assert_eq!(ack["joined"], json!(["fine"]), "{ack}");
    assert!(
        server
            .io
            .get_client(&id)
            .unwrap()
            .rooms
            .contains(&"fine".to_owned())
    );
}

/// A validator that keeps every requested room: the permissive default many
/// applications start with.
fn allow_all() -> ignis_socketio_server::ServerBuilder {
    builder().validate_rooms(|req: JoinRequest| async move { req.rooms })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_socket_s_id_room_cannot_be_joined_and_its_messages_reach_it_alone() {
    let server = TestServer::start(allow_all()).await;
    let mut d = Driver::spawn().await;
    let victim = d
        .connect_authenticated("victim", &server, "websocket")
        .await;
    let spy = d.connect_authenticated("spy", &server, "websocket").await;

    // Even a validator that keeps everything cannot grant it.
    let ack = d
        .emit_ack(
            "spy",
            "join",
            json!([{"rooms": [victim.as_str(), "lobby"]}]),
        )
        .await;
    assert_eq!(ack["joined"], json!(["lobby"]), "{ack}");
    assert_eq!(
        reasons(&ack),
        vec![(victim.clone(), "protected".to_owned())]
    );

    // Nor can the server put the spy there.
    let ack = server.io.join_rooms(&spy, [victim.as_str()]).unwrap();
    assert!(ack.joined.is_empty(), "{ack:?}");
    assert_eq!(ack.rejected.len(), 1);
    assert!(!server.io.get_client(&spy).unwrap().rooms.contains(&victim));

    server
        .io
        .send(Target::room(victim.as_str()), "dm", &"for the victim only")
        .await
        .unwrap();
    d.wait_event("victim", "dm").await;
    d.assert_none_within(
        "a direct message at the spy",
        std::time::Duration::from_millis(300),
        |line| line["name"] == "spy" && line["event"] == "dm",
    )
    .await;
}
