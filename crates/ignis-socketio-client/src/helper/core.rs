//! The helper's state and the logic its listeners and its public methods
//! share: the authentication state machine and the room requests.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ignis_socketio_protocol::{ClientState, RoomsPayload, events};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use crate::dispatch::lock;
use crate::handler::{Callback, run_contained};
use crate::{ClientError, ClientPayload, SocketClient};

/// The user's callbacks.
#[derive(Default, Clone)]
pub(crate) struct Callbacks {
    pub(crate) connected: Option<Callback<()>>,
    pub(crate) disconnected: Option<Callback<String>>,
    pub(crate) error: Option<Callback<ClientError>>,
    pub(crate) authenticated: Option<Callback<Value>>,
    pub(crate) unauthenticated: Option<Callback<String>>,
}

/// The helper's settings besides the connection's.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) auto_connect: bool,
    pub(crate) auto_authenticate: bool,
    pub(crate) credentials: Option<Value>,
    pub(crate) rejoin_rooms: bool,
    pub(crate) auth_timeout: Option<Duration>,
    pub(crate) room_ack_timeout: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_connect: true,
            auto_authenticate: false,
            credentials: None,
            rejoin_rooms: true,
            auth_timeout: Some(Duration::from_secs(15)),
            room_ack_timeout: Some(Duration::from_secs(5)),
        }
    }
}

pub(crate) struct HelperInner {
    pub(crate) identifier: String,
    pub(crate) client: SocketClient,
    pub(crate) state: watch::Sender<ClientState>,
    /// Bumped whenever a pending authentication ends, so a stale timer does nothing.
    auth_generation: AtomicU64,
    /// Rooms to join again after a reconnect.
    pub(crate) rooms: Mutex<BTreeSet<String>>,
    pub(crate) settings: Settings,
    pub(crate) callbacks: Callbacks,
}

impl HelperInner {
    pub(crate) fn new(
        identifier: String,
        client: SocketClient,
        settings: Settings,
        callbacks: Callbacks,
    ) -> HelperInner {
        HelperInner {
            identifier,
            client,
            state: watch::channel(ClientState::Unauthorized).0,
            auth_generation: AtomicU64::new(0),
            rooms: Mutex::new(BTreeSet::new()),
            settings,
            callbacks,
        }
    }

    pub(crate) fn state(&self) -> ClientState {
        *self.state.borrow()
    }

    /// Ends any pending authentication with `state`.
    pub(crate) fn end_authentication(&self, state: ClientState) {
        self.auth_generation.fetch_add(1, Ordering::AcqRel);
        self.state.send_replace(state);
    }

    pub(crate) async fn report_error(&self, error: ClientError) {
        if let Some(cb) = self.callbacks.error.clone() {
            run_contained(&cb, error, "on_error").await;
        }
    }

    /// Emits `authenticate` (with `credentials`) when connected and
    /// `unauthorized`, and arms the client-side auth timeout.
    pub(crate) fn request_authentication(
        self: &Arc<Self>,
        credentials: Option<Value>,
    ) -> Result<(), ClientError> {
        if !self.client.is_connected() {
            tracing::warn!(id = %self.identifier, "Cannot authenticate | reason: not connected");
            return Err(ClientError::NotConnected);
        }
        let swapped = self.state.send_if_modified(|state| {
            if *state == ClientState::Unauthorized {
                *state = ClientState::Authenticating;
                true
            } else {
                false
            }
        });
        if !swapped {
            let state = self.state();
            tracing::warn!(id = %self.identifier, %state, "Cannot authenticate | not unauthorized");
            return Err(ClientError::NotUnauthorized(state));
        }
        let generation = self.auth_generation.fetch_add(1, Ordering::AcqRel) + 1;
        let payload = credentials.map(ClientPayload::from).unwrap_or_default();
        if let Err(error) = self.client.emit(events::AUTHENTICATE, payload) {
            tracing::warn!(id = %self.identifier, %error, "Cannot authenticate");
            self.end_authentication(ClientState::Unauthorized);
            return Err(error);
        }
        tracing::info!(id = %self.identifier, "Authentication requested");
        if let Some(timeout) = self.settings.auth_timeout {
            let weak = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                let Some(inner) = weak.upgrade() else { return };
                if inner.auth_generation.load(Ordering::Acquire) == generation
                    && inner.state() == ClientState::Authenticating
                {
                    tracing::warn!(id = %inner.identifier, ?timeout, "No authentication answer");
                    inner.end_authentication(ClientState::Unauthorized);
                    inner.report_error(ClientError::AuthTimeout(timeout)).await;
                }
            });
        }
        Ok(())
    }

    async fn room_request<A: DeserializeOwned>(
        &self,
        event: &str,
        rooms: Vec<String>,
    ) -> Result<Option<A>, ClientError> {
        if !self.client.is_connected() {
            tracing::warn!(id = %self.identifier, event, "Cannot send room request | reason: not connected");
            return Err(ClientError::NotConnected);
        }
        let payload = ClientPayload::json(&RoomsPayload { rooms })?;
        tracing::info!(id = %self.identifier, event, "Room request sent");
        match self.settings.room_ack_timeout {
            None => self.client.emit(event, payload).map(|()| None),
            Some(timeout) => match self.client.emit_with_ack(event, payload, timeout).await {
                Ok(answer) => answer.decode_first::<A>().map(Some),
                Err(ClientError::AckTimeout(_)) => {
                    tracing::debug!(event, "The server did not answer the room request");
                    Ok(None)
                }
                Err(e) => Err(e),
            },
        }
    }

    /// Asks to join `rooms` and remembers them (those the server confirmed,
    /// when it answers) for re-joining after a reconnect.
    pub(crate) async fn join_rooms(
        &self,
        rooms: Vec<String>,
    ) -> Result<Option<ignis_socketio_protocol::JoinAck>, ClientError> {
        let answer = self
            .room_request::<ignis_socketio_protocol::JoinAck>(events::JOIN, rooms.clone())
            .await?;
        let mut remembered = lock(&self.rooms);
        match &answer {
            Some(ack) => remembered.extend(ack.joined.iter().cloned()),
            None => remembered.extend(rooms),
        }
        Ok(answer)
    }

    /// Asks to leave `rooms` and forgets them.
    pub(crate) async fn leave_rooms(
        &self,
        rooms: Vec<String>,
    ) -> Result<Option<ignis_socketio_protocol::LeaveAck>, ClientError> {
        let answer = self
            .room_request::<ignis_socketio_protocol::LeaveAck>(events::LEAVE, rooms.clone())
            .await?;
        let mut remembered = lock(&self.rooms);
        for room in &rooms {
            remembered.remove(room);
        }
        Ok(answer)
    }
}
