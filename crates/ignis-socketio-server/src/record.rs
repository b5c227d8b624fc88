//! What the per-client record kept by the registry does: its lifecycle, its
//! own event handlers, its rooms and its snapshot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use ignis_socketio_protocol::{ClientState, format_timestamp};
use tokio::sync::Notify;

use crate::lifecycle::Lifecycle;
use crate::socket_handle::SocketHandle;
use crate::types::{ClientRecord, EventHandler};
use crate::warn_budget::WarnBudget;
use crate::{ClientInfo, Handshake, UNAUTHENTICATED_ROOM};

impl ClientRecord {
    pub(crate) fn new(
        id: String,
        socket: Arc<dyn SocketHandle>,
        handshake: Handshake,
        identifier: &str,
    ) -> Self {
        let span = tracing::info_span!("socket", socket_id = %id, identifier = %identifier);
        ClientRecord {
            id,
            socket,
            handshake,
            connected_at: SystemTime::now(),
            span,
            lifecycle: Mutex::new(Lifecycle::default()),
            handlers: RwLock::new(HashMap::new()),
            changed: Notify::new(),
            warnings: WarnBudget::default(),
            rates: Mutex::default(),
        }
    }

    /// Locks the lifecycle. A poisoned lock is recovered: the data stays
    /// consistent because no code panics while holding it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Lifecycle> {
        self.lifecycle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn state(&self) -> ClientState {
        self.lock().state()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().is_closed()
    }

    /// Releases the application events waiting in [`wait_ready`](Self::wait_ready).
    pub(crate) fn mark_ready(&self) {
        self.lock().mark_ready();
        self.changed.notify_waiters();
    }

    /// Waits until `settled` returns an answer, re-checking whenever the
    /// record is notified of a change.
    async fn wait_until<T>(&self, mut settled: impl FnMut(&Self) -> Option<T>) -> T {
        // Settled already (every event of a ready client): no waiter to register.
        if let Some(answer) = settled(self) {
            return answer;
        }
        loop {
            // Registered before the check: a change in between is not missed.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(answer) = settled(self) {
                return answer;
            }
            notified.await;
        }
    }

    /// Waits until application events may be dispatched; false when the client is gone.
    pub(crate) async fn wait_ready(&self) -> bool {
        self.wait_until(|record| record.lock().readiness()).await
    }

    /// Called from the namespace's `on_connected`, which the engine runs
    /// right after it marked the socket connected.
    pub(crate) fn signal_connected(&self) {
        self.changed.notify_waiters();
    }

    /// Waits, at most `limit`, until the engine marks the socket connected.
    ///
    /// The record exists from the connect handler on, but `emit` fails until
    /// the engine accepted the socket (an auth timer with a zero timeout can
    /// fire in between). True once the socket is connected; false when the
    /// record closed or `limit` passed first.
    pub(crate) async fn wait_connected(&self, limit: Duration) -> bool {
        let settled = self.wait_until(|record| {
            if record.is_closed() {
                Some(false)
            } else if record.socket.connected() {
                Some(true)
            } else {
                None
            }
        });
        match tokio::time::timeout(limit, settled).await {
            Ok(connected) => connected,
            Err(_elapsed) => self.socket.connected() && !self.is_closed(),
        }
    }

    pub(crate) fn set_handler(&self, event: String, handler: Arc<dyn EventHandler>) {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(event, handler);
    }

    pub(crate) fn remove_handler(&self, event: &str) -> bool {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(event)
            .is_some()
    }

    pub(crate) fn handler(&self, event: &str) -> Option<Arc<dyn EventHandler>> {
        self.handlers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(event)
            .cloned()
    }

    fn clear_handlers(&self) {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The socket's rooms as applications see them (without the internal room).
    pub(crate) fn visible_rooms(&self) -> Vec<String> {
        let mut rooms: Vec<String> = self
            .socket
            .rooms()
            .into_iter()
            .filter(|r| r != UNAUTHENTICATED_ROOM)
            .collect();
        rooms.sort();
        rooms
    }

    /// Closes the record (its timers see it and stop), drops its handlers and
    /// releases waiting events. `None` if it was already closed; otherwise
    /// whether the caller tells the observers of the disconnect now (false:
    /// the authenticating task does, once the observers returned).
    pub(crate) fn close(&self) -> Option<bool> {
        let notify_now = self.lock().close()?;
        self.clear_handlers();
        self.changed.notify_waiters();
        Some(notify_now)
    }

    pub(crate) fn info(&self) -> ClientInfo {
        let (state, accepted) = {
            let life = self.lock();
            (life.state(), life.accepted().cloned())
        };
        ClientInfo {
            id: self.id.clone(),
            state,
            rooms: self.visible_rooms(),
            identity: accepted.as_ref().map(|a| a.identity.as_ref().clone()),
            connected_at: format_timestamp(self.connected_at),
            authenticated_at: accepted.map(|a| format_timestamp(a.at)),
            transport: self.socket.transport().to_owned(),
        }
    }
}
