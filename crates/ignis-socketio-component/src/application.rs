//! The application: a container, components, the application's own routes,
//! and the lifecycle that starts and stops them over axum.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::{Extension, Router};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::component::{BindingContext, Component, Hook, HookContext};
use crate::container::{Binder, BindingKey, Container, ContainerError};
use crate::error::{BoxError, ComponentError, LifecyclePhase};

/// Default address: `127.0.0.1:3000`, as the reference example.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);

/// Default time [`RunningApplication::stop`] waits for the HTTP server.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

enum ListenOn {
    Addr(SocketAddr),
    Listener(TcpListener),
    StdListener(std::net::TcpListener),
}

/// An application being assembled: bind values, register components, add
/// routes, then [`start`](Application::start) it.
///
/// ```no_run
/// use axum::routing::get;
/// use ignis_socketio_component::{Application, BindingKey};
///
/// const GREETING: BindingKey<String> = BindingKey::new("@app/greeting");
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut app = Application::new().listen_on("127.0.0.1:3000".parse()?);
/// app.bind(&GREETING).to_value("hello".into());
/// app.route("/hello", get(|| async { "hello" }));
/// let running = app.start().await?;
/// println!("listening on {}", running.local_addr());
/// running.stop().await?;
/// # Ok(()) }
/// ```
pub struct Application {
    container: Container,
    components: Vec<Box<dyn Component>>,
    router: Router,
    listen_on: ListenOn,
    pre_configure: Vec<Hook>,
    post_configure: Vec<Hook>,
    post_start: Vec<Hook>,
    router_maps: Vec<RouterMap>,
    stop_timeout: Duration,
}

type RouterMap = Box<dyn FnOnce(Router) -> Router + Send>;

impl Default for Application {
    fn default() -> Self {
        Application::new()
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("container", &self.container)
            .field(
                "components",
                &self.components.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Application {
    /// An empty application listening on [`DEFAULT_ADDR`] once started.
    pub fn new() -> Self {
        Application {
            container: Container::new(),
            components: Vec::new(),
            router: Router::new(),
            listen_on: ListenOn::Addr(DEFAULT_ADDR),
            pre_configure: Vec::new(),
            post_configure: Vec::new(),
            post_start: Vec::new(),
            router_maps: Vec::new(),
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        }
    }

    /// Listens on `addr` (port 0 picks a free port), bound with
    /// [`ignis_socketio_server::bind_listener`] (a large listen backlog).
    pub fn listen_on(mut self, addr: SocketAddr) -> Self {
        self.listen_on = ListenOn::Addr(addr);
        self
    }

    /// Serves on a listener bound by the caller.
    pub fn with_listener(mut self, listener: TcpListener) -> Self {
        self.listen_on = ListenOn::Listener(listener);
        self
    }

    /// Serves on a standard-library listener bound by the caller (made
    /// non-blocking here).
    pub fn with_std_listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listen_on = ListenOn::StdListener(listener);
        self
    }

    /// How long [`RunningApplication::stop`] waits for the HTTP server to
    /// finish before aborting it; default 10 s.
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// The application container.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// Starts binding `key` in the container.
    pub fn bind<T>(&self, key: &BindingKey<T>) -> Binder<'_, T>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.container.bind(key)
    }

    /// The value bound under `key`.
    ///
    /// # Errors
    ///
    /// [`ContainerError::NotBound`] naming the key.
    pub fn get<T>(&self, key: &BindingKey<T>) -> Result<T, ContainerError>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.container.get(key)
    }

    /// Whether anything is bound under `key`.
    pub fn is_bound<T>(&self, key: &BindingKey<T>) -> bool {
        self.container.is_bound(key)
    }

    /// Registers a component; components run in registration order.
    pub fn component(&mut self, component: impl Component) -> &mut Self {
        self.components.push(Box::new(component));
        self
    }

    /// Adds one of the application's own routes.
    pub fn route(&mut self, path: &str, method_router: axum::routing::MethodRouter) -> &mut Self {
        self.router = std::mem::take(&mut self.router).route(path, method_router);
        self
    }

    /// Merges a router of the application's own routes (give it its state
    /// with `with_state` first). Handlers can also extract the container
    /// with `Extension<Container>`.
    pub fn merge(&mut self, router: Router) -> &mut Self {
        self.router = std::mem::take(&mut self.router).merge(router);
        self
    }

    /// Transforms the whole router once every route is in place (the
    /// application's and the components'), e.g. to add an application-wide
    /// layer: `app.map_router(|router| router.layer(TraceLayer::new_for_http()))`.
    /// Such a layer sees Socket.IO requests too; to layer only your own
    /// routes, layer your router before [`merge`](Application::merge).
    pub fn map_router(&mut self, map: impl FnOnce(Router) -> Router + Send + 'static) -> &mut Self {
        self.router_maps.push(Box::new(map));
        self
    }

    /// Registers a hook run first in [`start`](Application::start), before
    /// any component: the place of the reference's `preConfigure`.
    pub fn on_pre_configure<F, Fut, E>(&mut self, name: impl Into<String>, hook: F) -> &mut Self
    where
        F: FnOnce(HookContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.pre_configure.push(Hook::new(name, hook));
        self
    }

    /// Registers a hook run after every component is configured, before
    /// the listener is bound.
    pub fn on_post_configure<F, Fut, E>(&mut self, name: impl Into<String>, hook: F) -> &mut Self
    where
        F: FnOnce(HookContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.post_configure.push(Hook::new(name, hook));
        self
    }

    /// Registers a hook run after the server accepts connections. A
    /// failing hook stops the application, listener included.
    pub fn on_post_start<F, Fut, E>(&mut self, name: impl Into<String>, hook: F) -> &mut Self
    where
        F: FnOnce(HookContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.post_start.push(Hook::new(name, hook));
        self
    }

    /// Starts the application. The steps, in order (modelled on the
    /// reference's `start()`, with its start-up window closed):
    ///
    /// 1. pre-configure hooks, in registration order;
    /// 2. for each component in registration order: default bindings (only
    ///    for unbound keys), then `binding` (resolve and validate; may
    ///    register post-start hooks);
    /// 3. for each component: `configure` (the Socket.IO component builds
    ///    the server helper and binds `@app/socket-io/instance` here);
    /// 4. post-configure hooks;
    /// 5. routes: the application's own, then each component's, then the
    ///    [`map_router`](Application::map_router) transformations;
    /// 6. the listener is bound and the server starts accepting;
    /// 7. post-start hooks: the application's (registered before `start`),
    ///    then those components registered in `binding`, each awaited.
    ///
    /// On any failure the components configured so far are stopped (last
    /// first), the listener is closed, and the error is returned.
    ///
    /// # Errors
    ///
    /// The first failing step's [`ComponentError`]; binding validation
    /// errors name the binding key.
    pub async fn start(self) -> Result<RunningApplication, ComponentError> {
        let Application {
            container,
            mut components,
            router,
            listen_on,
            pre_configure,
            post_configure,
            mut post_start,
            router_maps,
            stop_timeout,
        } = self;
        let context = || HookContext {
            container: container.clone(),
            local_addr: None,
        };

        run_hooks(LifecyclePhase::PreConfigure, pre_configure, &context).await?;

        for component in &mut components {
            tracing::debug!(component = component.name(), "default bindings");
            component.default_bindings(&container);
            tracing::debug!(component = component.name(), "binding");
            let mut binding_context = BindingContext {
                container: &container,
                post_start_hooks: &mut post_start,
            };
            component.binding(&mut binding_context).await?;
        }

        let mut configured = 0;
        let ready = async {
            for component in components.iter_mut() {
                tracing::debug!(component = component.name(), "configure");
                configured += 1;
                component.configure(&container).await?;
            }
            run_hooks(LifecyclePhase::PostConfigure, post_configure, &context).await?;
            let mut router = router;
            for component in components.iter_mut() {
                router = component.routes(router)?;
            }
            for map in router_maps {
                router = map(router);
            }
            let listener = bind(listen_on).await?;
            let local_addr = listener
                .local_addr()
                .map_err(|source| ComponentError::Listen {
                    addr: SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
                    source,
                })?;
            Ok::<_, ComponentError>((router, listener, local_addr))
        }
        .await;
        let (router, listener, local_addr) = match ready {
            Ok(parts) => parts,
            Err(error) => {
                stop_components(&mut components[..configured], &container).await;
                return Err(error);
            }
        };

        let router = router.layer(Extension(container.clone()));
        // The Socket.IO options' header and body read timeouts, when the component is in.
        let limits = container
            .get_optional(&crate::SocketIOBindingKeys::SOCKET_IO_INSTANCE)
            .ok()
            .flatten()
            .map(|io| io.serve_limits())
            .unwrap_or_default();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let shutdown = async move {
            // A dropped sender means the handle is gone: shut down too.
            let _ = shutdown_rx.await;
        };
        // HTTP/1.1 only, and the request head copied out of hyper's buffer:
        // about 8 KiB less per WebSocket than `axum::serve`.
        let server = tokio::spawn(ignis_socketio_server::serve_with(
            listener, router, shutdown, limits,
        ));
        tracing::info!(%local_addr, "application listening");

        let mut running = RunningApplication {
            container: container.clone(),
            components,
            local_addr,
            shutdown: Some(shutdown_tx),
            server: Some(server),
            stop_timeout,
        };
        let started = HookContext {
            container: container.clone(),
            local_addr: Some(local_addr),
        };
        for hook in post_start {
            tracing::debug!(hook = %hook.name, "post-start hook");
            if let Err(source) = run_hook(hook.run, started.clone()).await {
                let error = ComponentError::Hook {
                    phase: LifecyclePhase::PostStart,
                    name: hook.name,
                    source,
                };
                tracing::error!(%error, "start-up failed; stopping the application");
                if let Err(stop_error) = running.stop_inner().await {
                    tracing::error!(error = %stop_error, "stop after failed start-up");
                }
                return Err(error);
            }
        }
        Ok(running)
    }
}

/// Runs a hook in its own task, so that a panicking hook is reported as the
/// hook's error instead of unwinding through `start`.
async fn run_hook(hook: crate::component::HookFn, context: HookContext) -> Result<(), BoxError> {
    match tokio::spawn(hook(context)).await {
        Ok(result) => result,
        Err(join_error) if join_error.is_panic() => {
            let panic = join_error.into_panic();
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Err(format!("hook panicked: {message}").into())
        }
        Err(join_error) => Err(join_error.to_string().into()),
    }
}

async fn run_hooks(
    phase: LifecyclePhase,
    hooks: Vec<Hook>,
    context: &impl Fn() -> HookContext,
) -> Result<(), ComponentError> {
    for hook in hooks {
        tracing::debug!(%phase, hook = %hook.name, "hook");
        run_hook(hook.run, context())
            .await
            .map_err(|source| ComponentError::Hook {
                phase,
                name: hook.name,
                source,
            })?;
    }
    Ok(())
}

async fn bind(listen_on: ListenOn) -> Result<TcpListener, ComponentError> {
    match listen_on {
        ListenOn::Addr(addr) => ignis_socketio_server::bind_listener(addr)
            .await
            .map_err(|source| ComponentError::Listen { addr, source }),
        ListenOn::Listener(listener) => Ok(listener),
        ListenOn::StdListener(listener) => {
            let addr = listener.local_addr().unwrap_or(SocketAddr::new(
                std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                0,
            ));
            listener
                .set_nonblocking(true)
                .and_then(|()| TcpListener::from_std(listener))
                .map_err(|source| ComponentError::Listen { addr, source })
        }
    }
}

async fn stop_components(
    components: &mut [Box<dyn Component>],
    container: &Container,
) -> Vec<ComponentError> {
    let mut errors = Vec::new();
    for component in components.iter_mut().rev() {
        tracing::debug!(component = component.name(), "stop");
        if let Err(error) = component.stop(container).await {
            tracing::warn!(component = component.name(), %error, "stop failed");
            errors.push(error);
        }
    }
    errors
}

/// A started application. Stop it with [`stop`](RunningApplication::stop);
/// dropping it without stopping also closes the listener, but does not wait
/// for components to release their resources.
pub struct RunningApplication {
    container: Container,
    components: Vec<Box<dyn Component>>,
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    stop_timeout: Duration,
}

impl std::fmt::Debug for RunningApplication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningApplication")
            .field("local_addr", &self.local_addr)
            .field(
                "components",
                &self.components.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl RunningApplication {
    /// The address the server listens on (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The application container.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// The value bound under `key`.
    ///
    /// # Errors
    ///
    /// [`ContainerError::NotBound`] naming the key.
    pub fn get<T>(&self, key: &BindingKey<T>) -> Result<T, ContainerError>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.container.get(key)
    }

    /// Stops the application: components stop, last registered first (the
    /// Socket.IO component disconnects its clients, which still receive the
    /// DISCONNECT packet, and closes Redis); then the listener closes and the
    /// HTTP server finishes its in-flight requests (aborted after the stop
    /// timeout).
    ///
    /// # Errors
    ///
    /// Every component that failed to stop (all were asked to), or the
    /// server's own error.
    pub async fn stop(mut self) -> Result<(), ComponentError> {
        self.stop_inner().await
    }

    /// Waits for Ctrl-C (SIGINT) or SIGTERM, then [`stop`](RunningApplication::stop)s.
    /// If the HTTP server fails first, the components are stopped too and
    /// the server's error is returned.
    ///
    /// # Errors
    ///
    /// As [`stop`](RunningApplication::stop), or the server's failure.
    pub async fn stop_on_signal(self) -> Result<(), ComponentError> {
        self.stop_on(shutdown_signal()).await
    }

    /// Runs until `signal` completes, then [`stop`](RunningApplication::stop)s;
    /// like [`stop_on_signal`](RunningApplication::stop_on_signal) with a
    /// shutdown trigger of the caller's.
    ///
    /// # Errors
    ///
    /// As [`stop`](RunningApplication::stop), or the server's failure.
    pub async fn stop_on(mut self, signal: impl Future<Output = ()>) -> Result<(), ComponentError> {
        let Some(server) = self.server.as_mut() else {
            return self.stop().await;
        };
        tokio::select! {
            () = signal => {
                tracing::info!("shutdown requested");
                self.stop().await
            }
            finished = server => {
                // The server stopped on its own: nothing is served any more.
                self.server = None;
                let error = match finished {
                    Ok(Ok(())) => std::io::Error::other("the HTTP server stopped unexpectedly"),
                    Ok(Err(error)) => error,
                    Err(join_error) => std::io::Error::other(join_error.to_string()),
                };
                tracing::error!(%error, "HTTP server stopped; stopping the application");
                let _ = self.stop_inner().await;
                Err(ComponentError::Serve(error))
            }
        }
    }

    async fn stop_inner(&mut self) -> Result<(), ComponentError> {
        // Components first, while the server still serves: Socket.IO's
        // DISCONNECT packets reach polling clients through their pending
        // requests, which a closed server would cut.
        let mut errors = stop_components(&mut self.components, &self.container).await;
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut server) = self.server.take() {
            match tokio::time::timeout(self.stop_timeout, &mut server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => errors.push(ComponentError::Serve(error)),
                Ok(Err(join_error)) => errors.push(ComponentError::Serve(std::io::Error::other(
                    join_error.to_string(),
                ))),
                Err(_) => {
                    server.abort();
                    errors.push(ComponentError::StopTimeout(self.stop_timeout));
                }
            }
        }
        tracing::info!(local_addr = %self.local_addr, "application stopped");
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ComponentError::Stop(errors)),
        }
    }
}

impl Drop for RunningApplication {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
