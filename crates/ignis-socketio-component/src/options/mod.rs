//! Socket.IO server options: a partial value the application binds under
//! [`SocketIOBindingKeys::SERVER_OPTIONS`](crate::SocketIOBindingKeys::SERVER_OPTIONS),
//! laid field by field over the server helper's complete
//! [`ServerOptions`](ignis_socketio_server::ServerOptions) and its defaults.
//!
//! Every field of [`ServerOptions`] is optional, nested groups included, so an
//! application that sets only `cors.origins` keeps the default CORS methods,
//! credentials and preflight status (the reference replaced the whole nested
//! object). [`ServerOptions::resolve`] applies the overlay to the helper's
//! defaults and has the helper check the result
//! ([`ServerOptions::validate`](ignis_socketio_server::ServerOptions::validate)),
//! so every option is checked in one place; only what the component applies
//! itself (CORS, per-message deflate) is checked here.
//!
//! Adding a helper option: a field (with its default) in the helper's
//! `ServerOptions`, its check in `validate`, one line in the `overlay!` list
//! below.

use std::time::Duration;

use axum::http::HeaderName;
use ignis_socketio_protocol::RoomLimits;
use ignis_socketio_server::{BuildError, RateLimit};

mod cors;
mod error;
#[cfg(test)]
mod tests;

pub use cors::{CorsOptions, CorsOrigins, DEFAULT_PREFLIGHT_STATUS, ResolvedCors};
pub use error::OptionsError;

use crate::deflate_options::{PerMessageDeflateOptions, ResolvedDeflate};

/// The helper's complete options, the target of the overlay.
type Complete = ignis_socketio_server::ServerOptions;

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

    /// `base` with the set fields replaced.
    pub fn apply(self, base: RoomLimits) -> RoomLimits {
        RoomLimits {
            max_room_name_len: self.max_room_name_len.unwrap_or(base.max_room_name_len),
            max_rooms_per_request: self
                .max_rooms_per_request
                .unwrap_or(base.max_rooms_per_request),
            max_rooms_per_socket: self
                .max_rooms_per_socket
                .unwrap_or(base.max_rooms_per_socket),
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

/// Declares the partial [`ServerOptions`]: one `Option` per field of the
/// helper's complete options (same name and type), its setter, and the code
/// that merges two partial values and lays one over the complete options.
/// Each entry: docs, `name: Type`, and the setter's argument with the
/// expression turning it into `Type`.
macro_rules! overlay {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$doc:meta])*
                $field:ident: $ty:ty = |$arg:ident: $arg_ty:ty| $into:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
            /// CORS of the Socket.IO endpoint.
            pub cors: CorsOptions,
            /// Per-message deflate (WebSocket compression); on by default.
            pub per_message_deflate: PerMessageDeflateOptions,
            /// Limits on room names and counts.
            pub room_limits: RoomLimitsOptions,
        }

        impl $name {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                pub fn $field(mut self, $arg: $arg_ty) -> Self {
                    self.$field = Some($into);
                    self
                }
            )*

            /// Field by field, nested groups included: `over`'s set fields win.
            pub fn merge(self, over: $name) -> $name {
                $name {
                    $( $field: over.$field.or(self.$field), )*
                    cors: self.cors.merge(over.cors),
                    per_message_deflate: self.per_message_deflate.merge(over.per_message_deflate),
                    room_limits: self.room_limits.merge(over.room_limits),
                }
            }

            /// `base` with the set fields replaced.
            fn apply(&self, base: Complete) -> Complete {
                Complete {
                    $( $field: self.$field.clone().unwrap_or(base.$field), )*
                    room_limits: self.room_limits.apply(base.room_limits),
                    // The component's own deflate group is resolved apart
                    // and set by `resolve`.
                    per_message_deflate: base.per_message_deflate,
                    // The component checks origins itself, on its CORS list
                    // (`cors.origins`, `cors.enforce_origin`).
                    allowed_origins: base.allowed_origins,
                }
            }

            /// Every field of `complete` set, the component's own groups empty.
            fn from_complete(complete: Complete) -> $name {
                $name {
                    $( $field: Some(complete.$field), )*
                    room_limits: complete.room_limits.into(),
                    cors: CorsOptions::default(),
                    per_message_deflate: PerMessageDeflateOptions::default(),
                }
            }
        }
    };
}

overlay! {
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
    /// assert_eq!(resolved.server.identifier, "chat");
    /// assert_eq!(resolved.server.path, "/io"); // default kept
    /// assert_eq!(resolved.cors.methods, ["GET", "POST"]); // nested defaults kept too
    /// assert!(resolved.cors.credentials);
    /// ```
    pub struct ServerOptions {
        /// Identifier of the server helper (logs); default `SOCKET_IO_SERVER`.
        identifier: String = |identifier: impl Into<String>| identifier.into();
        /// Socket.IO path; default `/io`. Matched exactly: `/io-health` stays an application route.
        path: String = |path: impl Into<String>| path.into();
        /// Time a client has to authenticate; default 10 s.
        auth_timeout: Duration = |timeout: Duration| timeout;
        /// Period of the application `ping` event; default 30 s.
        ping_interval: Duration = |interval: Duration| interval;
        /// Rooms every authenticated client joins; default `io-default`, `io-notification`. May be empty.
        default_rooms: Vec<String> =
            |rooms: impl IntoIterator<Item = impl Into<String>>| rooms.into_iter().map(Into::into).collect();
        /// Largest Engine.IO payload accepted from a client, in bytes; default
        /// 100 000 (Node's `maxHttpBufferSize` is 1 000 000).
        max_payload: u64 = |bytes: u64| bytes;
        /// Default timeout of sends with acknowledgement; default 5 s.
        ack_timeout: Duration = |timeout: Duration| timeout;
        /// Read buffer of each WebSocket, in bytes; default 1024.
        ws_read_buffer_size: usize = |bytes: usize| bytes;
        /// Time a session has to send its Socket.IO CONNECT; default 45 s.
        connect_timeout: Duration = |timeout: Duration| timeout;
        /// Application events one socket may send; default 5 000 at once,
        /// 2 500/s after. `None` turns the limit off.
        event_rate_limit: Option<RateLimit> = |limit: impl Into<Option<RateLimit>>| limit.into();
        /// `join`/`leave` requests one socket may send; default 100 at once,
        /// 20/s after. `None` turns the limit off.
        room_rate_limit: Option<RateLimit> = |limit: impl Into<Option<RateLimit>>| limit.into();
        /// `authenticate` requests one socket may send; default 10 at once,
        /// 1/s after. `None` turns the limit off.
        auth_rate_limit: Option<RateLimit> = |limit: impl Into<Option<RateLimit>>| limit.into();
        /// Time a socket may stay over a rate limit before it is
        /// disconnected; default 5 s. `None`: never, its events are only dropped.
        rate_limit_disconnect_after: Option<Duration> =
            |after: impl Into<Option<Duration>>| after.into();
        /// Most connections not authenticated yet, over all clients (503
        /// over it); default `None`, no cap.
        max_unauthenticated_connections: Option<usize> =
            |cap: impl Into<Option<usize>>| cap.into();
        /// Most connections not authenticated yet from one client address
        /// (429 over it); default `None`, no cap.
        max_unauthenticated_per_address: Option<usize> =
            |cap: impl Into<Option<usize>>| cap.into();
        /// Header a trusted proxy puts the client's address in (right-most
        /// address taken), e.g. `x-forwarded-for`; default `None`: the peer address.
        trusted_proxy_header: Option<HeaderName> =
            |header: impl Into<Option<HeaderName>>| header.into();
        /// Most binary attachments per packet; default 100.
        max_attachments: usize = |max: usize| max;
        /// Time a binary packet may wait for its attachments; default 5 s.
        attachment_timeout: Duration = |timeout: Duration| timeout;
        /// What may be queued for one client, in bytes, before it is
        /// disconnected as a slow consumer; default 4 MiB.
        max_buffered_bytes: usize = |bytes: usize| bytes;
        /// The same bound in packets; default 16 384.
        max_buffered_packets: usize = |packets: usize| packets;
        /// Time a polling POST's body may take to arrive; default 30 s.
        body_read_timeout: Duration = |timeout: Duration| timeout;
        /// Time a client may take to send a request head; default 30 s.
        header_read_timeout: Duration = |timeout: Duration| timeout;
    }
}

impl ServerOptions {
    /// The reference defaults, every field set.
    pub fn defaults() -> ServerOptions {
        ServerOptions {
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
            ..ServerOptions::from_complete(Complete::default())
        }
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

    /// Sets room-limit fields.
    pub fn room_limits(mut self, limits: RoomLimitsOptions) -> Self {
        self.room_limits = self.room_limits.merge(limits);
        self
    }

    /// Lays these options over the helper's defaults and checks them (the
    /// helper's options with the helper's own
    /// [`validate`](ignis_socketio_server::ServerOptions::validate), CORS here).
    ///
    /// # Errors
    ///
    /// [`OptionsError`] naming the field: any option the helper refuses (an
    /// empty identifier, a path that does not start with `/` or is `/` alone,
    /// a zero duration or limit, an empty or too long default room), an
    /// invalid preflight status or origin, or any origin with credentials
    /// without the development switch.
    pub fn resolve(&self) -> Result<ResolvedServerOptions, OptionsError> {
        let mut server = self.apply(Complete::default());
        server.validate().map_err(|error| match error {
            BuildError::InvalidOption { option, reason } => OptionsError::new(option, reason),
            other => OptionsError::new("options", other.to_string()),
        })?;
        server.path = server.path.trim_end_matches('/').to_owned();
        let cors = cors::resolve_cors(ServerOptions::defaults().cors.merge(self.cors.clone()))?;
        let per_message_deflate = self
            .per_message_deflate
            .clone()
            .resolve()
            .map_err(|e| OptionsError::new(e.field, e.reason))?;
        // The component's deflate settings (the reference's names) are what
        // the helper applies.
        server.per_message_deflate = per_message_deflate.engine_config();
        Ok(ResolvedServerOptions {
            server,
            cors,
            per_message_deflate,
        })
    }
}

/// The options in effect: the helper's complete options, checked, and what
/// the component applies itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedServerOptions {
    /// The server helper's options; the path without a trailing slash (e.g. `/io`).
    pub server: ignis_socketio_server::ServerOptions,
    /// CORS of the Socket.IO endpoint.
    pub cors: ResolvedCors,
    /// Per-message deflate (also in `server`, as the engine's settings).
    pub per_message_deflate: ResolvedDeflate,
}
