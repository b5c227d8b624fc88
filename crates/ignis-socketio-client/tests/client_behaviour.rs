//! What the client does beyond the reference suite: acknowledgements both
//! ways, binary attachments, heartbeats, dead and misbehaving servers,
//! reconnection after a restart, the helper's FIX and BEYOND rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures_util::{SinkExt, StreamExt};
use ignis_socketio_client::{
    ClientError, ClientPayload, ClientState, Event, EventHandler, ReconnectConfig, SocketClient,
    reasons,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const T: Duration = Duration::from_secs(3);

fn fast_reconnect() -> ReconnectConfig {
    ReconnectConfig {
        enabled: true,
        max_attempts: None,
        delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        randomization: 0.5,
    }
}

#[tokio::test]
async fn emit_with_ack_returns_the_server_answer() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on("add", |_s, e, ack| async move {
                let (a, b) = (e.args.values[0].as_i64(), e.args.values[1].as_i64());
                answer(ack, &json!({"sum": a.unwrap() + b.unwrap()}));
            }),
        )
    })
    .await;
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    let answer = client
        .emit_with_ack("add", ClientPayload::from_args(vec![json!(2), json!(3)]), T)
        .await
        .unwrap();
    assert_eq!(answer.first(), Some(&json!({"sum": 5})));
    client.shutdown().await;
}

#[tokio::test]
async fn emit_with_ack_times_out_when_the_server_never_answers() {
    let server = TestServer::start(|io| io.ns("/", Ns::new())).await;
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    let err = client
        .emit_with_ack("nobody", json!(1), Duration::from_millis(150))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::AckTimeout(d) if d == Duration::from_millis(150)),
        "{err:?}"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn client_answers_the_servers_emit_with_ack() {
    let answers = Recorder::<Value>::default();
    let a = answers.clone();
    let server = TestServer::start(move |io| {
        io.ns(
            "/",
            Ns::new().on("ready", move |s, _e, _ack| {
                let a = a.clone();
                async move {
                    let answer = s
                        .emit_with_ack("question", &args(&json!({"q": 41})), T)
                        .await;
                    if let Ok(v) = answer {
                        a.push(v.values[0].clone());
                    }
                }
            }),
        )
    })
    .await;
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.on("question", |event: Event| async move {
        assert!(event.wants_ack());
        let q = event.data()["q"].as_i64().unwrap_or(0);
        assert!(matches!(event.ack(json!({"answer": q + 1})), Ok(true)));
        // Only the first answer goes out.
        assert!(matches!(event.ack(json!("again")), Ok(false)));
    });
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    client.emit("ready", ClientPayload::empty()).unwrap();
    wait_for("server got the ack", T, || answers.len() == 1).await;
    assert_eq!(answers.all()[0], json!({"answer": 42}));
    client.shutdown().await;
}

#[tokio::test]
async fn binary_attachments_travel_both_ways() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            // Echo the two arguments back: meta JSON and a binary buffer.
            Ns::new().on("upload", |s, e, _ack| async move {
                let meta = e.args.values[0].clone();
                let file = e.args.attachment(&e.args.values[1]).unwrap();
                let mut reversed = file.to_vec();
                reversed.reverse();
                let _ = s.emit("download", &(meta, Bytes::from(reversed)));
            }),
        )
    })
    .await;
    let got = Recorder::<(Value, Vec<u8>)>::default();
    let g = got.clone();
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.on("download", move |event: Event| {
        let g = g.clone();
        async move {
            let p = event.payload();
            let bin = p
                .binary(&p.args()[1])
                .map(|b| b.to_vec())
                .unwrap_or_default();
            g.push((p.args()[0].clone(), bin));
        }
    });
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    let payload = ClientPayload::from(json!({"name": "a.bin"}))
        .with_binary(Bytes::from_static(&[1, 2, 3, 0, 255]));
    client.emit("upload", payload).unwrap();
    wait_for("binary echo", T, || got.len() == 1).await;
    assert_eq!(
        got.all()[0],
        (json!({"name": "a.bin"}), vec![255, 0, 3, 2, 1])
    );
    client.shutdown().await;
}

#[tokio::test]
async fn falsy_and_nested_json_values_round_trip() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on("echo", |_s, e, ack| async move {
                answer(ack, &first(&e));
            }),
        )
    })
    .await;
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    for v in [
        json!(0),
        json!(false),
        json!(""),
        json!(null),
        json!({"a": [1, {"b": "é"}]}),
    ] {
        let answer = client.emit_with_ack("echo", v.clone(), T).await.unwrap();
        assert_eq!(answer.first(), Some(&v));
    }
    client.shutdown().await;
}

#[tokio::test]
async fn auth_payload_headers_and_query_reach_the_server() {
    let seen = Recorder::<Value>::default();
    let s2 = seen.clone();
    let server = TestServer::start(move |io| {
        io.ns(
            "/",
            Ns::new().on_connect(move |s| {
                let parts = s.request();
                s2.push(json!({
                    "auth": s.auth(),
                    "authorization": parts.headers.get("authorization").and_then(|h| h.to_str().ok()),
                    "query": parts.uri.query(),
                }));
                async { Ok(()) }
            }),
        )
    })
    .await;
    let helper = common::helper_to(&server.url())
        .auth(json!({"token": "t-1"}))
        .header("authorization", "Bearer t-2")
        .query("room", "lobby")
        .build()
        .unwrap();
    wait_for("server saw the handshake", T, || seen.len() == 1).await;
    let seen = seen.all()[0].clone();
    assert_eq!(seen["auth"], json!({"token": "t-1"}));
    assert_eq!(seen["authorization"], "Bearer t-2");
    assert!(
        seen["query"].as_str().unwrap().contains("room=lobby"),
        "{seen}"
    );
    helper.shutdown().await;
}

#[tokio::test]
async fn heartbeat_pings_are_answered_with_pongs() {
    let pongs = Recorder::<String>::default();
    let p = pongs.clone();
    let server = RawServer::start(move |mut ws| {
        let p = p.clone();
        async move {
            raw_handshake(&mut ws, 10_000, 10_000).await;
            ws.send(Message::text("2")).await.ok();
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                p.push(t.to_string());
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    })
    .await;
    let client = SocketClient::builder(server.url()).build().unwrap();
    client.connect().unwrap();
    wait_for("pong", T, || pongs.len() == 1).await;
    assert_eq!(pongs.all()[0], "3");
    client.shutdown().await;
}

#[tokio::test]
async fn silent_server_is_detected_by_ping_timeout_and_reconnected() {
    // Promises a ping every 100 ms and never sends one.
    let server = RawServer::start(|mut ws| async move {
        raw_handshake(&mut ws, 100, 100).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let client = SocketClient::builder(server.url())
        .reconnection(fast_reconnect())
        .build()
        .unwrap();
    let reasons_seen = Recorder::<String>::default();
    let r = reasons_seen.clone();
    client.on_disconnect(move |reason| {
        let r = r.clone();
        async move { r.push(reason) }
    });
    client.connect().unwrap();
    wait_for("ping timeout", T, || !reasons_seen.all().is_empty()).await;
    assert_eq!(reasons_seen.all()[0], reasons::PING_TIMEOUT);
    wait_for("reconnected", T, || server.connections.get() >= 2).await;
    client.shutdown().await;
}

#[tokio::test]
async fn garbage_frames_are_reported_and_the_client_keeps_running() {
    let server = RawServer::start(|mut ws| async move {
        raw_handshake(&mut ws, 10_000, 10_000).await;
        for garbage in [
            "",
            "zzz",
            "4",
            "4zz",
            "42not json",
            "42[1]",
            "43[1]",
            "45-[\"x\"]",
            "4{}",
            "0{bad",
            "é",
        ] {
            ws.send(Message::text(garbage)).await.ok();
        }
        ws.send(Message::binary(Bytes::from_static(b"stray")))
            .await
            .ok();
        ws.send(Message::text(
            r#"451-["bin",{"_placeholder":true,"num":3}]"#,
        ))
        .await
        .ok();
        ws.send(Message::binary(Bytes::from_static(b"x")))
            .await
            .ok();
        ws.send(Message::text(r#"42["ok",1]"#)).await.ok();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let oks = Counter::default();
    let o = oks.clone();
    let client = SocketClient::builder(server.url()).build().unwrap();
    client.on_error(move |err| {
        let e = e.clone();
        async move { e.push(err) }
    });
    client.on("ok", move |_e: Event| {
        o.hit();
        std::future::ready(())
    });
    client.connect().unwrap();
    wait_for("the valid event after the garbage", T, || oks.get() == 1).await;
    assert!(client.is_connected());
    let errors = errors.all();
    assert!(errors.len() >= 10, "{errors:?}");
    assert!(
        errors.iter().all(|e| matches!(e, ClientError::Protocol(_))),
        "{errors:?}"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn connect_timeout_fires_when_the_server_never_answers() {
    // Accepts TCP, never speaks WebSocket.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let client = SocketClient::builder(format!("http://{addr}"))
        .connect_timeout(Duration::from_millis(200))
        .reconnection(ReconnectConfig::disabled())
        .build()
        .unwrap();
    client.on_error(move |err| {
        let e = e.clone();
        async move { e.push(err) }
    });
    client.connect().unwrap();
    wait_for("timeout error", T, || errors.len() == 1).await;
    assert!(matches!(
        errors.all()[0],
        ClientError::ConnectTimeout(d) if d == Duration::from_millis(200)
    ));
    client.shutdown().await;
    hold.abort();
}

#[tokio::test]
async fn refused_namespace_is_reported_and_not_retried() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on_connect(|_s| async { Err(ConnectRefusal::new("go away")) }),
        );
    })
    .await;
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .reconnection(fast_reconnect())
        .build()
        .unwrap();
    client.on_error(move |err| {
        let e = e.clone();
        async move { e.push(err) }
    });
    client.connect().unwrap();
    wait_for("refusal", T, || errors.len() == 1).await;
    assert!(
        matches!(&errors.all()[0], ClientError::ConnectRefused(m) if m == "go away"),
        "{:?}",
        errors.all()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(errors.len(), 1, "a refused namespace must not be retried");
    client.shutdown().await;
}

#[tokio::test]
async fn server_disconnect_is_not_retried() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on("kick-me", |s, _e, _ack| async move {
                s.disconnect();
            }),
        )
    })
    .await;
    let helper = common::helper_to(&server.url())
        .reconnection(fast_reconnect())
        .build()
        .unwrap();
    let reasons_seen = Recorder::<String>::default();
    let r = reasons_seen.clone();
    helper.client().on_disconnect(move |reason| {
        let r = r.clone();
        async move { r.push(reason) }
    });
    assert!(helper.client().wait_connected(T).await);
    helper.emit("kick-me", &json!(null)).unwrap();
    wait_for("server disconnect", T, || reasons_seen.len() == 1).await;
    assert_eq!(reasons_seen.all()[0], reasons::SERVER_DISCONNECT);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!helper.is_connected());
    assert_eq!(server.socket_count(), 0);
    helper.shutdown().await;
}

/// A server implementing the auth protocol and acking joins with `{joined, rejected}`.
fn auth_and_rooms_server(io: &SocketIo, joins: Recorder<Value>) {
    let ns = Ns::new()
        .on("authenticate", |s, _e, _ack| async move {
            let _ = s.emit("authenticated", &json!({"id": s.id(), "time": "t"}));
        })
        .on("join", move |s, e, ack| {
            let j = joins.clone();
            async move {
                let req = first(&e);
                j.push(req.clone());
                let rooms: Vec<String> =
                    serde_json::from_value(req["rooms"].clone()).unwrap_or_default();
                let (joined, rejected): (Vec<_>, Vec<_>) =
                    rooms.into_iter().partition(|r| r.starts_with("public-"));
                s.join(joined.clone());
                let rejected: Vec<Value> = rejected
                    .into_iter()
                    .map(|r| json!({"room": r, "reason": "not_allowed"}))
                    .collect();
                answer(ack, &json!({"joined": joined, "rejected": rejected}));
            }
        });
    io.ns("/", ns);
}

#[tokio::test]
async fn reconnects_after_server_restart_then_reauthenticates_and_rejoins() {
    let joins = Recorder::<Value>::default();
    let j = joins.clone();
    let server = TestServer::start(move |io| auth_and_rooms_server(io, j)).await;
    let addr = server.addr;
    let connected = Counter::default();
    let c = connected.clone();
    let helper = common::helper_to(&server.url())
        .reconnection(fast_reconnect())
        .auto_authenticate(true)
        .on_connected(move || {
            let c = c.clone();
            async move { c.hit() }
        })
        .build()
        .unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    let ack = helper
        .join_rooms(["public-news", "secret"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ack.joined, vec!["public-news".to_string()]);
    assert_eq!(ack.rejected.len(), 1);
    assert_eq!(helper.remembered_rooms(), vec!["public-news".to_string()]);
    let first_id = helper.client().id().unwrap();

    server.stop().await;
    wait_for("disconnected", T, || !helper.is_connected()).await;
    assert_eq!(helper.state(), ClientState::Unauthorized);

    let j = joins.clone();
    let server = TestServer::start_at(addr, move |io| auth_and_rooms_server(io, j)).await;
    wait_for("reconnected", Duration::from_secs(5), || {
        connected.get() == 2
    })
    .await;
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    wait_for("rooms re-joined", T, || joins.len() == 2).await;
    assert_eq!(joins.all()[1], json!({"rooms": ["public-news"]}));
    assert_ne!(helper.client().id().unwrap(), first_id);
    helper.shutdown().await;
    server.stop().await;
}

#[tokio::test]
async fn unrequested_authenticated_is_ignored() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on("hello", |s, _e, _ack| async move {
                let _ = s.emit("authenticated", &json!({"id": "forged", "time": "t"}));
                let _ = s.emit("after", &json!(null));
            }),
        )
    })
    .await;
    let authenticated = Counter::default();
    let a = authenticated.clone();
    let helper = common::helper_to(&server.url())
        .on_authenticated(move |_| {
            a.hit();
            std::future::ready(())
        })
        .build()
        .unwrap();
    let after = Counter::default();
    let af = after.clone();
    helper
        .subscribe("after", move |_| {
            af.hit();
            std::future::ready(())
        })
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.emit("hello", &json!(null)).unwrap();
    wait_for("after", T, || after.get() == 1).await;
    assert_eq!(helper.state(), ClientState::Unauthorized);
    assert_eq!(authenticated.get(), 0);
    helper.shutdown().await;
}

#[tokio::test]
async fn auth_timeout_returns_to_unauthorized_and_reports_it() {
    let server = TestServer::start(|io| io.ns("/", Ns::new())).await;
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let helper = common::helper_to(&server.url())
        .auth_timeout(Some(Duration::from_millis(150)))
        .on_error(move |err| {
            let e = e.clone();
            async move { e.push(err) }
        })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert_eq!(helper.state(), ClientState::Authenticating);
    wait_for("auth timeout", T, || errors.len() == 1).await;
    assert!(matches!(
        errors.all()[0],
        ClientError::AuthTimeout(d) if d == Duration::from_millis(150)
    ));
    assert_eq!(helper.state(), ClientState::Unauthorized);
    helper.shutdown().await;
}

#[tokio::test]
async fn unsubscribe_handle_removes_exactly_one_handler_and_never_the_helpers_own() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = common::helper_to(&server.url()).build().unwrap();
    let (first, second) = (Counter::default(), Counter::default());
    let (f, s) = (first.clone(), second.clone());
    let id1 = helper
        .subscribe_handler(
            "authenticated",
            EventHandler::new(move |_| {
                f.hit();
                std::future::ready(())
            }),
            false,
        )
        .unwrap();
    helper
        .subscribe_handler(
            "authenticated",
            EventHandler::new(move |_| {
                s.hit();
                std::future::ready(())
            }),
            false,
        )
        .unwrap();
    assert!(helper.unsubscribe_handler(id1));
    assert!(!helper.unsubscribe_handler(id1));
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    wait_for("second handler", T, || second.get() == 1).await;
    assert_eq!(first.get(), 0);
    assert_eq!(helper.state(), ClientState::Authenticated);

    // Removing every user handler of `authenticated` leaves the state machine working.
    assert_eq!(helper.unsubscribe("authenticated"), 1);
    assert_eq!(helper.unsubscribe("authenticated"), 0);
    helper.disconnect().await;
    helper.connect().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    helper.shutdown().await;
}

#[tokio::test]
async fn typed_handler_gets_a_struct_and_bad_data_is_skipped() {
    #[derive(serde::Deserialize, Clone, Debug, PartialEq)]
    struct Chat {
        from: String,
        text: String,
    }
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on("go", |s, _e, _ack| async move {
                let _ = s.emit("chat", &json!({"oops": true}));
                let _ = s.emit("chat", &json!({"from": "ann", "text": "hi"}));
            }),
        )
    })
    .await;
    let helper = common::helper_to(&server.url()).build().unwrap();
    let got = Recorder::<Chat>::default();
    let g = got.clone();
    helper
        .subscribe_typed("chat", move |c: Chat| {
            let g = g.clone();
            async move { g.push(c) }
        })
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.emit("go", &json!(null)).unwrap();
    wait_for("typed", T, || got.len() == 1).await;
    assert_eq!(
        got.all(),
        vec![Chat {
            from: "ann".into(),
            text: "hi".into()
        }]
    );
    helper.shutdown().await;
}

#[tokio::test]
async fn panicking_callbacks_do_not_kill_the_client() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = common::helper_to(&server.url())
        .on_connected(|| async {
            if true {
                panic!("boom in on_connected");
            }
        })
        .on_authenticated(|_| -> std::future::Ready<()> { panic!("boom in on_authenticated") })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    assert!(helper.is_connected());
    helper.shutdown().await;
}

#[tokio::test]
async fn reserved_event_names_cannot_be_emitted() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = common::helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    for name in ["connect", "disconnect", "connect_error"] {
        assert!(matches!(
            helper.emit(name, &json!(1)),
            Err(ClientError::ReservedEvent(n)) if n == name
        ));
    }
    helper.shutdown().await;
}

#[tokio::test]
async fn invalid_url_is_refused_at_build() {
    for url in ["localhost:99999", "http://localhost:99999", "ftp://x"] {
        let err = common::helper_to(url).build().unwrap_err();
        assert!(
            matches!(err, ClientError::InvalidUrl { .. }),
            "{url}: {err:?}"
        );
    }
}

#[tokio::test]
async fn disconnect_fails_pending_acks_with_disconnected() {
    let server = TestServer::start(|io| io.ns("/", Ns::new())).await;
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    let c2 = client.clone();
    let pending = tokio::spawn(async move {
        c2.emit_with_ack("never", json!(1), Duration::from_secs(10))
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.disconnect().await;
    let result = within(3, pending).await.unwrap();
    assert!(
        matches!(result, Err(ClientError::Disconnected)),
        "{result:?}"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn reconnection_gives_up_after_max_attempts_and_says_so() {
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let client = SocketClient::builder(dead_url().await)
        .reconnection(ReconnectConfig {
            max_attempts: Some(2),
            ..fast_reconnect()
        })
        .build()
        .unwrap();
    client.on_error(move |err| {
        let e = e.clone();
        async move { e.push(err) }
    });
    client.connect().unwrap();
    wait_for("gave up", T, || {
        errors
            .all()
            .iter()
            .any(|e| matches!(e, ClientError::ReconnectGaveUp(_)))
    })
    .await;
    let errors = errors.all();
    // The first attempt and two retries failed, then the client stopped.
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(
        errors[..3]
            .iter()
            .all(|e| matches!(e, ClientError::ConnectFailed(_)))
    );
    assert!(matches!(errors[3], ClientError::ReconnectGaveUp(2)));
    client.shutdown().await;
}

#[tokio::test]
async fn room_request_without_answer_returns_none_and_remembers_the_rooms() {
    let server =
        TestServer::start(|io| io.ns("/", Ns::new().on("join", |_s, _e, _ack| async {}))).await;
    let helper = common::helper_to(&server.url())
        .room_ack_timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    assert!(matches!(helper.join_rooms(["r1", "r2"]).await, Ok(None)));
    assert_eq!(
        helper.remembered_rooms(),
        vec!["r1".to_string(), "r2".to_string()]
    );
    helper.shutdown().await;
}

#[tokio::test]
async fn events_reach_handlers_in_arrival_order() {
    let server = TestServer::start(|io| {
        io.ns(
            "/",
            Ns::new().on("go", |s, _e, _ack| async move {
                for i in 0..100 {
                    let _ = s.emit("n", &i);
                }
            }),
        )
    })
    .await;
    let seen = Recorder::<i64>::default();
    let r = seen.clone();
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.on("n", move |e: Event| {
        let r = r.clone();
        async move {
            // An await inside the handler must not let the next event overtake it.
            tokio::task::yield_now().await;
            r.push(e.data().as_i64().unwrap_or(-1));
        }
    });
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    client.emit("go", ClientPayload::empty()).unwrap();
    wait_for("100 events", T, || seen.len() == 100).await;
    assert_eq!(seen.all(), (0..100).collect::<Vec<i64>>());
    client.shutdown().await;
}

#[tokio::test]
async fn a_slow_handler_does_not_stop_heartbeats() {
    // The server drops a client that misses a pong for 300 ms; the handler
    // blocks the dispatcher for 1.5 s, and the connection must survive.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = TestServer::start_with_heartbeat(
        listener,
        Duration::from_millis(200),
        Duration::from_millis(300),
        echo_slow_server,
    )
    .await;
    let done = Counter::default();
    let d = done.clone();
    let client = SocketClient::builder(server.url())
        .path(PATH)
        .build()
        .unwrap();
    client.on("slow", move |_e: Event| {
        let d = d.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            d.hit();
        }
    });
    client.connect().unwrap();
    assert!(client.wait_connected(T).await);
    let id = client.id();
    client.emit("go", ClientPayload::empty()).unwrap();
    wait_for("slow handler finished", T, || done.get() == 1).await;
    assert!(client.is_connected());
    assert_eq!(
        client.id(),
        id,
        "the connection must not have been replaced"
    );
    client.shutdown().await;
}

fn echo_slow_server(io: &SocketIo) {
    io.ns(
        "/",
        Ns::new().on("go", |s, _e, _ack| async move {
            let _ = s.emit("slow", &json!(null));
        }),
    );
}

/// A server answering the upgrade with `answer` (and then silence).
async fn http_answering(answer: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tcp.write_all(answer.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn a_wrong_upgrade_answer_is_a_connect_failure_with_its_cause() {
    use ignis_socketio_client::TransportError;
    use ignis_socketio_engine::ws::UpgradeError;
    for (answer, expected) in [
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
            UpgradeError::Accept,
        ),
        (
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            UpgradeError::Status(404),
        ),
    ] {
        let (url, server) = http_answering(answer).await;
        let errors = Recorder::<ClientError>::default();
        let e = errors.clone();
        let client = SocketClient::builder(url)
            .reconnection(ReconnectConfig::disabled())
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        client.on_error(move |err| {
            let e = e.clone();
            async move { e.push(err) }
        });
        client.connect().unwrap();
        wait_for("connect failure", T, || errors.len() == 1).await;
        let error = errors.all().remove(0);
        assert!(
            matches!(&error, ClientError::ConnectFailed(TransportError::Upgrade(u)) if *u == expected),
            "{error:?}"
        );
        // The cause is reachable through `source()`.
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.contains("upgrade")), "{error:?}");
        client.shutdown().await;
        server.abort();
    }
}
