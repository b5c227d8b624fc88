//! The REST control plane under `/api/socket` (`docs/demo-server.md` "REST
//! control plane"): the application's own routes beside Socket.IO. Handlers stay
//! thin: read the body, call the helper the component bound under
//! `@app/socket-io/instance`, map its answer or error to the contract's JSON.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ignis_socketio_component::{Container, SocketIOBindingKeys};
use ignis_socketio_protocol::{ClientState, RejectedRoom, events, now_timestamp};
use ignis_socketio_server::{ClientInfo, ServerError, SocketIOServerHelper, Target};
use serde_json::{Map, Value, json};

/// The `/api/socket/...` routes, and a plain 404 for any other path (so that
/// unknown paths carry the same CORS headers as the routes). With
/// `api_token`, every route but `/api/socket/health` (which load balancers
/// probe) requires header `authorization: Bearer <api_token>`.
pub fn router(api_token: Option<&str>) -> Router {
    let control = Router::new()
        .route("/api/socket/info", get(info))
        .route("/api/socket/clients", get(clients))
        .route("/api/socket/clients/details", get(client_details))
        .route("/api/socket/broadcast", post(broadcast))
        .route("/api/socket/room/{room_id}/send", post(send_to_room))
        .route("/api/socket/client/{client_id}/send", post(send_to_client))
        .route("/api/socket/client/{client_id}/join", post(join))
        .route("/api/socket/client/{client_id}/leave", post(leave))
        .route("/api/socket/client/{client_id}/rooms", get(rooms));
    let control = match api_token {
        Some(token) => control.route_layer(middleware::from_fn_with_state(
            ApiToken(Arc::from(token)),
            require_api_token,
        )),
        None => control,
    };
    control
        .route("/api/socket/health", get(health))
        .fallback(|| async { StatusCode::NOT_FOUND })
}

/// The REST plane's bearer token.
#[derive(Clone)]
struct ApiToken(Arc<str>);

/// Answers 401 `{error}` unless the request carries the token.
async fn require_api_token(
    State(ApiToken(token)): State<ApiToken>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, value)| value.trim());
    if presented.is_some_and(|presented| same_secret(presented.as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(json!({ "error": "a valid API token is required (authorization: Bearer <token>)" })),
    )
        .into_response()
}

/// Compares without stopping at the first differing byte, so that the time
/// taken does not tell an attacker how much of a guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The application container, which the application layers on every request.
fn container(parts: &Parts) -> Option<&Container> {
    parts.extensions.get::<Container>()
}

/// The running helper, from `@app/socket-io/instance`. It is bound before the
/// server accepts connections and unbound only once the application stops,
/// so a 503 is only seen by requests still in flight during shutdown.
struct Io(SocketIOServerHelper);

impl<S: Send + Sync> FromRequestParts<S> for Io {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        container(parts)
            .and_then(|c| c.get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE).ok())
            .map(Io)
            .ok_or_else(|| {
                let error = "the Socket.IO server is not running";
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "error": error })),
                )
                    .into_response()
            })
    }
}

/// Whether Socket.IO is served and, with Redis, the adapter's subscriber is connected.
struct Healthy(bool);

impl<S: Send + Sync> FromRequestParts<S> for Healthy {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(container) = container(parts) else {
            return Ok(Healthy(false));
        };
        let serving = container
            .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
            .is_ok_and(|io| !io.is_shut_down());
        let redis_ok = container
            .get_optional(&SocketIOBindingKeys::REDIS_ADAPTER)
            .is_ok_and(|redis| redis.is_none_or(|redis| redis.is_healthy()));
        Ok(Healthy(serving && redis_ok))
    }
}

const TOPIC_REQUIRED: &str = "Topic is required";

/// The helper's own events: a client trusts them to come from the helper
/// (`authenticated`, `ping`, ...), so the REST plane never sends them.
/// (Socket.IO's reserved names are refused by the helper's `send`.)
const HELPER_EVENTS: [&str; 7] = [
    events::PING,
    events::CONNECT,
    events::JOIN,
    events::LEAVE,
    events::AUTHENTICATE,
    events::AUTHENTICATED,
    events::UNAUTHENTICATE,
];
const ROOMS_REQUIRED: &str = "Rooms array is required";

/// A 400 answer `{error}`: a request the contract refuses.
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}

fn bad_request(error: impl Into<String>) -> BadRequest {
    BadRequest(error.into())
}

/// The contract's answer for an id that is not a client of this node.
fn client_not_found(id: &str) -> Response {
    Json(json!({ "success": false, "message": format!("Client not found: {id}") })).into_response()
}

fn success(message: String) -> Response {
    Json(json!({ "success": true, "message": message })).into_response()
}

/// The body parsed as JSON; a JSON value that is not an object reads as
/// `{}`. Refused with 400 `{error}` when it is not JSON, or when it comes
/// with a content type a foreign web page may send without a CORS preflight
/// (`text/plain`, form data): otherwise any page a user visits could
/// broadcast through this server. Without a content type (command-line
/// tools), the body is read as JSON.
struct JsonObject(Map<String, Value>);

/// Content types a browser sends cross-site without asking first.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = BadRequest;

    async fn from_request(request: Request, state: &S) -> Result<Self, BadRequest> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase());
        if let Some(content_type) = content_type {
            let essence = content_type.split(';').next().unwrap_or_default().trim();
            if SIMPLE_CONTENT_TYPES.contains(&essence) {
                return Err(bad_request(format!(
                    "Content-Type must be application/json, not {essence}"
                )));
            }
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| bad_request(format!("Cannot read the body: {e}")))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => Ok(JsonObject(object)),
            Ok(_) => Ok(JsonObject(Map::new())),
            Err(e) => Err(bad_request(format!("Body is not valid JSON: {e}"))),
        }
    }
}

/// `{topic, data}`: a non-empty string topic; `data` is any JSON value (absent = `null`).
struct TopicAndData {
    topic: String,
    data: Value,
}

impl<S: Send + Sync> FromRequest<S> for TopicAndData {
    type Rejection = BadRequest;

    async fn from_request(request: Request, state: &S) -> Result<Self, BadRequest> {
        let JsonObject(mut object) = JsonObject::from_request(request, state).await?;
        let topic = match object.remove("topic") {
            Some(Value::String(topic)) if !topic.is_empty() => topic,
            _ => return Err(bad_request(TOPIC_REQUIRED)),
        };
        if HELPER_EVENTS.contains(&topic.as_str()) {
            return Err(bad_request(format!(
                "Topic {topic} is an event of the Socket.IO protocol, not an application topic"
            )));
        }
        let data = object.remove("data").unwrap_or(Value::Null);
        Ok(TopicAndData { topic, data })
    }
}

/// `{rooms: [..]}`: a non-empty array of non-empty strings.
struct RoomList(Vec<String>);

impl<S: Send + Sync> FromRequest<S> for RoomList {
    type Rejection = BadRequest;

    async fn from_request(request: Request, state: &S) -> Result<Self, BadRequest> {
        let JsonObject(mut object) = JsonObject::from_request(request, state).await?;
        let Some(Value::Array(entries)) = object.remove("rooms") else {
            return Err(bad_request(ROOMS_REQUIRED));
        };
        if entries.is_empty() {
            return Err(bad_request(ROOMS_REQUIRED));
        }
        entries
            .into_iter()
            .map(|entry| match entry {
                Value::String(room) if !room.is_empty() => Ok(room),
                other => Err(bad_request(format!(
                    "Rooms must be non-empty strings, got {other}"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(RoomList)
    }
}

/// Sends and answers the contract's 200, or 400 for a refused topic.
async fn send(
    io: &SocketIOServerHelper,
    target: Target,
    topic: &str,
    data: &Value,
    done: String,
) -> Response {
    match io.send(target, topic, data).await {
        Ok(_) => success(done),
        Err(error @ ServerError::InvalidEvent(_)) | Err(error @ ServerError::ProtocolEvent(_)) => {
            bad_request(error.to_string()).into_response()
        }
        Err(error) => {
            tracing::error!(%error, topic, "REST send failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

async fn info(Io(io): Io) -> Response {
    let ids: Vec<String> = io.get_clients().into_iter().map(|c| c.id).collect();
    Json(json!({ "status": "running", "connectedClients": ids.len(), "clientIds": ids }))
        .into_response()
}

/// `{count, clients: [ids]}`: the same ids as `/info`'s `clientIds`.
async fn clients(Io(io): Io) -> Response {
    let ids: Vec<String> = io.get_clients().into_iter().map(|c| c.id).collect();
    Json(json!({ "count": ids.len(), "clients": ids })).into_response()
}

/// `{count, clients: [{id, state, rooms, identity, connectedAt, authenticatedAt, transport}]}`.
async fn client_details(Io(io): Io) -> Response {
    let clients: Vec<Value> = io.get_clients().iter().map(client_detail).collect();
    Json(json!({ "count": clients.len(), "clients": clients })).into_response()
}

/// One client of `/clients/details`, with the camelCase keys of the other routes
/// (written out here so that the answer does not follow the Rust field names).
fn client_detail(client: &ClientInfo) -> Value {
    let identity = client
        .identity
        .as_ref()
        .map(|identity| json!({ "id": identity.id(), "claims": identity.claims() }));
    json!({
        "id": client.id,
        "state": client.state.as_str(),
        "rooms": client.rooms,
        "identity": identity,
        "connectedAt": client.connected_at,
        "authenticatedAt": client.authenticated_at,
        "transport": client.transport,
    })
}

async fn health(Healthy(healthy): Healthy) -> Response {
    Json(json!({ "healthy": healthy, "timestamp": now_timestamp() })).into_response()
}

async fn broadcast(Io(io): Io, TopicAndData { topic, data }: TopicAndData) -> Response {
    let reached = io
        .get_clients()
        .iter()
        .filter(|c| c.state == ClientState::Authenticated)
        .count();
    let done = format!("Broadcast sent to {reached} clients");
    send(&io, Target::all(), &topic, &data, done).await
}

async fn send_to_room(
    Io(io): Io,
    Path(room_id): Path<String>,
    TopicAndData { topic, data }: TopicAndData,
) -> Response {
    let done = format!("Message sent to room: {room_id}");
    send(&io, Target::room(room_id), &topic, &data, done).await
}

async fn send_to_client(
    Io(io): Io,
    Path(client_id): Path<String>,
    TopicAndData { topic, data }: TopicAndData,
) -> Response {
    let done = format!("Message sent to client: {client_id}");
    send(&io, Target::socket(client_id), &topic, &data, done).await
}

async fn join(Io(io): Io, Path(client_id): Path<String>, RoomList(rooms): RoomList) -> Response {
    match io.join_rooms(&client_id, rooms) {
        Ok(ack) => success(format!(
            "Client {client_id} joined rooms: {}{}",
            ack.joined.join(", "),
            rejected_suffix(&ack.rejected)
        )),
        Err(error) => room_error(&client_id, error),
    }
}

async fn leave(Io(io): Io, Path(client_id): Path<String>, RoomList(rooms): RoomList) -> Response {
    match io.leave_rooms(&client_id, rooms) {
        Ok(ack) => success(format!(
            "Client {client_id} left rooms: {}{}",
            ack.left.join(", "),
            rejected_suffix(&ack.rejected)
        )),
        Err(error) => room_error(&client_id, error),
    }
}

/// Names the refused rooms, if any, after the success message.
fn rejected_suffix(rejected: &[RejectedRoom]) -> String {
    if rejected.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = rejected
        .iter()
        .map(|r| format!("{} ({})", r.room, r.reason.as_str()))
        .collect();
    format!("; not: {}", listed.join(", "))
}

/// An unknown client is the contract's `{success:false}`; a refused room list a 400.
fn room_error(client_id: &str, error: ServerError) -> Response {
    match error {
        ServerError::UnknownClient(_) => client_not_found(client_id),
        other => bad_request(other.to_string()).into_response(),
    }
}

async fn rooms(Io(io): Io, Path(client_id): Path<String>) -> Response {
    match io.get_client(&client_id) {
        Some(client) => Json(json!({ "success": true, "rooms": client.rooms })).into_response(),
        None => client_not_found(&client_id),
    }
}
