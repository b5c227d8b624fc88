//! Echo scenario: every client emits `echo` and waits for `echo:response`,
//! in a loop, for the measurement phase: as fast as answers come (closed
//! loop), or on a fixed schedule when `Settings::echo_rate` is set (open
//! loop; a late answer delays the next send, and that delay counts in its
//! latency, which is measured from the scheduled time).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Metrics, Settings, connect_many, target};
use crate::BenchResult;
use crate::procfs;
use crate::stats::{Latencies, now_micros};
use crate::wire;

/// Run the echo loop against the server `pid` on `port`.
pub async fn run(pid: u32, port: u16, settings: &Settings) -> BenchResult<Metrics> {
    let n = settings.echo_clients;
    let (conns, failed, first_error) = connect_many(
        &target(port),
        n,
        settings.concurrency,
        Arc::new(Latencies::new()),
    )
    .await;
    if conns.is_empty() {
        return Err(first_error
            .unwrap_or_else(|| "no client connected".into())
            .into());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let latencies = Arc::new(Latencies::new());
    let trips = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu_before = procfs::cpu_micros(pid).ok_or("server gone")?;
    let started = Instant::now();
    let deadline = started + settings.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let (latencies, trips, errors) = (latencies.clone(), trips.clone(), errors.clone());
            // Open loop: client i sends at started + phase + k * period.
            let period = settings
                .echo_rate
                .map(|rate| Duration::from_secs_f64(n as f64 / f64::from(rate)));
            let phase = period.map(|p| p.mul_f64(i as f64 / n as f64));
            tokio::spawn(async move {
                let mut next = phase.map(|phase| started + phase);
                while Instant::now() < deadline {
                    let sent_at = match next {
                        Some(at) => {
                            next = period.map(|p| at + p);
                            // Behind schedule (a late answer): the wait
                            // counts. Ahead: sleep; the timer's own lateness
                            // (up to a millisecond) is the generator's, not
                            // the server's, and does not count.
                            let behind = Instant::now().saturating_duration_since(at);
                            if behind.is_zero() {
                                tokio::time::sleep_until(at.into()).await;
                            }
                            now_micros() - behind.as_micros() as u64
                        }
                        None => now_micros(),
                    };
                    let packet = wire::event_packet("echo", &serde_json::json!({ "t": sent_at }));
                    if conn.send_text(&packet).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    let answered = conn
                        .wait_event("echo:response", Duration::from_secs(10))
                        .await;
                    match answered {
                        Ok(()) => {
                            latencies.record(i, now_micros() - sent_at);
                            trips.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                conn.close().await;
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = procfs::cpu_micros(pid).ok_or("server gone")?;
    let summary = latencies.summary();
    let mut m = Metrics::new();
    m.insert("clients".into(), n as f64);
    m.insert(
        "offered_per_s".into(),
        settings.echo_rate.map_or(0.0, f64::from),
    );
    m.insert("connect_failed".into(), failed as f64);
    m.insert(
        "round_trips_per_s".into(),
        trips.load(Ordering::Relaxed) as f64 / elapsed,
    );
    m.insert("p50_ms".into(), summary.p50_ms);
    m.insert("p99_ms".into(), summary.p99_ms);
    m.insert("errors".into(), errors.load(Ordering::Relaxed) as f64);
    m.insert(
        "server_cpu_pct".into(),
        100.0 * (cpu_after - cpu_before) as f64 / 1e6 / elapsed,
    );
    Ok(m)
}
