//! The operations routes (docs/operations.md): liveness, readiness through
//! the lifecycle and with Redis, metrics in the Prometheus text format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::{header, http, redis_url, status, unique_key};
use ignis_socketio_component::{
    Application, AuthenticateFn, ComponentError, OperationsOptions, RunningApplication,
    ServerOptions, SocketIOBindingKeys, SocketIOComponent,
};
use ignis_socketio_redis::RedisConfig;
use ignis_socketio_server::{Handshake, Identity};

fn app(operations: Option<OperationsOptions>) -> Application {
    let app = Application::new().listen_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER)
        .to_value(AuthenticateFn::new(|_: Handshake| async move {
            Ok(Identity::new("tester"))
        }));
    if let Some(operations) = operations {
        app.bind(&SocketIOBindingKeys::OPERATIONS)
            .to_value(operations);
    }
    app
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

async fn get(running: &RunningApplication, path: &str) -> String {
    http(running.local_addr(), "GET", path, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_lifecycle_and_metrics_are_served() {
    let mut app = app(Some(OperationsOptions::default().metrics(true)));
    // An application hook registered first runs before the component's: the
    // listener accepts, but the component has not declared itself serving.
    let early = Arc::new(Mutex::new(String::new()));
    let seen = early.clone();
    app.on_post_start("probe", move |context| async move {
        let addr = context.local_addr.expect("listening");
        *seen.lock().unwrap() = http(addr, "GET", "/ready", &[]).await;
        Ok::<(), std::convert::Infallible>(())
    });
    app.component(SocketIOComponent::new());
    let running = app.start().await.unwrap();

    let early = early.lock().unwrap().clone();
    assert_eq!(status(&early), 503, "{early}");
    assert!(body(&early).contains("not serving"), "{early}");

    let ready = get(&running, "/ready").await;
    assert_eq!(status(&ready), 200, "{ready}");
    assert_eq!(body(&ready), r#"{"ready":true}"#);
    let health = get(&running, "/health").await;
    assert_eq!(status(&health), 200, "{health}");
    let metrics = get(&running, "/metrics").await;
    assert_eq!(status(&metrics), 200, "{metrics}");
    assert!(
        header(&metrics, "content-type")
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "{metrics}"
    );
    assert!(
        body(&metrics).contains(r#"socketio_sockets{state="authenticated"} 0"#),
        "{metrics}"
    );
    assert!(
        body(&metrics).contains("socketio_authentications_total"),
        "{metrics}"
    );
    // Other methods and paths are the application's.
    assert_eq!(
        status(&http(running.local_addr(), "POST", "/ready", &[]).await),
        404
    );

    let io = running
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap();
    io.shutdown().await;
    let stopped = get(&running, "/ready").await;
    assert_eq!(status(&stopped), 503, "{stopped}");
    assert!(body(&stopped).contains("shut down"), "{stopped}");
    assert_eq!(status(&get(&running, "/health").await), 200);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_needs_the_redis_subscription() {
    let mut app = app(Some(
        OperationsOptions::default()
            .metrics_path(Some("/ops/metrics"))
            .ready_path(Some("/readyz")),
    ));
    app.bind(&SocketIOBindingKeys::REDIS_CONNECTION)
        .to_value(RedisConfig::single(redis_url().await).key(unique_key()));
    app.component(SocketIOComponent::new());
    let running = app.start().await.unwrap();
    assert_eq!(status(&get(&running, "/readyz").await), 200);
    assert_eq!(status(&get(&running, "/ready").await), 404);
    let metrics = get(&running, "/ops/metrics").await;
    assert!(
        body(&metrics).contains("socketio_redis_subscriber_up 1"),
        "{metrics}"
    );

    let redis = running.get(&SocketIOBindingKeys::REDIS_ADAPTER).unwrap();
    redis.close().await;
    let ready = get(&running, "/readyz").await;
    assert_eq!(status(&ready), 503, "{ready}");
    assert!(body(&ready).contains("Redis"), "{ready}");
    let metrics = get(&running, "/ops/metrics").await;
    assert!(
        body(&metrics).contains("socketio_redis_subscriber_up 0"),
        "{metrics}"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn without_the_binding_nothing_is_served_and_metrics_stay_off() {
    let mut plain = app(None);
    plain.component(SocketIOComponent::new());
    let running = plain.start().await.unwrap();
    assert_eq!(status(&get(&running, "/health").await), 404);
    assert_eq!(status(&get(&running, "/metrics").await), 404);
    running.stop().await.unwrap();

    let mut no_metrics = app(Some(OperationsOptions::default()));
    no_metrics.component(SocketIOComponent::new());
    let running = no_metrics.start().await.unwrap();
    assert_eq!(status(&get(&running, "/health").await), 200);
    assert_eq!(status(&get(&running, "/metrics").await), 404);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_route_under_the_socket_io_path_is_refused() {
    let mut bad = app(Some(
        OperationsOptions::default().health_path(Some("/io/health")),
    ));
    bad.bind(&SocketIOBindingKeys::SERVER_OPTIONS)
        .to_value(ServerOptions::default());
    bad.component(SocketIOComponent::new());
    let error = bad.start().await.unwrap_err();
    assert!(
        matches!(error, ComponentError::InvalidBinding { .. }),
        "{error}"
    );
    assert_eq!(error.key(), Some("@app/socket-io/operations"));
    assert!(error.to_string().contains("/io/health"), "{error}");
}
