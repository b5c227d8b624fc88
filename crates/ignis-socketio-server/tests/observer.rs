//! Lifecycle observers: each socket's connect, authentication and disconnect
//! reach every observer once, in order, with the right arguments; a panicking
//! observer changes nothing else. Plus: a refused client cannot get a new
//! authentication window by sending CONNECT again on the same connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Driver, TestServer, WAIT, builder};
use ignis_socketio_server::{Handshake, Identity, SocketIOServerHelper, SocketObserver};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One observed call.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Connected {
        id: String,
        handshake: Value,
    },
    Authenticated {
        id: String,
        identity: Identity,
        credentials: Option<Value>,
    },
    Disconnected {
        id: String,
    },
}

impl Seen {
    fn id(&self) -> &str {
        match self {
            Seen::Connected { id, .. }
            | Seen::Authenticated { id, .. }
            | Seen::Disconnected { id } => id,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Seen::Connected { .. } => "connected",
            Seen::Authenticated { .. } => "authenticated",
            Seen::Disconnected { .. } => "disconnected",
        }
    }
}

/// Records every call, so tests can check what was seen and in which order.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    notify: Notify,
}

impl Recorder {
    fn push(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
        self.notify.notify_waiters();
    }

    fn of(&self, id: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.id() == id)
            .cloned()
            .collect()
    }

    fn kinds(&self, id: &str) -> Vec<&'static str> {
        self.of(id).iter().map(Seen::kind).collect()
    }

    /// Waits until socket `id` was seen disconnecting.
    async fn wait_disconnected(&self, id: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            if self.kinds(id).contains(&"disconnected") {
                return;
            }
            assert!(
                tokio::time::timeout_at(deadline, notified).await.is_ok(),
                "no socket_disconnected for {id}; seen {:?}",
                self.of(id)
            );
        }
    }
}

impl SocketObserver for Recorder {
    fn socket_connected(&self, id: &str, handshake: &Handshake) {
        self.push(Seen::Connected {
            id: id.to_owned(),
            handshake: handshake.to_node_json(),
        });
    }

    fn socket_authenticated(&self, id: &str, handshake: &Handshake, identity: &Identity) {
        self.push(Seen::Authenticated {
            id: id.to_owned(),
            identity: identity.clone(),
            credentials: handshake.credentials().cloned(),
        });
    }

    fn socket_disconnected(&self, id: &str) {
        self.push(Seen::Disconnected { id: id.to_owned() });
    }
}

/// Panics in every callback.
struct Panicker;

impl SocketObserver for Panicker {
    fn socket_connected(&self, _: &str, _: &Handshake) {
        panic!("observer panics on connect");
    }
    fn socket_authenticated(&self, _: &str, _: &Handshake, _: &Identity) {
        panic!("observer panics on authentication");
    }
    fn socket_disconnected(&self, _: &str) {
        panic!("observer panics on disconnect");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observer_sees_connect_authenticate_disconnect_once_each_with_the_handshake() {
    let recorder = Arc::new(Recorder::default());
    let server = TestServer::start(builder().observer(recorder.clone())).await;
    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({
            "auth": {"token": "good", "extra": 7},
            "query": {"room": "lobby"},
            "headers": {"X-Tenant": "acme"},
            "authenticate": {"data": {"token": "good", "device": "cli"}},
        }),
    )
    .await;
    let id = d.wait_event("a", "authenticated").await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = recorder.of(&id);
    assert_eq!(
        recorder.kinds(&id),
        ["connected", "authenticated"],
        "{seen:?}"
    );
    let Seen::Connected { handshake, .. } = &seen[0] else {
        unreachable!()
    };
    assert_eq!(handshake["auth"], json!({"token": "good", "extra": 7}));
    assert_eq!(handshake["query"]["room"], "lobby");
    assert_eq!(handshake["query"]["EIO"], "4");
    assert_eq!(handshake["headers"]["x-tenant"], "acme");
    assert_eq!(handshake["address"], "127.0.0.1");
    assert!(
        handshake["url"].as_str().unwrap().starts_with("/io/?"),
        "{handshake}"
    );
    assert!(handshake["issued"].as_u64().unwrap() > 0);
    assert_eq!(
        seen[1],
        Seen::Authenticated {
            id: id.clone(),
            identity: Identity::new("user-good"),
            credentials: Some(json!({"token": "good", "device": "cli"})),
        }
    );

    d.disconnect("a").await;
    recorder.wait_disconnected(&id).await;
    server
        .wait_registry("client gone", |io| io.client_count() == 0)
        .await;
    assert_eq!(
        recorder.kinds(&id),
        ["connected", "authenticated", "disconnected"]
    );
    assert_eq!(
        recorder.seen.lock().unwrap().len(),
        3,
        "nothing about other sockets"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_observers_are_all_told_in_order() {
    let first = Arc::new(Recorder::default());
    let second = Arc::new(Recorder::default());
    let server =
        TestServer::start(builder().observer(first.clone()).observer(second.clone())).await;
    let mut d = Driver::spawn().await;
    let id = d.connect_authenticated("a", &server, "polling").await;
    server.io.disconnect(&id).unwrap();
    first.wait_disconnected(&id).await;
    second.wait_disconnected(&id).await;
    for recorder in [&first, &second] {
        assert_eq!(
            recorder.kinds(&id),
            ["connected", "authenticated", "disconnected"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_client_is_connected_then_disconnected_never_authenticated() {
    let recorder = Arc::new(Recorder::default());
    let server = TestServer::start(builder().observer(recorder.clone())).await;
    let mut d = Driver::spawn().await;
    d.connect(
        "bad",
        &server,
        json!({"auth": {"token": "wrong"}, "authenticate": true}),
    )
    .await;
    let id = d.wait_type("bad", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.wait_event("bad", "unauthenticated").await;
    recorder.wait_disconnected(&id).await;
    assert_eq!(recorder.kinds(&id), ["connected", "disconnected"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_client_is_connected_then_disconnected_never_authenticated() {
    let recorder = Arc::new(Recorder::default());
    let server = TestServer::start(
        builder()
            .auth_timeout(Duration::from_millis(200))
            .observer(recorder.clone()),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect("slow", &server, json!({"auth": {"token": "good"}}))
        .await;
    let id = d.wait_type("slow", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.wait_event("slow", "unauthenticated").await;
    recorder.wait_disconnected(&id).await;
    assert_eq!(recorder.kinds(&id), ["connected", "disconnected"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_during_authentication_is_connected_then_disconnected_never_authenticated() {
    let recorder = Arc::new(Recorder::default());
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let finished = Arc::new(AtomicBool::new(false));
    let (s, r, f) = (started.clone(), release.clone(), finished.clone());
    let server = TestServer::start(
        SocketIOServerHelper::builder()
            .authenticate(move |_hs: Handshake| {
                let (s, r, f) = (s.clone(), r.clone(), f.clone());
                async move {
                    s.notify_one();
                    r.notified().await;
                    f.store(true, Ordering::SeqCst);
                    Ok(Identity::new("late"))
                }
            })
            .observer(recorder.clone()),
    )
    .await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, json!({"authenticate": true})).await;
    let id = d.wait_type("a", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::timeout(WAIT, started.notified())
        .await
        .expect("authenticator started");
    d.disconnect("a").await;
    recorder.wait_disconnected(&id).await;
    release.notify_one();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !finished.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "authenticator never returned"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The accepted result arrives after the client left: it is discarded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recorder.kinds(&id), ["connected", "disconnected"]);
}

/// Disconnects the socket from inside `socket_authenticated` and stays busy a
/// while, so that the teardown runs while the observer is still being called.
struct DisconnectWhileBusy {
    io: OnceLock<SocketIOServerHelper>,
    recorder: Arc<Recorder>,
}

impl SocketObserver for DisconnectWhileBusy {
    fn socket_authenticated(&self, id: &str, handshake: &Handshake, identity: &Identity) {
        self.recorder.socket_authenticated(id, handshake, identity);
        if let Some(io) = self.io.get() {
            io.disconnect(id).unwrap();
        }
        // Blocking on purpose: the teardown runs on the other worker meanwhile.
        std::thread::sleep(Duration::from_millis(300));
        self.recorder.push(Seen::Connected {
            id: id.to_owned(),
            handshake: json!("observer returned"),
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_while_observers_run_is_reported_after_authenticated() {
    let recorder = Arc::new(Recorder::default());
    let busy = Arc::new(DisconnectWhileBusy {
        io: OnceLock::new(),
        recorder: recorder.clone(),
    });
    let io = builder()
        .observer(recorder.clone())
        .observer(busy.clone())
        .build()
        .unwrap();
    busy.io.set(io.clone()).ok();
    let server = TestServer::serve(io).await;
    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({"auth": {"token": "good"}, "authenticate": true}),
    )
    .await;
    let id = d.wait_type("a", "connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disconnect = d.wait_type("a", "disconnect").await;
    assert_eq!(disconnect["reason"], "io server disconnect");
    recorder.wait_disconnected(&id).await;
    server
        .wait_registry("client gone", |io| io.client_count() == 0)
        .await;
    // connected, authenticated (twice: both observers' recorders), the busy
    // observer's return, and only then disconnected.
    assert_eq!(
        recorder.kinds(&id),
        [
            "connected",
            "authenticated",
            "authenticated",
            "connected",
            "disconnected"
        ],
        "{:?}",
        recorder.of(&id)
    );
    assert!(
        d.events("a", "authenticated").is_empty(),
        "a client gone meanwhile is not told"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_observer_breaks_neither_the_server_nor_other_observers() {
    let recorder = Arc::new(Recorder::default());
    let server = TestServer::start(
        builder()
            .observer(Arc::new(Panicker))
            .observer(recorder.clone()),
    )
    .await;
    let mut d = Driver::spawn().await;
    let first = d.connect_authenticated("a", &server, "websocket").await;
    d.disconnect("a").await;
    recorder.wait_disconnected(&first).await;
    assert_eq!(
        recorder.kinds(&first),
        ["connected", "authenticated", "disconnected"]
    );

    // The server keeps serving: a second client authenticates and gets its rooms.
    let second = d.connect_authenticated("b", &server, "polling").await;
    let info = server.io.get_client(&second).unwrap();
    assert!(info.rooms.contains(&"io-default".to_owned()), "{info:?}");
    assert_eq!(recorder.kinds(&second), ["connected", "authenticated"]);
    server.io.shutdown().await;
    recorder.wait_disconnected(&second).await;
    assert_eq!(
        recorder.kinds(&second),
        ["connected", "authenticated", "disconnected"]
    );
}

/// Opens a bare Engine.IO connection, connects to `/` and returns the socket id.
async fn raw_connect(d: &mut Driver, name: &str, server: &TestServer) -> String {
    d.send(json!({"cmd": "raw_open", "name": name, "url": server.url, "path": "/io"}))
        .await;
    d.wait_for("engine.io open", |v| raw_starting(v, name, "0{"))
        .await;
    d.send(json!({"cmd": "raw_send", "name": name, "data": "40"}))
        .await;
    let ack = d
        .wait_for("CONNECT ack", |v| raw_starting(v, name, "40{"))
        .await;
    let body: Value = serde_json::from_str(&ack["data"].as_str().unwrap()[2..]).unwrap();
    body["sid"].as_str().unwrap().to_owned()
}

fn raw_starting(v: &Value, name: &str, prefix: &str) -> bool {
    v["name"] == name
        && v["type"] == "raw"
        && v["data"].as_str().is_some_and(|d| d.starts_with(prefix))
}

/// After the refusal's `unauthenticated` and DISCONNECT, the server closes the
/// transport: the refused client holds nothing and cannot CONNECT again on it.
async fn assert_reconnect_refused(d: &mut Driver, name: &str, server: &TestServer, id: &str) {
    let refusal = d
        .wait_for("unauthenticated", |v| {
            raw_starting(v, name, "42[\"unauthenticated\"")
        })
        .await;
    d.wait_for("DISCONNECT", |v| v["name"] == name && v["data"] == "41")
        .await;
    let frames: Vec<Value> = d
        .of(name)
        .into_iter()
        .filter(|v| v["type"] == "raw")
        .collect();
    let at = |f: &Value| frames.iter().position(|v| v == f).unwrap();
    let disconnect = frames.iter().find(|v| v["data"] == "41").unwrap().clone();
    assert!(
        at(&refusal) < at(&disconnect),
        "message before disconnect: {frames:?}"
    );
    d.wait_for("the transport closed by the server", |v| {
        v["name"] == name && v["type"] == "raw_close"
    })
    .await;
    server
        .wait_registry("refused socket gone", |io| io.get_client(id).is_none())
        .await;
    assert_eq!(
        d.of(name)
            .iter()
            .filter(|v| raw_starting(v, name, "40{"))
            .count(),
        1,
        "no second socket: {:?}",
        d.of(name)
    );
    assert_eq!(server.io.client_count(), 0, "no socket was let in again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_client_is_refused_and_its_transport_closed() {
    let recorder = Arc::new(Recorder::default());
    let server = TestServer::start(
        builder()
            .auth_timeout(Duration::from_millis(200))
            .observer(recorder.clone()),
    )
    .await;
    let mut d = Driver::spawn().await;
    let id = raw_connect(&mut d, "raw", &server).await;
    assert_reconnect_refused(&mut d, "raw", &server, &id).await;
    assert_eq!(
        recorder.kinds(&id),
        ["connected", "disconnected"],
        "the refused CONNECT is not observed"
    );

    // A new connection is a new chance.
    let fresh = d.connect_authenticated("fresh", &server, "websocket").await;
    assert_ne!(fresh, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_client_is_refused_and_its_transport_closed() {
    let server = TestServer::start(builder()).await;
    let mut d = Driver::spawn().await;
    let id = raw_connect(&mut d, "raw", &server).await;
    d.send(
        json!({"cmd": "raw_send", "name": "raw", "data": r#"42["authenticate",{"token":"bad"}]"#}),
    )
    .await;
    assert_reconnect_refused(&mut d, "raw", &server, &id).await;
}
