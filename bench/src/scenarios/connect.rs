//! Connect scenario: how fast clients get in, and what each costs the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Metrics, Settings, connect_many, target};
use crate::BenchResult;
use crate::procfs;
use crate::stats::Latencies;

/// Connect and authenticate `settings.connect_clients` clients to the server
/// `pid` on `port`, hold them `settings.hold`, then read its memory.
pub async fn run(pid: u32, port: u16, settings: &Settings) -> BenchResult<Metrics> {
    let n = settings.connect_clients;
    // Let the fresh server settle before the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = procfs::rss_kib(pid).ok_or("server gone")?;
    let cpu_before = procfs::cpu_micros(pid).ok_or("server gone")?;
    let latencies = Arc::new(Latencies::new());
    let started = Instant::now();
    let (conns, failed, first_error) =
        connect_many(&target(port), n, settings.concurrency, latencies.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = procfs::cpu_micros(pid).ok_or("server gone")?;
    let connected = conns.len();
    if connected == 0 {
        return Err(first_error
            .unwrap_or_else(|| "no client connected".into())
            .into());
    }
    // Hold: each connection keeps answering heartbeats.
    let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let holders: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let dropped = dropped.clone();
            tokio::spawn(async move {
                while conn.next_event().await.is_ok() {}
                dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
        })
        .collect();
    tokio::time::sleep(settings.hold).await;
    let rss_after = procfs::rss_kib(pid).ok_or("server gone")?;
    for h in &holders {
        h.abort();
    }
    let summary = latencies.summary();
    let mut m = Metrics::new();
    m.insert("clients".into(), n as f64);
    m.insert("connected".into(), connected as f64);
    m.insert("failed".into(), failed as f64);
    m.insert(
        "dropped_in_hold".into(),
        dropped.load(std::sync::atomic::Ordering::Relaxed) as f64,
    );
    m.insert("rate_per_s".into(), connected as f64 / elapsed);
    m.insert("p50_ms".into(), summary.p50_ms);
    m.insert("p99_ms".into(), summary.p99_ms);
    m.insert(
        "cpu_us_per_conn".into(),
        (cpu_after - cpu_before) as f64 / connected as f64,
    );
    m.insert("rss_base_mib".into(), rss_before as f64 / 1024.0);
    // Whole-process RSS per connection: fairer to a runtime (V8) that
    // reserves a large heap up front and fills it later.
    m.insert(
        "rss_total_kib_per_conn".into(),
        rss_after as f64 / connected as f64,
    );
    m.insert(
        "rss_kib_per_conn".into(),
        (rss_after as f64 - rss_before as f64) / connected as f64,
    );
    Ok(m)
}
