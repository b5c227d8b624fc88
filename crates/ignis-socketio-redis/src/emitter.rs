//! A Redis emitter with the `@socket.io/redis-emitter` 5.1 API and wire format,
//! for processes that run no Socket.IO server. It only publishes.

use ignis_socketio_engine::io::IntoRooms;
use rmpv::Value as Mp;
use serde::Serialize;

use crate::{
    config::RedisConfig,
    delivery::RedisCounters,
    error::RedisAdapterError,
    message::{Membership, MembershipTarget, Request, RequestBody},
    publish::RedisConnection,
    value::serialize_args,
    wire::{BroadcastMessage, Channels, EMITTER_UID, WireOpts},
};

/// Event names Socket.IO reserves; emitting them is an error (as in Node).
/// The list is the wire contract's, shared with the server helper.
pub use ignis_socketio_protocol::RESERVED_EVENTS;

pub(crate) fn check_event(event: &str) -> Result<(), RedisAdapterError> {
    if ignis_socketio_protocol::is_reserved_event(event) {
        Err(RedisAdapterError::ReservedEvent(event.to_owned()))
    } else {
        Ok(())
    }
}

/// Publishes to Socket.IO servers (Node or this crate's adapter) through Redis.
///
/// Targeting methods return a new emitter and leave this one untouched (as Node's
/// `emitter.to()` does), so a base emitter can be reused:
///
/// ```no_run
/// # async fn run() -> Result<(), ignis_socketio_redis::RedisAdapterError> {
/// use ignis_socketio_redis::{RedisConfig, RedisEmitter};
/// let emitter = RedisEmitter::connect("redis://127.0.0.1:6379".parse::<RedisConfig>()?).await?;
/// emitter.to("io-notification").emit("alert", &serde_json::json!({"level": "info"})).await?;
/// emitter.of("/admin").except("muted").volatile().emit("tick", &(1, "two")).await?;
/// emitter.in_("room1").sockets_join(["room2"]).await?;
/// emitter.server_side_emit("reload", &["config"]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedisEmitter {
    conn: RedisConnection,
    key: String,
    nsp: String,
    channels: Channels,
    opts: WireOpts,
}

impl RedisEmitter {
    /// Connects to Redis (single or cluster) and targets the `/` namespace.
    pub async fn connect(config: RedisConfig) -> Result<Self, RedisAdapterError> {
        let conn = RedisConnection::connect(&config).await?;
        Ok(Self::new(conn, &config.key))
    }

    /// An emitter on an existing connection with key prefix `key`.
    pub fn new(conn: RedisConnection, key: &str) -> Self {
        Self {
            conn,
            key: key.to_owned(),
            nsp: "/".to_owned(),
            channels: Channels::new(key, "/"),
            opts: WireOpts::default(),
        }
    }

    /// The namespace `nsp` (a missing leading `/` is added), with no targeting.
    pub fn of(&self, nsp: &str) -> Self {
        let nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        Self {
            conn: self.conn.clone(),
            channels: Channels::new(&self.key, &nsp),
            key: self.key.clone(),
            nsp,
            opts: WireOpts::default(),
        }
    }

    /// Targets a room or rooms.
    pub fn to<R: IntoRooms>(&self, rooms: R) -> Self {
        let mut this = self.clone();
        for room in rooms.into_rooms() {
            if !this.opts.rooms.contains(&room) {
                this.opts.rooms.push(room);
            }
        }
        this
    }

    /// Same as [`RedisEmitter::to`] (`in` is a Rust keyword).
    pub fn in_<R: IntoRooms>(&self, rooms: R) -> Self {
        self.to(rooms)
    }

    /// Excludes a room or rooms.
    pub fn except<R: IntoRooms>(&self, rooms: R) -> Self {
        let mut this = self.clone();
        for room in rooms.into_rooms() {
            if !this.opts.except.contains(&room) {
                this.opts.except.push(room);
            }
        }
        this
    }

    /// The event may be dropped by clients that are not ready.
    pub fn volatile(&self) -> Self {
        self.flag("volatile", Mp::Boolean(true))
    }

    /// Sets the compress flag.
    pub fn compress(&self, compress: bool) -> Self {
        self.flag("compress", Mp::Boolean(compress))
    }

    fn flag(&self, name: &str, value: Mp) -> Self {
        let mut this = self.clone();
        match this.opts.flags.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value,
            None => this.opts.flags.push((name.to_owned(), value)),
        }
        this
    }

    /// Emits `event` with `data` to the targeted sockets. A tuple is spread into
    /// several arguments (`&(1, "a")` is `emit(ev, 1, "a")` in Node); bytes
    /// (`serde_bytes`, `bytes::Bytes`) travel as binary.
    pub async fn emit<T: ?Sized + Serialize>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), RedisAdapterError> {
        self.emit_values(event, serialize_args(data)?).await
    }

    /// Emits `event` with already-built msgpack arguments.
    pub async fn emit_values(&self, event: &str, args: Vec<Mp>) -> Result<(), RedisAdapterError> {
        check_event(event)?;
        let mut data = Vec::with_capacity(args.len() + 1);
        data.push(Mp::from(event));
        data.extend(args);
        let msg = BroadcastMessage {
            uid: EMITTER_UID.to_owned(),
            data,
            nsp: self.nsp.clone(),
            opts: self.opts.clone(),
        };
        let channel = self.channels.broadcast_channel(&self.opts.rooms);
        self.publish(&channel, msg.encode(true)).await
    }

    /// Publishes to a channel every server of the namespace subscribes to; a
    /// reply that reached fewer servers than the namespace was seen to have is
    /// counted in [`RedisCounters::short_publishes`].
    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), RedisAdapterError> {
        self.conn
            .publish_to_fleet(&self.channels.request, channel, payload)
            .await
            .map(|_| ())
    }

    /// Makes the targeted sockets join `rooms`, on every server.
    pub async fn sockets_join<R: IntoRooms>(&self, rooms: R) -> Result<(), RedisAdapterError> {
        self.membership(Membership::Join, rooms.into_rooms()).await
    }

    /// Makes the targeted sockets leave `rooms`, on every server.
    pub async fn sockets_leave<R: IntoRooms>(&self, rooms: R) -> Result<(), RedisAdapterError> {
        self.membership(Membership::Leave, rooms.into_rooms()).await
    }

    /// Publishes `{type, opts, rooms}` (join, leave) or `{type, opts, close}`
    /// (disconnect): the emitter sends no uid.
    async fn membership(
        &self,
        action: Membership,
        rooms: Vec<String>,
    ) -> Result<(), RedisAdapterError> {
        let request = Request {
            uid: None,
            request_id: None,
            body: RequestBody::Membership {
                action,
                target: MembershipTarget::Sockets {
                    opts: self.opts.clone(),
                    rooms,
                },
            },
        };
        self.publish(&self.channels.request, request.encode()).await
    }

    /// Disconnects the targeted sockets, on every server.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), RedisAdapterError> {
        self.membership(Membership::Disconnect { close }, Vec::new())
            .await
    }

    /// Sends a server-side event to every server of the namespace (no ack, as in Node).
    pub async fn server_side_emit<T: ?Sized + Serialize>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), RedisAdapterError> {
        check_event(event)?;
        let args =
            ignis_socketio_engine::codec::to_args(data).map_err(RedisAdapterError::Payload)?;
        let mut items = vec![Mp::from(event)];
        items.extend(args.to_msgpack());
        let request = Request {
            uid: Some(EMITTER_UID.to_owned()),
            request_id: None,
            body: RequestBody::ServerSideEmit { data: items },
        };
        self.publish(&self.channels.request, request.encode()).await
    }

    /// The counters of the publishing connections (shared by every emitter
    /// made from the same connection).
    pub fn counters(&self) -> RedisCounters {
        self.conn.counters()
    }

    /// Closes the publishing connections.
    pub fn close(&self) {
        self.conn.close();
    }
}
