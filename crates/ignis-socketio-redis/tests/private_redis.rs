//! Tests on private redis-server processes on free ports (never the shared 6379):
//! a three-master Redis Cluster, and a Redis restart in the middle of traffic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{process::Stdio, time::Duration};

use common::{redis_process::*, *};
use ignis_socketio_redis::{RedisAdapterError, RedisAdapterState, RedisConfig, RedisEmitter};
use serde_json::json;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_of_three_masters_carries_broadcasts_and_requests() {
    let dir = temp_dir();
    let ports = [free_port(), free_port(), free_port()];
    let mut nodes = Vec::new();
    for port in ports {
        nodes.push(start_redis(port, &dir, true).await);
    }
    let status = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(ports.iter().map(|p| format!("127.0.0.1:{p}")))
        .arg("--cluster-replicas")
        .arg("0")
        .arg("--cluster-yes")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("redis-cli on PATH");
    assert!(status.success(), "redis-cli --cluster create failed");
    // Wait until the cluster is ready.
    for _ in 0..100 {
        let out = Command::new("redis-cli")
            .args(["-p", &ports[0].to_string(), "cluster", "info"])
            .output()
            .await
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let address = ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let key = random_key();
    let s1 = start_rust_server(connect_state(&address, &key).await).await;
    // The second server knows only one seed node.
    let one_seed = RedisConfig::cluster([format!("redis://127.0.0.1:{}", ports[2])]).key(&key);
    let s2 = start_rust_server(RedisAdapterState::connect(one_seed).await.unwrap()).await;
    // NUMSUB is summed over the masters.
    wait_server_count(&s1.state, 2).await;

    let (mut c1, _id1) = NodeProc::client(&s1.url(), "c1").await;
    let (mut c2, id2) = NodeProc::client(&s2.url(), "c2").await;
    s1.io.emit("cluster-all", &"x").await.unwrap();
    assert_eq!(c2.event("cluster-all").await, json!(["x"]));
    assert_eq!(c1.event("cluster-all").await, json!(["x"]));
    let sockets = s1.state.fetch_sockets("/", vec![], vec![]).await.unwrap();
    assert!(sockets.iter().any(|s| s.id == id2));
    let emitter = RedisEmitter::connect(address.parse::<RedisConfig>().unwrap().key(&key))
        .await
        .unwrap();
    emitter
        .to(id2.clone())
        .emit("from-emitter", &1)
        .await
        .unwrap();
    assert_eq!(c2.event("from-emitter").await, json!([1]));

    // A burst larger than pool_size on a fresh emitter: none waits for a slot.
    let fresh = RedisEmitter::connect(address.parse::<RedisConfig>().unwrap().key(&key))
        .await
        .unwrap();
    let sends = (0..64).map(|i| {
        let fresh = fresh.clone();
        async move { fresh.to("nobody").emit("burst", &i).await }
    });
    for result in futures_util::future::join_all(sends).await {
        result.unwrap();
    }

    s1.state.close().await;
    s2.state.close().await;
    drop(nodes);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_resumes_after_a_redis_restart() {
    let dir = temp_dir();
    let port = free_port();
    let address = format!("redis://127.0.0.1:{port}");
    let mut redis = start_redis(port, &dir, false).await;
    let key = random_key();
    let config = || {
        address
            .parse::<RedisConfig>()
            .unwrap()
            .key(&key)
            .requests_timeout(Duration::from_secs(2))
    };
    let s1 = start_rust_server(RedisAdapterState::connect(config()).await.unwrap()).await;
    let s2 = start_rust_server(RedisAdapterState::connect(config()).await.unwrap()).await;
    wait_server_count(&s1.state, 2).await;
    let (mut c2, _) = NodeProc::client(&s2.url(), "c2").await;
    s1.io.emit("before", &1).await.unwrap();
    c2.event("before").await;

    // Redis goes away: health says so and publishing is an error, not a panic.
    redis.child.kill().await.unwrap();
    let _ = redis.child.wait().await;
    for _ in 0..100 {
        if !s1.state.is_healthy() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !s1.state.is_healthy(),
        "health must report the lost connection"
    );
    assert!(s1.io.emit("during", &1).await.is_err());

    // Redis comes back on the same port: the adapters reconnect and resubscribe.
    let _redis = start_redis(port, &dir, false).await;
    for _ in 0..200 {
        if s1.state.is_healthy() && s2.state.is_healthy() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        s1.state.is_healthy() && s2.state.is_healthy(),
        "adapters did not reconnect"
    );
    assert!(s1.state.health().reconnects >= 1);
    wait_server_count(&s1.state, 2).await;
    let mut delivered = false;
    for _ in 0..20 {
        if s1.io.emit("after", &2).await.is_ok() {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "publishing never recovered");
    assert_eq!(c2.event("after").await, json!([2]));
    s1.state.close().await;
    s2.state.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// An emitter on the Redis at `port` with a single publishing connection.
async fn one_connection_emitter(port: u16) -> RedisEmitter {
    let mut config = format!("redis://127.0.0.1:{port}")
        .parse::<RedisConfig>()
        .unwrap()
        .key(random_key());
    config.pool_size = 1;
    RedisEmitter::connect(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_share_multiplexed_connections_without_a_ping_each() {
    let dir = temp_dir();
    let port = free_port();
    let _redis = start_redis(port, &dir, false).await;
    // One connection: taking a deadpool connection per command cost a
    // recycle PING each time, and let only `pool_size` commands run at once.
    let emitter = one_connection_emitter(port).await;
    let pings_before = command_calls(port, "ping").await;
    let sends = (0..200).map(|i| {
        let emitter = emitter.clone();
        async move { emitter.to("room").emit("event", &i).await }
    });
    for result in futures_util::future::join_all(sends).await {
        result.unwrap();
    }
    assert_eq!(command_calls(port, "publish").await, 200);
    assert_eq!(
        command_calls(port, "ping").await,
        pings_before,
        "a publish must not cost a PING"
    );
    emitter.close();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_publish_after_a_redis_restart_succeeds() {
    let dir = temp_dir();
    let port = free_port();
    let mut redis = start_redis(port, &dir, false).await;
    let emitter = one_connection_emitter(port).await;
    emitter.emit("before", &1).await.unwrap();

    // The kept connection is dead once Redis is back: the publish must not
    // fail because of it.
    redis.child.kill().await.unwrap();
    let _ = redis.child.wait().await;
    let _redis = start_redis(port, &dir, false).await;
    emitter.emit("after", &2).await.unwrap();
    assert_eq!(command_calls(port, "publish").await, 1);
    emitter.close();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn start_up_fails_with_a_clear_error_when_redis_is_absent() {
    let port = free_port();
    let config = format!("redis://127.0.0.1:{port}")
        .parse::<RedisConfig>()
        .unwrap()
        .connect_timeout(Duration::from_millis(500));
    let err = RedisAdapterState::connect(config).await.unwrap_err();
    assert!(
        matches!(err, RedisAdapterError::ConnectTimeout { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&port.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_database_in_the_url_are_used() {
    let dir = temp_dir();
    let port = free_port();
    let _redis = start_redis_with(port, &dir, false, &["--requirepass", "s3cret"]).await;
    let key = random_key();
    let good = format!("redis://:s3cret@127.0.0.1:{port}/2");
    let s1 = start_rust_server(connect_state(&good, &key).await).await;
    let s2 = start_rust_server(connect_state(&good, &key).await).await;
    wait_server_count(&s1.state, 2).await;
    let (mut c2, _) = NodeProc::client(&s2.url(), "c2").await;
    s1.io.emit("with-password", &1).await.unwrap();
    assert_eq!(c2.event("with-password").await, json!([1]));

    let bad = format!("redis://:wrong@127.0.0.1:{port}")
        .parse::<RedisConfig>()
        .unwrap()
        .connect_timeout(Duration::from_millis(500));
    let err = RedisAdapterState::connect(bad).await.unwrap_err();
    assert!(
        matches!(err, RedisAdapterError::ConnectTimeout { .. }),
        "{err}"
    );
    assert!(
        !err.to_string().contains("wrong"),
        "the password must not leak: {err}"
    );
    s1.state.close().await;
    s2.state.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
