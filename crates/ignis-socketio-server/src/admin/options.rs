//! How the admin page is served: namespace, login, mode, what it may change.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ignis_socketio_engine::io::Adapter;

/// The namespace the official page connects to unless told otherwise.
pub const DEFAULT_ADMIN_NAMESPACE: &str = "/admin";

/// How often every server sends its `server_stats` (the Node package's period).
pub const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(2);

/// What the page is told and sent, as the Node package's `mode` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminMode {
    /// Every socket with its handshake (`all_sockets`), and live news of
    /// sockets, rooms and events, each sent to every admin page of the fleet.
    #[default]
    Development,
    /// Only the periodic `server_stats`: no socket list, no handshake, no
    /// per-event traffic on the adapter.
    Production,
}

/// Who may open the page.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum AdminAuth {
    /// Anybody who reaches the namespace.
    None,
    /// `auth: {username, password}` in the CONNECT packet, the password
    /// checked against a bcrypt hash.
    Basic {
        /// The expected user name.
        username: String,
        /// The bcrypt hash of the password (`$2b$...`).
        password_hash: String,
    },
}

impl fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminAuth::None => f.write_str("None"),
            AdminAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// The server side of the Socket.IO Admin UI (`@socket.io/admin-ui`), off
/// unless given to [`ServerBuilder::admin_ui`](crate::ServerBuilder::admin_ui).
///
/// As with the Node package, the login has to be chosen explicitly:
/// [`AdminUiOptions::basic_auth`] or [`AdminUiOptions::without_auth`].
#[derive(Clone)]
pub struct AdminUiOptions {
    pub(crate) namespace: String,
    pub(crate) auth: AdminAuth,
    pub(crate) read_only: bool,
    pub(crate) mode: AdminMode,
    pub(crate) server_id: Option<String>,
    pub(crate) stats_interval: Duration,
    pub(crate) adapter: Option<Arc<dyn Adapter>>,
}

impl fmt::Debug for AdminUiOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminUiOptions")
            .field("namespace", &self.namespace)
            .field("auth", &self.auth)
            .field("read_only", &self.read_only)
            .field("mode", &self.mode)
            .field("server_id", &self.server_id)
            .field("stats_interval", &self.stats_interval)
            .field("adapter", &self.adapter.is_some())
            .finish()
    }
}

impl AdminUiOptions {
    fn with_auth(auth: AdminAuth) -> Self {
        AdminUiOptions {
            namespace: DEFAULT_ADMIN_NAMESPACE.to_owned(),
            auth,
            read_only: false,
            mode: AdminMode::Development,
            server_id: None,
            stats_interval: DEFAULT_STATS_INTERVAL,
            adapter: None,
        }
    }

    /// Anybody who reaches the namespace sees every socket's handshake and
    /// may disconnect sockets: only for a server nobody else can reach.
    pub fn without_auth() -> Self {
        AdminUiOptions::with_auth(AdminAuth::None)
    }

    /// The page logs in with `username` and a password whose bcrypt hash is
    /// `password_hash` (e.g. from `bcrypt::hash(password, 10)`); the build
    /// fails if it is not a bcrypt hash. After a login the page gets a
    /// session id that this server accepts instead until it restarts.
    pub fn basic_auth(username: impl Into<String>, password_hash: impl Into<String>) -> Self {
        AdminUiOptions::with_auth(AdminAuth::Basic {
            username: username.into(),
            password_hash: password_hash.into(),
        })
    }

    /// The namespace the page connects to (`/admin` by default).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Read-only: the page can look but not make sockets join, leave,
    /// disconnect or receive events (`config` lists none of those features
    /// and their requests are ignored).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Development (the default) or production (see [`AdminMode`]).
    pub fn mode(mut self, mode: AdminMode) -> Self {
        self.mode = mode;
        self
    }

    /// The name the page shows for this server (default: `hostname#pid`, so
    /// that several servers on one host stay apart).
    pub fn server_id(mut self, server_id: impl Into<String>) -> Self {
        self.server_id = Some(server_id.into());
        self
    }

    /// How often `server_stats` is sent (default 2 s).
    pub fn stats_interval(mut self, interval: Duration) -> Self {
        self.stats_interval = interval;
        self
    }

    /// The admin namespace's adapter, so that a page connected to one server
    /// sees the whole fleet: e.g. the Redis adapter of the same key for the
    /// namespace of [`namespace`](Self::namespace). Without it, one server.
    pub fn adapter(mut self, adapter: Arc<dyn Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// The namespace the page connects to.
    pub fn namespace_name(&self) -> &str {
        &self.namespace
    }

    /// Why the options cannot work, if they cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.namespace.starts_with('/') {
            return Err(format!(
                "namespace {:?} does not start with '/'",
                self.namespace
            ));
        }
        if self.namespace == "/" {
            return Err("the admin namespace cannot be the application's \"/\"".to_owned());
        }
        if self.stats_interval.is_zero() {
            return Err("the stats interval is zero".to_owned());
        }
        if let AdminAuth::Basic { password_hash, .. } = &self.auth {
            password_hash
                .parse::<bcrypt::HashParts>()
                .map_err(|e| format!("the password is not a bcrypt hash: {e}"))?;
        }
        Ok(())
    }
}
