//! The server the official Engine.IO and Socket.IO protocol test suites
//! expect (the `test-suite/` folders of `socketio/engine.io-protocol` and
//! `socketio/socket.io-protocol`): port 3000, ping interval 300 ms, ping
//! timeout 200 ms, `maxPayload` 1 000 000, connect timeout 1 000 ms.
//!
//! - `/engine.io/`: bare Engine.IO, every message echoed back;
//! - `/socket.io/`: Socket.IO; namespace `/` emits `auth` with the CONNECT
//!   payload, answers `message` with `message-back` and acknowledges
//!   `message-with-ack` with its arguments; namespace `/custom` emits `auth`.
//!
//! Run: `cargo run -p ignis-socketio-engine --example protocol-test-server`,
//! then `npm ci && npm test` in each suite's `test-suite/` folder.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::Request;
use ignis_socketio_engine::codec::Frame;
use ignis_socketio_engine::engine::{
    CloseReason, Connection, Engine, EngineConfig, EngineHandler, Message, Session, Work,
};
use ignis_socketio_engine::io::{
    AckSender, ConnectRefusal, Event, HandlerFuture, IoConfig, NamespaceHandler, Socket, SocketIo,
};

fn engine_config(path: &str) -> EngineConfig {
    EngineConfig {
        path: path.to_owned(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        ..EngineConfig::default()
    }
}

/// Engine.IO echo: every message goes back as it came.
struct Echo;

struct EchoConn(Arc<Session>);

impl EngineHandler for Echo {
    type Connection = EchoConn;
    fn on_open(&self, session: &Arc<Session>, _: http::request::Parts) -> EchoConn {
        EchoConn(session.clone())
    }
}

impl Connection for EchoConn {
    fn on_message(&mut self, message: Message) -> Result<Option<Work>, String> {
        let frame = match message {
            Message::Text(text) => Frame::text(format!("4{text}")),
            Message::Binary(bytes) => Frame::Binary(bytes),
        };
        let _ = self.0.send(frame);
        Ok(None)
    }
    fn on_close(&mut self, _: &CloseReason) {}
}

/// The namespaces of the Socket.IO suite.
struct Suite {
    echo: bool,
}

impl NamespaceHandler for Suite {
    fn on_connect(&self, _: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        Box::pin(async { Ok(()) })
    }

    fn on_connected(&self, socket: Socket) -> HandlerFuture<()> {
        Box::pin(async move {
            // The suite reads the CONNECT answer and this event with two
            // successive one-shot listeners, so it misses the second when both
            // arrive in one TCP read. Node's server writes them an event-loop
            // turn apart; a short pause here gives the same spacing.
            tokio::time::sleep(Duration::from_millis(2)).await;
            let auth = socket
                .auth()
                .cloned()
                .unwrap_or_else(|| serde_json::json!({}));
            let _ = socket.emit("auth", &auth);
        })
    }

    fn on_event(&self, socket: Socket, event: Event, ack: Option<AckSender>) -> HandlerFuture<()> {
        let echo = self.echo;
        Box::pin(async move {
            match (event.name.as_str(), ack) {
                ("message", _) if echo => {
                    let _ = socket.emit_args("message-back", &event.args);
                }
                ("message-with-ack", Some(ack)) if echo => {
                    let _ = ack.send(&event.args);
                }
                _ => {}
            }
        })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let io = SocketIo::new(IoConfig {
        engine: engine_config("/socket.io"),
        connect_timeout: Duration::from_millis(1000),
        ..IoConfig::default()
    });
    io.ns("/", Suite { echo: true });
    io.ns("/custom", Suite { echo: false });
    let engine = Engine::new(engine_config("/engine.io"), Echo);
    let app = Router::new()
        .fallback(move |req: Request<Body>| {
            let engine = engine.clone();
            async move { engine.handle(req).await }
        })
        .layer(io.layer());
    let listener = ignis_socketio_engine::bind_listener(([127, 0, 0, 1], 3000).into()).await?;
    eprintln!("READY 3000");
    ignis_socketio_engine::serve(listener, app, std::future::pending()).await
}
