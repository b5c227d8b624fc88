//! Test harness: the helper served in-process on 127.0.0.1:0, driven by real
//! Node `socket.io-client` instances through `testing/node/server/driver.mjs`.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use ignis_socketio_server::{
    AuthError, Handshake, Identity, ServerBuilder, SocketIOServerHelper, bind_listener,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::Notify;

pub const WAIT: Duration = Duration::from_secs(10);

/// A builder whose authenticator accepts the bearer token `good` (identity `user-good`)
/// and refuses anything else.
pub fn builder() -> ServerBuilder {
    SocketIOServerHelper::builder().authenticate(|hs: Handshake| async move {
        match hs.bearer_token() {
            Some("good") => Ok(Identity::new("user-good")),
            Some(_) => Err(AuthError::rejected("wrong token")),
            None => Err(AuthError::missing_token()),
        }
    })
}

pub struct TestServer {
    pub io: SocketIOServerHelper,
    pub addr: SocketAddr,
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(builder: ServerBuilder) -> TestServer {
        TestServer::serve(builder.build().expect("helper builds")).await
    }

    /// Serves an already built helper (for example on another adapter).
    pub async fn serve(io: SocketIOServerHelper) -> TestServer {
        let app = io.attach(Router::new().route("/health", get(|| async { "ok" })));
        let listener = bind_listener("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            // The crate's own serving, so that every test goes through it.
            ignis_socketio_server::serve(listener, app, std::future::pending())
                .await
                .ok();
        });
        TestServer {
            io,
            addr,
            url: format!("http://{addr}"),
            task,
        }
    }

    /// A plain HTTP GET on the host server; returns the status code.
    pub async fn http_get_status(&self, path: &str) -> u16 {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Waits until the registry satisfies `check`.
    pub async fn wait_registry(&self, what: &str, check: impl Fn(&SocketIOServerHelper) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !check(&self.io) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for registry: {what}; clients: {:?}",
                self.io.get_clients()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One Node process running the driver, and everything it printed.
pub struct Driver {
    child: Child,
    stdin: ChildStdin,
    lines: Arc<Mutex<Vec<Value>>>,
    notify: Arc<Notify>,
    next_tag: u64,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.child.start_kill().ok();
    }
}

impl Driver {
    pub async fn spawn() -> Driver {
        let root = ignis_socketio_test_support::paths::repo_root();
        let script = root.join("testing/node/server/driver.mjs");
        let client = root.join("testing/node/node_modules/socket.io-client/package.json");
        assert!(
            client.exists(),
            "socket.io-client is missing at {}: run `npm ci --prefix testing/node`",
            client.display()
        );
        let mut child = Command::new("node")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `node` (Node 20 must be on PATH, then `npm ci --prefix testing/node`): {e}")
            });
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let notify = Arc::new(Notify::new());
        let (l, n) = (lines.clone(), notify.clone());
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => l.lock().unwrap().push(v),
                    Err(_) => eprintln!("driver: {line}"),
                }
                n.notify_waiters();
            }
        });
        let driver = Driver {
            child,
            stdin,
            lines,
            notify,
            next_tag: 0,
        };
        driver
            .wait_for("driver ready", |v| v["type"] == "ready")
            .await;
        driver
    }

    pub async fn send(&mut self, command: Value) {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("driver stdin");
        self.stdin.flush().await.ok();
    }

    /// Connects client `name`; `extra` is merged into the connect command.
    pub async fn connect(&mut self, name: &str, server: &TestServer, extra: Value) {
        let mut cmd = json!({"cmd": "connect", "name": name, "url": server.url, "path": "/io"});
        if let (Some(cmd), Some(extra)) = (cmd.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                cmd.insert(k.clone(), v.clone());
            }
        }
        self.send(cmd).await;
    }

    /// Connects with the good token and waits for `authenticated`; returns the socket id.
    pub async fn connect_authenticated(
        &mut self,
        name: &str,
        server: &TestServer,
        transport: &str,
    ) -> String {
        self.connect(
            name,
            server,
            json!({"transport": transport, "auth": {"token": "good"}, "authenticate": true}),
        )
        .await;
        let ev = self.wait_event(name, "authenticated").await;
        ev["data"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn emit(&mut self, name: &str, event: &str, args: Value) {
        self.send(json!({"cmd": "emit", "name": name, "event": event, "args": args}))
            .await;
    }

    /// Emits with an acknowledgement and returns the ack's data.
    pub async fn emit_ack(&mut self, name: &str, event: &str, args: Value) -> Value {
        self.next_tag += 1;
        let tag = format!("{name}-{event}-{}", self.next_tag);
        self.send(
            json!({"cmd": "emit", "name": name, "event": event, "args": args, "ackTag": tag}),
        )
        .await;
        let ack = self
            .wait_for(&format!("ack {tag}"), |v| {
                v["type"] == "ack" && v["tag"] == tag.as_str()
            })
            .await;
        assert!(ack["err"].is_null(), "ack {tag} failed: {ack}");
        ack["data"].clone()
    }

    pub async fn disconnect(&mut self, name: &str) {
        self.send(json!({"cmd": "disconnect", "name": name})).await;
    }

    pub fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    /// Everything client `name` observed, in order.
    pub fn of(&self, name: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|v| v["name"] == name)
            .collect()
    }

    /// Events named `event` received by `name`.
    pub fn events(&self, name: &str, event: &str) -> Vec<Value> {
        self.of(name)
            .into_iter()
            .filter(|v| v["type"] == "event" && v["event"] == event)
            .collect()
    }

    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_within(what, WAIT, pred).await
    }

    /// Like [`wait_for`](Self::wait_for) with a one-minute budget (bulk scenarios).
    pub async fn wait_for_long(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_within(what, Duration::from_secs(60), pred)
            .await
    }

    /// Sends `command` and waits for the first line matching `pred` printed after it.
    pub async fn request(&mut self, command: Value, pred: impl Fn(&Value) -> bool) -> Value {
        let what = command.to_string();
        let before = self.lines().iter().filter(|v| pred(v)).count();
        self.send(command).await;
        self.wait_count(&what, before + 1, &pred).await;
        self.lines()
            .into_iter()
            .filter(|v| pred(v))
            .nth(before)
            .unwrap()
    }

    pub async fn wait_for_within(
        &self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.notify.notified();
            if let Some(v) = self.lines.lock().unwrap().iter().find(|v| pred(v)) {
                return v.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {what}; driver printed:\n{}",
                    self.lines()
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
        }
    }

    /// Waits for the `n`-th (1-based) line matching `pred`.
    pub async fn wait_count(&self, what: &str, n: usize, pred: impl Fn(&Value) -> bool) {
        let pred = &pred;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            if self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter(|v| pred(v))
                .count()
                >= n
            {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {n} x {what}; driver printed:\n{:#?}",
                    self.lines()
                );
            }
        }
    }

    pub async fn wait_event(&self, name: &str, event: &str) -> Value {
        self.wait_for(&format!("{name} <- {event}"), |v| {
            v["name"] == name && v["type"] == "event" && v["event"] == event
        })
        .await
    }

    /// Emits `event` from `name` and waits for the next `response` event it
    /// receives (counted from before the emit, so a fast answer is not missed).
    pub async fn emit_then_wait(
        &mut self,
        name: &str,
        event: &str,
        args: Value,
        response: &str,
    ) -> Value {
        let before = self.events(name, response).len();
        self.emit(name, event, args).await;
        let pred = |v: &Value| v["name"] == name && v["type"] == "event" && v["event"] == response;
        self.wait_count(
            &format!("{name} <- {response} #{}", before + 1),
            before + 1,
            pred,
        )
        .await;
        self.events(name, response).remove(before)
    }

    pub async fn wait_type(&self, name: &str, kind: &str) -> Value {
        self.wait_for(&format!("{name} {kind}"), |v| {
            v["name"] == name && v["type"] == kind
        })
        .await
    }

    /// Asserts that nothing matching `pred` arrives within `window`.
    pub async fn assert_none_within(
        &self,
        what: &str,
        window: Duration,
        pred: impl Fn(&Value) -> bool,
    ) {
        tokio::time::sleep(window).await;
        let found: Vec<Value> = self.lines().into_iter().filter(|v| pred(v)).collect();
        assert!(found.is_empty(), "unexpected {what}: {found:?}");
    }
}

/// Installs a global tracing subscriber at `level` that writes into memory,
/// and returns what it captured so far on each call (for the one test of a
/// binary that reads the server's log lines).
pub fn capture_logs(level: tracing::Level) -> impl Fn() -> String {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(level)
        .init();
    move || String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned()
}
