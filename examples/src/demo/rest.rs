//! The REST control plane under `/api/socket` (DEMO-SERVER.md "REST control
//! plane"). Handlers stay thin: read the body, call the helper, map its answer
//! or error to the contract's JSON.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ignis_socketio_protocol::{ClientState, RejectedRoom, now_timestamp};
use ignis_socketio_server::{ServerError, SocketIOServerHelper, Target};

use super::DemoServer;
use serde_json::{Map, Value, json};

/// The `/api/socket/...` routes, with the running demo server as state.
pub fn router(server: DemoServer) -> Router {
    Router::new()
        .route("/api/socket/info", get(info))
        .route("/api/socket/clients", get(clients))
        .route("/api/socket/health", get(health))
        .route("/api/socket/broadcast", post(broadcast))
        .route("/api/socket/room/{room_id}/send", post(send_to_room))
        .route("/api/socket/client/{client_id}/send", post(send_to_client))
        .route("/api/socket/client/{client_id}/join", post(join))
        .route("/api/socket/client/{client_id}/leave", post(leave))
        .route("/api/socket/client/{client_id}/rooms", get(rooms))
        .with_state(server)
}

const TOPIC_REQUIRED: &str = "Topic is required";
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

/// Parses the body as JSON whatever its content type (like the reference),
/// answering 400 `{error}` when it is not JSON.
fn json_object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, BadRequest> {
    let bytes = body.map_err(|e| bad_request(format!("Cannot read the body: {e}")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Ok(Map::new()),
        Err(e) => Err(bad_request(format!("Body is not valid JSON: {e}"))),
    }
}

/// `{topic, data}`: a non-empty string topic; `data` is any JSON value (absent = `null`).
fn topic_and_data(body: Result<Bytes, BytesRejection>) -> Result<(String, Value), BadRequest> {
    let mut object = json_object(body)?;
    let topic = match object.remove("topic") {
        Some(Value::String(topic)) if !topic.is_empty() => topic,
        _ => return Err(bad_request(TOPIC_REQUIRED)),
    };
    Ok((topic, object.remove("data").unwrap_or(Value::Null)))
}

/// `{rooms: [..]}`: a non-empty array of non-empty strings.
fn rooms_list(body: Result<Bytes, BytesRejection>) -> Result<Vec<String>, BadRequest> {
    let mut object = json_object(body)?;
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
        .collect()
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

async fn info(State(server): State<DemoServer>) -> Response {
    let ids: Vec<String> = server.io.get_clients().into_iter().map(|c| c.id).collect();
    Json(json!({ "status": "running", "connectedClients": ids.len(), "clientIds": ids }))
        .into_response()
}

async fn clients(State(server): State<DemoServer>) -> Response {
    let clients = server.io.get_clients();
    Json(json!({ "count": clients.len(), "clients": clients })).into_response()
}

async fn health(State(server): State<DemoServer>) -> Response {
    Json(json!({ "healthy": server.is_healthy(), "timestamp": now_timestamp() })).into_response()
}

async fn broadcast(
    State(server): State<DemoServer>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (topic, data) = match topic_and_data(body) {
        Ok(parsed) => parsed,
        Err(answer) => return answer.into_response(),
    };
    let reached = server
        .io
        .get_clients()
        .iter()
        .filter(|c| c.state == ClientState::Authenticated)
        .count();
    let done = format!("Broadcast sent to {reached} clients");
    send(&server.io, Target::all(), &topic, &data, done).await
}

async fn send_to_room(
    State(server): State<DemoServer>,
    Path(room_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (topic, data) = match topic_and_data(body) {
        Ok(parsed) => parsed,
        Err(answer) => return answer.into_response(),
    };
    let done = format!("Message sent to room: {room_id}");
    send(&server.io, Target::room(room_id), &topic, &data, done).await
}

async fn send_to_client(
    State(server): State<DemoServer>,
    Path(client_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (topic, data) = match topic_and_data(body) {
        Ok(parsed) => parsed,
        Err(answer) => return answer.into_response(),
    };
    let done = format!("Message sent to client: {client_id}");
    send(&server.io, Target::socket(client_id), &topic, &data, done).await
}

async fn join(
    State(server): State<DemoServer>,
    Path(client_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rooms = match rooms_list(body) {
        Ok(rooms) => rooms,
        Err(answer) => return answer.into_response(),
    };
    match server.io.join_rooms(&client_id, rooms) {
        Ok(ack) => success(format!(
            "Client {client_id} joined rooms: {}{}",
            ack.joined.join(", "),
            rejected_suffix(&ack.rejected)
        )),
        Err(error) => room_error(&client_id, error),
    }
}

async fn leave(
    State(server): State<DemoServer>,
    Path(client_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rooms = match rooms_list(body) {
        Ok(rooms) => rooms,
        Err(answer) => return answer.into_response(),
    };
    match server.io.leave_rooms(&client_id, rooms) {
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

async fn rooms(State(server): State<DemoServer>, Path(client_id): Path<String>) -> Response {
    match server.io.get_client(&client_id) {
        Some(client) => Json(json!({ "success": true, "rooms": client.rooms })).into_response(),
        None => client_not_found(&client_id),
    }
}
