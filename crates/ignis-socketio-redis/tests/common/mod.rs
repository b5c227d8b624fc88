//! Test harness: Rust servers (the engine + RedisAdapter) on 127.0.0.1:0, Node
//! processes driven by JSON lines, and a random key prefix per test.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub
)]

/// Private redis-server processes on free ports (never the shared 6379).
#[allow(unused_imports)]
pub mod redis_process {
    pub use ignis_socketio_test_support::ports::free_port;
    pub use ignis_socketio_test_support::redis::{
        RedisProcess, command_calls, start_redis, start_redis_with, temp_dir,
    };
}

use std::{process::Stdio, sync::Arc, time::Duration};

use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::io::{
    AckSender, ConnectRefusal, Event, HandlerFuture, IoConfig, Namespace, NamespaceHandler, Socket,
    SocketIo,
};
use ignis_socketio_redis::{RedisAdapterState, RedisConfig, SocketDetails};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::mpsc,
};

/// The namespace `/` of a test server (Node's `io` for sends and fetches).
pub type Io = Arc<Namespace>;

/// The shared Redis; tests fail loudly without it.
pub use ignis_socketio_test_support::redis::url as redis_url;

/// A key prefix no other test uses.
pub fn random_key() -> String {
    ignis_socketio_test_support::redis::unique_key("test")
}

pub async fn connect_state(url: &str, key: &str) -> RedisAdapterState {
    let config: RedisConfig = url.parse().expect("valid REDIS_URL");
    RedisAdapterState::connect(config.key(key).requests_timeout(Duration::from_secs(3)))
        .await
        .unwrap_or_else(|e| panic!("Redis is required for this test (REDIS_URL={url}): {e}"))
}

/// A running Rust server.
pub struct RustServer {
    pub io: Io,
    pub state: RedisAdapterState,
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RustServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RustServer {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The test servers' namespace `/`: each socket registers its details (so
/// Node's fetchSockets sees them) before its CONNECT answer; `join` joins the
/// room named by its argument and acks "joined"; `broadcast [event, arg]`
/// sends to every other socket of the fleet and acks "ok"; `relay n` awaits
/// 0-2 ms and sends `relayed n` to room `relay`.
struct TestNamespace {
    state: RedisAdapterState,
    ns: std::sync::OnceLock<std::sync::Weak<Namespace>>,
}

impl NamespaceHandler for TestNamespace {
    fn on_connect(&self, socket: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        let details = SocketDetails::from_request(
            socket.request(),
            json!({}),
            json!({ "user": format!("rust-{}", socket.id()) }),
        );
        self.state.register_socket("/", socket.id(), details);
        Box::pin(async { Ok(()) })
    }

    fn on_event(&self, socket: Socket, event: Event, ack: Option<AckSender>) -> HandlerFuture<()> {
        let ns = self.ns.get().and_then(std::sync::Weak::upgrade);
        Box::pin(async move {
            let answer = match event.name.as_str() {
                "join" => {
                    if let Some(Value::String(room)) = event.args.values.first() {
                        socket.join([room.as_str()]);
                    }
                    "joined"
                }
                "relay" => {
                    // Awaits 0-2 ms, then sends the number on to room `relay`:
                    // the fleet must keep one client's order through both.
                    let (Some(ns), Some(n)) = (ns, event.args.values.first().cloned()) else {
                        return;
                    };
                    tokio::time::sleep(Duration::from_micros(rand::random_range(0..=2000))).await;
                    let _ = ns.to("relay").emit("relayed", &n).await;
                    return;
                }
                "broadcast" => {
                    let (Some(ns), [Value::String(name), arg, ..]) =
                        (ns, event.args.values.as_slice())
                    else {
                        return;
                    };
                    let _ = ns
                        .except(socket.id())
                        .emit_args(name, &Args::json(vec![arg.clone()]))
                        .await;
                    "ok"
                }
                _ => return,
            };
            if let Some(ack) = ack {
                let _ = ack.send(&Args::json(vec![json!(answer)]));
            }
        })
    }
}

/// Starts the engine with the Redis adapter on namespace `/`.
pub async fn start_rust_server(state: RedisAdapterState) -> RustServer {
    let io = SocketIo::new(IoConfig::default());
    let handler = Arc::new(TestNamespace {
        state: state.clone(),
        ns: std::sync::OnceLock::new(),
    });
    let ns = io
        .ns_with_adapter("/", handler.clone(), state.adapter("/"))
        .await
        .expect("namespace subscribed");
    let _ = handler.ns.set(Arc::downgrade(&ns));
    let app = axum::Router::new().layer(io.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let _ = ignis_socketio_engine::serve(listener, app, std::future::pending()).await;
    });
    RustServer {
        io: ns,
        state,
        port,
        task,
    }
}

/// A Node process speaking JSON lines.
pub struct NodeProc {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Value>,
    seen: Vec<Value>,
    next_id: u64,
    pub name: String,
}

impl NodeProc {
    pub async fn spawn(script: &str, args: &[&str]) -> Self {
        let dir = ignis_socketio_test_support::paths::node_dir();
        assert!(
            dir.join("node_modules/socket.io-client").exists(),
            "Node packages missing: run `npm ci --prefix testing/node`"
        );
        let mut child = Command::new("node")
            .arg(dir.join("redis").join(script))
            .args(args)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node on PATH");
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            next_id: 0,
            name: args.get(1).copied().unwrap_or(script).to_owned(),
        }
    }

    /// A socket.io-client connected to `url`; returns it with its socket id.
    pub async fn client(url: &str, name: &str) -> (Self, String) {
        let mut proc = Self::spawn("client.mjs", &[url, name]).await;
        let connected = proc.wait_for(|v| v["type"] == "connected").await;
        let id = connected["id"].as_str().unwrap().to_owned();
        (proc, id)
    }

    /// Waits (10 s at most) for a line matching `pred`, also among lines seen before;
    /// the matching line is consumed.
    pub async fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(pos) = self.seen.iter().position(&pred) {
            return self.seen.remove(pos);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(v)) if pred(&v) => return v,
                Ok(Some(v)) => self.seen.push(v),
                _ => panic!(
                    "{}: expected line not received; seen: {:?}",
                    self.name, self.seen
                ),
            }
        }
    }

    /// Waits for an event named `event`; returns its args.
    pub async fn event(&mut self, event: &str) -> Value {
        let line = self
            .wait_for(|v| v["type"] == "event" && v["event"] == event)
            .await;
        line["args"].clone()
    }

    /// True if an event named `event` was seen so far (consumes lines already received).
    pub fn saw_event(&mut self, event: &str) -> bool {
        while let Ok(v) = self.lines.try_recv() {
            self.seen.push(v);
        }
        self.seen
            .iter()
            .any(|v| v["type"] == "event" && v["event"] == event)
    }

    /// Sends a command and waits for its reply.
    pub async fn call(&mut self, mut command: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        command["id"] = json!(id);
        let mut line = serde_json::to_vec(&command).unwrap();
        line.push(b'\n');
        self.stdin.write_all(&line).await.unwrap();
        self.stdin.flush().await.unwrap();
        self.wait_for(|v| v["type"] == "reply" && v["id"] == json!(id))
            .await
    }

    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Polls until `state` counts `expected` servers on `/`.
pub async fn wait_server_count(state: &RedisAdapterState, expected: usize) {
    for _ in 0..100 {
        if state.server_count("/").await.ok() == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "server count never reached {expected}: {:?}",
        state.server_count("/").await
    );
}
