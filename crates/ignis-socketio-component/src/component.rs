//! The `Component` trait and the hooks of the application lifecycle.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use async_trait::async_trait;
use axum::Router;

use crate::container::Container;
use crate::error::{BoxError, ComponentError};

/// What a hook receives: the container, and once listening, the address.
#[derive(Debug, Clone)]
pub struct HookContext {
    /// The application container.
    pub container: Container,
    /// The address the server listens on (`None` before the listener is bound).
    pub local_addr: Option<SocketAddr>,
}

pub(crate) type HookFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
pub(crate) type HookFn = Box<dyn FnOnce(HookContext) -> HookFuture + Send>;

/// A named hook, run once.
pub(crate) struct Hook {
    pub(crate) name: String,
    pub(crate) run: HookFn,
}

impl Hook {
    pub(crate) fn new<F, Fut, E>(name: impl Into<String>, hook: F) -> Hook
    where
        F: FnOnce(HookContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Hook {
            name: name.into(),
            run: Box::new(move |context| {
                Box::pin(async move { hook(context).await.map_err(Into::into) })
            }),
        }
    }
}

/// Handed to [`Component::binding`]: the container, and the place to
/// register post-start hooks (the reference's `registerPostStartHook`).
pub struct BindingContext<'a> {
    pub(crate) container: &'a Container,
    pub(crate) post_start_hooks: &'a mut Vec<Hook>,
}

impl BindingContext<'_> {
    /// The application container.
    pub fn container(&self) -> &Container {
        self.container
    }

    /// Registers a hook run after the server has started accepting
    /// connections, after the hooks registered before it. If it fails,
    /// the application stops (listener included) and `start` returns the
    /// error.
    pub fn register_post_start_hook<F, Fut, E>(&mut self, name: impl Into<String>, hook: F)
    where
        F: FnOnce(HookContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.post_start_hooks.push(Hook::new(name, hook));
    }
}

/// A part of an application with a lifecycle, like the reference's
/// `BaseComponent`. Every method has a default that does nothing.
///
/// The application calls, for each component in registration order:
/// [`default_bindings`](Component::default_bindings) then
/// [`binding`](Component::binding); then, for each,
/// [`configure`](Component::configure); then, for each,
/// [`routes`](Component::routes); and on stop, last registered first,
/// [`stop`](Component::stop). See [`Application::start`](crate::Application::start)
/// for the full order.
#[async_trait]
pub trait Component: Send + Sync + 'static {
    /// The component's name in logs and errors, e.g. `SocketIOComponent`.
    fn name(&self) -> &str;

    /// Installs default bindings. Bind only keys that are not bound yet
    /// ([`Container::bind_default`]), so the application's own bindings win.
    fn default_bindings(&self, container: &Container) {
        let _ = container;
    }

    /// Resolves and validates the bindings the component needs; an error
    /// here stops the start-up before anything is built or listening.
    async fn binding(&mut self, context: &mut BindingContext<'_>) -> Result<(), ComponentError> {
        let _ = context;
        Ok(())
    }

    /// Builds the component's services and binds what it provides. Runs
    /// before the listener is bound, so what is bound here is available
    /// before the first connection is accepted.
    async fn configure(&mut self, container: &Container) -> Result<(), ComponentError> {
        let _ = container;
        Ok(())
    }

    /// Adds the component's routes or layers beside the application's routes.
    fn routes(&mut self, router: Router) -> Result<Router, ComponentError> {
        Ok(router)
    }

    /// Releases what the component holds. Called on stop, and after a
    /// failed start-up for components whose `configure` was called; it must
    /// tolerate a partial configuration and being called twice.
    async fn stop(&mut self, container: &Container) -> Result<(), ComponentError> {
        let _ = container;
        Ok(())
    }
}
