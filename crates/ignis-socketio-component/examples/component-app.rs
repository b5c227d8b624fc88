//! The reference example application (`examples/socket-io-test`), built on
//! the component: bind the handlers and options under the Socket.IO binding
//! keys, register `SocketIOComponent`, and serve the application's own REST
//! routes beside it, reading the running server helper from the container.
//!
//! ```text
//! cargo run -p ignis-socketio-component --example component-app
//! PORT=3000 AUTH_TOKEN=secret REDIS_URL=redis://127.0.0.1:6379 cargo run ... --example component-app
//! ```
//!
//! Environment: `PORT` (default 3000), `AUTH_TOKEN` (unset: every client is
//! accepted, as the reference example), `REDIS_URL` (unset: in-memory adapter),
//! `ROOM_PREFIX` (the room validator keeps rooms with this prefix; empty keeps all).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use ignis_socketio_component::{
    Application, AuthenticateFn, ClientConnectedFn, Container, CorsOptions, ServerOptions,
    SocketIOBindingKeys, SocketIOComponent, ValidateRoomFn,
};
use ignis_socketio_protocol::now_timestamp;
use ignis_socketio_redis::RedisConfig;
use ignis_socketio_server::{
    AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest, SocketIOServerHelper, Target,
};
use serde::Deserialize;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let mut app = Application::new().listen_on(SocketAddr::from(([127, 0, 0, 1], port)));
    setup_socket_io(&app);
    app.component(SocketIOComponent::new());
    app.merge(Router::new().nest("/api/socket", socket_routes()));

    let running = match app.start().await {
        Ok(running) => running,
        Err(error) => {
            // Binding errors name the key, e.g. `@app/socket-io/authenticate-handler`.
            tracing::error!(%error, "start-up failed");
            std::process::exit(1);
        }
    };
    tracing::info!(addr = %running.local_addr(), "component-app ready");
    running.stop_on_signal().await?;
    Ok(())
}

/// The reference's `setupSocketIO()`: everything bound before the component starts.
fn setup_socket_io(app: &Application) {
    // 1. Redis connection (optional here: in-memory adapter without it).
    if let Ok(url) = std::env::var("REDIS_URL") {
        match url.parse::<RedisConfig>() {
            Ok(config) => app
                .bind(&SocketIOBindingKeys::REDIS_CONNECTION)
                .to_value(config),
            Err(error) => tracing::error!(%error, "REDIS_URL ignored"),
        }
    }

    // 2. Authentication handler (required).
    let expected = std::env::var("AUTH_TOKEN").ok();
    app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER)
        .to_value(AuthenticateFn::new(move |handshake: Handshake| {
            let expected = expected.clone();
            async move {
                let Some(expected) = expected else {
                    return Ok(Identity::new("anonymous")); // as the reference example: accept all
                };
                let token = handshake
                    .bearer_token()
                    .ok_or_else(AuthError::missing_token)?;
                if token == expected {
                    Ok(Identity::new("user"))
                } else {
                    Err(AuthError::rejected("unknown token"))
                }
            }
        }));

    // 3. Room validation handler (optional: joins are refused without it).
    let prefix = std::env::var("ROOM_PREFIX").unwrap_or_default();
    app.bind(&SocketIOBindingKeys::VALIDATE_ROOM_HANDLER)
        .to_value(ValidateRoomFn::new(move |request: JoinRequest| {
            let prefix = prefix.clone();
            async move { request.keep(|room| room.starts_with(&prefix)) }
        }));

    // 4. Client connected handler: the example's socket events.
    app.bind(&SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER)
        .to_value(ClientConnectedFn::new(
            |client: AuthenticatedClient| async move {
                tracing::info!(id = client.id(), "client connected");
                register_client_handlers(&client);
            },
        ));

    // 5. Options: only what differs from the defaults (merged field by field).
    app.bind(&SocketIOBindingKeys::SERVER_OPTIONS).to_value(
        ServerOptions::default()
            .cors(CorsOptions::default().allow_origins(["http://localhost:5173"])),
    );
}

fn register_client_handlers(client: &AuthenticatedClient) {
    client.on(
        "chat:message",
        |client: AuthenticatedClient, data: Value| async move {
            let message = data.get("message").cloned().unwrap_or(Value::Null);
            let payload =
                json!({ "from": client.id(), "message": message, "timestamp": now_timestamp() });
            match data.get("room").and_then(Value::as_str) {
                Some(room) => {
                    client
                        .server()
                        .send(Target::room(room), "chat:message", &payload)
                        .await
                }
                None => {
                    client
                        .server()
                        .send(Target::all(), "chat:broadcast", &payload)
                        .await
                }
            }
        },
    );
    client.on(
        "echo",
        |client: AuthenticatedClient, data: Value| async move {
            client.emit(
                "echo:response",
                &json!({ "original": data, "timestamp": now_timestamp() }),
            )
        },
    );
    client.on(
        "get-clients",
        |client: AuthenticatedClient, _data: Value| async move {
            let clients: Vec<String> = client
                .server()
                .get_clients()
                .into_iter()
                .map(|c| c.id)
                .collect();
            client.emit(
                "clients:list",
                &json!({ "count": clients.len(), "clients": clients }),
            )
        },
    );
}

// ===== REST: the application's own routes, beside Socket.IO =====

fn socket_routes() -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/info", get(info))
        .route("/clients", get(clients))
        .route("/broadcast", post(broadcast))
        .route("/room/{room}/send", post(send_to_room))
        .route("/client/{id}/send", post(send_to_client))
        .route("/client/{id}/join", post(join))
        .route("/client/{id}/leave", post(leave))
        .route("/client/{id}/rooms", get(rooms))
}

/// The helper is not bound (only possible after stop): 503.
struct Unavailable(String);

impl IntoResponse for Unavailable {
    fn into_response(self) -> Response {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": self.0 })),
        )
            .into_response()
    }
}

/// The running helper: bound by the component before the server accepts,
/// so route handlers always find it.
fn io(container: &Container) -> Result<SocketIOServerHelper, Unavailable> {
    container
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .map_err(|error| Unavailable(error.to_string()))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

async fn health(Extension(container): Extension<Container>) -> Json<Value> {
    let healthy = container.is_bound(&SocketIOBindingKeys::SOCKET_IO_INSTANCE);
    Json(json!({ "healthy": healthy, "timestamp": now_timestamp() }))
}

async fn info(Extension(container): Extension<Container>) -> Result<Json<Value>, Unavailable> {
    let ids: Vec<String> = io(&container)?
        .get_clients()
        .into_iter()
        .map(|c| c.id)
        .collect();
    Ok(Json(
        json!({ "status": "running", "connectedClients": ids.len(), "clientIds": ids }),
    ))
}

async fn clients(Extension(container): Extension<Container>) -> Result<Json<Value>, Unavailable> {
    let clients = io(&container)?.get_clients();
    Ok(Json(json!({ "count": clients.len(), "clients": clients })))
}

#[derive(Deserialize)]
struct SendBody {
    topic: Option<String>,
    #[serde(default)]
    data: Value,
}

async fn send(container: &Container, target: Target, body: SendBody, done: String) -> Response {
    let Some(topic) = body.topic.filter(|t| !t.is_empty()) else {
        return bad_request("Topic is required");
    };
    let io = match io(container) {
        Ok(io) => io,
        Err(unavailable) => return unavailable.into_response(),
    };
    match io.send(target, &topic, &body.data).await {
        Ok(()) => Json(json!({ "success": true, "message": done })).into_response(),
        Err(error) => bad_request(error.to_string()),
    }
}

async fn broadcast(
    Extension(container): Extension<Container>,
    Json(body): Json<SendBody>,
) -> Response {
    let count = io(&container).map(|io| io.client_count()).unwrap_or(0);
    send(
        &container,
        Target::all(),
        body,
        format!("Broadcast sent to {count} clients"),
    )
    .await
}

async fn send_to_room(
    Extension(container): Extension<Container>,
    Path(room): Path<String>,
    Json(body): Json<SendBody>,
) -> Response {
    let done = format!("Message sent to room: {room}");
    send(&container, Target::room(room), body, done).await
}

async fn send_to_client(
    Extension(container): Extension<Container>,
    Path(id): Path<String>,
    Json(body): Json<SendBody>,
) -> Response {
    let done = format!("Message sent to client: {id}");
    send(&container, Target::socket(id), body, done).await
}

#[derive(Deserialize)]
struct RoomsBody {
    #[serde(default)]
    rooms: Vec<String>,
}

async fn join(
    Extension(container): Extension<Container>,
    Path(id): Path<String>,
    Json(body): Json<RoomsBody>,
) -> Response {
    change_rooms(&container, &id, body.rooms, true)
}

async fn leave(
    Extension(container): Extension<Container>,
    Path(id): Path<String>,
    Json(body): Json<RoomsBody>,
) -> Response {
    change_rooms(&container, &id, body.rooms, false)
}

fn change_rooms(container: &Container, id: &str, rooms: Vec<String>, join: bool) -> Response {
    if rooms.is_empty() {
        return bad_request("Rooms array is required");
    }
    let io = match io(container) {
        Ok(io) => io,
        Err(unavailable) => return unavailable.into_response(),
    };
    if io.get_client(id).is_none() {
        return Json(json!({ "success": false, "message": format!("Client not found: {id}") }))
            .into_response();
    }
    let (verb, result) = if join {
        ("joined", io.join_rooms(id, &rooms).map(|ack| ack.joined))
    } else {
        ("left", io.leave_rooms(id, &rooms).map(|ack| ack.left))
    };
    match result {
        Ok(changed) => Json(json!({
            "success": true,
            "message": format!("Client {id} {verb} rooms: {}", changed.join(", ")),
        }))
        .into_response(),
        Err(error) => {
            Json(json!({ "success": false, "message": error.to_string() })).into_response()
        }
    }
}

async fn rooms(
    Extension(container): Extension<Container>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Unavailable> {
    Ok(Json(match io(&container)?.get_client(&id) {
        Some(client) => json!({ "success": true, "rooms": client.rooms }),
        None => json!({ "success": false, "message": format!("Client not found: {id}") }),
    }))
}
