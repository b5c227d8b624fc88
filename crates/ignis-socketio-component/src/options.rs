//! Socket.IO server options: a partial value the application binds under
//! [`SocketIOBindingKeys::SERVER_OPTIONS`](crate::SocketIOBindingKeys::SERVER_OPTIONS),
//! merged field by field over the reference defaults.
//!
//! Every field of [`ServerOptions`] is optional, nested groups included, so an
//! application that sets only `cors.origins` keeps the default CORS methods,
//! credentials and preflight status (the reference replaced the whole nested
//! object). [`ServerOptions::resolve`] applies the defaults and checks the
//! result.

use std::time::Duration;

use ignis_socketio_protocol::{RoomLimits, rooms};

use ignis_socketio_server::{
    DEFAULT_ACK_TIMEOUT, DEFAULT_AUTH_TIMEOUT, DEFAULT_IDENTIFIER, DEFAULT_MAX_PAYLOAD,
    DEFAULT_PATH, DEFAULT_PING_INTERVAL, DEFAULT_WS_READ_BUFFER_SIZE,
};

use crate::deflate_options::{PerMessageDeflateOptions, ResolvedDeflate};

/// Default status answered to a CORS preflight request.
pub const DEFAULT_PREFLIGHT_STATUS: u16 = 204;

/// Which origins may call the Socket.IO endpoint from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access: no CORS headers are sent (the default; pages
    /// served by the same origin still work).
    SameOrigin,
    /// Exactly these origins, e.g. `https://app.example.com`.
    List(Vec<String>),
    /// Any origin. Together with credentials this is refused unless
    /// [`CorsOptions::allow_any_origin_with_credentials_in_development`] is
    /// set, and then the request's origin is mirrored (browsers reject `*`
    /// with credentials).
    Any,
}

/// CORS settings of the Socket.IO endpoint; unset fields keep their defaults.
///
/// Applied to the Socket.IO path only, never to the application's own routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOptions {
    /// Allowed origins; default [`CorsOrigins::SameOrigin`].
    pub origins: Option<CorsOrigins>,
    /// Allowed methods; default `GET` and `POST`.
    pub methods: Option<Vec<String>>,
    /// Whether cookies and credentials are allowed; default `true`.
    pub credentials: Option<bool>,
    /// Status answered to a preflight; default 204.
    pub options_success_status: Option<u16>,
    /// Request headers allowed cross-origin; default: those the request asks for.
    pub allowed_headers: Option<Vec<String>>,
    /// How long a browser may cache a preflight answer; default: not sent.
    pub max_age: Option<Duration>,
    /// Development switch: allow [`CorsOrigins::Any`] with credentials (the
    /// reference's default, unsafe in production); default `false`.
    pub allow_any_origin_with_credentials_in_development: Option<bool>,
    /// Refuse (403) Socket.IO requests whose `Origin` header is neither an
    /// allowed origin nor the server's own; default `true`. WebSockets are
    /// not subject to CORS, so without this a page of any site could open a
    /// WebSocket with the user's cookies (cross-site WebSocket hijacking).
    /// Requests without `Origin` (non-browser clients) are never refused.
    pub enforce_origin: Option<bool>,
}

impl CorsOptions {
    /// Allows exactly these origins.
    pub fn allow_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.origins = Some(CorsOrigins::List(
            origins.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Allows any origin (see [`CorsOrigins::Any`]).
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = Some(CorsOrigins::Any);
        self
    }

    /// Sets the allowed methods.
    pub fn methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.methods = Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Sets whether credentials are allowed.
    pub fn credentials(mut self, credentials: bool) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets the status answered to a preflight.
    pub fn options_success_status(mut self, status: u16) -> Self {
        self.options_success_status = Some(status);
        self
    }

    /// Sets the allowed request headers.
    pub fn allowed_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_headers = Some(headers.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the preflight cache duration.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Development switch: allow any origin together with credentials.
    pub fn allow_any_origin_with_credentials_in_development(mut self, allow: bool) -> Self {
        self.allow_any_origin_with_credentials_in_development = Some(allow);
        self
    }

    /// Sets whether foreign origins are refused (see [`CorsOptions::enforce_origin`]).
    pub fn enforce_origin(mut self, enforce: bool) -> Self {
        self.enforce_origin = Some(enforce);
        self
    }

    /// `over`'s set fields win, the others are kept.
    pub fn merge(self, over: CorsOptions) -> CorsOptions {
        CorsOptions {
            origins: over.origins.or(self.origins),
            methods: over.methods.or(self.methods),
            credentials: over.credentials.or(self.credentials),
            options_success_status: over.options_success_status.or(self.options_success_status),
            allowed_headers: over.allowed_headers.or(self.allowed_headers),
            max_age: over.max_age.or(self.max_age),
            allow_any_origin_with_credentials_in_development: over
                .allow_any_origin_with_credentials_in_development
                .or(self.allow_any_origin_with_credentials_in_development),
            enforce_origin: over.enforce_origin.or(self.enforce_origin),
        }
    }
}

/// Room limits; unset fields keep the defaults of [`RoomLimits`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomLimitsOptions {
    /// Longest room name, in bytes.
    pub max_room_name_len: Option<usize>,
    /// Most rooms in one `join`/`leave` request.
    pub max_rooms_per_request: Option<usize>,
    /// Most rooms one socket may be in.
    pub max_rooms_per_socket: Option<usize>,
}

impl RoomLimitsOptions {
    /// `over`'s set fields win, the others are kept.
    pub fn merge(self, over: RoomLimitsOptions) -> RoomLimitsOptions {
        RoomLimitsOptions {
            max_room_name_len: over.max_room_name_len.or(self.max_room_name_len),
            max_rooms_per_request: over.max_rooms_per_request.or(self.max_rooms_per_request),
            max_rooms_per_socket: over.max_rooms_per_socket.or(self.max_rooms_per_socket),
        }
    }
}

impl From<RoomLimits> for RoomLimitsOptions {
    fn from(limits: RoomLimits) -> Self {
        RoomLimitsOptions {
            max_room_name_len: Some(limits.max_room_name_len),
            max_rooms_per_request: Some(limits.max_rooms_per_request),
            max_rooms_per_socket: Some(limits.max_rooms_per_socket),
        }
    }
}

/// Options of the Socket.IO server, the Rust `Partial<IServerOptions>`.
///
/// Unset fields take the reference defaults when resolved:
///
/// ```
/// use ignis_socketio_component::{CorsOptions, ServerOptions};
///
/// let options = ServerOptions::default()
///     .identifier("chat")
///     .cors(CorsOptions::default().allow_origins(["https://chat.example.com"]));
/// let resolved = options.resolve().unwrap();
/// assert_eq!(resolved.identifier, "chat");
/// assert_eq!(resolved.path, "/io"); // default kept
/// assert_eq!(resolved.cors.methods, ["GET", "POST"]); // nested defaults kept too
/// assert!(resolved.cors.credentials);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// Identifier of the server helper (logs); default `SOCKET_IO_SERVER`.
    pub identifier: Option<String>,
    /// Socket.IO path; default `/io`. Matched exactly: `/io-health` stays an application route.
    pub path: Option<String>,
    /// CORS of the Socket.IO endpoint.
    pub cors: CorsOptions,
    /// Per-message deflate (WebSocket compression); on by default.
    pub per_message_deflate: PerMessageDeflateOptions,
    /// Time a client has to authenticate; default 10 s.
    pub auth_timeout: Option<Duration>,
    /// Period of the application `ping` event; default 30 s.
    pub ping_interval: Option<Duration>,
    /// Rooms every authenticated client joins; default `io-default`, `io-notification`.
    pub default_rooms: Option<Vec<String>>,
    /// Limits on room names and counts.
    pub room_limits: RoomLimitsOptions,
    /// Largest Engine.IO payload accepted from a client, in bytes; default
    /// 100 000 (Node's `maxHttpBufferSize` is 1 000 000).
    pub max_payload: Option<u64>,
    /// Default timeout of sends with acknowledgement; default 5 s.
    pub ack_timeout: Option<Duration>,
    /// Read buffer of each WebSocket, in bytes; default 1024.
    pub ws_read_buffer_size: Option<usize>,
}

impl ServerOptions {
    /// The reference defaults, every field set.
    pub fn defaults() -> ServerOptions {
        ServerOptions {
            identifier: Some(DEFAULT_IDENTIFIER.to_owned()),
            path: Some(DEFAULT_PATH.to_owned()),
            cors: CorsOptions {
                origins: Some(CorsOrigins::SameOrigin),
                methods: Some(vec!["GET".to_owned(), "POST".to_owned()]),
                credentials: Some(true),
                options_success_status: Some(DEFAULT_PREFLIGHT_STATUS),
                allowed_headers: None,
                max_age: None,
                allow_any_origin_with_credentials_in_development: Some(false),
                enforce_origin: Some(true),
            },
            per_message_deflate: PerMessageDeflateOptions::defaults(),
            auth_timeout: Some(DEFAULT_AUTH_TIMEOUT),
            ping_interval: Some(DEFAULT_PING_INTERVAL),
            default_rooms: Some(
                rooms::DEFAULT_ROOMS
                    .iter()
                    .map(|r| (*r).to_owned())
                    .collect(),
            ),
            room_limits: RoomLimits::default().into(),
            max_payload: Some(DEFAULT_MAX_PAYLOAD),
            ack_timeout: Some(DEFAULT_ACK_TIMEOUT),
            ws_read_buffer_size: Some(DEFAULT_WS_READ_BUFFER_SIZE),
        }
    }

    /// Sets the identifier.
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self
    }

    /// Sets the Socket.IO path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets CORS fields (merged over what is already set).
    pub fn cors(mut self, cors: CorsOptions) -> Self {
        self.cors = self.cors.merge(cors);
        self
    }

    /// Sets per-message-deflate fields.
    pub fn per_message_deflate(mut self, deflate: PerMessageDeflateOptions) -> Self {
        self.per_message_deflate = self.per_message_deflate.merge(deflate);
        self
    }

    /// Sets the authentication window.
    pub fn auth_timeout(mut self, timeout: Duration) -> Self {
        self.auth_timeout = Some(timeout);
        self
    }

    /// Sets the application ping period.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = Some(interval);
        self
    }

    /// Sets the default rooms (may be empty).
    pub fn default_rooms<I, S>(mut self, rooms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.default_rooms = Some(rooms.into_iter().map(Into::into).collect());
        self
    }

    /// Sets room-limit fields.
    pub fn room_limits(mut self, limits: RoomLimitsOptions) -> Self {
        self.room_limits = self.room_limits.merge(limits);
        self
    }

    /// Sets the largest accepted message.
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// Sets the default acknowledgement timeout.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = Some(timeout);
        self
    }

    /// Sets each WebSocket's read buffer size.
    pub fn ws_read_buffer_size(mut self, bytes: usize) -> Self {
        self.ws_read_buffer_size = Some(bytes);
        self
    }

    /// Field by field, nested groups included: `over`'s set fields win.
    pub fn merge(self, over: ServerOptions) -> ServerOptions {
        ServerOptions {
            identifier: over.identifier.or(self.identifier),
            path: over.path.or(self.path),
            cors: self.cors.merge(over.cors),
            per_message_deflate: self.per_message_deflate.merge(over.per_message_deflate),
            auth_timeout: over.auth_timeout.or(self.auth_timeout),
            ping_interval: over.ping_interval.or(self.ping_interval),
            default_rooms: over.default_rooms.or(self.default_rooms),
            room_limits: self.room_limits.merge(over.room_limits),
            max_payload: over.max_payload.or(self.max_payload),
            ack_timeout: over.ack_timeout.or(self.ack_timeout),
            ws_read_buffer_size: over.ws_read_buffer_size.or(self.ws_read_buffer_size),
        }
    }

    /// Merges these options over [`ServerOptions::defaults`] and checks them.
    ///
    /// # Errors
    ///
    /// [`OptionsError`] naming the field: an empty identifier, a path that
    /// does not start with `/` (or is `/` alone), a zero duration or limit,
    /// an empty default room, an invalid preflight status, or any origin
    /// with credentials without the development switch.
    pub fn resolve(&self) -> Result<ResolvedServerOptions, OptionsError> {
        let merged = ServerOptions::defaults().merge(self.clone());
        // `defaults()` sets every field except the optional CORS extras, so
        // the fallbacks below are never used; they keep this free of unwrap.
        let identifier = merged.identifier.unwrap_or_default();
        if identifier.trim().is_empty() {
            return Err(OptionsError::new("identifier", "must not be empty"));
        }
        let path = normalize_path(&merged.path.unwrap_or_default())?;
        let cors = resolve_cors(merged.cors)?;
        let auth_timeout = positive("auth_timeout", merged.auth_timeout)?;
        let ping_interval = positive("ping_interval", merged.ping_interval)?;
        let default_rooms = merged.default_rooms.unwrap_or_default();
        if default_rooms.iter().any(|room| room.is_empty()) {
            return Err(OptionsError::new(
                "default_rooms",
                "room names must not be empty",
            ));
        }
        let defaults = RoomLimits::default();
        let room_limits = RoomLimits {
            max_room_name_len: nonzero(
                "room_limits.max_room_name_len",
                merged.room_limits.max_room_name_len,
                defaults.max_room_name_len,
            )?,
            max_rooms_per_request: nonzero(
                "room_limits.max_rooms_per_request",
                merged.room_limits.max_rooms_per_request,
                defaults.max_rooms_per_request,
            )?,
            max_rooms_per_socket: nonzero(
                "room_limits.max_rooms_per_socket",
                merged.room_limits.max_rooms_per_socket,
                defaults.max_rooms_per_socket,
            )?,
        };
        if default_rooms
            .iter()
            .any(|room| room.len() > room_limits.max_room_name_len)
        {
            return Err(OptionsError::new(
                "default_rooms",
                "a room name is longer than room_limits.max_room_name_len",
            ));
        }
        let max_payload = merged.max_payload.unwrap_or(DEFAULT_MAX_PAYLOAD);
        if max_payload == 0 {
            return Err(OptionsError::new("max_payload", "must be greater than 0"));
        }
        let ack_timeout = positive("ack_timeout", merged.ack_timeout)?;
        let ws_read_buffer_size = merged
            .ws_read_buffer_size
            .unwrap_or(DEFAULT_WS_READ_BUFFER_SIZE);
        if ws_read_buffer_size == 0 {
            return Err(OptionsError::new(
                "ws_read_buffer_size",
                "must be greater than 0",
            ));
        }
        let resolved = ResolvedServerOptions {
            identifier,
            path,
            cors,
            per_message_deflate: merged
                .per_message_deflate
                .resolve()
                .map_err(|e| OptionsError::new(e.field, e.reason))?,
            auth_timeout,
            ping_interval,
            default_rooms,
            room_limits,
            max_payload,
            ack_timeout,
            ws_read_buffer_size,
        };
        // The helper's own checks (e.g. room for the default rooms within
        // max_rooms_per_socket), reported here, at binding time.
        resolved
            .server_options()
            .validate()
            .map_err(|error| match error {
                ignis_socketio_server::BuildError::InvalidOption { option, reason } => {
                    OptionsError::new(option, reason)
                }
                other => OptionsError::new("options", other.to_string()),
            })?;
        Ok(resolved)
    }
}

/// An option that cannot be used, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct OptionsError {
    /// The field, e.g. `cors.origins`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl OptionsError {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        OptionsError {
            field,
            reason: reason.into(),
        }
    }
}

/// CORS after merging and checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCors {
    /// Allowed origins.
    pub origins: CorsOrigins,
    /// Allowed methods, upper case.
    pub methods: Vec<String>,
    /// Whether credentials are allowed.
    pub credentials: bool,
    /// Status answered to a preflight.
    pub options_success_status: u16,
    /// Allowed request headers; `None` mirrors the request's.
    pub allowed_headers: Option<Vec<String>>,
    /// Preflight cache duration.
    pub max_age: Option<Duration>,
    /// Whether any origin is mirrored with credentials (development only).
    pub mirror_any_origin: bool,
    /// Whether requests from foreign origins are refused.
    pub enforce_origin: bool,
}

/// Server options with every default applied and every value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedServerOptions {
    /// Identifier of the server helper.
    pub identifier: String,
    /// Socket.IO path, without a trailing slash (e.g. `/io`).
    pub path: String,
    /// CORS of the Socket.IO endpoint.
    pub cors: ResolvedCors,
    /// Per-message deflate.
    pub per_message_deflate: ResolvedDeflate,
    /// Authentication window.
    pub auth_timeout: Duration,
    /// Application ping period.
    pub ping_interval: Duration,
    /// Rooms every authenticated client joins.
    pub default_rooms: Vec<String>,
    /// Room limits.
    pub room_limits: RoomLimits,
    /// Largest accepted message, in bytes.
    pub max_payload: u64,
    /// Default acknowledgement timeout.
    pub ack_timeout: Duration,
    /// Read buffer of each WebSocket, in bytes.
    pub ws_read_buffer_size: usize,
}

impl ResolvedServerOptions {
    /// The server helper's options (everything but CORS, which the
    /// component applies itself).
    pub fn server_options(&self) -> ignis_socketio_server::ServerOptions {
        ignis_socketio_server::ServerOptions {
            identifier: self.identifier.clone(),
            path: self.path.clone(),
            auth_timeout: self.auth_timeout,
            ping_interval: self.ping_interval,
            default_rooms: self.default_rooms.clone(),
            room_limits: self.room_limits,
            max_payload: self.max_payload,
            ack_timeout: self.ack_timeout,
            ws_read_buffer_size: self.ws_read_buffer_size,
            per_message_deflate: self.per_message_deflate.engine_config(),
        }
    }
}

fn normalize_path(path: &str) -> Result<String, OptionsError> {
    let trimmed = path.trim_end_matches('/');
    if !path.starts_with('/') {
        return Err(OptionsError::new(
            "path",
            format!("must start with '/', got {path:?}"),
        ));
    }
    if trimmed.is_empty() {
        return Err(OptionsError::new(
            "path",
            "must name a path below '/', e.g. \"/io\"",
        ));
    }
    if trimmed.contains(['?', '#', ' ', '*', '{', '}']) {
        return Err(OptionsError::new(
            "path",
            format!("must be a plain path, got {path:?}"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn positive(field: &'static str, value: Option<Duration>) -> Result<Duration, OptionsError> {
    match value {
        Some(value) if !value.is_zero() => Ok(value),
        _ => Err(OptionsError::new(field, "must be greater than 0")),
    }
}

fn nonzero(
    field: &'static str,
    value: Option<usize>,
    default: usize,
) -> Result<usize, OptionsError> {
    match value.unwrap_or(default) {
        0 => Err(OptionsError::new(field, "must be greater than 0")),
        value => Ok(value),
    }
}

fn resolve_cors(cors: CorsOptions) -> Result<ResolvedCors, OptionsError> {
    let origins = cors.origins.unwrap_or(CorsOrigins::SameOrigin);
    let credentials = cors.credentials.unwrap_or(true);
    let development = cors
        .allow_any_origin_with_credentials_in_development
        .unwrap_or(false);
    let mirror_any_origin = origins == CorsOrigins::Any && credentials;
    if mirror_any_origin && !development {
        return Err(OptionsError::new(
            "cors.origins",
            "any origin together with credentials is refused: list the allowed origins, \
             disable credentials, or set cors.allow_any_origin_with_credentials_in_development \
             (development only)",
        ));
    }
    if let CorsOrigins::List(list) = &origins
        && let Some(bad) = list
            .iter()
            .find(|o| o.is_empty() || *o == "*" || http_header_invalid(o))
    {
        return Err(OptionsError::new(
            "cors.origins",
            format!("{bad:?} is not an origin such as \"https://app.example.com\""),
        ));
    }
    let methods: Vec<String> = cors
        .methods
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    if let Some(bad) = methods
        .iter()
        .find(|m| m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(OptionsError::new(
            "cors.methods",
            format!("{bad:?} is not an HTTP method"),
        ));
    }
    let options_success_status = cors
        .options_success_status
        .unwrap_or(DEFAULT_PREFLIGHT_STATUS);
    if !(200..300).contains(&options_success_status) {
        return Err(OptionsError::new(
            "cors.options_success_status",
            format!("must be a 2xx status, got {options_success_status}"),
        ));
    }
    if let Some(bad) = cors
        .allowed_headers
        .iter()
        .flatten()
        .find(|h| h.is_empty() || http_header_invalid(h))
    {
        return Err(OptionsError::new(
            "cors.allowed_headers",
            format!("{bad:?} is not a header name"),
        ));
    }
    Ok(ResolvedCors {
        origins,
        methods,
        credentials,
        options_success_status,
        allowed_headers: cors.allowed_headers,
        max_age: cors.max_age,
        mirror_any_origin,
        enforce_origin: cors.enforce_origin.unwrap_or(true),
    })
}

// Origins and header names end up in response headers; refuse what a header
// value cannot carry rather than failing later.
fn http_header_invalid(value: &str) -> bool {
    value.bytes().any(|b| b < 0x21 || b == 0x7f || b == b',')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn unset_options_resolve_to_reference_defaults() {
        let resolved = ServerOptions::default().resolve().unwrap();
        assert_eq!(resolved.identifier, "SOCKET_IO_SERVER");
        assert_eq!(resolved.path, "/io");
        assert_eq!(resolved.cors.methods, ["GET", "POST"]);
        assert_eq!(resolved.cors.options_success_status, 204);
        assert!(resolved.cors.credentials);
        assert_eq!(resolved.cors.origins, CorsOrigins::SameOrigin);
        assert!(resolved.cors.enforce_origin);
        assert_eq!(resolved.per_message_deflate.threshold, 4096);
        assert!(
            resolved.per_message_deflate.enabled,
            "on, as in the reference"
        );
        assert_eq!(resolved.auth_timeout, Duration::from_secs(10));
        assert_eq!(resolved.ping_interval, Duration::from_secs(30));
        assert_eq!(resolved.default_rooms, ["io-default", "io-notification"]);
        assert_eq!(resolved.room_limits, RoomLimits::default());
        assert_eq!(resolved.max_payload, 100_000);
        assert_eq!(resolved.ack_timeout, Duration::from_secs(5));
    }

    #[test]
    fn nested_cors_field_keeps_the_other_cors_defaults() {
        let options = ServerOptions {
            cors: CorsOptions {
                origins: Some(CorsOrigins::List(vec!["https://a.example".into()])),
                ..CorsOptions::default()
            },
            ..ServerOptions::default()
        };
        let resolved = options.resolve().unwrap();
        assert_eq!(
            resolved.cors.origins,
            CorsOrigins::List(vec!["https://a.example".into()])
        );
        assert_eq!(resolved.cors.methods, ["GET", "POST"]);
        assert!(resolved.cors.credentials);
        assert_eq!(resolved.cors.options_success_status, 204);
    }

    #[test]
    fn merge_prefers_set_fields_of_the_later_value() {
        let base = ServerOptions::default()
            .identifier("a")
            .auth_timeout(Duration::from_secs(1))
            .room_limits(RoomLimitsOptions {
                max_rooms_per_request: Some(5),
                ..Default::default()
            });
        let over = ServerOptions::default()
            .identifier("b")
            .room_limits(RoomLimitsOptions {
                max_room_name_len: Some(90),
                ..Default::default()
            });
        let merged = base.merge(over);
        assert_eq!(merged.identifier.as_deref(), Some("b"));
        assert_eq!(merged.auth_timeout, Some(Duration::from_secs(1)));
        assert_eq!(merged.room_limits.max_rooms_per_request, Some(5));
        assert_eq!(merged.room_limits.max_room_name_len, Some(90));
        let resolved = merged.resolve().unwrap();
        assert_eq!(
            resolved.room_limits.max_rooms_per_socket,
            RoomLimits::default().max_rooms_per_socket
        );
    }

    #[test]
    fn every_helper_option_is_reachable() {
        let resolved = ServerOptions::default()
            .auth_timeout(Duration::from_millis(500))
            .ping_interval(Duration::from_millis(700))
            .default_rooms(Vec::<String>::new())
            .max_payload(2048)
            .room_limits(RoomLimitsOptions {
                max_room_name_len: Some(10),
                max_rooms_per_request: Some(2),
                max_rooms_per_socket: Some(3),
            })
            .resolve()
            .unwrap();
        assert_eq!(resolved.auth_timeout, Duration::from_millis(500));
        assert_eq!(resolved.ping_interval, Duration::from_millis(700));
        assert!(resolved.default_rooms.is_empty());
        assert_eq!(resolved.max_payload, 2048);
        assert_eq!(
            resolved.room_limits,
            RoomLimits {
                max_room_name_len: 10,
                max_rooms_per_request: 2,
                max_rooms_per_socket: 3
            }
        );
    }

    #[test]
    fn any_origin_with_credentials_is_refused_without_development_switch() {
        let error = ServerOptions::default()
            .cors(CorsOptions::default().allow_any_origin())
            .resolve()
            .unwrap_err();
        assert_eq!(error.field, "cors.origins");
        assert!(error.reason.contains("development"), "{error}");
    }

    #[test]
    fn any_origin_with_credentials_mirrors_in_development() {
        let resolved = ServerOptions::default()
            .cors(
                CorsOptions::default()
                    .allow_any_origin()
                    .allow_any_origin_with_credentials_in_development(true),
            )
            .resolve()
            .unwrap();
        assert!(resolved.cors.mirror_any_origin);
    }

    #[test]
    fn any_origin_without_credentials_is_plain_wildcard() {
        let resolved = ServerOptions::default()
            .cors(CorsOptions::default().allow_any_origin().credentials(false))
            .resolve()
            .unwrap();
        assert!(!resolved.cors.mirror_any_origin);
        assert_eq!(resolved.cors.origins, CorsOrigins::Any);
    }

    #[test]
    fn path_is_normalized_and_checked() {
        let ok = |p: &str| ServerOptions::default().path(p).resolve().map(|r| r.path);
        assert_eq!(ok("/socket.io/").unwrap(), "/socket.io");
        assert_eq!(ok("/io").unwrap(), "/io");
        assert_eq!(ok("io").unwrap_err().field, "path");
        assert_eq!(ok("/").unwrap_err().field, "path");
        assert_eq!(ok("/io?x").unwrap_err().field, "path");
    }

    #[test]
    fn invalid_values_name_their_field() {
        let field = |o: ServerOptions| o.resolve().unwrap_err().field;
        assert_eq!(
            field(ServerOptions::default().identifier(" ")),
            "identifier"
        );
        assert_eq!(
            field(ServerOptions::default().auth_timeout(Duration::ZERO)),
            "auth_timeout"
        );
        assert_eq!(
            field(ServerOptions::default().ping_interval(Duration::ZERO)),
            "ping_interval"
        );
        assert_eq!(
            field(ServerOptions::default().default_rooms([""])),
            "default_rooms"
        );
        assert_eq!(
            field(ServerOptions::default().max_payload(0)),
            "max_payload"
        );
        assert_eq!(
            field(ServerOptions::default().ws_read_buffer_size(0)),
            "ws_read_buffer_size"
        );
        assert_eq!(
            field(ServerOptions::default().room_limits(RoomLimitsOptions {
                max_rooms_per_socket: Some(0),
                ..Default::default()
            })),
            "room_limits.max_rooms_per_socket"
        );
        assert_eq!(
            field(ServerOptions::default().cors(CorsOptions::default().allow_origins(["*"]))),
            "cors.origins"
        );
        assert_eq!(
            field(ServerOptions::default().cors(CorsOptions::default().methods(["GE T"]))),
            "cors.methods"
        );
        assert_eq!(
            field(
                ServerOptions::default().cors(CorsOptions::default().options_success_status(404))
            ),
            "cors.options_success_status"
        );
    }
}
