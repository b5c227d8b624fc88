//! The adapter's Prometheus metrics (docs/operations.md) against a real Redis:
//! requests to the other server timed by operation, publishes counted, the
//! subscriber's state read on each scrape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

/// The registry in the Prometheus text format.
fn scrape(registry: &Registry) -> String {
    let mut text = String::new();
    encode(&mut text, registry).unwrap();
    text
}

/// The value of one series (`name{labels}`, as printed) of a scrape.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_publishes_and_the_subscriber_are_measured() {
    let key = random_key();
    let a = start_rust_server(connect_state(&redis_url(), &key).await).await;
    let b = start_rust_server(connect_state(&redis_url(), &key).await).await;
    wait_server_count(&a.state, 2).await;
    let mut registry = Registry::default();
    a.state.register_metrics(&mut registry);
    let before = scrape(&registry);
    assert_eq!(value(&before, "socketio_redis_subscriber_up"), 1.0);
    assert_eq!(
        value(
            &before,
            r#"socketio_redis_request_duration_seconds_count{operation="all_rooms"}"#
        ),
        0.0
    );
    let published = value(&before, r#"socketio_redis_publishes_total{outcome="ok"}"#);

    a.state.all_rooms("/").await.unwrap();
    a.state
        .fetch_sockets("/", Vec::new(), Vec::new())
        .await
        .unwrap();
    a.state
        .fetch_sockets("/", Vec::new(), Vec::new())
        .await
        .unwrap();

    let after = scrape(&registry);
    assert_eq!(
        value(
            &after,
            r#"socketio_redis_request_duration_seconds_count{operation="all_rooms"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            r#"socketio_redis_request_duration_seconds_count{operation="fetch_sockets"}"#
        ),
        2.0
    );
    assert_eq!(value(&after, "socketio_redis_requests_in_flight"), 0.0);
    // Three requests published (their answers are B's publishes).
    assert_eq!(
        value(&after, r#"socketio_redis_publishes_total{outcome="ok"}"#),
        published + 3.0
    );
    assert_eq!(
        value(
            &after,
            r#"socketio_redis_publishes_total{outcome="failed"}"#
        ),
        0.0
    );
    assert_eq!(
        value(
            &after,
            r#"socketio_redis_reconnects_total{connection="subscriber"}"#
        ),
        0.0
    );

    a.state.close().await;
    assert_eq!(
        value(&scrape(&registry), "socketio_redis_subscriber_up"),
        0.0
    );
    b.state.close().await;
}
