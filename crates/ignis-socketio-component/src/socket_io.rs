//! `SocketIOComponent`: builds the server helper from the bindings, serves it
//! beside the application's routes, and shuts it down on stop.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ignis_socketio_redis::{RedisAdapterState, RedisConfig, SocketDetails};
use ignis_socketio_server::{
    AdminUiOptions, Handshake, Identity, ServerBuilder, SocketIOServerHelper, SocketObserver,
};
use tower::ServiceExt;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

use crate::component::{BindingContext, Component};
use crate::container::{BindingKey, Container, ContainerError};
use crate::error::{ComponentError, LifecyclePhase};
use crate::keys::{AuthenticateFn, ClientConnectedFn, SocketIOBindingKeys, ValidateRoomFn};
use crate::operations::Operations;
use crate::options::{
    CorsOrigins, OptionsError, ResolvedCors, ResolvedServerOptions, ServerOptions,
};
use crate::origin::OriginPolicy;

/// The component's name in logs and errors (the reference's scope).
pub const COMPONENT_NAME: &str = "SocketIOComponent";

/// What `binding` resolved, used by `configure`.
struct ResolvedBindings {
    options: ResolvedServerOptions,
    authenticate: AuthenticateFn,
    validate_room: Option<ValidateRoomFn>,
    client_connected: Option<ClientConnectedFn>,
    redis: Option<RedisConfig>,
    admin_ui: Option<AdminUiOptions>,
}

/// The Socket.IO component: register it on an [`Application`](crate::Application)
/// after binding the handlers under [`SocketIOBindingKeys`].
///
/// - default bindings: [`SocketIOBindingKeys::SERVER_OPTIONS`] ← empty
///   [`ServerOptions`] (every default), only when unbound;
/// - binding: resolves the options and handlers; a missing authenticate
///   handler or invalid options fail here, naming the key;
/// - configure: connects Redis when [`SocketIOBindingKeys::REDIS_CONNECTION`]
///   is bound (and waits for its subscriptions), builds the
///   [`SocketIOServerHelper`], binds it under
///   [`SocketIOBindingKeys::SOCKET_IO_INSTANCE`]: all before the listener
///   exists, so no client ever meets a missing endpoint;
/// - routes: mounts Socket.IO at the options' path (matched by whole path
///   segments: `/io-health` stays an application route), with CORS on that
///   path only;
/// - stop: shuts the helper down (clients disconnected, timers stopped),
///   closes Redis, unbinds the instance.
#[derive(Default)]
pub struct SocketIOComponent {
    resolved: Option<ResolvedBindings>,
    helper: Option<SocketIOServerHelper>,
    redis: Option<RedisAdapterState>,
    operations: Option<Operations>,
}

impl std::fmt::Debug for SocketIOComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIOComponent")
            .field("helper", &self.helper)
            .field("redis", &self.redis)
            .finish_non_exhaustive()
    }
}

impl SocketIOComponent {
    /// A component that reads its bindings when the application starts.
    pub fn new() -> Self {
        SocketIOComponent::default()
    }

    /// The options in effect, once the application has started.
    pub fn options(&self) -> Option<&ResolvedServerOptions> {
        self.resolved.as_ref().map(|r| &r.options)
    }
}

fn container_error(source: ContainerError) -> ComponentError {
    ComponentError::Container {
        component: COMPONENT_NAME.to_owned(),
        source,
    }
}

fn optional<T>(container: &Container, key: &BindingKey<T>) -> Result<Option<T>, ComponentError>
where
    T: Clone + Send + Sync + 'static,
{
    container.get_optional(key).map_err(container_error)
}

#[async_trait]
impl Component for SocketIOComponent {
    fn name(&self) -> &str {
        COMPONENT_NAME
    }

    fn default_bindings(&self, container: &Container) {
        container.bind_default(
            &SocketIOBindingKeys::SERVER_OPTIONS,
            ServerOptions::default(),
        );
    }

    async fn binding(&mut self, context: &mut BindingContext<'_>) -> Result<(), ComponentError> {
        let container = context.container();
        tracing::info!(
            component = COMPONENT_NAME,
            "binding Socket.IO for the application"
        );
        // Unbound after the defaults ran means the application unbound it on
        // purpose: treat it as "all defaults" rather than failing.
        let options = optional(container, &SocketIOBindingKeys::SERVER_OPTIONS)?
            .unwrap_or_default()
            .resolve()
            .map_err(|error| ComponentError::InvalidBinding {
                component: COMPONENT_NAME.to_owned(),
                key: SocketIOBindingKeys::SERVER_OPTIONS.as_str(),
                reason: error.to_string(),
            })?;
        let authenticate = optional(container, &SocketIOBindingKeys::AUTHENTICATE_HANDLER)?
            .ok_or_else(|| ComponentError::MissingBinding {
                component: COMPONENT_NAME.to_owned(),
                key: SocketIOBindingKeys::AUTHENTICATE_HANDLER.as_str(),
                what: "the authenticate handler",
            })?;
        let validate_room = optional(container, &SocketIOBindingKeys::VALIDATE_ROOM_HANDLER)?;
        let client_connected = optional(container, &SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER)?;
        let redis = optional(container, &SocketIOBindingKeys::REDIS_CONNECTION)?;
        let admin_ui = optional(container, &SocketIOBindingKeys::ADMIN_UI)?;
        if let Some(config) = &redis {
            config
                .validate()
                .map_err(|error| ComponentError::InvalidBinding {
                    component: COMPONENT_NAME.to_owned(),
                    key: SocketIOBindingKeys::REDIS_CONNECTION.as_str(),
                    reason: error.to_string(),
                })?;
        }
        self.operations = match optional(container, &SocketIOBindingKeys::OPERATIONS)? {
            Some(operations) => {
                operations.validate(&options.server.path).map_err(|error| {
                    ComponentError::InvalidBinding {
                        component: COMPONENT_NAME.to_owned(),
                        key: SocketIOBindingKeys::OPERATIONS.as_str(),
                        reason: error.to_string(),
                    }
                })?;
                let operations = Operations::new(operations);
                let serving = operations.serving_flag();
                context.register_post_start_hook("socket-io-ready", move |_| async move {
                    serving.store(true, std::sync::atomic::Ordering::SeqCst);
                    Ok::<(), std::convert::Infallible>(())
                });
                Some(operations)
            }
            None => None,
        };
        if validate_room.is_none() {
            tracing::info!(
                component = COMPONENT_NAME,
                key = SocketIOBindingKeys::VALIDATE_ROOM_HANDLER.as_str(),
                "no room validator bound: every join request is refused"
            );
        }
        if options.cors.mirror_any_origin {
            tracing::warn!(
                component = COMPONENT_NAME,
                "CORS allows any origin with credentials (development switch): never in production"
            );
        }
        tracing::debug!(
            component = COMPONENT_NAME,
            ?options,
            redis = redis.is_some(),
            "Socket.IO server options"
        );
        self.resolved = Some(ResolvedBindings {
            options,
            authenticate,
            validate_room,
            client_connected,
            redis,
            admin_ui,
        });
        Ok(())
    }

    async fn configure(&mut self, container: &Container) -> Result<(), ComponentError> {
        let Some(resolved) = &self.resolved else {
            return Err(ComponentError::component(
                COMPONENT_NAME,
                LifecyclePhase::Configure,
                "configure called before binding",
            ));
        };
        let options = &resolved.options;
        let mut builder: ServerBuilder = SocketIOServerHelper::builder()
            .options(options.server.clone())
            .authenticate(resolved.authenticate.clone());
        if let Some(validator) = &resolved.validate_room {
            builder = builder.validate_rooms(validator.clone());
        }
        if let Some(handler) = &resolved.client_connected {
            builder = builder.on_client_connected(handler.clone());
        }
        if let Some(operations) = &self.operations {
            builder = operations.instrument(builder);
        }
        let build_error =
            |error: ignis_socketio_server::BuildError| ComponentError::InvalidBinding {
                component: COMPONENT_NAME.to_owned(),
                key: SocketIOBindingKeys::SERVER_OPTIONS.as_str(),
                reason: error.to_string(),
            };
        let helper = match &resolved.redis {
            None => {
                if let Some(admin) = resolved.admin_ui.clone() {
                    builder = builder.admin_ui(admin);
                }
                builder.build().map_err(build_error)?
            }
            Some(config) => {
                let state = RedisAdapterState::connect(config.clone())
                    .await
                    .map_err(|error| ComponentError::InvalidBinding {
                        component: COMPONENT_NAME.to_owned(),
                        key: SocketIOBindingKeys::REDIS_CONNECTION.as_str(),
                        reason: format!("cannot connect to Redis: {error}"),
                    })?;
                // Keep the state before building, so a failed build still closes it on stop.
                self.redis = Some(state.clone());
                if let Some(admin) = resolved.admin_ui.clone() {
                    let adapter = state.adapter(admin.namespace_name());
                    builder = builder.admin_ui(admin.adapter(adapter));
                }
                builder
                    .observer(Arc::new(RedisSocketDetails(state.clone())))
                    .build_with_adapter(state.adapter("/"))
                    .await
                    .map_err(|error| match error {
                        ignis_socketio_server::BuildError::AdapterInit(reason) => {
                            ComponentError::InvalidBinding {
                                component: COMPONENT_NAME.to_owned(),
                                key: SocketIOBindingKeys::REDIS_CONNECTION.as_str(),
                                reason: format!("Redis adapter failed to start: {reason}"),
                            }
                        }
                        other => build_error(other),
                    })?
            }
        };
        if let Some(operations) = &mut self.operations {
            operations.attach(&helper, self.redis.as_ref());
        }
        if let Some(state) = &self.redis {
            container
                .bind(&SocketIOBindingKeys::REDIS_ADAPTER)
                .to_value(state.clone());
        }
        container
            .bind(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
            .to_value(helper.clone());
        tracing::info!(
            component = COMPONENT_NAME,
            identifier = %options.server.identifier,
            path = %options.server.path,
            adapter = if self.redis.is_some() { "redis" } else { "in-memory" },
            "Socket.IO server ready"
        );
        self.helper = Some(helper);
        Ok(())
    }

    fn routes(&mut self, router: Router) -> Result<Router, ComponentError> {
        let (Some(helper), Some(resolved)) = (&self.helper, &self.resolved) else {
            return Err(ComponentError::component(
                COMPONENT_NAME,
                LifecyclePhase::Routes,
                "routes called before configure",
            ));
        };
        let endpoint = socket_io_endpoint(helper, &resolved.options.cors).map_err(|error| {
            ComponentError::InvalidBinding {
                component: COMPONENT_NAME.to_owned(),
                key: SocketIOBindingKeys::SERVER_OPTIONS.as_str(),
                reason: error.to_string(),
            }
        })?;
        let path: Arc<str> = Arc::from(resolved.options.server.path.as_str());
        let policy = OriginPolicy::new(&resolved.options.cors);
        let router = router.layer(middleware::from_fn_with_state(
            (path, endpoint, policy),
            dispatch_socket_io,
        ));
        Ok(match &self.operations {
            Some(operations) => operations.layer(router),
            None => router,
        })
    }

    async fn stop(&mut self, container: &Container) -> Result<(), ComponentError> {
        if let Some(operations) = &self.operations {
            operations.stopping();
        }
        if let Some(helper) = self.helper.take() {
            helper.shutdown().await;
            container.unbind(&SocketIOBindingKeys::SOCKET_IO_INSTANCE);
        }
        if let Some(redis) = self.redis.take() {
            redis.close().await;
            container.unbind(&SocketIOBindingKeys::REDIS_ADAPTER);
        }
        tracing::info!(component = COMPONENT_NAME, "Socket.IO stopped");
        Ok(())
    }
}

/// Publishes each socket's handshake and identity to the Redis adapter, so
/// that `fetchSockets()` on any server of the cluster, Node's included, sees
/// Rust sockets as Node would show its own (`socket.handshake`, `socket.data`
/// = `{identity: {id, claims}}` once authenticated). The component registers
/// it when Redis is bound; an application building the helper itself adds it
/// with `ServerBuilder::observer`.
pub struct RedisSocketDetails(pub RedisAdapterState);

impl SocketObserver for RedisSocketDetails {
    fn socket_connected(&self, id: &str, handshake: &Handshake) {
        let details = SocketDetails {
            handshake: handshake.to_node_json(),
            data: serde_json::Value::Null,
        };
        self.0.register_socket("/", id, details);
    }

    fn socket_authenticated(&self, id: &str, handshake: &Handshake, identity: &Identity) {
        let details = SocketDetails {
            handshake: handshake.to_node_json(),
            data: identity.to_node_data(),
        };
        self.0.register_socket("/", id, details);
    }

    fn socket_disconnected(&self, id: &str) {
        self.0.unregister_socket("/", id);
    }
}

/// Whether `path` is the Socket.IO path or below it, by whole segments.
fn is_socket_io_path(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Sends Socket.IO requests to the endpoint (origin check and CORS
/// included), the rest to the application's routes.
async fn dispatch_socket_io(
    State((path, endpoint, policy)): State<(Arc<str>, Router, OriginPolicy)>,
    request: Request,
    next: Next,
) -> Response {
    if is_socket_io_path(request.uri().path(), &path) {
        if !policy.allows(request.headers()) {
            tracing::warn!(
                component = COMPONENT_NAME,
                origin = ?request.headers().get(header::ORIGIN),
                "Socket.IO request from a foreign origin refused"
            );
            // Engine.IO's own error shape, so browser clients report it.
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"code":4,"message":"Forbidden"}"#,
            )
                .into_response();
        }
        match endpoint.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else {
        next.run(request).await
    }
}

/// The Socket.IO service alone, with CORS on it.
fn socket_io_endpoint(
    helper: &SocketIOServerHelper,
    cors: &ResolvedCors,
) -> Result<Router, OptionsError> {
    cors.apply_to(helper.attach(Router::new()))
}

impl ResolvedCors {
    /// Applies these CORS settings to `router` exactly as the component
    /// applies them to the Socket.IO endpoint (origins, methods, headers,
    /// credentials, preflight status); for an application's own routes that
    /// pages of other origins call, e.g. a REST API beside Socket.IO, so both
    /// answer browsers alike. [`CorsOrigins::SameOrigin`] returns the router
    /// unchanged. No `Origin` check is added (that is the Socket.IO
    /// endpoint's, see [`CorsOptions::enforce_origin`](crate::CorsOptions::enforce_origin)).
    /// Layer your router before [`Application::merge`](crate::Application::merge)
    /// (and give it a fallback if unknown paths should carry CORS headers too).
    ///
    /// # Errors
    ///
    /// [`OptionsError`] naming the field a header cannot carry (resolved
    /// options were already checked, so this is not expected).
    pub fn apply_to(&self, router: Router) -> Result<Router, OptionsError> {
        let Some(layer) = cors_layer(self)? else {
            return Ok(router);
        };
        let status = StatusCode::from_u16(self.options_success_status)
            .map_err(|e| OptionsError::new("cors.options_success_status", e.to_string()))?;
        Ok(router
            .layer(layer)
            .layer(middleware::from_fn_with_state(status, preflight_status)))
    }
}

/// tower-http answers a preflight with 200; the reference answers 204
/// (`optionsSuccessStatus`), configurable.
async fn preflight_status(
    State(status): State<StatusCode>,
    request: Request,
    next: Next,
) -> Response {
    let is_preflight = request.method() == Method::OPTIONS;
    let mut response = next.run(request).await;
    if is_preflight
        && response.status() == StatusCode::OK
        && response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS)
    {
        *response.status_mut() = status;
    }
    response
}

/// The CORS layer for resolved options; `None` for same-origin only.
fn cors_layer(cors: &ResolvedCors) -> Result<Option<CorsLayer>, OptionsError> {
    let origin = match &cors.origins {
        CorsOrigins::SameOrigin => return Ok(None),
        CorsOrigins::List(origins) => AllowOrigin::list(
            origins
                .iter()
                .map(|o| {
                    HeaderValue::from_str(o).map_err(|_| {
                        OptionsError::new("cors.origins", format!("invalid origin {o:?}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        // Resolving refused Any with credentials outside development; with
        // credentials browsers reject `*`, so mirror the origin instead.
        CorsOrigins::Any if cors.mirror_any_origin => AllowOrigin::mirror_request(),
        CorsOrigins::Any => AllowOrigin::any(),
    };
    let methods = cors
        .methods
        .iter()
        .map(|m| {
            Method::from_bytes(m.as_bytes())
                .map_err(|_| OptionsError::new("cors.methods", format!("invalid method {m:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let headers = match &cors.allowed_headers {
        None => AllowHeaders::mirror_request(),
        Some(list) => AllowHeaders::list(
            list.iter()
                .map(|h| {
                    header::HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                        OptionsError::new("cors.allowed_headers", format!("invalid header {h:?}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let mut layer = CorsLayer::new()
        .allow_origin(origin)
        .allow_methods(AllowMethods::list(methods))
        .allow_headers(headers)
        .allow_credentials(cors.credentials);
    if let Some(max_age) = cors.max_age {
        layer = layer.max_age(max_age);
    }
    Ok(Some(layer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_io_path_matches_whole_segments_only() {
        assert!(is_socket_io_path("/io", "/io"));
        assert!(is_socket_io_path("/io/", "/io"));
        assert!(is_socket_io_path("/io/socket.io.js", "/io"));
        assert!(!is_socket_io_path("/io-health", "/io"));
        assert!(!is_socket_io_path("/iot/x", "/io"));
        assert!(!is_socket_io_path("/api/io", "/io"));
    }

    fn preflight(origin: &str) -> Request {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/x")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(axum::body::Body::empty())
            .expect("a valid request")
    }

    async fn answer(router: Router, request: Request) -> Response {
        match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn apply_to_gives_own_routes_the_endpoint_cors_with_preflight_status() {
        let routes = || Router::new().route("/api/x", axum::routing::post(|| async { "ok" }));
        let any = crate::ServerOptions::default()
            .cors(
                crate::CorsOptions::default()
                    .allow_any_origin()
                    .credentials(false),
            )
            .resolve()
            .expect("valid options");
        let router = any.cors.apply_to(routes()).expect("valid CORS");
        let response = answer(router, preflight("http://page.example")).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let headers = response.headers();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));

        let listed = crate::ServerOptions::default()
            .cors(crate::CorsOptions::default().allow_origins(["http://app.example"]))
            .resolve()
            .expect("valid options");
        let router = listed.cors.apply_to(routes()).expect("valid CORS");
        let response = answer(router.clone(), preflight("http://app.example")).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://app.example"
        );
        assert_eq!(
            response.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
            "true"
        );
        let foreign = answer(router, preflight("http://evil.example")).await;
        assert!(
            !foreign
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }

    #[tokio::test]
    async fn apply_to_leaves_same_origin_routers_unchanged() {
        let same_origin = crate::ServerOptions::default()
            .resolve()
            .expect("valid options");
        let router = same_origin
            .cors
            .apply_to(Router::new().route("/api/x", axum::routing::post(|| async { "ok" })))
            .expect("valid CORS");
        let response = answer(router, preflight("http://page.example")).await;
        assert!(
            !response
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }
}
