//! The reference framework's client suite (`socket-io.test.ts`), cases
//! 6 to 50, ported to Rust and run against the project's own engine on
//! 127.0.0.1:0. Cases 1 to 5 (binding keys) belong to the component crate.
//! Each test name starts with its case number.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use ignis_socketio_client::{ClientError, ClientState, EventHandler};
use ignis_socketio_protocol::{ClientState as ProtoState, events, rooms};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(3);

// ---- SocketIOConstants / SocketIOClientStates (cases 6-10) ----

#[test]
fn case06_event_constants_have_the_reference_values() {
    assert_eq!(events::PING, "ping");
    assert_eq!(events::CONNECT, "connection");
    assert_eq!(events::DISCONNECT, "disconnect");
    assert_eq!(events::JOIN, "join");
    assert_eq!(events::LEAVE, "leave");
    assert_eq!(events::AUTHENTICATE, "authenticate");
    assert_eq!(events::AUTHENTICATED, "authenticated");
    assert_eq!(events::UNAUTHENTICATE, "unauthenticated");
}

#[test]
fn case07_room_constants_have_the_reference_values() {
    assert_eq!(rooms::DEFAULT, "io-default");
    assert_eq!(rooms::NOTIFICATION, "io-notification");
}

#[test]
fn case08_state_values_are_the_reference_strings() {
    assert_eq!(ProtoState::Unauthorized.as_str(), "unauthorized");
    assert_eq!(ProtoState::Authenticating.as_str(), "authenticating");
    assert_eq!(ProtoState::Authenticated.as_str(), "authenticated");
}

#[test]
fn case09_is_valid_accepts_the_three_states() {
    for s in ["unauthorized", "authenticating", "authenticated"] {
        assert!(ProtoState::is_valid(s));
    }
}

#[test]
fn case10_is_valid_rejects_other_strings() {
    for s in ["invalid", "", "UNAUTHORIZED"] {
        assert!(!ProtoState::is_valid(s));
    }
}

// ---- Constructor & Initialization ----

#[tokio::test]
async fn case11_initial_state_is_unauthorized() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert_eq!(helper.state(), ClientState::Unauthorized);
    helper.shutdown().await;
}

#[tokio::test]
async fn case12_identifier_is_stored() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url())
        .identifier("my-unique-client")
        .build()
        .unwrap();
    assert_eq!(helper.identifier(), "my-unique-client");
    helper.shutdown().await;
}

#[tokio::test]
async fn case13_socket_client_exists_after_construction() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert_eq!(helper.client().config().path, PATH);
    helper.shutdown().await;
}

// ---- Connection Lifecycle ----

#[tokio::test]
async fn case14_connects_to_server() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let connected = Counter::default();
    let c = connected.clone();
    let helper = helper_to(&server.url())
        .on_connected(move || {
            let c = c.clone();
            async move { c.hit() }
        })
        .build()
        .unwrap();
    wait_for("onConnected", T, || connected.get() == 1).await;
    assert!(helper.is_connected());
    assert_eq!(server.socket_count(), 1);
    helper.shutdown().await;
}

#[tokio::test]
async fn case15_on_connected_is_called_once_connected() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let connected = Counter::default();
    let c = connected.clone();
    let helper = helper_to(&server.url())
        .on_connected(move || {
            let c = c.clone();
            async move { c.hit() }
        })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(connected.get(), 1);
    helper.shutdown().await;
}

#[tokio::test]
async fn case16_on_disconnected_receives_a_reason() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let reasons = Recorder::<String>::default();
    let r = reasons.clone();
    let helper = helper_to(&server.url())
        .on_disconnected(move |reason| {
            let r = r.clone();
            async move { r.push(reason) }
        })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.disconnect().await;
    wait_for("onDisconnected", T, || reasons.len() == 1).await;
    assert_eq!(reasons.all()[0], "io client disconnect");
    helper.shutdown().await;
}

#[tokio::test]
async fn case17_state_resets_to_unauthorized_on_disconnect() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    helper.disconnect().await;
    assert!(!helper.is_connected());
    assert_eq!(helper.state(), ClientState::Unauthorized);
    helper.shutdown().await;
}

// ---- Authentication ----

#[tokio::test]
async fn case18_authenticate_is_a_noop_when_not_connected() {
    let helper = helper_to(&dead_url().await).build().unwrap();
    assert!(matches!(
        helper.authenticate(),
        Err(ClientError::NotConnected)
    ));
    assert_eq!(helper.state(), ClientState::Unauthorized);
    helper.shutdown().await;
}

#[tokio::test]
async fn case19_authenticate_moves_to_authenticating_at_once() {
    // The server never answers, so the state stays `authenticating`.
    let server = TestServer::start(|io| io.ns("/", Ns::new())).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert_eq!(helper.state(), ClientState::Authenticating);
    helper.shutdown().await;
}

#[tokio::test]
async fn case20_authenticate_event_reaches_the_server() {
    let received = Counter::default();
    let r = received.clone();
    let server = TestServer::start(move |io| {
        io.ns(
            "/",
            Ns::new().on("authenticate", move |_s, _e, _ack| {
                r.hit();
                async {}
            }),
        )
    })
    .await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    wait_for("server got authenticate", T, || received.get() == 1).await;
    helper.shutdown().await;
}

#[tokio::test]
async fn case21_authenticated_event_moves_to_authenticated() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let got = Recorder::<Value>::default();
    let g = got.clone();
    let helper = helper_to(&server.url())
        .on_authenticated(move |data| {
            let g = g.clone();
            async move { g.push(data) }
        })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    wait_for("onAuthenticated", T, || got.len() == 1).await;
    assert_eq!(helper.state(), ClientState::Authenticated);
    assert_eq!(got.all()[0]["id"], json!(helper.client().id().unwrap()));
    helper.shutdown().await;
}

#[tokio::test]
async fn case22_unauthenticated_event_moves_back_to_unauthorized() {
    let server = TestServer::start(|io| auth_server(io, false)).await;
    let messages = Recorder::<String>::default();
    let m = messages.clone();
    let helper = helper_to(&server.url())
        .on_unauthenticated(move |message| {
            let m = m.clone();
            async move { m.push(message) }
        })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    wait_for("onUnauthenticated", T, || messages.len() == 1).await;
    assert_eq!(messages.all()[0], "Invalid token");
    assert_eq!(helper.state(), ClientState::Unauthorized);
    helper.shutdown().await;
}

#[tokio::test]
async fn case23_second_authenticate_is_ignored_when_authenticated() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    assert!(matches!(
        helper.authenticate(),
        Err(ClientError::NotUnauthorized(ClientState::Authenticated))
    ));
    assert_eq!(helper.state(), ClientState::Authenticated);
    helper.shutdown().await;
}

// ---- Subscribe/Unsubscribe ----

/// A server that emits `event` with `data` whenever the client emits `trigger`.
fn echo_trigger_server(io: &SocketIo) {
    io.ns(
        "/",
        Ns::new().on("trigger", |s, e, _ack| async move {
            let req = first(&e);
            let event = req["event"].as_str().unwrap_or("test-event");
            let _ = s.emit(event, &req["data"]);
        }),
    );
}

async fn trigger(helper: &ignis_socketio_client::SocketIOClientHelper, event: &str, data: Value) {
    helper
        .emit("trigger", &json!({"event": event, "data": data}))
        .unwrap();
}

#[tokio::test]
async fn case24_subscribed_handler_receives_data() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let got = Recorder::<Value>::default();
    let g = got.clone();
    helper
        .subscribe("test-event", move |data| {
            let g = g.clone();
            async move { g.push(data) }
        })
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!({"message": "Hello"})).await;
    wait_for("handler", T, || got.len() == 1).await;
    assert_eq!(got.all()[0]["message"], "Hello");
    helper.shutdown().await;
}

fn counting(counter: &Counter) -> impl Fn(Value) -> std::future::Ready<()> + Send + Sync + 'static {
    let c = counter.clone();
    move |_| {
        c.hit();
        std::future::ready(())
    }
}

/// DIVERGES from the reference (`ignoreDuplicate: true` by default): like
/// Node's `socket.on`, a second `subscribe` to an event adds a handler that
/// also runs; `subscribe_handler(.., true)` keeps the reference's rule.
#[tokio::test]
async fn case25_second_subscription_also_runs() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let count = Counter::default();
    let first = helper.subscribe("test-event", counting(&count)).unwrap();
    let second = helper.subscribe("test-event", counting(&count)).unwrap();
    assert_ne!(first, second);
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!(1)).await;
    wait_for("both handlers", T, || count.get() == 2).await;
    flush(&helper).await;
    assert_eq!(count.get(), 2);
    helper.shutdown().await;
}

#[tokio::test]
async fn case25b_ignore_duplicate_keeps_the_references_rule() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let count = Counter::default();
    assert!(helper.subscribe("test-event", counting(&count)).is_ok());
    let again = EventHandler::new(counting(&count));
    assert!(
        helper
            .subscribe_handler("test-event", again, true)
            .is_err_and(|e| matches!(e, ClientError::AlreadySubscribed(_)))
    );
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!(1)).await;
    flush(&helper).await;
    assert_eq!(count.get(), 1);
    helper.shutdown().await;
}

#[tokio::test]
async fn case26_duplicate_subscription_is_added_without_ignore_duplicate() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let count = Counter::default();
    helper
        .subscribe_handler("test-event", EventHandler::new(counting(&count)), false)
        .unwrap();
    helper
        .subscribe_handler("test-event", EventHandler::new(counting(&count)), false)
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!(1)).await;
    wait_for("both handlers", T, || count.get() == 2).await;
    helper.shutdown().await;
}

/// Emits a marker event after `event` and waits for it, so that "nothing
/// arrived" is checked after the server's emit was surely delivered.
async fn flush(helper: &ignis_socketio_client::SocketIOClientHelper) {
    let done = Counter::default();
    let id = helper
        .subscribe_handler("flush-marker", EventHandler::new(counting(&done)), false)
        .unwrap();
    trigger(helper, "flush-marker", json!(null)).await;
    wait_for("flush marker", T, || done.get() == 1).await;
    helper.unsubscribe_handler(id);
}

#[tokio::test]
async fn case27_unsubscribe_removes_the_handlers() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let count = Counter::default();
    helper.subscribe("test-event", counting(&count)).unwrap();
    assert_eq!(helper.unsubscribe("test-event"), 1);
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!(1)).await;
    flush(&helper).await;
    assert_eq!(count.get(), 0);
    helper.shutdown().await;
}

#[tokio::test]
async fn case28_subscribe_many_registers_every_handler() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let (a, b, c) = (Counter::default(), Counter::default(), Counter::default());
    let added = helper.subscribe_many(
        [
            ("event-a", EventHandler::new(counting(&a))),
            ("event-b", EventHandler::new(counting(&b))),
            ("event-c", EventHandler::new(counting(&c))),
        ],
        true,
    );
    assert_eq!(added.len(), 3);
    assert!(helper.client().wait_connected(T).await);
    for e in ["event-a", "event-b", "event-c"] {
        trigger(&helper, e, json!(e)).await;
    }
    wait_for("all three", T, || {
        a.get() == 1 && b.get() == 1 && c.get() == 1
    })
    .await;
    helper.shutdown().await;
}

#[tokio::test]
async fn case29_unsubscribe_many_removes_every_handler() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let count = Counter::default();
    helper.subscribe_many(
        [
            ("event-a", EventHandler::new(counting(&count))),
            ("event-b", EventHandler::new(counting(&count))),
        ],
        true,
    );
    assert_eq!(helper.unsubscribe_many(["event-a", "event-b"]), 2);
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "event-a", json!(1)).await;
    trigger(&helper, "event-b", json!(1)).await;
    flush(&helper).await;
    assert_eq!(count.get(), 0);
    helper.shutdown().await;
}

// ---- Emit ----

#[tokio::test]
async fn case30_emit_reaches_the_server() {
    let got = Recorder::<Value>::default();
    let g = got.clone();
    let server = TestServer::start(move |io| {
        io.ns(
            "/",
            Ns::new().on("client-message", move |_s, e, _ack| {
                g.push(first(&e));
                async {}
            }),
        )
    })
    .await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper
        .emit("client-message", &json!({"content": "Hello from client"}))
        .unwrap();
    wait_for("server received", T, || got.len() == 1).await;
    assert_eq!(got.all()[0]["content"], "Hello from client");
    helper.shutdown().await;
}

#[tokio::test]
async fn case31_emit_without_connection_is_an_error() {
    let helper = helper_to(&dead_url().await).build().unwrap();
    let err = helper.emit("x", &json!(1)).unwrap_err();
    assert!(matches!(err, ClientError::NotConnected));
    assert_eq!(err.to_string(), "Invalid socket client state to emit");
    helper.shutdown().await;
}

#[tokio::test]
async fn case32_emit_with_empty_topic_is_an_error() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    let err = helper.emit("", &json!(1)).unwrap_err();
    assert_eq!(err.to_string(), "Topic is required to emit");
    helper.shutdown().await;
}

#[tokio::test]
async fn case33_emit_returns_after_queueing_so_the_caller_continues_at_once() {
    // The reference's `cb` runs on the next tick after emit; in Rust `emit`
    // returns `Ok` once the packet is queued, and the server then gets it.
    let got = Counter::default();
    let g = got.clone();
    let server = TestServer::start(move |io| {
        io.ns(
            "/",
            Ns::new().on("with-cb", move |_s, _e, _ack| {
                g.hit();
                async {}
            }),
        )
    })
    .await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    assert!(helper.emit("with-cb", &json!(null)).is_ok());
    wait_for("server got it", T, || got.get() == 1).await;
    helper.shutdown().await;
}

// ---- Room Management ----

fn room_recording_server(io: &SocketIo, joins: Recorder<Value>, leaves: Recorder<Value>) {
    io.ns(
        "/",
        Ns::new()
            .on("join", move |_s, e, _ack| {
                joins.push(first(&e));
                async {}
            })
            .on("leave", move |_s, e, _ack| {
                leaves.push(first(&e));
                async {}
            }),
    );
}

#[tokio::test]
async fn case34_join_rooms_emits_join() {
    let (joins, leaves) = (Recorder::default(), Recorder::default());
    let (j, l) = (joins.clone(), leaves.clone());
    let server = TestServer::start(move |io| room_recording_server(io, j, l)).await;
    // This server never acks, like the reference: ask for no answer.
    let helper = helper_to(&server.url())
        .room_ack_timeout(None)
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    assert_eq!(helper.join_rooms(["room-1", "room-2"]).await.unwrap(), None);
    wait_for("join", T, || joins.len() == 1).await;
    assert_eq!(joins.all()[0], json!({"rooms": ["room-1", "room-2"]}));
    helper.shutdown().await;
}

#[tokio::test]
async fn case35_leave_rooms_emits_leave() {
    let (joins, leaves) = (Recorder::default(), Recorder::default());
    let (j, l) = (joins.clone(), leaves.clone());
    let server = TestServer::start(move |io| room_recording_server(io, j, l)).await;
    let helper = helper_to(&server.url())
        .room_ack_timeout(None)
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.leave_rooms(["room-1"]).await.unwrap();
    wait_for("leave", T, || leaves.len() == 1).await;
    assert_eq!(leaves.all()[0], json!({"rooms": ["room-1"]}));
    helper.shutdown().await;
}

#[tokio::test]
async fn case36_join_when_not_connected_is_a_clear_error() {
    let helper = helper_to(&dead_url().await).build().unwrap();
    assert!(matches!(
        helper.join_rooms(["a"]).await,
        Err(ClientError::NotConnected)
    ));
    helper.shutdown().await;
}

#[tokio::test]
async fn case37_leave_when_not_connected_is_a_clear_error() {
    let helper = helper_to(&dead_url().await).build().unwrap();
    assert!(matches!(
        helper.leave_rooms(["a"]).await,
        Err(ClientError::NotConnected)
    ));
    helper.shutdown().await;
}

// ---- Shutdown ----

#[tokio::test]
async fn case38_shutdown_disconnects() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.shutdown().await;
    assert!(!helper.is_connected());
    wait_for("server sees no socket", T, || server.socket_count() == 0).await;
}

#[tokio::test]
async fn case39_shutdown_resets_state_to_unauthorized() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    helper.shutdown().await;
    assert_eq!(helper.state(), ClientState::Unauthorized);
}

#[tokio::test]
async fn case40_shutdown_removes_all_listeners() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let count = Counter::default();
    helper.subscribe("test-1", counting(&count)).unwrap();
    helper.subscribe("test-2", counting(&count)).unwrap();
    helper.shutdown().await;
    assert!(!helper.client().has_listeners("test-1"));
    assert!(!helper.client().has_listeners("test-2"));
    assert!(matches!(helper.connect(), Err(ClientError::Shutdown)));
}

// ---- Ping Handling ----

#[tokio::test]
async fn case41_ping_events_reach_a_subscribed_handler() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let got = Recorder::<Value>::default();
    let g = got.clone();
    // The helper's own `ping` listener does not count as a duplicate (FIX).
    assert!(
        helper
            .subscribe("ping", move |data| {
                let g = g.clone();
                async move { g.push(data) }
            })
            .is_ok()
    );
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "ping", json!({"time": "2026-11-25T08:00:00.000Z"})).await;
    wait_for("ping handler", T, || got.len() == 1).await;
    assert_eq!(got.all()[0]["time"], "2026-11-25T08:00:00.000Z");
    helper.shutdown().await;
}

// ---- Error Handling ----

#[tokio::test]
async fn case42_on_error_is_called_on_connection_error() {
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let helper = helper_to(&dead_url().await)
        .on_error(move |error| {
            let e = e.clone();
            async move { e.push(error) }
        })
        .build()
        .unwrap();
    wait_for("onError", Duration::from_secs(5), || errors.len() == 1).await;
    assert!(
        matches!(errors.all()[0], ClientError::ConnectFailed(_)),
        "{:?}",
        errors.all()
    );
    helper.shutdown().await;
}

#[tokio::test]
async fn case43_failing_handler_does_not_kill_the_client() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    helper
        .subscribe("test-event", |_data: Value| async move {
            Err::<(), _>("handler failed")
        })
        .unwrap();
    helper
        .subscribe_handler(
            "test-event",
            EventHandler::new(|_data: Value| -> std::future::Ready<()> {
                panic!("sync panic in a handler");
            }),
            false,
        )
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!(1)).await;
    flush(&helper).await;
    assert!(helper.is_connected());
    helper.shutdown().await;
}

#[tokio::test]
async fn case44_async_failing_handler_does_not_kill_the_client() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    helper
        .subscribe("test-event", |_data: Value| async move {
            tokio::task::yield_now().await;
            Err::<(), _>(std::io::Error::other("async failure"))
        })
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "test-event", json!(1)).await;
    flush(&helper).await;
    assert!(helper.is_connected());
    helper.shutdown().await;
}

// ---- Connect/Disconnect Methods ----

#[tokio::test]
async fn case45_connect_manually() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url())
        .auto_connect(false)
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!helper.is_connected());
    helper.connect().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.shutdown().await;
}

#[tokio::test]
async fn case46_disconnect_manually() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.disconnect().await;
    assert!(!helper.is_connected());
    wait_for("server sees no socket", T, || server.socket_count() == 0).await;
    helper.shutdown().await;
}

// ---- Edge Cases ----

#[tokio::test]
async fn case47_rapid_connect_disconnect_cycles_leave_no_socket() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    for _ in 0..5 {
        let helper = helper_to(&server.url()).build().unwrap();
        assert!(helper.client().wait_connected(T).await);
        helper.shutdown().await;
        wait_for("server socket count 0", T, || server.socket_count() == 0).await;
    }
    assert_eq!(server.socket_count(), 0);
}

#[tokio::test]
async fn case48_ten_clients_at_once() {
    let server = TestServer::start(|io| auth_server(io, true)).await;
    let helpers: Vec<_> = (0..10)
        .map(|i| {
            helper_to(&server.url())
                .identifier(format!("client-{i}"))
                .build()
                .unwrap()
        })
        .collect();
    for h in &helpers {
        assert!(h.client().wait_connected(T).await);
    }
    wait_for("10 sockets", T, || server.socket_count() == 10).await;
    for h in helpers {
        h.shutdown().await;
    }
}

#[tokio::test]
async fn case49_events_without_handler_do_not_crash() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    // A nameless subscription is refused, like the reference's null handler.
    assert!(matches!(
        helper.subscribe("", |_d: Value| async {}),
        Err(ClientError::EmptyEvent)
    ));
    assert!(helper.client().wait_connected(T).await);
    trigger(&helper, "nobody-listens", json!({"x": 1})).await;
    flush(&helper).await;
    assert!(helper.is_connected());
    helper.shutdown().await;
}

#[tokio::test]
async fn case50_unsubscribe_of_unknown_event_is_harmless() {
    let server = TestServer::start(echo_trigger_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    assert_eq!(helper.unsubscribe("non-existent-event"), 0);
    assert!(helper.is_connected());
    helper.shutdown().await;
}
