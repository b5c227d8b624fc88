//! The application lifecycle: order of every step, failure handling, serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::routing::get;
use ignis_socketio_component::{
    Application, BindingContext, BindingKey, Component, ComponentError, Container, LifecyclePhase,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Log = Arc<Mutex<Vec<String>>>;

const PROVIDED: BindingKey<String> = BindingKey::new("@test/provided");
const DEFAULTED: BindingKey<u32> = BindingKey::new("@test/defaulted");

#[derive(Clone, Copy, PartialEq)]
enum FailAt {
    Nowhere,
    Binding,
    Configure,
    PostStart,
}

struct Recorder {
    name: &'static str,
    log: Log,
    fail_at: FailAt,
}

impl Recorder {
    fn new(name: &'static str, log: &Log) -> Self {
        Recorder {
            name,
            log: log.clone(),
            fail_at: FailAt::Nowhere,
        }
    }

    fn failing_at(mut self, fail_at: FailAt) -> Self {
        self.fail_at = fail_at;
        self
    }

    fn push(&self, step: &str) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{step}", self.name));
    }
}

#[async_trait]
impl Component for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn default_bindings(&self, container: &Container) {
        self.push("default-bindings");
        container.bind_default(&DEFAULTED, 1);
    }

    async fn binding(&mut self, context: &mut BindingContext<'_>) -> Result<(), ComponentError> {
        self.push("binding");
        if self.fail_at == FailAt::Binding {
            return Err(ComponentError::InvalidBinding {
                component: self.name.into(),
                key: "@test/provided",
                reason: "refused by the test".into(),
            });
        }
        let log = self.log.clone();
        let name = self.name;
        let fail = self.fail_at == FailAt::PostStart;
        context.register_post_start_hook(format!("{name}-hook"), move |ctx| async move {
            // The server accepts connections while post-start hooks run.
            let addr = ctx.local_addr.expect("post-start hooks know the address");
            TcpStream::connect(addr).await?;
            log.lock().unwrap().push(format!("{name}:post-start"));
            if fail {
                return Err(std::io::Error::other("hook refused by the test"));
            }
            Ok(())
        });
        Ok(())
    }

    async fn configure(&mut self, container: &Container) -> Result<(), ComponentError> {
        self.push("configure");
        if self.fail_at == FailAt::Configure {
            return Err(ComponentError::component(
                self.name,
                LifecyclePhase::Configure,
                "configure refused by the test",
            ));
        }
        container
            .bind(&PROVIDED)
            .to_value(format!("from {}", self.name));
        Ok(())
    }

    fn routes(&mut self, router: Router) -> Result<Router, ComponentError> {
        self.push("routes");
        let name = self.name;
        Ok(router.route(&format!("/{name}"), get(move || async move { name })))
    }

    async fn stop(&mut self, _container: &Container) -> Result<(), ComponentError> {
        self.push("stop");
        Ok(())
    }
}

fn app_with_hooks(log: &Log) -> Application {
    let mut app = Application::new().listen_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    let l = log.clone();
    app.on_pre_configure("pre", move |_| async move {
        l.lock().unwrap().push("app:pre-configure".into());
        Ok::<_, std::io::Error>(())
    });
    let l = log.clone();
    app.on_post_configure("post-configure", move |ctx| async move {
        assert!(ctx.local_addr.is_none());
        l.lock().unwrap().push("app:post-configure".into());
        Ok::<_, std::io::Error>(())
    });
    let l = log.clone();
    app.on_post_start("app-post-start", move |_| async move {
        l.lock().unwrap().push("app:post-start".into());
        Ok::<_, std::io::Error>(())
    });
    app
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn lifecycle_steps_run_in_documented_order() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.component(Recorder::new("a", &log));
    app.component(Recorder::new("b", &log));
    let running = app.start().await.unwrap();
    assert_eq!(
        entries(&log),
        [
            "app:pre-configure",
            "a:default-bindings",
            "a:binding",
            "b:default-bindings",
            "b:binding",
            "a:configure",
            "b:configure",
            "app:post-configure",
            "a:routes",
            "b:routes",
            "app:post-start",
            "a:post-start",
            "b:post-start",
        ]
    );
    log.lock().unwrap().clear();
    running.stop().await.unwrap();
    assert_eq!(entries(&log), ["b:stop", "a:stop"]);
}

#[tokio::test]
async fn application_routes_and_component_routes_are_served_together() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.route("/health", get(|| async { "healthy" }));
    app.component(Recorder::new("a", &log));
    let running = app.start().await.unwrap();
    let addr = running.local_addr();
    assert!(http_get(addr, "/health").await.ends_with("healthy"));
    assert!(http_get(addr, "/a").await.ends_with("\r\n\r\na"));
    assert!(http_get(addr, "/missing").await.starts_with("HTTP/1.1 404"));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn route_handlers_can_extract_the_container() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.route(
        "/provided",
        get(
            |axum::Extension(container): axum::Extension<Container>| async move {
                container.get(&PROVIDED).unwrap_or_default()
            },
        ),
    );
    app.component(Recorder::new("a", &log));
    let running = app.start().await.unwrap();
    assert!(
        http_get(running.local_addr(), "/provided")
            .await
            .ends_with("from a")
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn default_bindings_never_replace_application_bindings() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.bind(&DEFAULTED).to_value(42);
    app.component(Recorder::new("a", &log));
    let running = app.start().await.unwrap();
    assert_eq!(running.get(&DEFAULTED).unwrap(), 42);
    running.stop().await.unwrap();

    let mut app = app_with_hooks(&log);
    app.component(Recorder::new("a", &log));
    let running = app.start().await.unwrap();
    assert_eq!(running.get(&DEFAULTED).unwrap(), 1);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn binding_failure_stops_start_before_anything_is_configured() {
    let log: Log = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = app_with_hooks(&log).with_std_listener(listener);
    app.component(Recorder::new("a", &log));
    app.component(Recorder::new("b", &log).failing_at(FailAt::Binding));
    let error = app.start().await.unwrap_err();
    assert_eq!(error.key(), Some("@test/provided"));
    assert_eq!(
        error.to_string(),
        "[b] Binding key: @test/provided is invalid: refused by the test"
    );
    assert_eq!(
        entries(&log),
        [
            "app:pre-configure",
            "a:default-bindings",
            "a:binding",
            "b:default-bindings",
            "b:binding"
        ]
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener must be closed"
    );
}

#[tokio::test]
async fn configure_failure_stops_the_configured_components_last_first() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.component(Recorder::new("a", &log));
    app.component(Recorder::new("b", &log).failing_at(FailAt::Configure));
    app.component(Recorder::new("c", &log));
    let error = app.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "[b] configure failed: configure refused by the test"
    );
    let log = entries(&log);
    let tail: Vec<_> = log.iter().skip_while(|e| *e != "a:configure").collect();
    assert_eq!(tail, ["a:configure", "b:configure", "b:stop", "a:stop"]);
}

#[tokio::test]
async fn failing_post_start_hook_stops_the_listener_and_components() {
    let log: Log = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = app_with_hooks(&log).with_std_listener(listener);
    app.component(Recorder::new("a", &log).failing_at(FailAt::PostStart));
    let error = app.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "post-start hook 'a-hook' failed: hook refused by the test"
    );
    assert!(matches!(
        error,
        ComponentError::Hook {
            phase: LifecyclePhase::PostStart,
            ..
        }
    ));
    assert_eq!(entries(&log).last().map(String::as_str), Some("a:stop"));
    // The listener is closed: the reference kept listening here.
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener must be closed"
    );
}

#[tokio::test]
async fn failing_pre_configure_hook_names_the_hook() {
    let mut app = Application::new().listen_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    app.on_pre_configure("load-secrets", |_| async {
        Err::<(), _>(std::io::Error::other("vault unreachable"))
    });
    let error = app.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "pre-configure hook 'load-secrets' failed: vault unreachable"
    );
}

#[tokio::test]
async fn listen_error_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let app = Application::new().listen_on(addr);
    // SO_REUSEADDR does not allow two listeners on one port.
    let error = app.start().await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on {addr}")),
        "{error}"
    );
}

#[tokio::test]
async fn stop_closes_the_listener() {
    let app = Application::new()
        .listen_on(SocketAddr::from(([127, 0, 0, 1], 0)))
        .stop_timeout(Duration::from_secs(5));
    let running = app.start().await.unwrap();
    let addr = running.local_addr();
    assert!(TcpStream::connect(addr).await.is_ok());
    running.stop().await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn panicking_post_start_hook_is_an_error_and_stops_the_application() {
    let log: Log = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = Application::new().with_std_listener(listener);
    app.component(Recorder::new("a", &log));
    app.on_post_start("explodes", |_| async {
        if true {
            panic!("boom");
        }
        Ok::<(), std::io::Error>(())
    });
    let error = app.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "post-start hook 'explodes' failed: hook panicked: boom"
    );
    assert_eq!(entries(&log).last().map(String::as_str), Some("a:stop"));
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener must be closed"
    );
}

#[tokio::test]
async fn map_router_wraps_application_and_component_routes() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.route("/health", get(|| async { "healthy" }));
    app.component(Recorder::new("a", &log));
    app.map_router(|router| {
        router.layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response
                    .headers_mut()
                    .insert("x-app", axum::http::HeaderValue::from_static("1"));
                response
            },
        ))
    });
    let running = app.start().await.unwrap();
    let addr = running.local_addr();
    for path in ["/health", "/a", "/missing"] {
        let response = http_get(addr, path).await;
        assert!(
            response.to_ascii_lowercase().contains("x-app: 1"),
            "{path}: {response}"
        );
    }
    running.stop().await.unwrap();
}

#[tokio::test]
async fn stop_on_runs_until_the_trigger_then_stops_components() {
    let log: Log = Arc::default();
    let mut app = app_with_hooks(&log);
    app.component(Recorder::new("a", &log));
    let running = app.start().await.unwrap();
    let addr = running.local_addr();
    let (trigger, triggered) = tokio::sync::oneshot::channel::<()>();
    let stopping = tokio::spawn(running.stop_on(async move {
        let _ = triggered.await;
    }));
    assert!(
        http_get(addr, "/a").await.ends_with("\r\n\r\na"),
        "serving until triggered"
    );
    assert!(!entries(&log).contains(&"a:stop".to_owned()));
    trigger.send(()).unwrap();
    stopping.await.unwrap().unwrap();
    assert_eq!(entries(&log).last().map(String::as_str), Some("a:stop"));
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener must be closed"
    );
}
