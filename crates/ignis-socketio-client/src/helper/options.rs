//! The helper's options on top of the shared connection setters of
//! [`ClientBuilder`], and building the helper.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::api::SocketIOClientHelper;
use super::core::{Callbacks, HelperInner, Settings};
use super::listeners;
use crate::builder::ClientBuilder;
use crate::handler::{HandlerOutcome, callback};
use crate::{ClientConfig, ClientError, SocketClient};

/// What [`SocketIOClientHelperBuilder`] adds to the connection settings: the
/// identifier, the helper's settings and callbacks. Set through the builder.
#[derive(Clone)]
pub struct HelperOptions {
    identifier: String,
    settings: Settings,
    callbacks: Callbacks,
}

impl std::fmt::Debug for HelperOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelperOptions")
            .field("identifier", &self.identifier)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Options of [`SocketIOClientHelper`]: the connection setters of
/// [`ClientBuilder`] plus the helper's own; see each method for defaults.
pub type SocketIOClientHelperBuilder = ClientBuilder<HelperOptions>;

impl SocketIOClientHelper {
    /// Starts the options. `url` is required.
    pub fn builder() -> SocketIOClientHelperBuilder {
        ClientBuilder::with(
            ClientConfig::new(""),
            HelperOptions {
                identifier: "SOCKET_IO_CLIENT".to_owned(),
                settings: Settings::default(),
                callbacks: Callbacks::default(),
            },
        )
    }
}

impl ClientBuilder<HelperOptions> {
    /// Name used in logs (default `SOCKET_IO_CLIENT`).
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.options.identifier = identifier.into();
        self
    }

    /// The reference's name for [`url`](ClientBuilder::url).
    #[deprecated(note = "use `url`, the name both builders share")]
    pub fn host(self, host: impl Into<String>) -> Self {
        self.url(host)
    }

    /// The reference's name (`extraHeaders`) for [`header`](ClientBuilder::header).
    #[deprecated(note = "use `header`, the name both builders share")]
    pub fn extra_header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.header(name, value)
    }

    /// Connect as soon as the helper is built (default `true`, like socket.io-client).
    pub fn auto_connect(mut self, on: bool) -> Self {
        self.options.settings.auto_connect = on;
        self
    }

    /// Call `authenticate()` on every (re)connection (default `false`, as in the reference).
    pub fn auto_authenticate(mut self, on: bool) -> Self {
        self.options.settings.auto_authenticate = on;
        self
    }

    /// Payload sent with `authenticate` (default: none, as in the reference).
    pub fn authenticate_payload(mut self, credentials: Value) -> Self {
        self.options.settings.credentials = Some(credentials);
        self
    }

    /// Join again, after re-authentication, the rooms joined before a reconnect (default `true`).
    pub fn rejoin_rooms(mut self, on: bool) -> Self {
        self.options.settings.rejoin_rooms = on;
        self
    }

    /// Give up waiting for `authenticated`/`unauthenticated` after this long:
    /// the state returns to `unauthorized` and `on_error` gets
    /// [`ClientError::AuthTimeout`] (default 15 s; `None`: wait forever like the reference).
    pub fn auth_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.options.settings.auth_timeout = timeout;
        self
    }

    /// How long `join_rooms`/`leave_rooms` wait for the server's answer
    /// (default 5 s; `None`: do not ask for one, like the reference).
    pub fn room_ack_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.options.settings.room_ack_timeout = timeout;
        self
    }

    /// Called on every connection, reconnections included.
    pub fn on_connected<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.options.callbacks.connected = Some(callback(move |()| f()));
        self
    }

    /// Called on every disconnection with the reason (`io server disconnect`, `transport close`, ...).
    pub fn on_disconnected<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.options.callbacks.disconnected = Some(callback(f));
        self
    }

    /// Called on connection errors, protocol errors and client-side auth timeouts.
    pub fn on_error<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(ClientError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.options.callbacks.error = Some(callback(f));
        self
    }

    /// Called when the server confirms an authentication this client requested,
    /// with the server's payload (`{id, time}`).
    pub fn on_authenticated<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.options.callbacks.authenticated = Some(callback(f));
        self
    }

    /// Called when the server refuses the client, with its message (`""` when absent).
    pub fn on_unauthenticated<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerOutcome,
    {
        self.options.callbacks.unauthenticated = Some(callback(f));
        self
    }

    /// Creates the helper (and starts connecting unless `auto_connect(false)`).
    /// Needs a tokio runtime.
    pub fn build(self) -> Result<SocketIOClientHelper, ClientError> {
        if self.config.url.is_empty() {
            return Err(ClientError::MissingOption("url"));
        }
        let HelperOptions {
            identifier,
            settings,
            callbacks,
        } = self.options;
        let client = SocketClient::new(self.config)?;
        let inner = Arc::new(HelperInner::new(identifier, client, settings, callbacks));
        listeners::install(&inner);
        let helper = SocketIOClientHelper::from_inner(inner);
        if helper.inner().settings.auto_connect {
            helper.connect()?;
        }
        Ok(helper)
    }
}
