//! `server_stats`: what this server tells every admin page of the fleet
//! (through the admin namespace's adapter), at once and then periodically.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ignis_socketio_engine::engine::{CountersSnapshot, TransportKind};
use ignis_socketio_engine::io::{Namespace, SocketIo};
use serde_json::{Value, json};
use tokio::time::Instant;

/// The host's name (Linux), else `HOSTNAME`, else `localhost`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The fixed part of this server's stats.
pub(crate) struct Identity {
    server_id: String,
    hostname: String,
    pid: u32,
    started: Instant,
}

impl Identity {
    /// `server_id`, or `hostname#pid` (so that servers on one host stay apart).
    pub(crate) fn new(server_id: Option<String>) -> Self {
        let hostname = hostname();
        let pid = std::process::id();
        Identity {
            server_id: server_id.unwrap_or_else(|| format!("{hostname}#{pid}")),
            hostname,
            pid,
            started: Instant::now(),
        }
    }
}

/// The package's `aggregatedEvents`: what the engine counted since the last
/// stats, stamped with the current second. Only the kinds the engine counts
/// (connections opened and closed, packets received).
fn aggregated(before: &CountersSnapshot, now: &CountersSnapshot) -> Vec<Value> {
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() * 1000)
        .unwrap_or(0);
    [
        (
            "rawConnection",
            now.sessions_opened.saturating_sub(before.sessions_opened),
        ),
        (
            "rawDisconnection",
            now.sessions_closed.saturating_sub(before.sessions_closed),
        ),
        (
            "packetsIn",
            now.messages_received
                .saturating_sub(before.messages_received),
        ),
    ]
    .into_iter()
    .filter(|(_, count)| *count > 0)
    .map(|(kind, count)| json!({"timestamp": second, "type": kind, "count": count}))
    .collect()
}

/// This server's stats now.
fn stats(io: &SocketIo, identity: &Identity, events: Vec<Value>) -> Value {
    let namespaces = io.namespaces();
    let mut polling = HashSet::new();
    for ns in &namespaces {
        for socket in ns.sockets() {
            if socket.transport() == TransportKind::Polling {
                polling.insert(socket.session_id().to_owned());
            }
        }
    }
    let namespaces: Vec<Value> = namespaces
        .iter()
        .map(|ns| json!({"name": ns.name(), "socketsCount": ns.socket_count()}))
        .collect();
    json!({
        "serverId": identity.server_id,
        "hostname": identity.hostname,
        "pid": identity.pid,
        "uptime": identity.started.elapsed().as_secs_f64(),
        "clientsCount": io.engine().session_count(),
        "pollingClientsCount": polling.len(),
        "aggregatedEvents": events,
        "namespaces": namespaces,
    })
}

/// Sends the stats to `admin` now and every `interval` (until aborted).
pub(crate) fn start(
    io: SocketIo,
    admin: Arc<Namespace>,
    identity: Identity,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut before = io.counters();
        loop {
            ticks.tick().await;
            let now = io.counters();
            let stats = stats(&io, &identity, aggregated(&before, &now));
            before = now;
            if let Err(error) = admin.emit("server_stats", &stats).await {
                tracing::debug!(%error, "admin server_stats not sent");
            }
        }
    })
}
