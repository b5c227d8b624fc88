//! Sending (docs/protocol.md "Sending from the server"): to everyone, rooms and sockets; falsy data; reserved names;
//! acknowledgements, except lists and binary payloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Driver, TestServer, builder};
use ignis_socketio_server::protocol::RESERVED_EVENTS;
use ignis_socketio_server::{AuthenticatedClient, Payload, ServerError, ServerOptions, Target};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_to_all_never_reaches_unauthenticated_clients() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("authed", &server, "websocket")
        .await;
    d.connect("pending", &server, json!({})).await;
    let pending = d.wait_type("pending", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.connect("pending-polling", &server, json!({"transport": "polling"}))
        .await;
    let pending_polling = d.wait_type("pending-polling", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    server
        .io
        .send(Target::all(), "news", &json!({"n": 1}))
        .await
        .unwrap();
    // A later direct send is a barrier: once it arrived, the broadcast would have too.
    server
        .io
        .send(Target::socket(&pending), "barrier", &1)
        .await
        .unwrap();
    server
        .io
        .send(Target::socket(&pending_polling), "barrier", &1)
        .await
        .unwrap();
    assert_eq!(
        d.wait_event("authed", "news").await["data"],
        json!({"n": 1})
    );
    d.wait_event("pending", "barrier").await;
    d.wait_event("pending-polling", "barrier").await;
    assert!(d.events("pending", "news").is_empty());
    assert!(d.events("pending-polling", "news").is_empty());

    // Once authenticated, it is reached.
    d.emit("pending", "authenticate", json!([{"token": "good"}]))
        .await;
    d.wait_event("pending", "authenticated").await;
    server
        .io
        .send(Target::all(), "news", &json!({"n": 2}))
        .await
        .unwrap();
    assert_eq!(
        d.wait_event("pending", "news").await["data"],
        json!({"n": 2})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_delivers_falsy_data() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "polling").await;
    let values = [
        json!(0),
        json!(false),
        json!(""),
        Value::Null,
        json!([]),
        json!({}),
    ];
    for (i, value) in values.iter().enumerate() {
        server
            .io
            .send(Target::socket(&id), &format!("falsy-{i}"), value)
            .await
            .unwrap();
    }
    server
        .io
        .send(Target::all(), "falsy-all", &0)
        .await
        .unwrap();
    for (i, value) in values.iter().enumerate() {
        let ev = d.wait_event("a", &format!("falsy-{i}")).await;
        assert_eq!(&ev["data"], value, "{ev}");
        assert_eq!(
            ev["args"].as_array().unwrap().len(),
            1,
            "the value is an argument: {ev}"
        );
    }
    assert_eq!(d.wait_event("a", "falsy-all").await["data"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_refuses_reserved_and_empty_event_names() {
    let server = TestServer::start(builder()).await;
    for name in RESERVED_EVENTS {
        let err = server.io.send(Target::all(), name, &1).await.unwrap_err();
        assert!(matches!(err, ServerError::InvalidEvent(_)), "{name}: {err}");
        assert!(err.to_string().contains("reserved"), "{err}");
    }
    assert!(matches!(
        server.io.send(Target::all(), "", &1).await,
        Err(ServerError::InvalidEvent(_))
    ));
    assert!(
        server
            .io
            .send(Target::all(), "disconnecting", &1)
            .await
            .is_err()
    );
    assert!(server.io.send(Target::all(), "fine", &1).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_socket_rooms_and_except_lists() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let a = d.connect_authenticated("a", &server, "websocket").await;
    let b = d.connect_authenticated("b", &server, "websocket").await;
    let c = d.connect_authenticated("c", &server, "polling").await;
    server.io.join_rooms(&a, ["red"]).unwrap();
    server.io.join_rooms(&b, ["blue"]).unwrap();
    server.io.join_rooms(&c, ["red", "blue"]).unwrap();

    server
        .io
        .send(Target::socket(&b), "one", &"b")
        .await
        .unwrap();
    server
        .io
        .send(Target::rooms(["red", "blue"]), "union", &1)
        .await
        .unwrap();
    server
        .io
        .send(Target::room("red").except([c.as_str()]), "red-but-c", &1)
        .await
        .unwrap();
    server
        .io
        .send(Target::all().except(["blue"]), "not-blue", &1)
        .await
        .unwrap();
    server
        .io
        .send(Target::all().local(), "local", &1)
        .await
        .unwrap();
    // Barrier: the last send to each client.
    for (name, id) in [("a", &a), ("b", &b), ("c", &c)] {
        server
            .io
            .send(Target::socket(id), "barrier", &1)
            .await
            .unwrap();
        d.wait_event(name, "barrier").await;
    }
    let got = |name: &str, event: &str| d.events(name, event).len();
    assert_eq!(
        (got("a", "one"), got("b", "one"), got("c", "one")),
        (0, 1, 0)
    );
    assert_eq!(
        (got("a", "union"), got("b", "union"), got("c", "union")),
        (1, 1, 1),
        "a socket in both rooms gets it once"
    );
    assert_eq!(
        (
            got("a", "red-but-c"),
            got("b", "red-but-c"),
            got("c", "red-but-c")
        ),
        (1, 0, 0)
    );
    assert_eq!(
        (
            got("a", "not-blue"),
            got("b", "not-blue"),
            got("c", "not-blue")
        ),
        (1, 0, 0)
    );
    assert_eq!(
        (got("a", "local"), got("b", "local"), got("c", "local")),
        (1, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_ack_collects_every_reply_and_times_out() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({"auth": {"token": "good"}, "authenticate": true, "ackReplies": {"question": {"answer": 42}}}),
    )
    .await;
    let a = d.wait_event("a", "authenticated").await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = d.connect_authenticated("b", &server, "polling").await;

    let mut replies = server
        .io
        .send_with_ack(Target::all(), "question", &"?", Duration::from_secs(5))
        .await
        .unwrap();
    replies.sort_by(|x, y| x.socket_id.cmp(&y.socket_id));
    let mut expected = vec![
        (a.clone(), json!({"answer": 42})),
        (b.clone(), json!({"received": "question"})),
    ];
    expected.sort_by(|x, y| x.0.cmp(&y.0));
    let got: Vec<(String, Value)> = replies
        .into_iter()
        .map(|r| (r.socket_id, r.result.unwrap()))
        .collect();
    assert_eq!(got, expected);

    // From a client handle too.
    let server2 = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            let answer = client
                .emit_with_ack("question", &"?", Duration::from_secs(5))
                .await;
            client.emit("answer", &answer.map_err(|e| e.to_string()))
        },
    ))
    .await;
    d.connect(
        "c",
        &server2,
        json!({"auth": {"token": "good"}, "authenticate": true, "ackReplies": {"question": "yes"}}),
    )
    .await;
    assert_eq!(
        d.wait_event("c", "answer").await["data"],
        json!({"Ok": "yes"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_handle_emits_a_binary_payload_with_ack() {
    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            let blob = Payload::Binary(Bytes::from_static(b"\x00\x01binary\xff"));
            let answer = client
                .emit_payload_with_ack("blob", blob, Duration::from_secs(5))
                .await;
            // Refused before anything is sent: a reserved name.
            let reserved = client
                .emit_payload_with_ack("disconnect", json!(1).into(), Duration::from_secs(5))
                .await;
            client.emit(
                "answer",
                &json!({
                    "answer": answer.map_err(|e| e.to_string()),
                    "reserved": reserved.map_err(|e| e.to_string()),
                }),
            )
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    d.connect(
        "c",
        &server,
        json!({"auth": {"token": "good"}, "authenticate": true, "ackReplies": {"blob": "got it"}}),
    )
    .await;
    let blob = d.wait_event("c", "blob").await;
    // base64 of 00 01 "binary" ff: the Node client got a Buffer.
    assert_eq!(blob["data"], json!({"$binary": "AAFiaW5hcnn/"}), "{blob}");
    assert_eq!(
        d.wait_event("c", "answer").await["data"],
        json!({
            "answer": {"Ok": "got it"},
            "reserved": {"Err": "\"disconnect\" is a reserved event name"},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_binary_payload_arrives_as_binary() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    for transport in ["websocket", "polling"] {
        let id = d.connect_authenticated(transport, &server, transport).await;
        server
            .io
            .send_payload(
                Target::socket(&id),
                "blob",
                Payload::Binary(Bytes::from_static(b"\x00\x01binary\xff")),
            )
            .await
            .unwrap();
        let ev = d.wait_event(transport, "blob").await;
        // base64 of 00 01 "binary" ff
        assert_eq!(ev["data"], json!({"$binary": "AAFiaW5hcnn/"}), "{ev}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_handle_emits_joins_and_reaches_others_through_the_server() {
    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            client.join(["chat"])?;
            client.on(
                "say",
                |client: AuthenticatedClient, data: Value| async move {
                    client
                        .server()
                        .send(
                            Target::room("chat").except([client.id()]),
                            "said",
                            &json!({"from": client.identity().id, "text": data}),
                        )
                        .await?;
                    client.emit("said:ok", &client.rooms())
                },
            );
            Ok::<(), ServerError>(())
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    let a = d.connect_authenticated("a", &server, "websocket").await;
    let b = d.connect_authenticated("b", &server, "polling").await;
    // The connected handler joins "chat" after `authenticated` was sent.
    server
        .wait_registry("b in chat", |io| {
            io.get_client(&b)
                .is_some_and(|c| c.rooms.contains(&"chat".to_owned()))
        })
        .await;
    d.emit("a", "say", json!(["hello"])).await;
    let ok = d.wait_event("a", "said:ok").await;
    assert!(
        ok["data"].as_array().unwrap().contains(&json!("chat")),
        "{ok}"
    );
    assert!(ok["data"].as_array().unwrap().contains(&json!(a)), "{ok}");
    let said = d.wait_event("b", "said").await;
    assert_eq!(said["data"], json!({"from": "user-good", "text": "hello"}));
    assert!(d.events("a", "said").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_payload_is_refused_by_max_payload_and_server_keeps_serving() {
    let server = TestServer::start(
        builder()
            .options(ServerOptions {
                max_payload: 2_000,
                ..ServerOptions::default()
            })
            .on_client_connected(|client: AuthenticatedClient| async move {
                client.on(
                    "echo",
                    |client: AuthenticatedClient, data: Value| async move {
                        client.emit("echo:response", &data)
                    },
                );
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    for transport in ["websocket", "polling"] {
        let big = format!("big-{transport}");
        d.connect_authenticated(&big, &server, transport).await;
        d.emit(&big, "echo", json!(["x".repeat(10_000)])).await;
        d.wait_type(&big, "disconnect").await;
        assert!(d.events(&big, "echo:response").is_empty());
    }
    let small = d.connect_authenticated("small", &server, "websocket").await;
    d.emit("small", "echo", json!(["x".repeat(1_000)])).await;
    d.wait_event("small", "echo:response").await;
    server
        .wait_registry("only the small client", |io| {
            io.client_count() == 1 && io.get_client(&small).is_some()
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_data_is_the_first_argument_or_null() {
    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
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
    d.connect_authenticated("a", &server, "websocket").await;
    for (args, data) in [
        (json!([]), Value::Null),
        (json!([0]), json!(0)),
        (json!([false]), json!(false)),
        (json!([null]), Value::Null),
        (json!([[1, 2]]), json!([1, 2])),
        (json!([1, "two"]), json!(1)),
        // Binary attachments arrive as arrays of bytes.
        (json!([{"$binary": "AAH/"}]), json!([0, 1, 255])),
        (
            json!([{"file": {"$binary": "AAE="}, "n": [1, {"$binary": "Ag=="}]}]),
            json!({"file": [0, 1], "n": [1, [2]]}),
        ),
    ] {
        let ev = d
            .emit_then_wait("a", "echo", args.clone(), "echo:response")
            .await;
        assert_eq!(ev["data"], data, "{args}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_registered_on_the_builder_serve_every_client_and_yield_to_client_handlers() {
    let server = TestServer::start(
        builder()
            .on(
                "whoami",
                |client: AuthenticatedClient, _data: Value| async move {
                    client.emit(
                        "whoami:response",
                        &json!({"id": client.id(), "shared": true}),
                    )
                },
            )
            .on_client_connected(|client: AuthenticatedClient| async move {
                if client.handshake().query_param("own") == Some("1") {
                    client.on(
                        "whoami",
                        |client: AuthenticatedClient, _data: Value| async move {
                            client.emit("whoami:response", &json!({"shared": false}))
                        },
                    );
                }
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    let a = d.connect_authenticated("a", &server, "websocket").await;
    d.connect(
        "b",
        &server,
        json!({"auth": {"token": "good"}, "authenticate": true, "query": {"own": "1"}}),
    )
    .await;
    d.wait_event("b", "authenticated").await;
    let ev = d
        .emit_then_wait("a", "whoami", json!([]), "whoami:response")
        .await;
    assert_eq!(ev["data"], json!({"id": a, "shared": true}));
    let ev = d
        .emit_then_wait("b", "whoami", json!([]), "whoami:response")
        .await;
    assert_eq!(ev["data"], json!({"shared": false}));

    // Protocol and reserved names are refused at build time.
    for name in ["join", "disconnect", ""] {
        let result = builder()
            .on(name, |_c: AuthenticatedClient, _d: Value| async move {})
            .build();
        assert!(
            matches!(
                result,
                Err(ignis_socketio_server::BuildError::InvalidOption { option: "on", .. })
            ),
            "{name:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_count_handled_and_ignored_events_and_binary_reaches_handlers_as_bytes() {
    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            client.on(
                "upload",
                |client: AuthenticatedClient, data: ignis_socketio_server::EventData| async move {
                    #[derive(serde::Deserialize)]
                    struct Upload {
                        name: String,
                        bytes: Bytes,
                    }
                    let upload: Upload = data.deserialize()?;
                    client.emit(
                        "uploaded",
                        &json!({"name": upload.name, "bytes": upload.bytes.to_vec()}),
                    )
                },
            );
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    let before = server.io.counters();
    d.connect_authenticated("a", &server, "websocket").await;
    d.emit(
        "a",
        "upload",
        json!([{"name": "f", "bytes": {"$binary": "AQL/"}}]),
    )
    .await;
    d.emit("a", "nobody-listens", json!([1])).await;
    assert_eq!(
        d.wait_event("a", "uploaded").await["data"],
        json!({"name": "f", "bytes": [1, 2, 255]})
    );
    server
        .wait_registry("the ignored event counted", |io| {
            io.counters().events_ignored > before.events_ignored
        })
        .await;
    let after = server.io.counters();
    assert_eq!(after.events_handled - before.events_handled, 1);
    assert_eq!(after.events_ignored - before.events_ignored, 1);
    assert!(after.sessions_opened > before.sessions_opened);
    assert!(after.messages_received > before.messages_received);
}
