//! Delivery through a Redis that a test kills and restarts: concurrent sends at
//! a cold start and after a restart, sends while Redis is down, the start-up
//! wait, and sends answered with a success that never reached a server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{redis_process::*, *};
use ignis_socketio_redis::{RedisAdapterError, RedisAdapterState, RedisConfig, RedisEmitter};
use serde_json::json;

fn config(port: u16) -> RedisConfig {
    format!("redis://127.0.0.1:{port}")
        .parse::<RedisConfig>()
        .unwrap()
}

/// `n` emits at once; the errors, in order.
async fn concurrent_emits(emitter: &RedisEmitter, n: usize) -> Vec<RedisAdapterError> {
    let sends = (0..n).map(|i| {
        let emitter = emitter.clone();
        async move { emitter.to("room").emit("event", &i).await }
    });
    futures_util::future::join_all(sends)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_at_a_cold_start_all_succeed() {
    let dir = temp_dir();
    let port = free_port();
    let _redis = start_redis(port, &dir, false).await;
    for n in [12, 64] {
        // A fresh emitter: no publishing connection was used yet.
        let emitter = RedisEmitter::connect(config(port).key(random_key()))
            .await
            .unwrap();
        let errors = concurrent_emits(&emitter, n).await;
        assert!(
            errors.is_empty(),
            "{} of {n} concurrent sends failed at a cold start: {}",
            errors.len(),
            errors[0]
        );
        emitter.close();
    }
    assert_eq!(command_calls(port, "publish").await, 12 + 64);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_right_after_a_redis_restart_all_succeed_once() {
    let dir = temp_dir();
    let port = free_port();
    let mut redis = start_redis(port, &dir, false).await;
    let emitter = RedisEmitter::connect(config(port).key(random_key()))
        .await
        .unwrap();
    // One send per kept connection, one after the other: every one is in use.
    for i in 0..8 {
        emitter.emit("warm", &i).await.unwrap();
    }
    for n in [12, 64] {
        redis.kill().await;
        redis = start_redis(port, &dir, false).await;
        let errors = concurrent_emits(&emitter, n).await;
        assert!(
            errors.is_empty(),
            "{} of {n} concurrent sends failed right after a restart: {}",
            errors.len(),
            errors[0]
        );
        assert_eq!(
            command_calls(port, "publish").await,
            n as u64,
            "each send is published exactly once"
        );
    }
    emitter.close();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_while_redis_is_down_fail_without_waiting_for_a_slot() {
    let dir = temp_dir();
    let port = free_port();
    let redis = start_redis(port, &dir, false).await;
    let emitter = RedisEmitter::connect(config(port).key(random_key()))
        .await
        .unwrap();
    for i in 0..8 {
        emitter.emit("warm", &i).await.unwrap();
    }
    redis.kill().await;
    for n in [12, 64] {
        let started = Instant::now();
        let errors = concurrent_emits(&emitter, n).await;
        let elapsed = started.elapsed();
        eprintln!("{n} concurrent sends with Redis down: all failed in {elapsed:?}");
        assert_eq!(errors.len(), n, "every send fails while Redis is down");
        for error in &errors {
            let text = error.to_string();
            assert!(
                !text.contains("waiting for a slot"),
                "a send waited for a pool slot instead of failing: {text}"
            );
        }
    }
    emitter.close();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_the_whole_connect_timeout_for_a_late_redis() {
    let dir = temp_dir();
    let port = free_port();
    let timeout = Duration::from_secs(4);
    // Redis appears 3.2 s into a 4 s wait.
    let late = {
        let dir = dir.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(3200)).await;
            start_redis(port, &dir, false).await
        })
    };
    let state = RedisAdapterState::connect(config(port).key(random_key()).connect_timeout(timeout))
        .await
        .unwrap_or_else(|e| panic!("a Redis that came up within the wait was missed: {e}"));
    assert!(state.is_healthy());
    state.close().await;
    drop(late.await.unwrap());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn start_up_without_redis_gives_up_no_sooner_than_it_says() {
    let port = free_port();
    let timeout = Duration::from_millis(1500);
    let started = Instant::now();
    let err = RedisAdapterState::connect(config(port).connect_timeout(timeout))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, RedisAdapterError::ConnectTimeout { .. }),
        "{err}"
    );
    assert!(
        waited >= timeout,
        "gave up after {waited:?} though the error says {timeout:?}: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_reaches_no_client_so_a_retry_does_not_duplicate() {
    let dir = temp_dir();
    let port = free_port();
    let redis = start_redis(port, &dir, false).await;
    let s1 =
        start_rust_server(connect_state(&format!("redis://127.0.0.1:{port}"), &random_key()).await)
            .await;
    let (mut c1, _) = NodeProc::client(&s1.url(), "c1").await;
    s1.io.emit("before", &0).await.unwrap();
    assert_eq!(c1.event("before").await, json!([0]));

    redis.kill().await;
    assert!(
        s1.io.emit("during", &1).await.is_err(),
        "a send with Redis down must fail"
    );
    let _redis = start_redis(port, &dir, false).await;
    let mut retried = false;
    for _ in 0..100 {
        if s1.io.emit("during", &2).await.is_ok() {
            retried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(retried, "the retry never succeeded");
    // Events reach a client in order: once the retry arrived, the failed send
    // would have arrived before it.
    assert_eq!(
        c1.event("during").await,
        json!([2]),
        "the failed send reached the local client"
    );
    s1.state.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_answered_with_success_after_a_redis_restart_reach_every_server() {
    let dir = temp_dir();
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut redis = start_redis(port, &dir, false).await;
    let key = random_key();
    let s1 = start_rust_server(connect_state(&url, &key).await).await;
    let s2 = start_rust_server(connect_state(&url, &key).await).await;
    wait_server_count(&s1.state, 2).await;
    let (mut c2, _) = NodeProc::client(&s2.url(), "c2").await;
    s1.io.emit("tick", &-1).await.unwrap();
    assert_eq!(c2.event("tick").await, json!([-1]));

    // Sends answered with success, and whether the adapter reported that the
    // publish reached fewer servers than the fleet has.
    let mut answered_ok = Vec::new();
    let mut reported_short = Vec::new();
    // Per restart, for the figures: when server 2 was resubscribed and when
    // each send after Redis came back was made, both after that moment.
    let mut outages = Vec::new();
    let mut next = 0;
    for restart in 0..3 {
        // What Redis accepted just before it is killed may die with it (its
        // output buffers): let server 2 receive everything sent so far.
        s1.io.emit("flush", &restart).await.unwrap();
        c2.event("flush").await;
        // Down for a second, as a restart with a reload takes.
        redis.kill().await;
        let killed = Instant::now();
        assert!(s1.io.emit("tick", &"down").await.is_err());
        tokio::time::sleep(Duration::from_secs(1)).await;
        redis = start_redis(port, &dir, false).await;
        // Redis accepts connections again from here on.
        let back = Instant::now();
        let resubscribed = tokio::spawn(watch_health(s2.state.clone(), back));
        let mut outage = Outage {
            down: back - killed,
            resubscribed: None,
            sends: Vec::new(),
        };
        // A steady stream of sends from server 1 (200 a second) until server 2's
        // client receives them again.
        let resumed_at = next;
        loop {
            let short_before = s1.state.counters().short_publishes;
            let sent_at = back.elapsed();
            let answer = s1.io.emit("tick", &next).await;
            outage.sends.push((next, sent_at, answer.is_ok()));
            if answer.is_ok() {
                if s1.state.counters().short_publishes > short_before {
                    let health = s1.state.health();
                    assert!(
                        health.missing_servers >= 1 && !health.fleet_reachable(),
                        "health must say the fleet cannot receive: {health:?}"
                    );
                    reported_short.push(next);
                } else {
                    answered_ok.push(next);
                }
            }
            next += 1;
            if next - resumed_at > 100 && s2.state.is_healthy() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        outage.resubscribed = resubscribed.await.ok().flatten();
        outages.push(outage);
    }
    s1.io.emit("tick", &"end").await.unwrap();
    let health = s1.state.health();
    assert!(health.fleet_reachable(), "whole again: {health:?}");
    let mut received = Vec::new();
    loop {
        let args = c2.event("tick").await;
        if args == json!(["end"]) {
            break;
        }
        received.push(args[0].as_i64().unwrap());
    }
    for (restart, outage) in outages.iter().enumerate() {
        eprintln!("restart {}: {}", restart + 1, outage.report(&received));
    }
    let lost: Vec<i64> = answered_ok
        .iter()
        .copied()
        .filter(|i| !received.contains(i))
        .collect();
    eprintln!(
        "3 restarts: {} sends answered with success and reached every server, {} reported as reaching fewer servers than the fleet ({} of them lost)",
        answered_ok.len(),
        reported_short.len(),
        reported_short
            .iter()
            .filter(|i| !received.contains(i))
            .count()
    );
    assert!(
        lost.is_empty(),
        "{} sends answered with success, not reported short, never reached server 2 (of {}): {lost:?}",
        lost.len(),
        answered_ok.len()
    );
    let counters = s1.state.counters();
    assert_eq!(counters.short_publishes as usize, reported_short.len());
    assert!(counters.subscriber_reconnects >= 3, "{counters:?}");
    assert!(counters.publisher_reconnects >= 3, "{counters:?}");
    assert_eq!(
        counters.publish_failures, 3,
        "one send while Redis was down, per restart"
    );
    s1.state.close().await;
    s2.state.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// One Redis restart of the 200 sends a second: how long Redis was down,
/// when server 2 was subscribed again and every send made after Redis came
/// back (its number, how long after, answered with success or not).
struct Outage {
    down: Duration,
    resubscribed: Option<Duration>,
    sends: Vec<(i64, Duration, bool)>,
}

impl Outage {
    /// The figures of issue 12 for this restart: a send is lost when it was
    /// answered with success (short or not) and server 2 never received it.
    fn report(&self, received: &[i64]) -> String {
        let lost: Vec<Duration> = self
            .sends
            .iter()
            .filter(|(i, _, ok)| *ok && !received.contains(i))
            .map(|(_, at, _)| *at)
            .collect();
        let failed = self.sends.iter().filter(|(_, _, ok)| !ok).count();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        format!(
            "Redis down {}, server 2 resubscribed {} after Redis was back; {} sends after that, {failed} answered with an error, {} lost, the last lost one sent {} after Redis was back",
            ms(self.down),
            self.resubscribed
                .map_or("never (watch ended)".to_owned(), ms),
            self.sends.len(),
            lost.len(),
            lost.iter().max().map_or("(none)".to_owned(), |d| ms(*d)),
        )
    }
}

/// How long after `since` `state` reports its subscriber connected (checked
/// every millisecond); `None` if not within 30 s.
async fn watch_health(state: RedisAdapterState, since: Instant) -> Option<Duration> {
    while !state.is_healthy() {
        if since.elapsed() > Duration::from_secs(30) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Some(since.elapsed())
}

/// Prints the figures of issue 12 (not asserted on time): concurrent sends at
/// a cold start and right after a restart, how fast sends fail while Redis is
/// down, and how long after Redis returns the subscriber is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_concurrent_sends_and_resubscription() {
    let dir = temp_dir();
    let port = free_port();
    let mut redis = start_redis(port, &dir, false).await;
    for n in [12, 64] {
        let emitter = RedisEmitter::connect(config(port).key(random_key()))
            .await
            .unwrap();
        let started = Instant::now();
        let errors = concurrent_emits(&emitter, n).await;
        eprintln!(
            "cold start: {n} concurrent sends, {} failed, all answered in {:?}",
            errors.len(),
            started.elapsed()
        );
        assert!(errors.is_empty());
        emitter.close();
    }
    let key = random_key();
    let state = RedisAdapterState::connect(config(port).key(&key))
        .await
        .unwrap();
    let server = start_rust_server(state).await;
    let emitter = server.state.emitter();
    for restart in 1..=3 {
        redis.kill().await;
        for n in [12, 64] {
            let started = Instant::now();
            let errors = concurrent_emits(&emitter, n).await;
            eprintln!(
                "restart {restart}, Redis down: {n} concurrent sends, {} failed, all answered in {:?}",
                errors.len(),
                started.elapsed()
            );
            assert_eq!(errors.len(), n);
        }
        tokio::time::sleep(Duration::from_millis(300 * restart)).await;
        redis = start_redis(port, &dir, false).await;
        let back = Instant::now();
        while !server.state.is_healthy() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let resubscribed = back.elapsed();
        for n in [12, 64] {
            let started = Instant::now();
            let errors = concurrent_emits(&emitter, n).await;
            eprintln!(
                "restart {restart}, Redis back: {n} concurrent sends, {} failed, all answered in {:?}",
                errors.len(),
                started.elapsed()
            );
            assert!(errors.is_empty(), "{}", errors[0]);
        }
        // The same through the adapter (what the server helper's `send` does).
        let started = Instant::now();
        let sends = (0..64).map(|i| {
            let io = server.io.clone();
            async move { io.to("room").emit("event", &i).await }
        });
        let failed = futures_util::future::join_all(sends)
            .await
            .iter()
            .filter(|r| r.is_err())
            .count();
        eprintln!(
            "restart {restart}, Redis back: 64 concurrent adapter broadcasts, {failed} failed, all answered in {:?}",
            started.elapsed()
        );
        assert_eq!(failed, 0);
        eprintln!(
            "restart {restart} (down {} ms): subscriber back {resubscribed:?} after Redis accepted connections",
            300 * restart
        );
    }
    eprintln!("{:?}", server.state.counters());
    server.state.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
