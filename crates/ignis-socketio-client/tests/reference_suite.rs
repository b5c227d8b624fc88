//! The reference framework's client suite (`socket-io.test.ts`), cases
//! 6 to 29 (30 to 50 in `reference_suite_2.rs`), ported to Rust and run against the project's own engine on
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
