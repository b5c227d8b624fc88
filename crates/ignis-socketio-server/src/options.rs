//! Options of the helper and their reference defaults.

use std::time::Duration;

use ignis_socketio_engine::ws::DeflateConfig;
use ignis_socketio_protocol::{RoomLimits, rooms};

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
    /// rate or a burst of 0 or over [`RateLimit::MAX_BURST`].
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
