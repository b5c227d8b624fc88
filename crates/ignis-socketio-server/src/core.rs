//! The adapter-independent heart of the helper: registry, authentication state
//! machine, room requests, application event dispatch and timers.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use ignis_socketio_protocol::{
    AuthenticateAck, AuthenticatedPayload, ClientState, ErrorBody, PingPayload,
    UnauthenticatedCode, UnauthenticatedPayload, events, now_timestamp,
};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::lifecycle::Begin;
use crate::metrics::{AuthOutcome, Dropped, Metrics};
use crate::observer::Observers;
use crate::panic::panic_message;
use crate::timers::TimerOwner;
use crate::types::{
    Authenticator, ClientConnectedHandler, ClientDisconnectedHandler, ClientRecord, Core,
    EventHandler, RoomValidator, Timers,
};
use crate::warn_budget::client_warn;
use crate::{
    AckResponder, AuthError, AuthenticatedClient, ClientInfo, Identity, Payload, ServerOptions,
    SocketIOServerHelper, UNAUTHENTICATED_ROOM,
};

/// How long the helper waits for the engine to mark a socket connected
/// before it emits to it (an auth timer with a zero timeout can fire while
/// the connect handler still runs), and then gives up on it.
const CONNECT_GRACE: Duration = Duration::from_secs(2);

/// Longest a room validator may take; a join it has not answered by then is
/// refused (the request must not hang forever).
pub(crate) const VALIDATOR_TIMEOUT: Duration = Duration::from_secs(10);

fn to_payload<T: Serialize>(value: &T) -> Payload {
    Payload::Json(serde_json::to_value(value).unwrap_or(Value::Null))
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
            admission: Arc::new(crate::admission::Admission::new(&options)),
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
            events_rate_limited: Default::default(),
            rate_limit_disconnects: Default::default(),
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
        self.timers
            .auth_deadline(self, &record, self.options.auth_timeout);
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
        record.handshake.release_admission();
        let Some(notify_now) = record.close() else {
            return;
        };
        tracing::info!(parent: &record.span, %reason, "client disconnected");
        if notify_now {
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

    async fn auth_deadline_fired(self: Arc<Self>, record: Weak<ClientRecord>) {
        let core = self;
        let Some(record) = record.upgrade() else {
            return;
        };
        // With a short timeout the timer can fire before the CONNECT ack is out:
        // wait for the socket to be connected so that the client can be told.
        record.wait_connected(CONNECT_GRACE).await;
        // Not when observers are being told: the authenticator already
        // accepted the client. Refused already (the authenticator said no):
        // one `unauthenticated` per client.
        if !record.lock().refuse_at_deadline() {
            return;
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
                error: None,
            };
            send_ack(record, ack, &body, "authenticate");
        }
        if let Err(error) = record
            .socket
            .emit(events::UNAUTHENTICATE, &to_payload(&payload))
        {
            client_warn!(record, %error, "unauthenticated not sent");
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
            if !record.is_closed() {
                client_warn!(record, grace = ?CONNECT_GRACE, "authenticate dropped: the socket never finished connecting");
            }
            return;
        }
        let begin = record.lock().begin_authenticating();
        match begin {
            Begin::Started => {}
            Begin::Gone => return,
            Begin::Already(state) => {
                client_warn!(record, %state, "authenticate ignored in this state");
                if let Some(ack) = ack {
                    send_ack(
                        &record,
                        ack,
                        &unchanged(&record, state, None),
                        "authenticate",
                    );
                }
                return;
            }
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
                // Refused: the auth deadline does not send another `unauthenticated`.
                if !record.lock().refuse() {
                    tracing::info!(parent: &record.span, "client disconnected during authentication");
                    return;
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
            let mut life = record.lock();
            if !life.accept(identity.clone()) {
                tracing::info!(parent: &record.span, "client disconnected during authentication; result discarded");
                return;
            }
            record.handshake.release_admission();
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
                client_warn!(record, %error, "ping not sent");
            }
            if let Err(error) = record
                .socket
                .emit(events::AUTHENTICATED, &to_payload(&authenticated))
            {
                client_warn!(record, %error, "authenticated not sent");
            }
            self.timers
                .start_ping(self, &record, self.options.ping_interval);
        }
        tracing::info!(parent: &record.span, identity = %identity.id, "client authenticated");
        if let Some(ack) = ack {
            let body = AuthenticateAck {
                state: ClientState::Authenticated,
                id: Some(record.id.clone()),
                code: None,
                message: None,
                time,
                error: None,
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
        record.mark_ready();
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
        if !record.lock().begin_announcing() {
            tracing::info!(parent: &record.span, "client disconnected during authentication; result discarded");
            return false;
        }
        self.observers
            .authenticated(&record.span, &record.id, handshake, identity);
        let deferred_disconnect = record.lock().end_announcing();
        if deferred_disconnect {
            self.observers.disconnected(&record.span, &record.id);
            return false;
        }
        true
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
            let life = record.lock();
            match life.identity() {
                Some(identity) => identity,
                None => {
                    let state = life.state();
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

impl TimerOwner for Core {
    /// Emits the application `ping`; false once the socket is gone for good.
    fn ping(&self, record: &ClientRecord) -> bool {
        if record.is_closed() {
            return false;
        }
        let ping = PingPayload {
            time: now_timestamp(),
        };
        record.socket.emit(events::PING, &to_payload(&ping)).is_ok() || record.socket.connected()
    }

    fn auth_deadline_passed(self: Arc<Self>, record: Weak<ClientRecord>) {
        let span = record
            .upgrade()
            .map_or_else(tracing::Span::none, |r| r.span.clone());
        tokio::spawn(self.auth_deadline_fired(record).instrument(span));
    }
}

/// Answers a helper event's acknowledgement; a failure is worth a warning
/// (the client waits for it).
pub(crate) fn send_ack<T: Serialize>(
    record: &ClientRecord,
    ack: AckResponder,
    body: &T,
    event: &str,
) {
    if let Err(error) = ack.send_payload(to_payload(body)) {
        client_warn!(record, %error, %event, "acknowledgement not sent");
    }
}

/// The answer to an `authenticate` that changed nothing: the client's
/// `state` (its id when authenticated), with `error` when it was refused.
pub(crate) fn unchanged(
    record: &ClientRecord,
    state: ClientState,
    error: Option<ErrorBody>,
) -> AuthenticateAck {
    AuthenticateAck {
        state,
        id: (state == ClientState::Authenticated).then(|| record.id.clone()),
        code: None,
        message: None,
        time: now_timestamp(),
        error,
    }
}

pub(crate) fn not_authenticated() -> ErrorBody {
    ErrorBody {
        code: "not_authenticated".to_owned(),
        message: "authenticate first".to_owned(),
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
