//! What applications can do with an authenticated client, and with its `join` request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ignis_socketio_protocol::{ClientState, JoinAck, LeaveAck, validate_event_name};
use serde::Serialize;
use serde_json::Value;

use crate::callbacks::{IntoEventHandler, check_handler_name};
use crate::types::{AuthenticatedClient, EventHandler, JoinRequest, SocketIOServerHelper};
use crate::{ClientInfo, Handshake, Identity, Payload, ServerError};

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
