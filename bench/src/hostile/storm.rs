//! `reconnect-storm`: many connect/authenticate/disconnect cycles in a
//! short time while one client stays connected; the memory the server
//! keeps afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::Ctx;
use crate::BenchResult;
use crate::client::{self, Conn};
use crate::wire;

/// Cycles by default.
const DEFAULT_CYCLES: usize = 40_000;
/// The storm is paced to last at least this long.
const PACE: Duration = Duration::from_secs(20);
/// Cycles in flight.
const CONCURRENCY: usize = 200;

/// Run the scenario.
pub async fn run(ctx: &Ctx) -> BenchResult<()> {
    let total = ctx.opts.count.unwrap_or(DEFAULT_CYCLES);
    let stayer = Conn::connect(&ctx.target, client::source_address(0, 1)).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let stayer_task = tokio::spawn(keep_alive(stayer, stop.clone()));

    let attack_start = ctx.now();
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (next, failed, first_error) = (next.clone(), failed.clone(), first_error.clone());
        let target = ctx.target.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let not_before = started + PACE.mul_f64(i as f64 / total as f64);
                tokio::time::sleep_until(not_before.into()).await;
                match Conn::connect(&target, client::source_address(i, total)).await {
                    Ok(conn) => conn.close().await,
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut first) = first_error.lock() {
                            first.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let storm = started.elapsed();
    let attack_end = ctx.now();
    let failures = failed.load(Ordering::Relaxed);
    ctx.figure("cycles", total);
    ctx.figure(
        "storm_secs",
        format!(
            "{:.1} ({:.0} cycles/s)",
            storm.as_secs_f64(),
            total as f64 / storm.as_secs_f64()
        ),
    );
    let first = first_error.lock().ok().and_then(|f| f.clone());
    ctx.figure(
        "failed_cycles",
        format!(
            "{failures}{}",
            first.map(|e| format!(" (first: {e})")).unwrap_or_default()
        ),
    );
    ctx.memory_after(attack_start, attack_end, &[0, 10, 30])
        .await;
    stop.store(true, Ordering::Relaxed);
    let stayed = match stayer_task.await {
        Ok(Ok(trips)) => format!("yes ({trips} echo round trips)"),
        Ok(Err(e)) => format!("no: {e}"),
        Err(e) => format!("no: {e}"),
    };
    ctx.figure("staying_client_served_throughout", stayed);
    Ok(())
}

/// One echo a second (answering heartbeats on the way) until `stop`.
async fn keep_alive(mut conn: Conn, stop: Arc<AtomicBool>) -> BenchResult<u64> {
    let mut trips = 0;
    while !stop.load(Ordering::Relaxed) {
        conn.send_text(&wire::event_packet("echo", &trips)).await?;
        let answered = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let array = conn.next_event().await?;
                if wire::event_name(array) == Some("echo:response") {
                    return Ok::<_, crate::BenchError>(());
                }
            }
        })
        .await;
        match answered {
            Ok(Ok(())) => trips += 1,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("echo unanswered for 10 s".into()),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    conn.close().await;
    Ok(trips)
}
