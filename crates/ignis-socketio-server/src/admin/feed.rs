//! Development mode's live news for the admin page: every namespace's
//! sockets, rooms and events, queued by a [`NamespaceMonitor`] and sent to
//! the admin namespace (every page of the fleet, through its adapter) by one
//! task, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::io::{DisconnectReason, Event, Namespace, NamespaceMonitor, Socket};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::serialize::{self, timestamp};
use crate::types::Core;

/// News waiting to be sent at most; past it, news is dropped (and counted)
/// rather than slowing the namespaces down.
const QUEUE: usize = 4096;

/// One item of news: the admin event and its arguments.
pub(crate) struct News {
    event: &'static str,
    args: Args,
}

/// The sending end, shared by the monitors of every namespace.
#[derive(Clone)]
pub(crate) struct Feed {
    tx: mpsc::Sender<News>,
    dropped: Arc<AtomicU64>,
}

impl Feed {
    /// A feed and the task that sends its news to `admin`.
    pub(crate) fn start(admin: Arc<Namespace>) -> (Feed, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<News>(QUEUE);
        let task = tokio::spawn(async move {
            while let Some(news) = rx.recv().await {
                if let Err(error) = admin.all().emit_args(news.event, &news.args).await {
                    tracing::debug!(event = news.event, %error, "admin news not sent");
                }
            }
        });
        let feed = Feed {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        (feed, task)
    }

    fn push(&self, event: &'static str, args: Args) {
        if self.tx.try_send(News { event, args }).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "admin page news dropped (queue full)");
            }
        }
    }

    fn push_json(&self, event: &'static str, values: Vec<Value>) {
        self.push(event, Args::json(values));
    }
}

/// Watches one namespace for the feed.
pub(crate) struct Monitor {
    pub(crate) feed: Feed,
    pub(crate) core: Arc<Core>,
    /// The helper's namespace (its sockets have a client record).
    pub(crate) helper_nsp: String,
    /// The admin namespace itself: its sockets come and go in the news, its
    /// events do not (they are the news).
    pub(crate) is_admin: bool,
}

impl Monitor {
    fn room_news(&self, event: &'static str, socket: &Socket, room: &str) {
        self.feed.push_json(
            event,
            vec![
                socket.nsp().into(),
                room.into(),
                socket.id().into(),
                timestamp(),
            ],
        );
    }

    fn event_news(&self, event: &'static str, socket: &Socket, name: &str, args: &Args) {
        if self.is_admin {
            return;
        }
        let mut values = Vec::with_capacity(args.values.len() + 1);
        values.push(Value::from(name));
        values.extend(args.values.iter().cloned());
        // The placeholders keep their numbers: the attachments go along as they are.
        let args = Args {
            values: vec![
                socket.nsp().into(),
                socket.id().into(),
                Value::Array(values),
                timestamp(),
            ],
            attachments: args.attachments.clone(),
        };
        self.feed.push(event, args);
    }
}

impl NamespaceMonitor for Monitor {
    fn socket_connected(&self, socket: &Socket) {
        let page = serialize::local(socket, &self.core, &self.helper_nsp);
        self.feed
            .push_json("socket_connected", vec![page, timestamp()]);
    }

    fn socket_disconnected(&self, socket: &Socket, reason: &DisconnectReason) {
        self.feed.push_json(
            "socket_disconnected",
            vec![
                socket.nsp().into(),
                socket.id().into(),
                reason.to_string().into(),
                timestamp(),
            ],
        );
    }

    fn room_joined(&self, socket: &Socket, room: &str) {
        self.room_news("room_joined", socket, room);
    }

    fn room_left(&self, socket: &Socket, room: &str) {
        self.room_news("room_left", socket, room);
    }

    fn event_received(&self, socket: &Socket, event: &Event) {
        self.event_news("event_received", socket, &event.name, &event.args);
    }

    fn event_sent(&self, socket: &Socket, event: &str, args: &Args) {
        self.event_news("event_sent", socket, event, args);
    }

    fn transport_changed(&self, socket: &Socket) {
        let update = json!({
            "id": socket.id(),
            "nsp": socket.nsp(),
            "transport": serialize::transport_name(socket.transport()),
        });
        self.feed.push_json("socket_updated", vec![update]);
    }

    fn fleet_data(&self, socket: &Socket, data: &mut Map<String, Value>) {
        data.insert("_admin".to_owned(), serialize::admin_data(socket));
    }
}
