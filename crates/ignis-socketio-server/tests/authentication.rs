//! Wire payloads and the connection and authentication state machine
//! (docs/protocol.md "Events" and "States").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::protocol::messages;
use ignis_socketio_server::{
    AuthError, AuthenticatedClient, ClientInfo, ClientState, Handshake, Identity, JoinRequest,
    ServerOptions, SocketIOServerHelper, Target,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

fn is_iso_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24 && s.ends_with('Z') && &s[10..11] == "T"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_sends_ping_then_authenticated_with_id_and_time() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;

    let seen: Vec<Value> = d
        .of("a")
        .into_iter()
        .filter(|v| v["type"] == "event")
        .collect();
    assert_eq!(seen[0]["event"], "ping", "{seen:?}");
    assert!(is_iso_time(&seen[0]["data"]["time"]));
    assert_eq!(seen[1]["event"], "authenticated");
    assert_eq!(seen[1]["data"]["id"], id.as_str());
    assert!(is_iso_time(&seen[1]["data"]["time"]));
    let connect = d.wait_type("a", "connect").await;
    assert_eq!(
        connect["id"],
        id.as_str(),
        "authenticated carries the socket id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_ping_repeats_every_ping_interval() {
    let server = TestServer::start(builder().options(ServerOptions {
        ping_interval: Duration::from_millis(150),
        ..ServerOptions::default()
    }))
    .await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;
    d.wait_count("3 pings", 3, |v| v["name"] == "a" && v["event"] == "ping")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_before_authentication_are_ignored() {
    let echoed = Arc::new(AtomicUsize::new(0));
    let counter = echoed.clone();
    let server = TestServer::start(
        builder()
            .validate_rooms(|req: JoinRequest| async move { req.rooms })
            .on_client_connected(move |client: AuthenticatedClient| {
                let counter = counter.clone();
                async move {
                    client.on("echo", move |client: AuthenticatedClient, data: Value| {
                        let counter = counter.clone();
                        async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            client.emit("echo:response", &data)
                        }
                    });
                }
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, json!({"auth": {"token": "good"}}))
        .await;
    let connect = d.wait_type("a", "connect").await;
    let id = connect["id"].as_str().unwrap().to_owned();

    d.emit("a", "echo", json!(["early"])).await;
    let join = d.emit_ack("a", "join", json!([{"rooms": ["r1"]}])).await;
    assert_eq!(join["error"]["code"], "not_authenticated", "{join}");
    let leave = d.emit_ack("a", "leave", json!([{"rooms": ["r1"]}])).await;
    assert_eq!(leave["error"]["code"], "not_authenticated", "{leave}");
    assert_eq!(server.io.get_client(&id).unwrap().rooms, vec![id.clone()]);

    d.emit("a", "authenticate", json!([])).await;
    d.wait_event("a", "authenticated").await;
    d.emit("a", "echo", json!(["late"])).await;
    let response = d.wait_event("a", "echo:response").await;
    assert_eq!(response["data"], "late");
    assert_eq!(d.events("a", "echo:response").len(), 1);
    assert_eq!(
        echoed.load(Ordering::SeqCst),
        1,
        "the early event reached no handler"
    );
    assert!(
        !server
            .io
            .get_client(&id)
            .unwrap()
            .rooms
            .contains(&"r1".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_authenticate_is_ignored_exactly_one_authenticated() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = TestServer::start(SocketIOServerHelper::builder().authenticate(
        move |_hs: Handshake| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(Identity::new("u"))
            }
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, json!({"authenticate": true})).await;
    d.wait_type("a", "connect").await;
    d.emit("a", "authenticate", json!([])).await; // while authenticating
    d.wait_event("a", "authenticated").await;
    let ack = d.emit_ack("a", "authenticate", json!([])).await; // once authenticated
    assert_eq!(ack["state"], "authenticated");
    // The ack is answered after any `authenticated` a second run could have sent.
    assert_eq!(d.events("a", "authenticated").len(), 1);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the authenticator ran once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticator_receives_headers_query_auth_and_credentials() {
    let seen = Arc::new(std::sync::Mutex::new(None::<Handshake>));
    let s = seen.clone();
    let server = TestServer::start(SocketIOServerHelper::builder().authenticate(
        move |hs: Handshake| {
            let s = s.clone();
            async move {
                *s.lock().unwrap() = Some(hs.clone());
                let token = hs.bearer_token().ok_or_else(AuthError::missing_token)?;
                Ok(Identity::new(token).with_claims(json!({"role": "admin"})))
            }
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({
            "transport": "polling",
            "headers": {"x-test": "header-value"},
            "query": {"q": "1"},
            "auth": {"token": "from-auth"},
            "authenticate": {"data": {"token": "from-credentials"}, "ackTag": "auth"}
        }),
    )
    .await;
    let ack = d.wait_for("auth ack", |v| v["tag"] == "auth").await;
    assert_eq!(ack["data"]["state"], "authenticated", "{ack}");
    let id = ack["data"]["id"].as_str().unwrap().to_owned();
    assert!(is_iso_time(&ack["data"]["time"]));

    let hs = seen.lock().unwrap().clone().unwrap();
    assert_eq!(hs.header("x-test"), Some("header-value"));
    assert_eq!(hs.query_param("q"), Some("1"));
    assert_eq!(hs.query_param("EIO"), Some("4"));
    assert_eq!(hs.auth()["token"], "from-auth");
    assert_eq!(hs.credentials().unwrap()["token"], "from-credentials");
    assert_eq!(hs.bearer_token(), Some("from-credentials"));
    assert!(hs.url().starts_with("/io/"), "{}", hs.url());
    assert!(hs.address().unwrap().ip().is_loopback());
    assert!(!hs.secure());

    let info = server.io.get_client(&id).unwrap();
    assert_eq!(info.state, ClientState::Authenticated);
    let identity = info.identity.unwrap();
    assert_eq!(identity.id, "from-credentials");
    assert_eq!(identity.claims["role"], "admin");
    assert_eq!(info.transport, "polling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_cancels_auth_timer_and_joins_default_rooms() {
    let server = TestServer::start(builder().auth_timeout(Duration::from_millis(1_000))).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    // Well past the auth timeout: still connected, still served.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let info = server.io.get_client(&id).expect("still connected");
    let mut expected = vec![
        id.clone(),
        "io-default".to_owned(),
        "io-notification".to_owned(),
    ];
    expected.sort();
    assert_eq!(info.rooms, expected);
    assert!(d.of("a").iter().all(|v| v["type"] != "disconnect"));
    assert!(d.events("a", "unauthenticated").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_rooms_are_configurable_and_may_be_empty() {
    let server = TestServer::start(builder().options(ServerOptions {
        default_rooms: Vec::new(),
        ..ServerOptions::default()
    }))
    .await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "websocket").await;
    assert_eq!(server.io.get_client(&id).unwrap().rooms, vec![id.clone()]);

    let server = TestServer::start(builder().options(ServerOptions {
        default_rooms: vec!["lobby".to_owned()],
        ..ServerOptions::default()
    }))
    .await;
    let id = d.connect_authenticated("b", &server, "websocket").await;
    let mut expected = vec![id.clone(), "lobby".to_owned()];
    expected.sort();
    assert_eq!(server.io.get_client(&id).unwrap().rooms, expected);
}

async fn refused_client_reads_unauthenticated_before_disconnect(transport: &str) {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({"transport": transport, "auth": {"token": "wrong"}, "authenticate": true}),
    )
    .await;
    d.wait_type("a", "disconnect").await;
    let seen: Vec<Value> = d
        .of("a")
        .into_iter()
        .filter(|v| v["type"] != "connect")
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0]["event"], "unauthenticated",
        "message first: {seen:?}"
    );
    assert_eq!(seen[0]["data"]["message"], messages::INVALID_TOKEN);
    assert_eq!(seen[0]["data"]["code"], "invalid_token");
    assert!(is_iso_time(&seen[0]["data"]["time"]));
    assert_eq!(seen[1]["type"], "disconnect");
    assert_eq!(seen[1]["reason"], "io server disconnect");
    server
        .wait_registry("empty", |io| io.client_count() == 0)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_gets_unauthenticated_before_disconnect_over_websocket() {
    refused_client_reads_unauthenticated_before_disconnect("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_gets_unauthenticated_before_disconnect_over_polling() {
    refused_client_reads_unauthenticated_before_disconnect("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_gets_unauthenticated_before_disconnect_during_transport_upgrade() {
    refused_client_reads_unauthenticated_before_disconnect("upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_answers_the_authenticate_ack_with_code() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({"auth": {"token": "wrong"}, "authenticate": {"ackTag": "auth"}}),
    )
    .await;
    let ack = d.wait_for("auth ack", |v| v["tag"] == "auth").await;
    assert_eq!(ack["data"]["state"], "unauthorized", "{ack}");
    assert_eq!(ack["data"]["code"], "invalid_token");
    assert_eq!(ack["data"]["message"], messages::INVALID_TOKEN);
    d.wait_type("a", "disconnect").await;
}

async fn failing_authenticator_answers_failed_and_server_keeps_serving(panic: bool) {
    let server = TestServer::start(SocketIOServerHelper::builder().authenticate(
        move |hs: Handshake| async move {
            match hs.bearer_token() {
                Some("good") => Ok(Identity::new("u")),
                _ if panic => panic!("authenticator exploded"),
                _ => Err(AuthError::failed("database unreachable")),
            }
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    for transport in ["websocket", "polling"] {
        let name = format!("bad-{transport}");
        d.connect(
            &name,
            &server,
            json!({"transport": transport, "auth": {"token": "x"}, "authenticate": true}),
        )
        .await;
        d.wait_type(&name, "disconnect").await;
        let seen: Vec<Value> = d
            .of(&name)
            .into_iter()
            .filter(|v| v["type"] != "connect")
            .collect();
        assert_eq!(seen[0]["event"], "unauthenticated", "{seen:?}");
        assert_eq!(seen[0]["data"]["message"], messages::AUTHENTICATION_FAILED);
        assert_eq!(seen[0]["data"]["code"], "authentication_failed");
        assert_eq!(seen[1]["type"], "disconnect");
    }
    // The process and the server survived: a good client is served.
    d.connect_authenticated("good", &server, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticator_error_answers_failed_to_authenticate() {
    failing_authenticator_answers_failed_and_server_keeps_serving(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticator_panic_is_contained_and_answers_failed_to_authenticate() {
    failing_authenticator_answers_failed_and_server_keeps_serving(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_never_authenticates_is_disconnected_at_timeout_with_code() {
    let server = TestServer::start(builder().auth_timeout(Duration::from_millis(300))).await;
    let mut d = Driver::spawn().await;
    for transport in ["websocket", "polling"] {
        d.connect(transport, &server, json!({"transport": transport}))
            .await;
    }
    for transport in ["websocket", "polling"] {
        d.wait_type(transport, "disconnect").await;
        let seen: Vec<Value> = d
            .of(transport)
            .into_iter()
            .filter(|v| v["type"] != "connect")
            .collect();
        assert_eq!(seen[0]["event"], "unauthenticated", "{seen:?}");
        assert_eq!(seen[0]["data"]["code"], "authentication_timeout");
        assert_eq!(seen[0]["data"]["message"], messages::AUTHENTICATION_TIMEOUT);
        assert_eq!(seen[1]["reason"], "io server disconnect");
    }
    server
        .wait_registry("empty", |io| io.client_count() == 0)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_authenticator_is_cut_by_the_timeout() {
    let server = TestServer::start(
        SocketIOServerHelper::builder()
            .auth_timeout(Duration::from_millis(300))
            .authenticate(|_hs: Handshake| async move {
                std::future::pending::<()>().await;
                Ok(Identity::new("never"))
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, json!({"authenticate": true})).await;
    d.wait_type("a", "disconnect").await;
    assert_eq!(
        d.events("a", "unauthenticated")[0]["data"]["code"],
        "authentication_timeout"
    );
    server
        .wait_registry("empty", |io| io.client_count() == 0)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_during_authentication_discards_the_late_result() {
    let release = Arc::new(Notify::new());
    let connected = Arc::new(AtomicUsize::new(0));
    let disconnected = Arc::new(AtomicUsize::new(0));
    let (r, c, x) = (release.clone(), connected.clone(), disconnected.clone());
    let server = TestServer::start(
        SocketIOServerHelper::builder()
            .authenticate(move |_hs: Handshake| {
                let r = r.clone();
                async move {
                    r.notified().await;
                    Ok(Identity::new("late"))
                }
            })
            .on_client_connected(move |_client: AuthenticatedClient| {
                let c = c.clone();
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                }
            })
            .on_client_disconnected(move |_info: ClientInfo, _reason: String| {
                let x = x.clone();
                async move {
                    x.fetch_add(1, Ordering::SeqCst);
                }
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, json!({"authenticate": true})).await;
    server
        .wait_registry("authenticating", |io| {
            io.get_clients()
                .first()
                .is_some_and(|c| c.state == ClientState::Authenticating)
        })
        .await;
    d.disconnect("a").await;
    server
        .wait_registry("empty", |io| io.client_count() == 0)
        .await;
    // notify_one stores a permit: the authenticator completes even if it
    // has not reached its await yet.
    release.notify_one();
    server
        .wait_registry("disconnected handler ran", |_| {
            disconnected.load(Ordering::SeqCst) == 1
        })
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(connected.load(Ordering::SeqCst), 0, "late result discarded");
    assert_eq!(server.io.client_count(), 0, "nothing leaked");
    assert_eq!(disconnected.load(Ordering::SeqCst), 1, "torn down once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_disconnect_removes_the_record_and_tears_down_once() {
    let reasons = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let r = reasons.clone();
    let server = TestServer::start(
        builder()
            .auth_timeout(Duration::from_millis(1_000))
            .on_client_disconnected(move |info: ClientInfo, reason: String| {
                let r = r.clone();
                async move {
                    r.lock().unwrap().push((info.id, reason));
                }
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    let by_client = d
        .connect_authenticated("by-client", &server, "websocket")
        .await;
    let by_server = d
        .connect_authenticated("by-server", &server, "polling")
        .await;
    d.connect("by-timeout", &server, json!({})).await;
    d.connect(
        "refused",
        &server,
        json!({"auth": {"token": "no"}, "authenticate": true}),
    )
    .await;

    let killed = d
        .connect_authenticated("killed", &server, "websocket")
        .await;
    d.disconnect("by-client").await;
    server.io.disconnect(&by_server).unwrap();
    d.send(json!({"cmd": "kill", "name": "killed"})).await;
    for name in ["by-client", "by-server", "by-timeout", "refused", "killed"] {
        d.wait_type(name, "disconnect").await;
    }
    server
        .wait_registry("empty", |io| io.client_count() == 0)
        .await;
    server
        .wait_registry("5 teardowns", |_| reasons.lock().unwrap().len() >= 5)
        .await;
    // Room for a duplicate teardown to show up, if there were one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reasons = reasons.lock().unwrap().clone();
    assert_eq!(reasons.len(), 5, "one teardown per client: {reasons:?}");
    let mut ids: Vec<_> = reasons.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "{reasons:?}");
    assert!(ids.contains(&by_client) && ids.contains(&by_server) && ids.contains(&killed));
    let reason_of = |id: &str| reasons.iter().find(|(i, _)| i == id).unwrap().1.clone();
    assert_ne!(
        reason_of(&killed),
        reason_of(&by_client),
        "the cause is reported"
    );
    assert!(matches!(
        server.io.disconnect(&by_server),
        Err(ignis_socketio_server::ServerError::UnknownClient(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_reaches_room_validator_and_connected_handler() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (s1, s2) = (seen.clone(), seen.clone());
    let server = TestServer::start(
        builder()
            .validate_rooms(move |req: JoinRequest| {
                let s = s1.clone();
                async move {
                    s.lock()
                        .unwrap()
                        .push(format!("validator:{}", req.identity().id));
                    req.rooms
                }
            })
            .on_client_connected(move |client: AuthenticatedClient| {
                let s = s2.clone();
                async move {
                    s.lock()
                        .unwrap()
                        .push(format!("connected:{}", client.identity().id));
                }
            }),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;
    d.emit_ack("a", "join", json!([{"rooms": ["x"]}])).await;
    // The connected handler runs after `authenticated` is sent: wait for it.
    server
        .wait_registry("both callbacks ran", |_| seen.lock().unwrap().len() == 2)
        .await;
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["connected:user-good", "validator:user-good"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_while_connected_handler_runs_are_delivered_after_it() {
    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            // A slow set-up: the client's first events arrive meanwhile.
            tokio::time::sleep(Duration::from_millis(300)).await;
            client.on(
                "echo",
                |client: AuthenticatedClient,
                 data: Value,
                 ack: Option<ignis_socketio_server::AckResponder>| async move {
                    if let Some(ack) = ack {
                        ack.send(&json!({"echo": data}))?;
                    }
                    client.emit("echo:response", &data)
                },
            );
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;
    d.emit("a", "echo", json!(["first"])).await;
    let ack = d.emit_ack("a", "echo", json!(["second"])).await;
    assert_eq!(ack, json!({"echo": "second"}));
    d.wait_count("2 echoes", 2, |v| v["event"] == "echo:response")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_event_handler_is_contained() {
    let server = TestServer::start(builder().on_client_connected(
        |client: AuthenticatedClient| async move {
            client.on(
                "boom",
                |_client: AuthenticatedClient, data: Value| async move {
                    if data.is_number() {
                        panic!("handler exploded");
                    }
                },
            );
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
    d.emit("a", "boom", json!([1])).await;
    d.emit("a", "echo", json!([2])).await;
    assert_eq!(d.wait_event("a", "echo:response").await["data"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_and_reserved_names_cannot_get_application_handlers() {
    let results = Arc::new(std::sync::Mutex::new(Vec::new()));
    let r = results.clone();
    let server = TestServer::start(builder().on_client_connected(
        move |client: AuthenticatedClient| {
            let r = r.clone();
            async move {
                for name in ["authenticate", "join", "leave", "disconnect", "", "fine"] {
                    let ok = client
                        .try_on(name, |_c: AuthenticatedClient, _d: Value| async move {})
                        .is_ok();
                    r.lock().unwrap().push((name.to_owned(), ok));
                }
            }
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;
    server
        .wait_registry("connected handler done", |_| {
            results.lock().unwrap().len() == 6
        })
        .await;
    let results = results.lock().unwrap().clone();
    let ok: Vec<_> = results
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(ok, vec!["fine"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_clients_returns_snapshots_with_state() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let authed = d.connect_authenticated("a", &server, "websocket").await;
    d.connect("b", &server, json!({})).await;
    let pending = d.wait_type("b", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut snapshot = server.io.get_clients();
    assert_eq!(snapshot.len(), 2);
    let a = snapshot.iter().find(|c| c.id == authed).unwrap();
    assert_eq!(a.state, ClientState::Authenticated);
    assert!(a.authenticated_at.is_some());
    let b = snapshot.iter().find(|c| c.id == pending).unwrap();
    assert_eq!(b.state, ClientState::Unauthorized);
    assert!(b.identity.is_none());
    assert_eq!(
        b.rooms,
        vec![pending.clone()],
        "the internal room is not shown"
    );

    snapshot.clear();
    assert_eq!(
        server.io.get_clients().len(),
        2,
        "a snapshot, not the live map"
    );
    assert!(server.io.get_client("nope").is_none());

    d.disconnect("a").await;
    server
        .wait_registry("a gone", |io| io.get_client(&authed).is_none())
        .await;
    assert!(server.io.get_client(&pending).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_idempotent_disconnects_everyone_and_keeps_http_server() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    d.connect_authenticated("a", &server, "websocket").await;
    d.connect_authenticated("b", &server, "polling").await;
    d.connect("c", &server, json!({})).await;
    d.wait_type("c", "connect").await;

    let io = server.io.clone();
    let (first, second) = tokio::join!(io.shutdown(), server.io.shutdown());
    let _ = (first, second);
    server.io.shutdown().await;
    assert!(server.io.is_shut_down());
    for name in ["a", "b", "c"] {
        let disconnect = d.wait_type(name, "disconnect").await;
        assert_eq!(disconnect["reason"], "io server disconnect", "{name}");
    }
    assert_eq!(server.io.client_count(), 0);
    assert_eq!(
        server.http_get_status("/health").await,
        200,
        "host HTTP server still up"
    );
    assert!(matches!(
        server.io.send(Target::all(), "x", &1).await,
        Err(ignis_socketio_server::ServerError::ShutDown)
    ));
    // New connections are refused, not served.
    d.connect("late", &server, json!({"authenticate": true}))
        .await;
    d.wait_type("late", "connect_error").await;
    assert_eq!(server.io.client_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disconnected_handler_still_sees_the_rooms_of_a_client_that_closed() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(String, Vec<String>)>::new()));
    let s = seen.clone();
    let server = TestServer::start(builder().on_client_disconnected(
        move |info: ClientInfo, _reason: String| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push((info.id, info.rooms));
            }
        },
    ))
    .await;
    let mut d = Driver::spawn().await;
    let closed = d
        .connect_authenticated("closed", &server, "websocket")
        .await;
    let killed = d.connect_authenticated("killed", &server, "polling").await;
    d.disconnect("closed").await;
    d.send(json!({"cmd": "kill", "name": "killed"})).await;
    server
        .wait_registry("both torn down", |_| seen.lock().unwrap().len() == 2)
        .await;
    for (id, rooms) in seen.lock().unwrap().iter() {
        assert!(id == &closed || id == &killed);
        assert!(
            rooms.contains(&"io-default".to_owned()) && rooms.contains(id),
            "{id} left with rooms {rooms:?}"
        );
    }
}
