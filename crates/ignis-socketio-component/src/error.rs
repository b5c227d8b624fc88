//! Errors of the application container and the component lifecycle.

use std::fmt;
use std::net::SocketAddr;

use crate::container::ContainerError;

/// A boxed error from a hook or a component.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A step of the application lifecycle, in the order they run (see
/// [`Application::start`](crate::Application::start)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecyclePhase {
    /// Application hooks registered with `on_pre_configure`.
    PreConfigure,
    /// Each component's defaults, installed for unbound keys only.
    DefaultBindings,
    /// Each component resolves and validates its bindings.
    Binding,
    /// Each component builds its services and binds what it provides.
    Configure,
    /// Application hooks registered with `on_post_configure`.
    PostConfigure,
    /// Each component adds its routes beside the application's.
    Routes,
    /// The listener is bound.
    Listen,
    /// Post-start hooks, in registration order, with the server accepting.
    PostStart,
    /// Components stop, last registered first, then the HTTP server.
    Stop,
}

impl LifecyclePhase {
    /// The phase's name, e.g. `post-start`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LifecyclePhase::PreConfigure => "pre-configure",
            LifecyclePhase::DefaultBindings => "default-bindings",
            LifecyclePhase::Binding => "binding",
            LifecyclePhase::Configure => "configure",
            LifecyclePhase::PostConfigure => "post-configure",
            LifecyclePhase::Routes => "routes",
            LifecyclePhase::Listen => "listen",
            LifecyclePhase::PostStart => "post-start",
            LifecyclePhase::Stop => "stop",
        }
    }
}

impl fmt::Display for LifecyclePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can stop an application from starting or stopping cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    /// A required binding is missing.
    #[error("[{component}] Binding key: {key} is not bound ({what} is required)")]
    MissingBinding {
        /// The component that needs it.
        component: String,
        /// The key string.
        key: &'static str,
        /// What the binding is, e.g. `the authenticate handler`.
        what: &'static str,
    },
    /// A binding holds a value that cannot be used.
    #[error("[{component}] Binding key: {key} is invalid: {reason}")]
    InvalidBinding {
        /// The component that read it.
        component: String,
        /// The key string.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Reading the container failed.
    #[error("[{component}] {source}")]
    Container {
        /// The component that read it.
        component: String,
        /// The container's error (names the key).
        #[source]
        source: ContainerError,
    },
    /// A component failed in a lifecycle phase.
    #[error("[{component}] {phase} failed: {source}")]
    Component {
        /// The component.
        component: String,
        /// The phase.
        phase: LifecyclePhase,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// An application hook failed.
    #[error("{phase} hook '{name}' failed: {source}")]
    Hook {
        /// The phase of the hook.
        phase: LifecyclePhase,
        /// The hook's name.
        name: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The HTTP server did not finish within the stop timeout and was aborted.
    #[error("HTTP server did not stop within {0:?}; its task was aborted")]
    StopTimeout(std::time::Duration),
    /// Several components failed to stop; every one was still asked to.
    #[error("{} errors while stopping: {}", .0.len(), join_errors(.0))]
    Stop(Vec<ComponentError>),
}

fn join_errors(errors: &[ComponentError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ComponentError {
    /// A component's failure in `phase`.
    pub fn component(
        component: impl Into<String>,
        phase: LifecyclePhase,
        source: impl Into<BoxError>,
    ) -> Self {
        ComponentError::Component {
            component: component.into(),
            phase,
            source: source.into(),
        }
    }

    /// The binding key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ComponentError::MissingBinding { key, .. }
            | ComponentError::InvalidBinding { key, .. } => Some(key),
            ComponentError::Container { source, .. } => match source {
                ContainerError::NotBound { key }
                | ContainerError::TypeMismatch { key, .. }
                | ContainerError::Provider { key, .. }
                | ContainerError::Cycle { key } => Some(key),
            },
            _ => None,
        }
    }
}
