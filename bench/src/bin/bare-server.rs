//! `bare-server`: the demo server's contract (`docs/demo-server.md`) written
//! directly on socketioxide and axum, without the framework, so that the
//! framework's own cost shows in `ignis-bench`. In-memory adapter only; what
//! the benchmarks do not use is simplified (e.g. `chat:message` to a room is
//! not checked against the sender's rooms).
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Parser;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::Sid;
use tokio::task::AbortHandle;
use tower::ServiceExt as _;

/// Flags of the demo server contract.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    #[arg(long, env = "IO_PATH", default_value = "/io")]
    path: String,
    #[arg(long, env = "REDIS_URL")]
    redis: Option<String>,
    #[arg(long, env = "AUTH_TOKEN")]
    auth_token: Option<String>,
    #[arg(long, env = "AUTH_TIMEOUT_MS", default_value_t = 10_000)]
    auth_timeout_ms: u64,
    #[arg(long, env = "PING_INTERVAL_MS", default_value_t = 30_000)]
    ping_interval_ms: u64,
    #[arg(long, env = "ROOM_PREFIX", default_value = "")]
    room_prefix: String,
    /// Tuning (not in the contract), with `--http1-loop` only: copy each
    /// request's URI and headers into their own small allocations before
    /// socketioxide keeps them for the socket's lifetime, so hyper's read
    /// buffer they point into is freed after the WebSocket upgrade.
    #[arg(long, env = "BARE_COMPACT_HEAD")]
    compact_head: bool,
    /// Tuning: serve with hyper's HTTP/1 connection directly (no
    /// HTTP/2 detection), instead of `axum::serve`.
    #[arg(long, env = "BARE_HTTP1_LOOP")]
    http1_loop: bool,
    /// Tuning: engineioxide's WebSocket read buffer (default 4096).
    #[arg(long, env = "BARE_WS_READ_BUFFER")]
    ws_read_buffer: Option<usize>,
}

const DEFAULT_ROOMS: [&str; 2] = ["io-default", "io-notification"];
const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Per-socket record: authenticated or not, and its ping task.
#[derive(Default)]
struct Entry {
    authenticated: bool,
    ping: Option<AbortHandle>,
}

#[derive(Clone)]
struct App {
    clients: Arc<Mutex<HashMap<Sid, Entry>>>,
    token: Option<Arc<str>>,
    auth_timeout: Duration,
    ping_interval: Duration,
    room_prefix: Arc<str>,
}

fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Debug)]
struct Rejected;
impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Invalid token")
    }
}

/// Connect middleware: checks the token and registers the handlers before
/// the CONNECT ack, so a fast `authenticate` is never lost.
async fn admit(
    s: SocketRef,
    TryData(auth): TryData<Value>,
    State(app): State<App>,
) -> Result<(), Rejected> {
    if let Some(token) = &app.token {
        let bearer = s
            .req_parts()
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t == &**token);
        let in_auth = auth
            .ok()
            .and_then(|a| {
                a.get("token")
                    .and_then(|t| t.as_str())
                    .map(|t| t == &**token)
            })
            .unwrap_or(false);
        if !bearer && !in_auth {
            return Err(Rejected);
        }
    }
    if let Ok(mut clients) = app.clients.lock() {
        clients.insert(s.id, Entry::default());
    }
    s.on("authenticate", authenticate);
    s.on_disconnect(async |s: SocketRef, State(app): State<App>| {
        let entry = app.clients.lock().ok().and_then(|mut c| c.remove(&s.id));
        if let Some(ping) = entry.and_then(|e| e.ping) {
            ping.abort();
        }
    });
    let (timeout_socket, timeout_app) = (s.clone(), app.clone());
    tokio::spawn(async move {
        tokio::time::sleep(timeout_app.auth_timeout).await;
        let authenticated = timeout_app
            .clients
            .lock()
            .ok()
            .and_then(|c| c.get(&timeout_socket.id).map(|e| e.authenticated));
        if authenticated == Some(false) {
            let _ = timeout_socket.disconnect();
        }
    });
    Ok(())
}

async fn on_connect(_s: SocketRef) {}

async fn authenticate(s: SocketRef, State(app): State<App>) {
    {
        let Ok(mut clients) = app.clients.lock() else {
            return;
        };
        match clients.get_mut(&s.id) {
            Some(e) if !e.authenticated => e.authenticated = true,
            _ => return,
        }
    }
    let _ = s.emit("ping", &json!({ "time": now_iso() }));
    s.join(DEFAULT_ROOMS);
    s.on("echo", async |s: SocketRef, Data(data): Data<Value>| {
        let _ = s.emit(
            "echo:response",
            &json!({ "original": data, "timestamp": now_iso() }),
        );
    });
    s.on(
        "chat:message",
        async |s: SocketRef, io: SocketIo, Data(data): Data<Value>| {
            let message = data.get("message").cloned().unwrap_or(Value::Null);
            let payload =
                json!({ "from": s.id.as_str(), "message": message, "timestamp": now_iso() });
            match data.get("room").and_then(|r| r.as_str()) {
                Some(room) => {
                    let _ = io.to(room.to_owned()).emit("chat:message", &payload).await;
                }
                None => {
                    let _ = io.to("io-default").emit("chat:broadcast", &payload).await;
                }
            }
        },
    );
    s.on(
        "get-clients",
        async |s: SocketRef, State(app): State<App>| {
            let ids = client_ids(&app);
            let _ = s.emit(
                "clients:list",
                &json!({ "count": ids.len(), "clients": ids }),
            );
        },
    );
    s.on(
        "join",
        async |s: SocketRef, State(app): State<App>, Data(data): Data<Value>| {
            let rooms = rooms_of(&data);
            let kept: Vec<String> = rooms
                .into_iter()
                .filter(|r| r.starts_with(&*app.room_prefix))
                .collect();
            if !kept.is_empty() {
                s.join(kept);
            }
        },
    );
    s.on("leave", async |s: SocketRef, Data(data): Data<Value>| {
        let rooms: Vec<String> = rooms_of(&data)
            .into_iter()
            .filter(|r| r != s.id.as_str())
            .collect();
        if !rooms.is_empty() {
            s.leave(rooms);
        }
    });
    let ping_socket = s.clone();
    let period = app.ping_interval;
    let ping = tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        every.tick().await;
        loop {
            every.tick().await;
            if ping_socket
                .emit("ping", &json!({ "time": now_iso() }))
                .is_err()
            {
                break;
            }
        }
    });
    if let Ok(mut clients) = app.clients.lock()
        && let Some(e) = clients.get_mut(&s.id)
    {
        e.ping = Some(ping.abort_handle());
    } else {
        ping.abort();
    }
    let _ = s.emit(
        "authenticated",
        &json!({ "id": s.id.as_str(), "time": now_iso() }),
    );
}

fn rooms_of(data: &Value) -> Vec<String> {
    data.get("rooms")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn client_ids(app: &App) -> Vec<String> {
    app.clients
        .lock()
        .map(|c| c.keys().map(|k| k.as_str().to_owned()).collect())
        .unwrap_or_default()
}

// ---- REST control plane ----

#[derive(Clone)]
struct Rest {
    io: SocketIo,
    app: App,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// `{topic, data}` from a body, or the 400 answer.
#[allow(clippy::result_large_err)] // the error is the ready answer
fn topic_and_data(body: &[u8]) -> Result<(String, Value), Response> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("Invalid JSON body: {e}")))?;
    let topic = v.get("topic").and_then(|t| t.as_str()).unwrap_or_default();
    if topic.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "Topic is required"));
    }
    if RESERVED.contains(&topic) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            &format!("\"{topic}\" is a reserved event name"),
        ));
    }
    Ok((
        topic.to_owned(),
        v.get("data").cloned().unwrap_or(Value::Null),
    ))
}

#[allow(clippy::result_large_err)] // the error is the ready answer
fn rooms_body(body: &[u8]) -> Result<Vec<String>, Response> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("Invalid JSON body: {e}")))?;
    let rooms = rooms_of(&v);
    if rooms.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "Rooms array is required"));
    }
    Ok(rooms)
}

fn socket_of(io: &SocketIo, id: &str) -> Option<SocketRef> {
    Sid::from_str(id).ok().and_then(|sid| io.get_socket(sid))
}

fn not_found_client(id: &str) -> Response {
    ok(json!({ "success": false, "message": format!("Client not found: {id}") }))
}

fn rest_router(rest: Rest) -> Router {
    Router::new()
        .route(
            "/api/socket/info",
            get(async |AxState(r): AxState<Rest>| {
                let ids = client_ids(&r.app);
                ok(json!({ "status": "running", "connectedClients": ids.len(), "clientIds": ids }))
            }),
        )
        .route(
            "/api/socket/clients",
            get(async |AxState(r): AxState<Rest>| {
                let ids = client_ids(&r.app);
                ok(json!({ "count": ids.len(), "clients": ids }))
            }),
        )
        .route(
            "/api/socket/health",
            get(async || ok(json!({ "healthy": true, "timestamp": now_iso() }))),
        )
        .route(
            "/api/socket/broadcast",
            post(async |AxState(r): AxState<Rest>, body: Bytes| {
                let (topic, data) = match topic_and_data(&body) {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                let count = client_ids(&r.app).len();
                let _ = r.io.to("io-default").emit(&topic, &data).await;
                ok(json!({ "success": true, "message": format!("Broadcast sent to {count} clients") }))
            }),
        )
        .route(
            "/api/socket/room/{room_id}/send",
            post(async |AxState(r): AxState<Rest>, Path(room): Path<String>, body: Bytes| {
                let (topic, data) = match topic_and_data(&body) {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                let _ = r.io.to(room.clone()).emit(&topic, &data).await;
                ok(json!({ "success": true, "message": format!("Message sent to room: {room}") }))
            }),
        )
        .route(
            "/api/socket/client/{client_id}/send",
            post(async |AxState(r): AxState<Rest>, Path(id): Path<String>, body: Bytes| {
                let (topic, data) = match topic_and_data(&body) {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                if let Some(s) = socket_of(&r.io, &id) {
                    let _ = s.emit(&topic, &data);
                }
                ok(json!({ "success": true, "message": format!("Message sent to client: {id}") }))
            }),
        )
        .route(
            "/api/socket/client/{client_id}/join",
            post(async |AxState(r): AxState<Rest>, Path(id): Path<String>, body: Bytes| {
                let rooms = match rooms_body(&body) {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                let Some(s) = socket_of(&r.io, &id) else { return not_found_client(&id) };
                let message = format!("Client {id} joined rooms: {}", rooms.join(", "));
                s.join(rooms);
                ok(json!({ "success": true, "message": message }))
            }),
        )
        .route(
            "/api/socket/client/{client_id}/leave",
            post(async |AxState(r): AxState<Rest>, Path(id): Path<String>, body: Bytes| {
                let rooms = match rooms_body(&body) {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                let Some(s) = socket_of(&r.io, &id) else { return not_found_client(&id) };
                let message = format!("Client {id} left rooms: {}", rooms.join(", "));
                s.leave(rooms);
                ok(json!({ "success": true, "message": message }))
            }),
        )
        .route(
            "/api/socket/client/{client_id}/rooms",
            get(async |AxState(r): AxState<Rest>, Path(id): Path<String>| {
                let Some(s) = socket_of(&r.io, &id) else { return not_found_client(&id) };
                let mut rooms: Vec<String> = vec![id.clone()];
                rooms.extend(s.rooms().into_iter().map(|r| r.to_string()));
                ok(json!({ "success": true, "rooms": rooms }))
            }),
        )
        .with_state(rest)
}

/// A plain accept loop on hyper's HTTP/1 server connection with upgrades,
/// optionally compacting each request head before anything else sees it.
async fn serve_http1(listener: tokio::net::TcpListener, router: Router, compact: bool) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let router = router.clone();
                async move {
                    let (mut parts, body) = req.into_parts();
                    if compact {
                        compact_head(&mut parts);
                    }
                    let req =
                        axum::extract::Request::from_parts(parts, axum::body::Body::new(body));
                    router.oneshot(req).await
                }
            });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// Replace the URI and header values with owned copies. hyper parses them
/// as views into its connection read buffer, and engineioxide keeps the
/// request parts for the socket's lifetime, which pins that whole buffer
/// (8 KiB allocated, about 4 KiB resident) per WebSocket connection. This
/// must run before the request reaches the router: copying in an axum
/// `Router::layer` middleware did not release it (measured).
fn compact_head(parts: &mut axum::http::request::Parts) {
    if let Ok(uri) = parts.uri.to_string().parse() {
        parts.uri = uri;
    }
    let mut headers = axum::http::HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        if let Ok(value) = axum::http::HeaderValue::from_bytes(value.as_bytes()) {
            headers.append(name.clone(), value);
        }
    }
    parts.headers = headers;
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if args.redis.is_some() {
        eprintln!("bare-server: --redis is not supported (in-memory adapter only)");
        std::process::exit(2);
    }
    let app = App {
        clients: Arc::default(),
        token: args.auth_token.map(Arc::from),
        auth_timeout: Duration::from_millis(args.auth_timeout_ms),
        ping_interval: Duration::from_millis(args.ping_interval_ms.max(1)),
        room_prefix: Arc::from(args.room_prefix),
    };
    let mut builder = SocketIo::builder()
        .req_path(args.path)
        .with_state(app.clone());
    if let Some(size) = args.ws_read_buffer {
        builder = builder.ws_read_buffer_size(size);
    }
    let (layer, io) = builder.build_layer();
    io.ns("/", on_connect.with(admit));
    let router = rest_router(Rest {
        io: io.clone(),
        app,
    })
    .layer(layer);

    // A listen backlog like Node's: tokio's default 128 overflows on bursts.
    let socket = match tokio::net::TcpSocket::new_v4() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bare-server: socket: {e}");
            std::process::exit(1);
        }
    };
    let _ = socket.set_reuseaddr(true);
    let listener = socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
        .and_then(|()| socket.listen(1024));
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bare-server: bind 127.0.0.1:{}: {e}", args.port);
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(args.port);
    println!("READY {port}");
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { if let Some(t) = term.as_mut() { t.recv().await; } else { std::future::pending::<()>().await } } => {}
        }
    };
    if args.http1_loop {
        tokio::select! {
            () = serve_http1(listener, router, args.compact_head) => {}
            () = shutdown => {}
        }
    } else {
        let served = axum::serve(listener, router).with_graceful_shutdown(shutdown);
        if let Err(e) = served.await {
            eprintln!("bare-server: {e}");
            std::process::exit(1);
        }
    }
    let _ = io.disconnect().await;
}
