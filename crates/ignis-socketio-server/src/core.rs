//! The adapter-independent heart of the helper: registry, authentication state
//! machine, room requests, application event dispatch and timers.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use ignis_socketio_protocol::{
    AuthenticateAck, AuthenticatedPayload, ClientState, ErrorBody, JoinAck, LeaveAck, PingPayload,
    RejectedRoom, RoomRejection, UnauthenticatedCode, UnauthenticatedPayload, events,
    now_timestamp,
};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::callbacks::{
    Authenticator, ClientConnectedHandler, ClientDisconnectedHandler, EventHandler, RoomValidator,
};
use crate::metrics::{AuthOutcome, Dropped, Metrics};
use crate::observer::Observers;
use crate::record::{ClientRecord, Readiness};
use crate::timers::Timers;
use crate::{
    AckResponder, AuthError, AuthenticatedClient, ClientInfo, Identity, JoinRequest, Payload,
    ServerError, ServerOptions, SocketIOServerHelper, UNAUTHENTICATED_ROOM,
};

/// How long the helper waits for the engine to mark a socket connected
/// before it emits to it (an auth timer with a zero timeout can fire while
/// the connect handler still runs), and then gives up on it.
const CONNECT_GRACE: Duration = Duration::from_secs(2);

/// Longest a room validator may take; a join it has not answered by then is
/// refused (the request must not hang forever).
pub(crate) const VALIDATOR_TIMEOUT: Duration = Duration::from_secs(10);

/// The callbacks and the registry, shared by every socket of the helper.
pub(crate) struct Core {
    pub(crate) options: ServerOptions,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) validator: Option<Arc<dyn RoomValidator>>,
    pub(crate) connected_handler: Option<Arc<dyn ClientConnectedHandler>>,
    pub(crate) disconnected_handler: Option<Arc<dyn ClientDisconnectedHandler>>,
    /// Handlers of application events shared by every authenticated client.
    pub(crate) event_handlers: HashMap<String, Arc<dyn EventHandler>>,
    /// Lifecycle observers (see [`SocketObserver`](crate::SocketObserver)).
    pub(crate) observers: Observers,
    records: RwLock<HashMap<String, Arc<ClientRecord>>>,
    /// Application events handed to a handler.
    pub(crate) events_handled: std::sync::atomic::AtomicU64,
    /// Application events dropped: sent before authentication, or with no handler.
    pub(crate) events_ignored: std::sync::atomic::AtomicU64,
    /// Prometheus instruments (nothing when metrics are off).
    pub(crate) metrics: Metrics,
    shutting_down: AtomicBool,
    timers: Timers,
}

fn to_payload<T: Serialize>(value: &T) -> Payload {
    Payload::Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

impl Core {
    pub(crate) fn new(
        options: ServerOptions,
        authenticator: Arc<dyn Authenticator>,
        validator: Option<Arc<dyn RoomValidator>>,
        connected_handler: Option<Arc<dyn ClientConnectedHandler>>,
        disconnected_handler: Option<Arc<dyn ClientDisconnectedHandler>>,
        event_handlers: HashMap<String, Arc<dyn EventHandler>>,
        observers: Observers,
    ) -> Self {
        Core {
            options,
            authenticator,
            validator,
            connected_handler,
            disconnected_handler,
            event_handlers,
            observers,
            records: RwLock::new(HashMap::new()),
            events_handled: Default::default(),
            events_ignored: Default::default(),
            metrics: Metrics::default(),
            shutting_down: AtomicBool::new(false),
            timers: Timers::default(),
        }
    }

    /// Counts with `metrics` (instruments, or nothing when metrics are off).
    pub(crate) fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    // ===== registry =====

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub(crate) fn record(&self, id: &str) -> Option<Arc<ClientRecord>> {
        self.records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    pub(crate) fn clients(&self) -> Vec<ClientInfo> {
        let records: Vec<_> = self
            .records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        records.iter().map(|r| r.info()).collect()
    }

    pub(crate) fn client_count(&self) -> usize {
        self.records.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Registers a new socket and starts its authentication timer.
    pub(crate) fn register(self: &Arc<Self>, record: Arc<ClientRecord>) {
        tracing::info!(parent: &record.span, "new connection");
        // Before the record is in the registry: no teardown (and so no
        // `socket_disconnected`) can overtake this call.
        self.observers
            .connected(&record.span, &record.id, &record.handshake);
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.id.clone(), record.clone());
        self.timers.auth_deadline(self, &record);
    }

    /// Removes the record and runs its teardown, exactly once whatever the cause.
    pub(crate) fn teardown(&self, record: &Arc<ClientRecord>, reason: &str) {
        let removed = {
            let mut records = self.records.write().unwrap_or_else(|p| p.into_inner());
            match records.get(&record.id) {
                Some(current) if Arc::ptr_eq(current, record) => records.remove(&record.id),
                _ => None,
            }
        };
        if removed.is_none() {
            // Already torn down (shutdown drained it), or never registered.
            record.close();
            return;
        }
        self.finish(record, reason.to_owned());
    }

    /// The teardown proper: runs once per record, after it left the registry.
    fn finish(&self, record: &Arc<ClientRecord>, reason: String) {
        // Snapshot before closing: the rooms are still there.
        let info = self.disconnected_handler.as_ref().map(|_| record.info());
        if !record.close() {
            return;
        }
        tracing::info!(parent: &record.span, %reason, "client disconnected");
        if record.claim_disconnect_notice() {
            self.observers.disconnected(&record.span, &record.id);
        }
        if let (Some(handler), Some(info)) = (self.disconnected_handler.clone(), info) {
            let span = record.span.clone();
            tokio::spawn(
                async move {
                    if let Err(panic) = AssertUnwindSafe(handler.on_disconnected(info, reason))
                        .catch_unwind()
                        .await
                    {
                        tracing::error!(panic = %panic_message(panic.as_ref()), "client-disconnected handler panicked");
                    }
                }
                .instrument(span),
            );
        }
    }

    /// Takes every record out of the registry and tears it down (shutdown).
    pub(crate) fn drain(&self) -> Vec<Arc<ClientRecord>> {
        let records: Vec<_> = self
            .records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, r)| r)
            .collect();
        for record in &records {
            self.finish(record, "server shutting down".to_owned());
        }
        records
    }

    pub(crate) async fn auth_timer_fired(core: Weak<Core>, record: Weak<ClientRecord>) {
        let (Some(core), Some(record)) = (core.upgrade(), record.upgrade()) else {
            return;
        };
        // With a zero timeout the timer can fire before the CONNECT ack is out:
        // wait for the socket to be connected so that the client can be told.
        record.wait_connected(CONNECT_GRACE).await;
        {
            let mut guard = record.lock();
            // Observers busy: the authenticator already accepted the client.
            // Refused already (the authenticator said no): one `unauthenticated` per client.
            if guard.closed
                || guard.refused
                || guard.state == ClientState::Authenticated
                || guard.observers_busy
            {
                return;
            }
            guard.state = ClientState::Unauthorized;
            guard.refused = true;
        }
        if !record.socket.connected() {
            // The socket never made it into the namespace: nothing will call
            // the disconnect handler, so clean up here.
            core.teardown(&record, "never connected");
            return;
        }
        tracing::info!(parent: &record.span, timeout = ?core.options.auth_timeout, "authentication timed out");
        core.metrics.authenticated(AuthOutcome::Timeout, None);
        core.refuse(&record, UnauthenticatedCode::AuthenticationTimeout, None);
    }

    /// Sends `unauthenticated` and then the disconnect. Both go through the
    /// socket's one ordered queue, so the client reads the message before the
    /// disconnect on every transport.
    fn refuse(&self, record: &ClientRecord, code: UnauthenticatedCode, ack: Option<AckResponder>) {
        let payload = UnauthenticatedPayload::new(code);
        if let Some(ack) = ack {
            let body = AuthenticateAck {
                state: ClientState::Unauthorized,
                id: None,
                code: Some(code),
                message: Some(payload.message.clone()),
                time: payload.time.clone(),
            };
            send_ack(record, ack, &body, "authenticate");
        }
        if let Err(error) = record
            .socket
            .emit(events::UNAUTHENTICATE, &to_payload(&payload))
        {
            tracing::warn!(parent: &record.span, %error, "unauthenticated not sent");
        }
        record.socket.disconnect();
    }

    // ===== authentication =====

    pub(crate) async fn handle_authenticate(
        self: &Arc<Self>,
        server: SocketIOServerHelper,
        record: Arc<ClientRecord>,
        credentials: Option<Value>,
        ack: Option<AckResponder>,
    ) {
        // Answered only once the engine marked the socket connected: before
        // that every emit fails, and `ping`, `authenticated` or
        // `unauthenticated` would be lost.
        if !record.wait_connected(CONNECT_GRACE).await {
            if !record.lock().closed {
                tracing::warn!(parent: &record.span, grace = ?CONNECT_GRACE, "authenticate dropped: the socket never finished connecting");
            }
            return;
        }
        {
            let mut guard = record.lock();
            if guard.closed || guard.refused {
                return;
            }
            if guard.state != ClientState::Unauthorized {
                tracing::warn!(parent: &record.span, state = %guard.state, "authenticate ignored in this state");
                let state = guard.state;
                drop(guard);
                if let Some(ack) = ack {
                    let body = AuthenticateAck {
                        state,
                        id: (state == ClientState::Authenticated).then(|| record.id.clone()),
                        code: None,
                        message: None,
                        time: now_timestamp(),
                    };
                    send_ack(&record, ack, &body, "authenticate");
                }
                return;
            }
            guard.state = ClientState::Authenticating;
        }
        let handshake = record.handshake.with_credentials(credentials);
        let started = std::time::Instant::now();
        let outcome = AssertUnwindSafe(self.authenticator.authenticate(handshake.clone()))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(AuthError::Failed(format!(
                    "authenticator panicked: {}",
                    panic_message(panic.as_ref())
                )))
            });
        let metric = match &outcome {
            Ok(_) => AuthOutcome::Ok,
            Err(AuthError::Rejected(_)) => AuthOutcome::Rejected,
            Err(AuthError::Failed(_)) => AuthOutcome::Failed,
        };
        self.metrics.authenticated(metric, Some(started));
        match outcome {
            Ok(identity) => {
                self.complete_authentication(server, record, handshake, identity, ack)
                    .await
            }
            Err(error) => {
                {
                    let mut guard = record.lock();
                    if guard.closed || guard.state != ClientState::Authenticating {
                        tracing::info!(parent: &record.span, "client disconnected during authentication");
                        return;
                    }
                    guard.state = ClientState::Unauthorized;
                    // Also tells the auth deadline not to send another `unauthenticated`.
                    guard.refused = true;
                }
                match &error {
                    AuthError::Rejected(_) => {
                        tracing::info!(parent: &record.span, %error, "authentication refused")
                    }
                    AuthError::Failed(_) => {
                        tracing::error!(parent: &record.span, %error, "failed to authenticate")
                    }
                }
                self.refuse(&record, error.code(), ack);
            }
        }
    }

    async fn complete_authentication(
        self: &Arc<Self>,
        server: SocketIOServerHelper,
        record: Arc<ClientRecord>,
        handshake: crate::Handshake,
        identity: Identity,
        ack: Option<AckResponder>,
    ) {
        if !self.notify_authenticated(&record, &handshake, &identity) {
            return;
        }
        let identity = Arc::new(identity);
        let time = now_timestamp();
        {
            let mut guard = record.lock();
            if guard.closed || guard.state != ClientState::Authenticating {
                tracing::info!(parent: &record.span, "client disconnected during authentication; result discarded");
                return;
            }
            guard.state = ClientState::Authenticated;
            guard.identity = Some(identity.clone());
            guard.authenticated_at = Some(SystemTime::now());
            // Under the lock: a concurrent teardown cannot interleave, so no
            // room is joined after the socket's rooms were cleaned.
            if !self.options.default_rooms.is_empty() {
                record.socket.join(self.options.default_rooms.clone());
            }
            record.socket.leave(vec![UNAUTHENTICATED_ROOM.to_owned()]);
            let ping = PingPayload { time: time.clone() };
            let authenticated = AuthenticatedPayload {
                id: record.id.clone(),
                time: time.clone(),
            };
            if let Err(error) = record.socket.emit(events::PING, &to_payload(&ping)) {
                tracing::warn!(parent: &record.span, %error, "ping not sent");
            }
            if let Err(error) = record
                .socket
                .emit(events::AUTHENTICATED, &to_payload(&authenticated))
            {
                tracing::warn!(parent: &record.span, %error, "authenticated not sent");
            }
            self.timers.start_ping(self, &record);
        }
        tracing::info!(parent: &record.span, identity = %identity.id, "client authenticated");
        if let Some(ack) = ack {
            let body = AuthenticateAck {
                state: ClientState::Authenticated,
                id: Some(record.id.clone()),
                code: None,
                message: None,
                time,
            };
            send_ack(&record, ack, &body, "authenticate");
        }
        if let Some(handler) = self.connected_handler.clone() {
            let client = AuthenticatedClient {
                record: record.clone(),
                server,
                identity,
            };
            if let Err(panic) = AssertUnwindSafe(handler.on_connected(client))
                .catch_unwind()
                .await
            {
                tracing::error!(parent: &record.span, panic = %panic_message(panic.as_ref()), "client-connected handler panicked");
            }
        }
        // Application events that arrived meanwhile are released now.
        if !record.lock().closed {
            record.set_readiness(Readiness::Ready);
        }
    }

    /// Tells the observers that the client was accepted, before it is told
    /// itself. A teardown meanwhile defers its `socket_disconnected` until the
    /// observers returned, so that they see the events in order. False when
    /// the client is gone.
    fn notify_authenticated(
        &self,
        record: &ClientRecord,
        handshake: &crate::Handshake,
        identity: &Identity,
    ) -> bool {
        if self.observers.is_empty() {
            return true;
        }
        {
            let mut guard = record.lock();
            if guard.closed || guard.state != ClientState::Authenticating {
                tracing::info!(parent: &record.span, "client disconnected during authentication; result discarded");
                return false;
            }
            guard.observers_busy = true;
        }
        self.observers
            .authenticated(&record.span, &record.id, handshake, identity);
        let deferred_disconnect = {
            let mut guard = record.lock();
            guard.observers_busy = false;
            std::mem::take(&mut guard.disconnect_deferred)
        };
        if deferred_disconnect {
            self.observers.disconnected(&record.span, &record.id);
            return false;
        }
        true
    }

    /// Emits the application `ping`; false once the socket is gone for good.
    pub(crate) fn send_ping(record: &ClientRecord) -> bool {
        if record.lock().closed {
            return false;
        }
        let ping = PingPayload {
            time: now_timestamp(),
        };
        record.socket.emit(events::PING, &to_payload(&ping)).is_ok() || record.socket.connected()
    }

    // ===== rooms =====

    pub(crate) async fn handle_join(
        self: &Arc<Self>,
        server: SocketIOServerHelper,
        record: Arc<ClientRecord>,
        payload: Value,
        ack: Option<AckResponder>,
    ) {
        let answer = |ack: Option<AckResponder>, body: JoinAck| {
            let invalid =
                body.error.is_some() && body.joined.is_empty() && body.rejected.is_empty();
            self.metrics
                .room_request(false, body.joined.len(), body.rejected.len(), invalid);
            if let Some(ack) = ack {
                send_ack(&record, ack, &body, "join");
            }
        };
        let identity = {
            let guard = record.lock();
            match (&guard.identity, guard.state) {
                (Some(identity), ClientState::Authenticated) if !guard.closed => identity.clone(),
                _ => {
                    tracing::debug!(parent: &record.span, "join before authentication ignored");
                    drop(guard);
                    answer(
                        ack,
                        JoinAck {
                            error: Some(not_authenticated()),
                            ..JoinAck::default()
                        },
                    );
                    return;
                }
            }
        };
        let request = match self.parse_join(&payload) {
            Ok(request) => request,
            Err(ServerError::InvalidRooms(error)) => {
                tracing::warn!(parent: &record.span, %error, "join refused: malformed request");
                answer(
                    ack,
                    JoinAck {
                        error: Some(error.to_body()),
                        ..JoinAck::default()
                    },
                );
                return;
            }
            Err(error) => {
                tracing::warn!(parent: &record.span, %error, "join refused");
                return;
            }
        };
        let mut rejected = request.rejected;
        let mut error = None;
        let allowed: HashSet<String> = match &self.validator {
            None => {
                tracing::warn!(parent: &record.span, rooms = ?request.accepted, "join rejected: no room validator configured");
                HashSet::new()
            }
            Some(_) if request.accepted.is_empty() => HashSet::new(),
            Some(validator) => {
                let join_request = JoinRequest {
                    client: AuthenticatedClient {
                        record: record.clone(),
                        server,
                        identity,
                    },
                    rooms: request.accepted.clone(),
                };
                let validation = AssertUnwindSafe(validator.validate(join_request)).catch_unwind();
                match tokio::time::timeout(VALIDATOR_TIMEOUT, validation).await {
                    Ok(Ok(rooms)) => rooms.into_iter().collect(),
                    Err(_elapsed) => {
                        tracing::error!(parent: &record.span, timeout = ?VALIDATOR_TIMEOUT, "room validator timed out");
                        error = Some(ErrorBody {
                            code: "validator_timeout".to_owned(),
                            message: "the room validator did not answer in time".to_owned(),
                        });
                        HashSet::new()
                    }
                    Ok(Err(panic)) => {
                        tracing::error!(parent: &record.span, panic = %panic_message(panic.as_ref()), "room validator panicked");
                        error = Some(ErrorBody {
                            code: "validator_failed".to_owned(),
                            message: "the room validator failed".to_owned(),
                        });
                        HashSet::new()
                    }
                }
            }
        };
        // Only rooms both requested and returned: never trust the returned list.
        let mut granted = Vec::new();
        for room in request.accepted {
            if allowed.contains(&room) {
                granted.push(room);
            } else {
                rejected.push(RejectedRoom::new(room, RoomRejection::NotAllowed));
            }
        }
        match self.apply_join(&record, granted, rejected) {
            Ok(mut body) => {
                tracing::info!(parent: &record.span, joined = ?body.joined, rejected = ?body.rejected, "join handled");
                body.error = error;
                answer(ack, body);
            }
            Err(error) => tracing::debug!(parent: &record.span, %error, "join dropped"),
        }
    }

    pub(crate) fn handle_leave(
        &self,
        record: &ClientRecord,
        payload: Value,
        ack: Option<AckResponder>,
    ) {
        let authenticated = {
            let guard = record.lock();
            guard.state == ClientState::Authenticated && !guard.closed
        };
        let body = if !authenticated {
            tracing::debug!(parent: &record.span, "leave before authentication ignored");
            LeaveAck {
                error: Some(not_authenticated()),
                ..LeaveAck::default()
            }
        } else {
            match self.leave(record, &payload) {
                Ok(body) => body,
                Err(ServerError::InvalidRooms(error)) => {
                    tracing::warn!(parent: &record.span, %error, "leave refused: malformed request");
                    LeaveAck {
                        error: Some(error.to_body()),
                        ..LeaveAck::default()
                    }
                }
                Err(error) => {
                    tracing::debug!(parent: &record.span, %error, "leave dropped");
                    return;
                }
            }
        };
        let invalid = body.error.is_some() && body.left.is_empty() && body.rejected.is_empty();
        self.metrics
            .room_request(true, body.left.len(), body.rejected.len(), invalid);
        if let Some(ack) = ack {
            send_ack(record, ack, &body, "leave");
        }
    }

    // ===== application events =====

    pub(crate) async fn dispatch(
        &self,
        server: SocketIOServerHelper,
        record: Arc<ClientRecord>,
        event: String,
        data: crate::EventData,
        ack: Option<AckResponder>,
    ) {
        self.metrics.event_received();
        let identity = {
            let guard = record.lock();
            match (&guard.identity, guard.state) {
                (Some(identity), ClientState::Authenticated) if !guard.closed => identity.clone(),
                (_, state) => {
                    self.metrics.dropped(Dropped::Unauthenticated);
                    tracing::debug!(parent: &record.span, %event, %state, "event before authentication ignored");
                    self.events_ignored.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        };
        if !record.wait_ready().await {
            return;
        }
        // A handler of this client first, then one shared by every client.
        let handler = record
            .handler(&event)
            .or_else(|| self.event_handlers.get(&event).cloned());
        let Some(handler) = handler else {
            tracing::debug!(parent: &record.span, %event, "no handler for event");
            self.metrics.dropped(Dropped::NoHandler);
            self.events_ignored.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.events_handled.fetch_add(1, Ordering::Relaxed);
        let client = AuthenticatedClient {
            record: record.clone(),
            server,
            identity,
        };
        if let Err(panic) = AssertUnwindSafe(handler.handle(client, data, ack))
            .catch_unwind()
            .await
        {
            tracing::error!(parent: &record.span, %event, panic = %panic_message(panic.as_ref()), "event handler panicked");
        }
    }
}

/// Answers a helper event's acknowledgement; a failure is worth a warning
/// (the client waits for it).
fn send_ack<T: Serialize>(record: &ClientRecord, ack: AckResponder, body: &T, event: &str) {
    if let Err(error) = ack.send_payload(to_payload(body)) {
        tracing::warn!(parent: &record.span, %error, %event, "acknowledgement not sent");
    }
}

fn not_authenticated() -> ErrorBody {
    ErrorBody {
        code: "not_authenticated".to_owned(),
        message: "authenticate first".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use serde_json::{Value, json};

    use super::*;
    use crate::record::SocketHandle;
    use crate::{Handshake, Payload, ServerError};

    /// A socket between the connect handler and the engine accepting it:
    /// like the engine's `Socket::emit`, every emit fails until
    /// [`finish_connecting`](Self::finish_connecting).
    #[derive(Default)]
    struct ConnectingSocket {
        connected: AtomicBool,
        sent: Mutex<Vec<String>>,
    }

    impl ConnectingSocket {
        fn finish_connecting(&self) {
            self.connected.store(true, Ordering::SeqCst);
        }

        fn sent(&self) -> Vec<String> {
            self.sent.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl SocketHandle for ConnectingSocket {
        fn emit(&self, event: &str, _data: &Payload) -> Result<(), ServerError> {
            if !self.connected.load(Ordering::SeqCst) {
                return Err(ServerError::Socket {
                    id: "s".to_owned(),
                    reason: "socket closed".to_owned(),
                });
            }
            self.sent.lock().unwrap().push(event.to_owned());
            Ok(())
        }
        async fn emit_with_ack(
            &self,
            _event: &str,
            _data: &Payload,
            _timeout: Duration,
        ) -> Result<Value, ServerError> {
            Err(ServerError::Ack("not supported here".to_owned()))
        }
        fn join(&self, _rooms: Vec<String>) {}
        fn leave(&self, _rooms: Vec<String>) {}
        fn rooms(&self) -> Vec<String> {
            Vec::new()
        }
        fn disconnect(&self) {
            self.sent.lock().unwrap().push("<disconnect>".to_owned());
        }
        fn connected(&self) -> bool {
            self.connected.load(Ordering::SeqCst)
        }
        fn transport(&self) -> &'static str {
            "websocket"
        }
    }

    /// Runs `authenticate` (with `token` as payload) on a socket that is only
    /// marked connected 50 ms later; returns what was emitted to it.
    async fn authenticate_before_marked_connected(token: &str) -> Vec<String> {
        let helper = SocketIOServerHelper::builder()
            .authenticate(async |hs: Handshake| {
                match hs.credentials().and_then(|c| c.get("token")) {
                    Some(token) if token == "good" => Ok(Identity::new("user-good")),
                    _ => Err(AuthError::rejected("wrong token")),
                }
            })
            .build()
            .unwrap();
        let core = helper.engine.core().clone();
        let socket = Arc::new(ConnectingSocket::default());
        let (parts, ()) = http::Request::builder()
            .uri("/io/?EIO=4&transport=websocket")
            .body(())
            .unwrap()
            .into_parts();
        let record = Arc::new(ClientRecord::new(
            "s".to_owned(),
            socket.clone(),
            Handshake::from_request_parts(&parts, None),
            "test",
        ));
        core.register(record.clone());
        let authenticating = tokio::spawn({
            let (core, record) = (core.clone(), record.clone());
            let credentials = json!({ "token": token });
            async move {
                core.handle_authenticate(helper, record, Some(credentials), None)
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        socket.finish_connecting();
        record.signal_connected();
        tokio::time::timeout(Duration::from_secs(5), authenticating)
            .await
            .expect("authenticate is handled")
            .unwrap();
        socket.sent()
    }

    #[tokio::test]
    async fn authenticate_before_the_socket_is_marked_connected_still_gets_ping_and_authenticated()
    {
        let sent = authenticate_before_marked_connected("good").await;
        assert_eq!(sent, ["ping", "authenticated"]);
    }

    #[tokio::test]
    async fn authenticate_refused_before_the_socket_is_marked_connected_still_gets_unauthenticated()
    {
        let sent = authenticate_before_marked_connected("bad").await;
        assert_eq!(sent, ["unauthenticated", "<disconnect>"]);
    }
}
