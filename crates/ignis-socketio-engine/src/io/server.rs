//! The Socket.IO server: its namespaces on top of the engine, and the tower
//! layer that mounts it in an axum `Router`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use axum::body::Body;
use http::{Request, Response};

use super::adapter::AdapterError;
use super::client::ClientConn;
use super::config::IoConfig;
use super::types::{Adapter, IoShared, LocalAdapter, Namespace, NamespaceHandler};
use crate::engine::{Engine, EngineHandler, Session};

impl IoShared {
    pub(crate) fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.namespaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }
}

/// The engine handler of Socket.IO: a [`ClientConn`] per session.
pub struct IoHandler(Arc<IoShared>);

impl EngineHandler for IoHandler {
    type Connection = ClientConn;

    fn on_open(&self, session: &Arc<Session>, request: http::request::Parts) -> ClientConn {
        ClientConn::new(self.0.clone(), session.clone(), request)
    }
}

/// A Socket.IO server. Cheap to clone.
#[derive(Clone)]
pub struct SocketIo {
    shared: Arc<IoShared>,
    engine: Engine<IoHandler>,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl SocketIo {
    /// A server with `config`.
    pub fn new(config: IoConfig) -> SocketIo {
        let shared = Arc::new(IoShared {
            config: config.clone(),
            namespaces: RwLock::new(HashMap::new()),
        });
        let engine = Engine::new(config.engine, IoHandler(shared.clone()));
        SocketIo { shared, engine }
    }

    /// The settings.
    pub fn config(&self) -> &IoConfig {
        &self.shared.config
    }

    /// Declares namespace `name` (replacing one of the same name), served by
    /// `handler`, on this node only.
    pub fn ns(&self, name: &str, handler: impl NamespaceHandler) -> Arc<Namespace> {
        self.ns_with(name, Arc::new(handler), Arc::new(LocalAdapter))
    }

    /// Declares namespace `name` with an adapter to the rest of a fleet, and
    /// waits until the adapter is ready (e.g. subscribed).
    pub async fn ns_with_adapter(
        &self,
        name: &str,
        handler: Arc<dyn NamespaceHandler>,
        adapter: Arc<dyn Adapter>,
    ) -> Result<Arc<Namespace>, AdapterError> {
        let ns = self.ns_with(name, handler, adapter);
        ns.init_adapter().await?;
        Ok(ns)
    }

    /// Declares namespace `name` with an adapter whose
    /// [`Namespace::init_adapter`] the caller runs.
    pub fn ns_with(
        &self,
        name: &str,
        handler: Arc<dyn NamespaceHandler>,
        adapter: Arc<dyn Adapter>,
    ) -> Arc<Namespace> {
        let ns = Arc::new(Namespace::new(name.to_owned(), handler, adapter));
        self.shared
            .namespaces
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), ns.clone());
        ns
    }

    /// A declared namespace.
    pub fn of(&self, name: &str) -> Option<Arc<Namespace>> {
        self.shared.namespace(name)
    }

    /// Every declared namespace, sorted by name.
    pub fn namespaces(&self) -> Vec<Arc<Namespace>> {
        let mut all: Vec<Arc<Namespace>> = self
            .shared
            .namespaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// The engine underneath.
    pub fn engine(&self) -> &Engine<IoHandler> {
        &self.engine
    }

    /// What the engine counted since start.
    pub fn counters(&self) -> crate::engine::CountersSnapshot {
        self.engine.counters()
    }

    /// Whether `path` is served by this server.
    pub fn serves(&self, path: &str) -> bool {
        let own = self.shared.config.engine.path.trim_end_matches('/');
        path.strip_prefix(own)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Serves one request (under the configured path).
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.engine.handle(req).await
    }

    /// Closes every connection (what is queued is written first) and tells
    /// the namespaces' adapters to stop.
    pub async fn close(&self) {
        self.engine.close_all("server shutting down");
        for ns in self.namespaces() {
            ns.adapter.close().await;
        }
    }

    /// A tower layer serving this server's path in front of an inner
    /// service (an axum `Router`).
    pub fn layer(&self) -> SocketIoLayer {
        SocketIoLayer(self.clone())
    }
}

/// Mounts a [`SocketIo`] in front of a service (`router.layer(io.layer())`).
#[derive(Clone, Debug)]
pub struct SocketIoLayer(SocketIo);

impl<S> tower::Layer<S> for SocketIoLayer {
    type Service = SocketIoService<S>;

    fn layer(&self, inner: S) -> SocketIoService<S> {
        SocketIoService {
            io: self.0.clone(),
            inner,
        }
    }
}

/// The service of [`SocketIoLayer`].
#[derive(Clone, Debug)]
pub struct SocketIoService<S> {
    io: SocketIo,
    inner: S,
}

impl<S> tower::Service<Request<Body>> for SocketIoService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if self.io.serves(req.uri().path()) {
            let io = self.io.clone();
            Box::pin(async move { Ok(io.handle(req).await) })
        } else {
            Box::pin(self.inner.call(req))
        }
    }
}
