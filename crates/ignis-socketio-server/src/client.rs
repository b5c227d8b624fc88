//! What applications see of a client: a live handle once authenticated, and snapshots.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ignis_socketio_protocol::{ClientState, JoinAck, LeaveAck, events, validate_event_name};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::callbacks::{EventHandler, IntoEventHandler};
use crate::record::ClientRecord;
use crate::{Handshake, Identity, Payload, ServerError, SocketIOServerHelper};

/// A snapshot of one client of this node (not a live view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The socket id.
    pub id: String,
    /// Where it stands in the authentication handshake.
    pub state: ClientState,
    /// Its rooms on this node, sorted (its own id room included).
    pub rooms: Vec<String>,
    /// What the authenticator returned, once authenticated.
    pub identity: Option<Identity>,
    /// When it connected (ISO-8601 UTC).
    pub connected_at: String,
    /// When it authenticated (ISO-8601 UTC).
    pub authenticated_at: Option<String>,
    /// `websocket` or `polling`.
    pub transport: String,
}

/// An authenticated client: given to the client-connected handler and to event handlers.
///
/// Cheap to clone. Operations on a client that has disconnected fail with
/// [`ServerError::Socket`] or do nothing.
#[derive(Clone)]
pub struct AuthenticatedClient {
    pub(crate) record: Arc<ClientRecord>,
    pub(crate) server: SocketIOServerHelper,
    pub(crate) identity: Arc<Identity>,
}

impl fmt::Debug for AuthenticatedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatedClient")
            .field("id", &self.record.id)
            .field("identity", &self.identity)
            .finish()
    }
}

impl AuthenticatedClient {
    /// The socket id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// What the authenticator returned.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The connection handshake.
    pub fn handshake(&self) -> &Handshake {
        &self.record.handshake
    }

    /// The current state (`authenticated` until the client disconnects).
    pub fn state(&self) -> ClientState {
        self.record.state()
    }

    /// Whether the client is still connected.
    pub fn is_connected(&self) -> bool {
        self.record.socket.connected() && !self.record.is_closed()
    }

    /// The helper, to send to other clients from a handler.
    pub fn server(&self) -> &SocketIOServerHelper {
        &self.server
    }

    /// A snapshot of the client.
    pub fn info(&self) -> ClientInfo {
        self.record.info()
    }

    /// Registers `handler` for the application event `event`, replacing any
    /// previous one. The handler receives the client, the data (the first
    /// argument the client emitted, `null` when none) and, with a
    /// `(client, data, ack)` closure, an acknowledgement responder when the
    /// client asked for one. Handlers of one client may run concurrently.
    ///
    /// Names handled by the helper (`authenticate`, `join`, `leave`) and names
    /// reserved by Socket.IO are refused with an error log; use
    /// [`try_on`](Self::try_on) to get the error.
    pub fn on<M>(&self, event: impl Into<String>, handler: impl IntoEventHandler<M>) {
        let event = event.into();
        if let Err(error) = self.try_on(event.clone(), handler) {
            tracing::error!(socket_id = %self.record.id, %event, %error, "event handler not registered");
        }
    }

    /// Like [`on`](Self::on), returning an error for names that cannot be handled.
    pub fn try_on<M>(
        &self,
        event: impl Into<String>,
        handler: impl IntoEventHandler<M>,
    ) -> Result<(), ServerError> {
        let event = event.into();
        check_handler_name(&event)?;
        let handler: Arc<dyn EventHandler> = handler.into_event_handler();
        self.record.set_handler(event, handler);
        Ok(())
    }

    /// Removes the handler of `event`; returns whether there was one.
    pub fn off(&self, event: &str) -> bool {
        self.record.remove_handler(event)
    }

    /// Emits `event` with `data` directly to this client.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), ServerError> {
        validate_event_name(event)?;
        let payload = Payload::from_serialize(data)?;
        self.record.socket.emit(event, &payload)
    }

    /// Emits `event` with a JSON or binary [`Payload`] directly to this client.
    pub fn emit_payload(&self, event: &str, payload: Payload) -> Result<(), ServerError> {
        validate_event_name(event)?;
        self.record.socket.emit(event, &payload)
    }

    /// Emits `event` and waits up to `timeout` for the client's acknowledgement.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Value, ServerError> {
        validate_event_name(event)?;
        let payload = Payload::from_serialize(data)?;
        self.emit_payload_with_ack(event, payload, timeout).await
    }

    /// Emits `event` with a JSON or binary [`Payload`] and waits up to
    /// `timeout` for the client's acknowledgement, as JSON (its argument, or
    /// the list of its arguments when it sent several or none). Like [`emit_with_ack`](Self::emit_with_ack), a reserved or empty
    /// name is refused before anything is sent; a client that does not answer
    /// in time gives [`ServerError::Ack`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use ignis_socketio_server::{AuthenticatedClient, Payload, ServerError};
    /// # async fn f(client: AuthenticatedClient) -> Result<(), ServerError> {
    /// let chunk = Payload::Binary(vec![0x89, b'P', b'N', b'G'].into());
    /// let answer = client
    ///     .emit_payload_with_ack("upload:chunk", chunk, Duration::from_secs(5))
    ///     .await?;
    /// tracing::debug!(%answer, "the client stored the chunk");
    /// # Ok(()) }
    /// ```
    pub async fn emit_payload_with_ack(
        &self,
        event: &str,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Value, ServerError> {
        validate_event_name(event)?;
        self.record
            .socket
            .emit_with_ack(event, &payload, timeout)
            .await
    }

    /// The client's rooms on this node, sorted (its own id room included).
    pub fn rooms(&self) -> Vec<String> {
        self.record.visible_rooms()
    }

    /// Joins rooms on the server's authority: no room validator, but the room
    /// limits hold and the helper's internal room cannot be joined.
    pub fn join<I, S>(&self, rooms: I) -> Result<JoinAck, ServerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let request = crate::rooms::request_value(rooms);
        self.server.core().join_by_server(&self.record, &request)
    }

    /// Leaves rooms; the client's own id room and the default rooms cannot be left.
    pub fn leave<I, S>(&self, rooms: I) -> Result<LeaveAck, ServerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let request = crate::rooms::request_value(rooms);
        self.server.core().leave(&self.record, &request)
    }

    /// Disconnects the client (it sees `io server disconnect` and does not reconnect by itself).
    pub fn disconnect(&self) {
        self.record.socket.disconnect();
    }
}

/// Refuses names an application handler cannot take: empty, reserved by
/// Socket.IO, or handled by the helper itself.
pub(crate) fn check_handler_name(event: &str) -> Result<(), ServerError> {
    validate_event_name(event)?;
    if [events::AUTHENTICATE, events::JOIN, events::LEAVE].contains(&event) {
        return Err(ServerError::ProtocolEvent(event.to_owned()));
    }
    Ok(())
}

/// A `join` request handed to the [`crate::RoomValidator`].
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The client asking.
    pub client: AuthenticatedClient,
    /// The well-formed, distinct room names it asked for.
    pub rooms: Vec<String>,
}

impl JoinRequest {
    /// The client asking.
    pub fn client(&self) -> &AuthenticatedClient {
        &self.client
    }

    /// Its identity.
    pub fn identity(&self) -> &Identity {
        self.client.identity()
    }

    /// The requested rooms.
    pub fn rooms(&self) -> &[String] {
        &self.rooms
    }

    /// The requested rooms for which `allow` returns true: the usual validator.
    ///
    /// ```
    /// # use ignis_socketio_server::JoinRequest;
    /// # fn f(req: JoinRequest) -> Vec<String> {
    /// req.keep(|room| room.starts_with("public-"))
    /// # }
    /// ```
    pub fn keep(self, allow: impl Fn(&str) -> bool) -> Vec<String> {
        self.rooms.into_iter().filter(|r| allow(r)).collect()
    }
}

/// Sends one acknowledgement on a socket of any adapter type.
pub(crate) type AckSendFn = Box<dyn FnOnce(&Payload) -> Result<(), ServerError> + Send>;

/// Answers a client's acknowledgement request. Dropping it answers nothing.
pub struct AckResponder {
    pub(crate) send: AckSendFn,
}

impl fmt::Debug for AckResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AckResponder")
    }
}

impl AckResponder {
    /// Sends `data` as the acknowledgement.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), ServerError> {
        let payload = Payload::from_serialize(data)?;
        (self.send)(&payload)
    }

    /// Sends a JSON or binary [`Payload`] as the acknowledgement.
    pub fn send_payload(self, payload: Payload) -> Result<(), ServerError> {
        (self.send)(&payload)
    }
}
