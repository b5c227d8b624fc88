//! What the client's transport does beyond the reference suite:
//! acknowledgements both ways, binary attachments, heartbeats, dead and
//! misbehaving servers, timeouts and reconnection limits, the upgrade check.
//! The helper's FIX and BEYOND rules are in `helper_behaviour.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use ignis_socketio_client::{
    ClientError, ClientPayload, Event, ReconnectConfig, SocketClient, reasons,
};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(3);

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

/// 2 000 events written at once fill the engine's limit of messages read
/// ahead (64): the server must resume reading once its handlers caught up.
#[tokio::test]
async fn a_burst_of_client_events_reaches_the_server_in_order() {
    let seen = Recorder::<i64>::default();
    let r = seen.clone();
    let server = TestServer::start(move |io| {
        io.ns(
            "/",
            Ns::new().on("n", move |_s, e, _ack| {
                r.push(first(&e).as_i64().unwrap_or(-1));
                async {}
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
    for i in 0..2000 {
        client.emit_async("n", json!(i)).await.unwrap();
    }
    wait_for("2000 events", Duration::from_secs(10), || {
        seen.len() == 2000
    })
    .await;
    assert_eq!(seen.all(), (0..2000).collect::<Vec<i64>>());
    client.shutdown().await;
}
