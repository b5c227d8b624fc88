//! The component's operations endpoints (`docs/operations.md`): Prometheus
//! metrics, liveness and readiness, served when [`OperationsOptions`] is bound
//! under [`SocketIOBindingKeys::OPERATIONS`](crate::SocketIOBindingKeys::OPERATIONS).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ignis_socketio_redis::RedisAdapterState;
use ignis_socketio_server::{ServerBuilder, SocketIOServerHelper};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;
use serde_json::json;

use crate::options::OptionsError;

/// The path of the metrics route once turned on with [`OperationsOptions::metrics`].
pub const DEFAULT_METRICS_PATH: &str = "/metrics";
/// The default liveness path.
pub const DEFAULT_HEALTH_PATH: &str = "/health";
/// The default readiness path.
pub const DEFAULT_READY_PATH: &str = "/ready";

/// Which operations routes the component serves. Bound under
/// [`SocketIOBindingKeys::OPERATIONS`](crate::SocketIOBindingKeys::OPERATIONS);
/// unbound, the component serves none of them.
///
/// The default serves `GET /health` and `GET /ready`, and no metrics (metrics
/// are off: the helper then counts nothing). Each route answers `GET` and
/// `HEAD` on its exact path and is taken before the application's routes.
///
/// ```
/// use ignis_socketio_component::OperationsOptions;
/// let options = OperationsOptions::default().metrics(true).ready_path(Some("/readyz"));
/// assert_eq!(options.metrics_path_in_use(), Some("/metrics"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationsOptions {
    metrics_path: Option<String>,
    health_path: Option<String>,
    ready_path: Option<String>,
}

impl Default for OperationsOptions {
    fn default() -> Self {
        OperationsOptions {
            metrics_path: None,
            health_path: Some(DEFAULT_HEALTH_PATH.to_owned()),
            ready_path: Some(DEFAULT_READY_PATH.to_owned()),
        }
    }
}

impl OperationsOptions {
    /// Serves the metrics at [`DEFAULT_METRICS_PATH`] (`true`) or not at all.
    pub fn metrics(self, enabled: bool) -> Self {
        self.metrics_path(enabled.then_some(DEFAULT_METRICS_PATH))
    }

    /// Serves the metrics at `path`, or not at all (`None`).
    pub fn metrics_path(mut self, path: Option<impl Into<String>>) -> Self {
        self.metrics_path = path.map(Into::into);
        self
    }

    /// Serves liveness at `path`, or not at all (`None`).
    pub fn health_path(mut self, path: Option<impl Into<String>>) -> Self {
        self.health_path = path.map(Into::into);
        self
    }

    /// Serves readiness at `path`, or not at all (`None`).
    pub fn ready_path(mut self, path: Option<impl Into<String>>) -> Self {
        self.ready_path = path.map(Into::into);
        self
    }

    /// Where the metrics are served, if they are.
    pub fn metrics_path_in_use(&self) -> Option<&str> {
        self.metrics_path.as_deref()
    }

    /// Checks the paths: absolute, distinct, and none under the Socket.IO path.
    pub fn validate(&self, socket_io_path: &str) -> Result<(), OptionsError> {
        let paths = [
            ("operations.metrics_path", &self.metrics_path),
            ("operations.health_path", &self.health_path),
            ("operations.ready_path", &self.ready_path),
        ];
        let mut seen: Vec<&str> = Vec::new();
        for (field, path) in paths {
            let Some(path) = path.as_deref() else {
                continue;
            };
            if !path.starts_with('/') || path.len() < 2 {
                return Err(OptionsError::new(
                    field,
                    format!("{path:?} must start with '/' and name a route"),
                ));
            }
            let under_io = path
                .strip_prefix(socket_io_path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if under_io {
                return Err(OptionsError::new(
                    field,
                    format!("{path:?} is under the Socket.IO path {socket_io_path:?}"),
                ));
            }
            if seen.contains(&path) {
                return Err(OptionsError::new(field, format!("{path:?} is used twice")));
            }
            seen.push(path);
        }
        Ok(())
    }
}

/// What the operations routes read: the helper, Redis, whether the
/// application is serving, and the metrics registry.
#[derive(Clone)]
pub(crate) struct Operations {
    options: OperationsOptions,
    serving: Arc<AtomicBool>,
    registry: Option<Arc<Registry>>,
    helper: Option<SocketIOServerHelper>,
    redis: Option<RedisAdapterState>,
}

impl Operations {
    pub(crate) fn new(options: OperationsOptions) -> Self {
        Operations {
            options,
            serving: Arc::new(AtomicBool::new(false)),
            registry: None,
            helper: None,
            redis: None,
        }
    }

    /// The flag the post-start hook sets once the listener accepts connections.
    pub(crate) fn serving_flag(&self) -> Arc<AtomicBool> {
        self.serving.clone()
    }

    /// Turns the helper's metrics on when they are served.
    pub(crate) fn instrument(&self, builder: ServerBuilder) -> ServerBuilder {
        builder.metrics(self.options.metrics_path.is_some())
    }

    /// Registers what the routes report on, once the helper is built.
    pub(crate) fn attach(
        &mut self,
        helper: &SocketIOServerHelper,
        redis: Option<&RedisAdapterState>,
    ) {
        if self.options.metrics_path.is_some() {
            let mut registry = Registry::default();
            helper.register_metrics(&mut registry);
            if let Some(redis) = redis {
                redis.register_metrics(&mut registry);
            }
            self.registry = Some(Arc::new(registry));
        }
        self.helper = Some(helper.clone());
        self.redis = redis.cloned();
    }

    /// Readiness goes false first thing on stop.
    pub(crate) fn stopping(&self) {
        self.serving.store(false, Ordering::SeqCst);
    }

    /// Answers the operations paths, passes the rest on.
    pub(crate) fn layer(&self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(
            Arc::new(self.clone()),
            answer,
        ))
    }
}

impl Operations {
    /// Why this node should not get traffic now, if it should not.
    fn not_ready(&self) -> Option<&'static str> {
        if !self.serving.load(Ordering::SeqCst) {
            return Some(
                "not serving: the listener is not accepting connections yet, or the application is stopping",
            );
        }
        if self.helper.as_ref().is_none_or(|h| h.is_shut_down()) {
            return Some("the Socket.IO server is shut down");
        }
        let redis = self.redis.as_ref().map(RedisAdapterState::health)?;
        if redis.closed {
            return Some("the Redis adapter is closed");
        }
        (!redis.subscriber_connected).then_some("the Redis adapter is not subscribed")
    }

    fn metrics(&self) -> Response {
        let Some(registry) = &self.registry else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let mut text = String::new();
        match prometheus_text::encode(&mut text, registry) {
            Ok(()) => (
                [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
                text,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "metrics could not be encoded");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

async fn answer(State(routes): State<Arc<Operations>>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let path = Some(request.uri().path());
    let options = &routes.options;
    if path == options.metrics_path.as_deref() {
        routes.metrics()
    } else if path == options.health_path.as_deref() {
        axum::Json(json!({ "status": "ok" })).into_response()
    } else if path == options.ready_path.as_deref() {
        match routes.not_ready() {
            None => axum::Json(json!({ "ready": true })).into_response(),
            Some(reason) => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "ready": false, "reason": reason })),
            )
                .into_response(),
        }
    } else {
        next.run(request).await
    }
}
