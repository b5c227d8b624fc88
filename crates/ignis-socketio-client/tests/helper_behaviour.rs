//! The helper's FIX and BEYOND rules beyond the reference suite:
//! re-authentication and re-join after a restart, unrequested answers, the
//! client-side auth timeout, handler removal, typed and panicking handlers,
//! reserved names, room requests without an answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use ignis_socketio_client::{ClientError, ClientState, EventHandler};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(3);

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
