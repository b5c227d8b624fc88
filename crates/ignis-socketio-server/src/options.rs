//! Options of the helper and their reference defaults.

use std::time::Duration;

use http::HeaderName;
use ignis_socketio_engine::ws::DeflateConfig;
use ignis_socketio_protocol::{RoomLimits, rooms};

use crate::CorsOrigins;
use crate::rate_limit::{
    DEFAULT_AUTH_RATE_LIMIT, DEFAULT_EVENT_RATE_LIMIT, DEFAULT_RATE_LIMIT_DISCONNECT_AFTER,
    DEFAULT_ROOM_RATE_LIMIT, RateLimit,
};

/// Default identifier (the reference component's `SOCKET_IO_SERVER`).
pub const DEFAULT_IDENTIFIER: &str = "SOCKET_IO_SERVER";
/// Default request path of the Socket.IO endpoint.
pub const DEFAULT_PATH: &str = "/io";
/// Default time a client has to authenticate.
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_millis(10_000);
/// Default interval of the application-level `ping` event.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_millis(30_000);
/// Default largest Engine.IO payload accepted from a client, in bytes.
pub const DEFAULT_MAX_PAYLOAD: u64 = 100_000;
/// Default time to wait for an acknowledgement.
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`ServerOptions::ws_read_buffer_size`], which has no effect
/// since the engine keeps no read buffer per connection; accepted so that
/// configurations that set it keep working.
pub const DEFAULT_WS_READ_BUFFER_SIZE: usize = 1024;
/// Default most binary attachments one packet may announce.
pub const DEFAULT_MAX_ATTACHMENTS: usize = 100;
/// Default time a binary packet may wait for its attachments.
pub const DEFAULT_ATTACHMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound of what may be queued for one client, in bytes (4 MiB).
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 4 << 20;
/// Default bound of what may be queued for one client, in packets.
pub const DEFAULT_MAX_BUFFERED_PACKETS: usize = 16_384;

/// Everything configurable on the helper, with the reference defaults.
///
/// Every field is public so that a container can merge user options field by
/// field: `ServerOptions { identifier: "chat".into(), ..ServerOptions::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Name of this server in logs (tracing field `identifier`). Not empty.
    pub identifier: String,
    /// Request path of the Socket.IO endpoint (`/io`); trailing slashes are ignored.
    pub path: String,
    /// Time a client has to authenticate before it is disconnected (10 s). Not zero.
    pub auth_timeout: Duration,
    /// Interval of the application `ping {time}` event to authenticated clients (30 s). Not zero.
    pub ping_interval: Duration,
    /// Rooms every authenticated client joins and cannot leave (`io-default`, `io-notification`). May be empty.
    pub default_rooms: Vec<String>,
    /// Limits on room names and counts.
    pub room_limits: RoomLimits,
    /// Largest Engine.IO payload accepted from a client, in bytes: a larger
    /// WebSocket frame is refused from its header, a larger polling body with 413.
    pub max_payload: u64,
    /// Default acknowledgement timeout of emits with acknowledgement (5 s). Not zero.
    pub ack_timeout: Duration,
    /// Read buffer of each WebSocket, in bytes (1024). Not zero.
    pub ws_read_buffer_size: usize,
    /// WebSocket per-message compression (RFC 7692 permessage-deflate);
    /// `None`, the default, leaves it off as Node's socket.io does (see
    /// docs/engine.md). `Some(DeflateConfig::default())` takes the
    /// reference component's settings.
    pub per_message_deflate: Option<DeflateConfig>,
    /// Time an Engine.IO session has to send its Socket.IO CONNECT before it
    /// is closed (45 s, Node's `connectTimeout`). Not zero.
    pub connect_timeout: Duration,
    /// Application events (every event but `authenticate`, `join` and
    /// `leave`) one socket may send: 5 000 at once, 2 500/s after. Events
    /// over it are dropped (an acknowledgement they ask for is answered with
    /// the error `rate_limited`). `None` turns the limit off.
    pub event_rate_limit: Option<RateLimit>,
    /// `join` and `leave` requests one socket may send: 100 at once, 20/s
    /// after; over it, as for [`event_rate_limit`](Self::event_rate_limit).
    pub room_rate_limit: Option<RateLimit>,
    /// `authenticate` requests one socket may send: 10 at once, 1/s after;
    /// over it, as for [`event_rate_limit`](Self::event_rate_limit).
    pub auth_rate_limit: Option<RateLimit>,
    /// A socket whose events are dropped for this long (5 s), without a
    /// pause of a second or more, is disconnected. `None`: only its events
    /// are dropped. Not zero.
    pub rate_limit_disconnect_after: Option<Duration>,
    /// Browser origins that may reach the endpoint (polling and WebSocket
    /// alike); a request whose `Origin` is neither listed nor the server's
    /// own is refused with 403 before a session exists. `None`, the
    /// default, checks nothing: any web page may open a connection with
    /// its visitors' cookies. Requests without `Origin` (non-browser
    /// clients) are never refused.
    pub allowed_origins: Option<CorsOrigins>,
    /// Most connections that have not authenticated yet, over all clients;
    /// a handshake over it is answered 503 (no session is opened). `None`,
    /// the default: no cap. Not zero.
    pub max_unauthenticated_connections: Option<usize>,
    /// Most connections that have not authenticated yet from one client
    /// address (see [`trusted_proxy_header`](Self::trusted_proxy_header));
    /// a handshake over it is answered 429. `None`, the default: no cap.
    /// Not zero.
    pub max_unauthenticated_per_address: Option<usize>,
    /// The header a trusted reverse proxy puts the client's address in
    /// (e.g. `x-forwarded-for`); its right-most address, the one the proxy
    /// added, is taken. `None`, the default, and a request without a usable
    /// value: the TCP peer address (`ConnectInfo<SocketAddr>`, which
    /// [`serve`](crate::serve) provides). Set it only behind a proxy that
    /// sets or appends the header, or clients choose their address.
    pub trusted_proxy_header: Option<HeaderName>,
    /// Most binary attachments one packet may announce (100); more is a
    /// protocol error that closes the connection. Their total size is
    /// bounded by [`max_payload`](Self::max_payload). Not zero.
    pub max_attachments: usize,
    /// Time a binary packet may wait for all its attachments (5 s); later,
    /// the connection is closed. Not zero.
    pub attachment_timeout: Duration,
    /// What may be queued for one client, in bytes (4 MiB): a client that
    /// does not read fast enough is disconnected as a slow consumer. Not zero.
    pub max_buffered_bytes: usize,
    /// The same bound in packets (16 384). Not zero.
    pub max_buffered_packets: usize,
    /// Time a polling POST's body may take to arrive (30 s); a late body is
    /// answered 400 and its session closed. Not zero.
    pub body_read_timeout: Duration,
    /// Time a client may take to send a request head (30 s). Applied by
    /// the HTTP server, not the endpoint: pass
    /// [`SocketIOServerHelper::serve_limits`](crate::SocketIOServerHelper::serve_limits)
    /// to [`serve_with`](crate::serve_with). Not zero.
    pub header_read_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            identifier: DEFAULT_IDENTIFIER.to_owned(),
            path: DEFAULT_PATH.to_owned(),
            auth_timeout: DEFAULT_AUTH_TIMEOUT,
            ping_interval: DEFAULT_PING_INTERVAL,
            default_rooms: rooms::DEFAULT_ROOMS
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
            room_limits: RoomLimits::default(),
            max_payload: DEFAULT_MAX_PAYLOAD,
            ack_timeout: DEFAULT_ACK_TIMEOUT,
            ws_read_buffer_size: DEFAULT_WS_READ_BUFFER_SIZE,
            per_message_deflate: None,
            connect_timeout: Duration::from_secs(45),
            event_rate_limit: Some(DEFAULT_EVENT_RATE_LIMIT),
            room_rate_limit: Some(DEFAULT_ROOM_RATE_LIMIT),
            auth_rate_limit: Some(DEFAULT_AUTH_RATE_LIMIT),
            rate_limit_disconnect_after: Some(DEFAULT_RATE_LIMIT_DISCONNECT_AFTER),
            allowed_origins: None,
            max_unauthenticated_connections: None,
            max_unauthenticated_per_address: None,
            trusted_proxy_header: None,
            max_attachments: DEFAULT_MAX_ATTACHMENTS,
            attachment_timeout: DEFAULT_ATTACHMENT_TIMEOUT,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            max_buffered_packets: DEFAULT_MAX_BUFFERED_PACKETS,
            body_read_timeout: ignis_socketio_engine::BODY_READ_TIMEOUT,
            header_read_timeout: ignis_socketio_engine::HEADER_READ_TIMEOUT,
        }
    }
}

impl ServerOptions {
    /// Checks the options that cannot work: the one place every option is
    /// checked (the component's partial options are resolved into this type
    /// and checked here too).
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidOption`](crate::BuildError::InvalidOption) naming
    /// the field: an empty identifier, a path that does not start with `/`
    /// (or is `/` alone, or is not a plain path), a zero duration or limit, a
    /// default room that is empty, too long, reserved or leaves no room
    /// within `room_limits.max_rooms_per_socket`, a rate limit with a zero
    /// rate or a burst of 0 or over [`RateLimit::MAX_BURST`], an allowed
    /// origin that is empty, `*` or not header text, a connection cap of 0.
    pub fn validate(&self) -> Result<(), crate::BuildError> {
        if self.identifier.trim().is_empty() {
            return Err(invalid("identifier", "must not be empty"));
        }
        check_path(&self.path)?;
        positive("auth_timeout", self.auth_timeout)?;
        positive("ping_interval", self.ping_interval)?;
        positive("ack_timeout", self.ack_timeout)?;
        positive("connect_timeout", self.connect_timeout)?;
        rate("event_rate_limit", self.event_rate_limit)?;
        rate("room_rate_limit", self.room_rate_limit)?;
        rate("auth_rate_limit", self.auth_rate_limit)?;
        if let Some(after) = self.rate_limit_disconnect_after {
            positive("rate_limit_disconnect_after", after)?;
        }
        nonzero("ws_read_buffer_size", self.ws_read_buffer_size)?;
        self.validate_admission_and_engine()?;
        nonzero(
            "max_payload",
            usize::try_from(self.max_payload).unwrap_or(usize::MAX),
        )?;
        let limits = &self.room_limits;
        nonzero("room_limits.max_room_name_len", limits.max_room_name_len)?;
        nonzero(
            "room_limits.max_rooms_per_request",
            limits.max_rooms_per_request,
        )?;
        // The own id room, the default rooms and the internal room must fit.
        if limits.max_rooms_per_socket < self.default_rooms.len() + 2 {
            return Err(invalid(
                "room_limits.max_rooms_per_socket",
                format!(
                    "{} leaves no room for the socket's own id room and {} default rooms",
                    limits.max_rooms_per_socket,
                    self.default_rooms.len()
                ),
            ));
        }
        for room in &self.default_rooms {
            if room.is_empty() || room.len() > limits.max_room_name_len {
                return Err(invalid(
                    "default_rooms",
                    format!("{room:?} is empty or longer than room_limits.max_room_name_len"),
                ));
            }
            if room == crate::UNAUTHENTICATED_ROOM {
                return Err(invalid(
                    "default_rooms",
                    format!("{room:?} is reserved by the helper"),
                ));
            }
        }
        Ok(())
    }
}

impl ServerOptions {
    fn validate_admission_and_engine(&self) -> Result<(), crate::BuildError> {
        if let Some(origins) = &self.allowed_origins {
            origins
                .check()
                .map_err(|reason| invalid("allowed_origins", reason))?;
        }
        let caps = [
            (
                "max_unauthenticated_connections",
                self.max_unauthenticated_connections,
            ),
            (
                "max_unauthenticated_per_address",
                self.max_unauthenticated_per_address,
            ),
        ];
        for (option, cap) in caps {
            if let Some(cap) = cap {
                nonzero(option, cap)?;
            }
        }
        nonzero("max_attachments", self.max_attachments)?;
        nonzero("max_buffered_bytes", self.max_buffered_bytes)?;
        nonzero("max_buffered_packets", self.max_buffered_packets)?;
        positive("attachment_timeout", self.attachment_timeout)?;
        positive("body_read_timeout", self.body_read_timeout)?;
        positive("header_read_timeout", self.header_read_timeout)
    }
}

fn invalid(option: &'static str, reason: impl Into<String>) -> crate::BuildError {
    crate::BuildError::InvalidOption {
        option,
        reason: reason.into(),
    }
}

fn positive(option: &'static str, value: Duration) -> Result<(), crate::BuildError> {
    if value.is_zero() {
        return Err(invalid(option, "must be greater than 0"));
    }
    Ok(())
}

fn rate(option: &'static str, limit: Option<RateLimit>) -> Result<(), crate::BuildError> {
    let Some(limit) = limit else {
        return Ok(());
    };
    if limit.burst == 0 || limit.burst > RateLimit::MAX_BURST {
        return Err(invalid(
            option,
            format!(
                "burst must be from 1 to {}, got {}",
                RateLimit::MAX_BURST,
                limit.burst
            ),
        ));
    }
    if limit.per_second == 0 {
        return Err(invalid(
            option,
            "per_second must be greater than 0 (None turns the limit off)",
        ));
    }
    Ok(())
}

fn nonzero(option: &'static str, value: usize) -> Result<(), crate::BuildError> {
    if value == 0 {
        return Err(invalid(option, "must be greater than 0"));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), crate::BuildError> {
    if !path.starts_with('/') {
        return Err(invalid(
            "path",
            format!("must start with '/', got {path:?}"),
        ));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(invalid("path", "must name a path below '/', e.g. \"/io\""));
    }
    if trimmed.contains(['?', '#', ' ', '*', '{', '}']) {
        return Err(invalid(
            "path",
            format!("must be a plain path, got {path:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuildError;

    #[test]
    fn defaults_are_the_reference_ones() {
        let o = ServerOptions::default();
        assert_eq!(o.identifier, "SOCKET_IO_SERVER");
        assert_eq!(o.path, "/io");
        assert_eq!(o.auth_timeout, Duration::from_millis(10_000));
        assert_eq!(o.ping_interval, Duration::from_millis(30_000));
        assert_eq!(o.default_rooms, ["io-default", "io-notification"]);
        assert_eq!(o.event_rate_limit, Some(RateLimit::new(5_000, 2_500)));
        assert_eq!(o.room_rate_limit, Some(RateLimit::new(100, 20)));
        assert_eq!(o.auth_rate_limit, Some(RateLimit::new(10, 1)));
        assert_eq!(o.rate_limit_disconnect_after, Some(Duration::from_secs(5)));
        assert!(o.validate().is_ok());
        let off = ServerOptions {
            event_rate_limit: None,
            room_rate_limit: None,
            auth_rate_limit: None,
            rate_limit_disconnect_after: None,
            ..Default::default()
        };
        assert!(off.validate().is_ok(), "every limit may be off");
    }

    #[test]
    fn unworkable_options_are_refused_with_their_name() {
        let cases: [(ServerOptions, &str); 14] = [
            (
                ServerOptions {
                    event_rate_limit: Some(RateLimit::new(0, 10)),
                    ..Default::default()
                },
                "event_rate_limit",
            ),
            (
                ServerOptions {
                    room_rate_limit: Some(RateLimit::new(10, 0)),
                    ..Default::default()
                },
                "room_rate_limit",
            ),
            (
                ServerOptions {
                    auth_rate_limit: Some(RateLimit::new(RateLimit::MAX_BURST + 1, 1)),
                    ..Default::default()
                },
                "auth_rate_limit",
            ),
            (
                ServerOptions {
                    rate_limit_disconnect_after: Some(Duration::ZERO),
                    ..Default::default()
                },
                "rate_limit_disconnect_after",
            ),
            (
                ServerOptions {
                    identifier: " ".into(),
                    ..Default::default()
                },
                "identifier",
            ),
            (
                ServerOptions {
                    path: "/".into(),
                    ..Default::default()
                },
                "path",
            ),
            (
                ServerOptions {
                    auth_timeout: Duration::ZERO,
                    ..Default::default()
                },
                "auth_timeout",
            ),
            (
                ServerOptions {
                    room_limits: RoomLimits {
                        max_room_name_len: 0,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                "room_limits.max_room_name_len",
            ),
            (
                ServerOptions {
                    path: "io".into(),
                    ..Default::default()
                },
                "path",
            ),
            (
                ServerOptions {
                    ping_interval: Duration::ZERO,
                    ..Default::default()
                },
                "ping_interval",
            ),
            (
                ServerOptions {
                    max_payload: 0,
                    ..Default::default()
                },
                "max_payload",
            ),
            (
                ServerOptions {
                    ws_read_buffer_size: 0,
                    ..Default::default()
                },
                "ws_read_buffer_size",
            ),
            (
                ServerOptions {
                    default_rooms: vec![crate::UNAUTHENTICATED_ROOM.into()],
                    ..Default::default()
                },
                "default_rooms",
            ),
            (
                ServerOptions {
                    room_limits: RoomLimits {
                        max_rooms_per_socket: 3,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                "room_limits.max_rooms_per_socket",
            ),
        ];
        for (options, name) in cases {
            match options.validate() {
                Err(BuildError::InvalidOption { option, .. }) => assert_eq!(option, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
