//! Test servers: the project's own engine (a Socket.IO server) on
//! 127.0.0.1:0 with closure handlers, and a raw WebSocket server (an
//! independent implementation, tokio-tungstenite) for misbehaving-peer cases.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ignis_socketio_client::{ReconnectConfig, SocketIOClientHelper, SocketIOClientHelperBuilder};
pub use ignis_socketio_engine::codec::{Args, to_args};
use ignis_socketio_engine::engine::EngineConfig;
pub use ignis_socketio_engine::io::{
    AckSender, ConnectRefusal, Event as ServerEvent, HandlerFuture, IoConfig, NamespaceHandler,
    Socket, SocketIo,
};
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub const PATH: &str = "/io";

type OnEvent =
    Arc<dyn Fn(Socket, ServerEvent, Option<AckSender>) -> HandlerFuture<()> + Send + Sync>;
type OnConnect = Arc<dyn Fn(Socket) -> HandlerFuture<Result<(), ConnectRefusal>> + Send + Sync>;

/// A namespace built from closures: `Ns::new().on("event", |socket, event, ack| async {..})`.
#[derive(Clone, Default)]
pub struct Ns {
    events: HashMap<String, OnEvent>,
    connect: Option<OnConnect>,
}

impl Ns {
    pub fn new() -> Ns {
        Ns::default()
    }

    /// Handles `name`; the engine runs one client's handlers one at a time.
    pub fn on<F, Fut>(mut self, name: &str, f: F) -> Ns
    where
        F: Fn(Socket, ServerEvent, Option<AckSender>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.events.insert(
            name.to_owned(),
            Arc::new(move |s, e, a| Box::pin(f(s, e, a)) as HandlerFuture<()>),
        );
        self
    }

    /// Decides on each CONNECT (the default accepts).
    pub fn on_connect<F, Fut>(mut self, f: F) -> Ns
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectRefusal>> + Send + 'static,
    {
        self.connect = Some(Arc::new(move |s| Box::pin(f(s)) as HandlerFuture<_>));
        self
    }
}

impl NamespaceHandler for Ns {
    fn on_connect(&self, socket: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        match &self.connect {
            Some(f) => f(socket),
            None => Box::pin(async { Ok(()) }),
        }
    }

    fn on_event(
        &self,
        socket: Socket,
        event: ServerEvent,
        ack: Option<AckSender>,
    ) -> HandlerFuture<()> {
        match self.events.get(&event.name) {
            Some(f) => f(socket, event, ack),
            None => Box::pin(async {}),
        }
    }
}

/// The arguments of a serde value (a tuple is several).
pub fn args<T: Serialize + ?Sized>(value: &T) -> Args {
    to_args(value).unwrap()
}

/// Answers `ack` (when asked for) with `value` as its one argument.
pub fn answer<T: Serialize + ?Sized>(ack: Option<AckSender>, value: &T) {
    if let Some(ack) = ack {
        let _ = ack.send(&Args::json(vec![serde_json::to_value(value).unwrap()]));
    }
}

/// The first argument of an event (`null` when none).
pub fn first(event: &ServerEvent) -> Value {
    event.args.values.first().cloned().unwrap_or(Value::Null)
}

/// The project's engine serving Socket.IO at `/io` on 127.0.0.1.
pub struct TestServer {
    pub addr: SocketAddr,
    pub io: SocketIo,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server on a free port; `setup` registers the namespace handlers.
    pub async fn start<R>(setup: impl FnOnce(&SocketIo) -> R) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, setup).await
    }

    /// Starts a server on a given port (for restarts).
    pub async fn start_at<R>(addr: SocketAddr, setup: impl FnOnce(&SocketIo) -> R) -> TestServer {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot rebind {addr}: {e}"),
            }
        };
        Self::start_on(listener, setup).await
    }

    async fn start_on<R>(listener: TcpListener, setup: impl FnOnce(&SocketIo) -> R) -> TestServer {
        Self::start_with_heartbeat(
            listener,
            Duration::from_millis(1000),
            Duration::from_millis(5000),
            setup,
        )
        .await
    }

    /// Starts a server with its own Engine.IO heartbeat settings.
    pub async fn start_with_heartbeat<R>(
        listener: TcpListener,
        ping_interval: Duration,
        ping_timeout: Duration,
        setup: impl FnOnce(&SocketIo) -> R,
    ) -> TestServer {
        let engine = EngineConfig {
            ping_interval,
            ping_timeout,
            ..EngineConfig::default()
        };
        Self::start_with_engine(listener, engine, setup).await
    }

    /// Starts a server with its own Engine.IO settings (the path is `/io`).
    pub async fn start_with_engine<R>(
        listener: TcpListener,
        engine: EngineConfig,
        setup: impl FnOnce(&SocketIo) -> R,
    ) -> TestServer {
        let io = SocketIo::new(IoConfig {
            engine: EngineConfig {
                path: PATH.to_owned(),
                ..engine
            },
            ..IoConfig::default()
        });
        setup(&io);
        let app = axum::Router::new().layer(io.layer());
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = ignis_socketio_engine::serve(listener, app, std::future::pending()).await;
        });
        TestServer { addr, io, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Number of sockets connected to `/`.
    pub fn socket_count(&self) -> usize {
        self.io.of("/").map_or(0, |ns| ns.socket_count())
    }

    /// Closes every socket and stops accepting connections.
    pub async fn stop(self) {
        self.io.close().await;
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A server where `authenticate` is answered by `authenticated {id, time}`
/// when `accept` says so, else by `unauthenticated {message, time}`.
pub fn auth_server(io: &SocketIo, accept: bool) {
    io.ns(
        "/",
        Ns::new().on("authenticate", move |s, _e, _a| async move {
            if accept {
                let _ = s.emit(
                    "authenticated",
                    &serde_json::json!({"id": s.id(), "time": "2026-11-25T08:00:00.000Z"}),
                );
            } else {
                let _ = s.emit(
                    "unauthenticated",
                    &serde_json::json!({"message": "Invalid token", "time": "2026-11-25T08:00:00.000Z"}),
                );
            }
        }),
    );
}

/// Helper options used by every reference case: path `/io`, no reconnection.
pub fn helper_to(url: &str) -> SocketIOClientHelperBuilder {
    SocketIOClientHelper::builder()
        .identifier("test-client")
        .url(url)
        .path(PATH)
        .reconnection(ReconnectConfig::disabled())
        .connect_timeout(Duration::from_secs(3))
}

/// Reconnection after 50 to 200 ms, without limit.
pub fn fast_reconnect() -> ReconnectConfig {
    ReconnectConfig {
        enabled: true,
        max_attempts: None,
        delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        randomization: 0.5,
    }
}

pub use ignis_socketio_test_support::{ports::dead_url, wait::wait_for};

/// A shared counter for handlers.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Records values for later assertions.
#[derive(Clone)]
pub struct Recorder<T>(Arc<std::sync::Mutex<Vec<T>>>);

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Recorder(Arc::default())
    }
}

impl<T: Clone> Recorder<T> {
    pub fn push(&self, v: T) {
        self.0.lock().unwrap().push(v);
    }
    pub fn all(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Runs `f` with a short timeout so a hanging case fails instead of stalling the suite.
pub async fn within<F: Future>(secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test case timed out")
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// A bare WebSocket server speaking just enough Engine.IO to test peers
/// that misbehave: each accepted connection runs `handler`.
pub struct RawServer {
    pub addr: SocketAddr,
    pub connections: Counter,
    task: JoinHandle<()>,
}

pub type RawWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

impl RawServer {
    pub async fn start<F, Fut>(handler: F) -> RawServer
    where
        F: Fn(RawWs) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Counter::default();
        let count = connections.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.hit();
                let handler = handler.clone();
                tokio::spawn(async move {
                    if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                        handler(ws).await;
                    }
                });
            }
        });
        RawServer {
            addr,
            connections,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends the Engine.IO open packet, waits for the namespace connect and accepts it.
pub async fn raw_handshake(
    ws: &mut RawWs,
    ping_interval: u64,
    ping_timeout: u64,
) -> Option<String> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let open = format!(
        r#"0{{"sid":"raw-engine","upgrades":[],"pingInterval":{ping_interval},"pingTimeout":{ping_timeout},"maxPayload":1000000}}"#
    );
    ws.send(Message::text(open)).await.ok()?;
    let connect = match ws.next().await? {
        Ok(Message::Text(t)) => t.to_string(),
        _ => return None,
    };
    ws.send(Message::text(r#"40{"sid":"raw-socket"}"#))
        .await
        .ok()?;
    Some(connect)
}

// ---- the reference suite's servers and helpers ----

/// A server that emits `event` with `data` whenever the client emits `trigger`.
pub fn echo_trigger_server(io: &SocketIo) {
    io.ns(
        "/",
        Ns::new().on("trigger", |s, e, _ack| async move {
            let req = first(&e);
            let event = req["event"].as_str().unwrap_or("test-event");
            let _ = s.emit(event, &req["data"]);
        }),
    );
}

pub async fn trigger(
    helper: &ignis_socketio_client::SocketIOClientHelper,
    event: &str,
    data: Value,
) {
    helper
        .emit(
            "trigger",
            &serde_json::json!({"event": event, "data": data}),
        )
        .unwrap();
}

pub fn counting(
    counter: &Counter,
) -> impl Fn(Value) -> std::future::Ready<()> + Send + Sync + 'static {
    let c = counter.clone();
    move |_| {
        c.hit();
        std::future::ready(())
    }
}

/// Emits a marker event after `event` and waits for it, so that "nothing
/// arrived" is checked after the server's emit was surely delivered.
pub async fn flush(helper: &ignis_socketio_client::SocketIOClientHelper) {
    let done = Counter::default();
    let id = helper
        .subscribe_handler(
            "flush-marker",
            ignis_socketio_client::EventHandler::new(counting(&done)),
            false,
        )
        .unwrap();
    trigger(helper, "flush-marker", serde_json::json!(null)).await;
    wait_for("flush marker", Duration::from_secs(3), || done.get() == 1).await;
    helper.unsubscribe_handler(id);
}
