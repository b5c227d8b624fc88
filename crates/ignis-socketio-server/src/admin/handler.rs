//! The admin namespace's handler: the page's login, what it is sent when it
//! connects (`session`, `config`, `all_sockets`), and what it asks for
//! (`emit`, `join`, `leave`, `_disconnect`) unless read-only.

use std::collections::HashSet;
use std::sync::Weak;

use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::io::{
    AckSender, BroadcastOptions, ConnectRefusal, DisconnectReason, Event, HandlerFuture,
    NamespaceHandler, Socket,
};
use serde_json::{Value, json};

use super::auth::Admitted;
use super::options::AdminMode;
use super::serialize;
use super::shared::AdminShared;

/// The package's feature names this server implements when it may change
/// things (the fleet-wide `socketsJoin`/`socketsLeave`/`disconnectSockets`
/// of Socket.IO v4, hence the `M…` ones).
const WRITE_FEATURES: [&str; 7] = [
    "EMIT",
    "JOIN",
    "LEAVE",
    "DISCONNECT",
    "MJOIN",
    "MLEAVE",
    "MDISCONNECT",
];

/// What `config` lists: the write features unless read-only, the engine's
/// counts always, every event in development mode.
pub(crate) fn supported_features(read_only: bool, mode: AdminMode) -> Vec<&'static str> {
    let mut features: Vec<&'static str> = if read_only {
        Vec::new()
    } else {
        WRITE_FEATURES.to_vec()
    };
    features.push("AGGREGATED_EVENTS");
    if mode == AdminMode::Development {
        features.push("ALL_EVENTS");
    }
    features
}

/// Serves the admin namespace (weakly tied to the server's admin state).
pub(crate) struct AdminHandler(pub(crate) Weak<AdminShared>);

fn text(args: &Args, at: usize) -> Option<String> {
    args.values
        .get(at)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The sockets of a request: those in `filter` (a room or a socket id), or all.
fn targets(filter: Option<String>) -> BroadcastOptions {
    BroadcastOptions {
        rooms: filter.into_iter().filter(|f| !f.is_empty()).collect(),
        ..BroadcastOptions::default()
    }
}

impl AdminShared {
    /// Every socket of every namespace of this server, and those of the
    /// other servers that the namespaces' adapters report.
    async fn all_sockets(&self) -> Vec<Value> {
        let mut all = Vec::new();
        for ns in self.io.namespaces() {
            let local: Vec<Socket> = ns.sockets();
            let known: HashSet<&str> = local.iter().map(|s| s.id()).collect();
            all.extend(
                local
                    .iter()
                    .map(|s| serialize::local(s, &self.core, &self.helper_nsp)),
            );
            match ns.fetch_sockets(&BroadcastOptions::default()).await {
                Ok(fleet) => all.extend(
                    fleet
                        .into_iter()
                        .filter(|s| !known.contains(s.id.as_str()))
                        .map(|s| serialize::remote(s, ns.name())),
                ),
                Err(error) => {
                    tracing::warn!(nsp = ns.name(), %error, "other servers' sockets not fetched")
                }
            }
        }
        all
    }

    /// Runs one request of the page.
    async fn serve(&self, event: &Event) -> Result<(), String> {
        let args = &event.args;
        let nsp = text(args, 0).ok_or("no namespace")?;
        let ns = self
            .io
            .of(&nsp)
            .ok_or_else(|| format!("no namespace {nsp:?}"))?;
        let failed = |e: ignis_socketio_engine::io::AdapterError| e.to_string();
        match event.name.as_str() {
            "join" | "leave" => {
                let room = text(args, 1).ok_or("no room")?;
                let options = targets(text(args, 2));
                if event.name == "join" {
                    ns.add_sockets(&options, &[room]).await.map_err(failed)
                } else {
                    ns.del_sockets(&options, &[room]).await.map_err(failed)
                }
            }
            "_disconnect" => {
                let close = args.values.get(1).and_then(Value::as_bool) == Some(true);
                let options = targets(text(args, 2));
                if close {
                    for socket in ns.local_targets(&options) {
                        socket.close("closed from the admin page");
                    }
                }
                ns.disconnect_sockets(&options).await.map_err(failed)
            }
            "emit" => {
                let filter = text(args, 1);
                let name = text(args, 2).ok_or("no event name")?;
                let rest = Args {
                    values: args.values.iter().skip(3).cloned().collect(),
                    attachments: args.attachments.clone(),
                };
                ns.broadcast(&targets(filter), &name, &rest)
                    .await
                    .map_err(failed)
            }
            other => Err(format!("unknown request {other:?}")),
        }
    }
}

impl NamespaceHandler for AdminHandler {
    fn on_connect(&self, socket: Socket) -> HandlerFuture<Result<(), ConnectRefusal>> {
        let shared = self.0.upgrade();
        Box::pin(async move {
            let shared = shared.ok_or_else(|| ConnectRefusal::new("server is gone"))?;
            if let Admitted::NewSession(session) = shared.login.admit(socket.auth()).await? {
                shared.hold_session(socket.id(), session);
            }
            // A logged-in admin page is no unauthenticated connection.
            crate::admission::release(socket.request());
            Ok(())
        })
    }

    fn on_connected(&self, socket: Socket) -> HandlerFuture<()> {
        let shared = self.0.upgrade();
        Box::pin(async move {
            let Some(shared) = shared else { return };
            if let Some(session) = shared.take_session(socket.id()) {
                let _ = socket.emit("session", &session);
            }
            let features = supported_features(shared.read_only, shared.mode);
            let _ = socket.emit("config", &json!({ "supportedFeatures": features }));
            if shared.mode == AdminMode::Development {
                let sockets = shared.all_sockets().await;
                let _ = socket.emit("all_sockets", &Value::Array(sockets));
            }
        })
    }

    fn on_event(&self, socket: Socket, event: Event, _ack: Option<AckSender>) -> HandlerFuture<()> {
        let shared = self.0.upgrade();
        Box::pin(async move {
            let Some(shared) = shared else { return };
            let request = event.name.as_str();
            if shared.read_only {
                return tracing::info!(request, "admin page request refused (read-only)");
            }
            match shared.serve(&event).await {
                Ok(()) => {
                    tracing::info!(request, admin = %socket.id(), "admin page request served")
                }
                Err(error) => tracing::info!(request, %error, "admin page request not served"),
            }
        })
    }

    fn on_disconnect(&self, socket: Socket, _reason: DisconnectReason) {
        if let Some(shared) = self.0.upgrade() {
            shared.take_session(socket.id());
        }
    }
}
