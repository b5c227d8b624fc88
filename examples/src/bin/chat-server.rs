//! `chat-server`: a browser chat page on the Socket.IO server helper.
//!
//! Serves a single-file chat page (`examples/chat/index.html`, compiled in) at
//! `/` and Socket.IO at `/io`, with the in-memory adapter, or with `--redis`
//! the Redis adapter: then every chat-server on the same Redis and
//! `--redis-key` serves one chat. The page speaks Socket.IO v5 over a plain
//! browser `WebSocket`, so it needs nothing from a CDN. Clients authenticate
//! (with `auth.token` when `--token` is set; `auth.name` is their display
//! name), join rooms and send `chat:message {room?, message}`: with a room it
//! reaches that room as `chat:message`, without one every authenticated client
//! as `chat:broadcast` (the demo server's contract and handlers, each line
//! with the sender's `name` added). Each room is sent its member list,
//! `chat:members {room, members: [{id, name}]}`, when someone joins, leaves or
//! goes ([`ignis_socketio_examples::chat`]).
//!
//! ```text
//! cargo run -p ignis-socketio-examples --bin chat-server -- --port 3000 --token secret
//! # then open http://127.0.0.1:3000/ in two browser tabs
//! # two nodes, one chat:
//! chat-server --port 3001 --redis redis://127.0.0.1:6379 --redis-key chat
//! chat-server --port 3002 --redis redis://127.0.0.1:6379 --redis-key chat
//! ```
//!
//! Prints `READY <port>` on stdout once it accepts connections (the only
//! stdout line; logs go to stderr); SIGTERM or SIGINT disconnects the
//! clients and exits 0.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use clap::Parser;
use ignis_socketio_component::RedisSocketDetails;
use ignis_socketio_examples::chat::{self, Directory};
use ignis_socketio_examples::demo::handshake_has_token;
use ignis_socketio_examples::process::{announce_ready, init_logging, shutdown_signal};
use ignis_socketio_redis::{RedisAdapterState, RedisConfig};
use ignis_socketio_server::{
    AuthError, AuthenticatedClient, ClientInfo, Handshake, JoinRequest, SocketIOServerHelper,
    bind_listener,
};

/// The chat page, compiled into the binary.
const CHAT_PAGE: &str = include_str!("../../chat/index.html");

/// Command line of the chat server.
#[derive(Debug, Parser)]
#[command(
    name = "chat-server",
    version,
    about = "A browser chat page at / over authenticated Socket.IO at /io."
)]
struct ChatConfig {
    /// Port to listen on, on 127.0.0.1; 0 picks a free port.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,

    /// Accept a client only if its handshake `auth.token` (or header
    /// `authorization: Bearer <T>`) is this token. Unset: every client is accepted.
    #[arg(long, env = "AUTH_TOKEN")]
    token: Option<String>,

    /// Rooms a client may join must start with this prefix; empty allows all.
    #[arg(long, env = "ROOM_PREFIX", default_value = "")]
    room_prefix: String,

    /// Redis URL: use the Redis adapter, so that every chat-server on this
    /// Redis (and `--redis-key`) serves one chat. Unset or empty: the
    /// in-memory adapter (this process is the whole chat).
    #[arg(long, env = "REDIS_URL")]
    redis: Option<String>,

    /// Channel prefix on Redis (`key` of the Node adapter); servers share a
    /// chat only with the same key.
    #[arg(long, env = "REDIS_KEY", default_value = "socket.io")]
    redis_key: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let _logging = init_logging("info");
    match run(ChatConfig::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: ChatConfig) -> Result<(), Box<dyn std::error::Error>> {
    let io = chat_io(&config).await?;
    let app = io.attach(Router::new().route("/", get(|| async { Html(CHAT_PAGE) })));

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
    let listener = bind_listener(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    // Installed before READY: a driver may signal right after reading it.
    let shutdown = shutdown_signal()?;
    let port = listener.local_addr()?.port();
    announce_ready(port)?;
    tracing::info!(port, "chat-server ready: open http://127.0.0.1:{port}/");

    let stopping_io = io.clone();
    ignis_socketio_server::serve(listener, app, async move {
        let signal = shutdown.await;
        tracing::info!(signal, "shutting down");
        // Disconnecting the clients first: they are told, and their
        // WebSocket connections end with the server.
        stopping_io.shutdown().await;
    })
    .await?;
    tracing::info!("chat-server stopped");
    Ok(())
}

/// The Socket.IO helper: optional token, display names, room prefix, the
/// chat's events; on Redis with `--redis`.
async fn chat_io(config: &ChatConfig) -> Result<SocketIOServerHelper, Box<dyn std::error::Error>> {
    let token = config.token.clone().filter(|t| !t.is_empty());
    let prefix = config.room_prefix.clone();
    let redis = match config.redis.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => {
            let redis = RedisConfig::single(url).key(config.redis_key.clone());
            // The URL may carry a password: it is not repeated in the error.
            let state = RedisAdapterState::connect(redis)
                .await
                .map_err(|error| format!("cannot connect to Redis: {error}"))?;
            Some(state)
        }
        _ => None,
    };
    let directory = match &redis {
        Some(state) => Directory::redis(state.clone()),
        None => Directory::local(),
    };
    // The disconnect handler needs the helper, which exists only once built.
    let built: Arc<OnceLock<SocketIOServerHelper>> = Arc::new(OnceLock::new());
    let (gone_io, gone_directory) = (built.clone(), directory.clone());
    let mut builder = SocketIOServerHelper::builder()
        .identifier("chat")
        .authenticate(move |handshake: Handshake| {
            let token = token.clone();
            async move {
                match token {
                    Some(token) if !handshake_has_token(&handshake, &token) => {
                        Err(AuthError::rejected("wrong or missing token"))
                    }
                    _ => Ok(chat::chat_identity(&handshake)),
                }
            }
        })
        .validate_rooms(move |request: JoinRequest| {
            let prefix = prefix.clone();
            async move { request.keep(|room| room.starts_with(&prefix)) }
        })
        .on_client_connected(move |client: AuthenticatedClient| {
            let directory = directory.clone();
            async move { chat::register_chat_handlers(&client, directory) }
        })
        .on_client_disconnected(move |client: ClientInfo, _reason: String| {
            let (io, directory) = (gone_io.clone(), gone_directory.clone());
            async move { chat::on_client_gone(io, directory, client).await }
        });
    let io = match redis {
        Some(state) => {
            builder = builder.observer(Arc::new(RedisSocketDetails(state.clone())));
            builder.build_with_adapter(state.adapter("/")).await?
        }
        None => builder.build()?,
    };
    let _ = built.set(io.clone());
    Ok(io)
}
