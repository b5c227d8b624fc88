//! `echo-flood`: one authenticated client writes `echo` events as fast as
//! its socket takes them for 10 s, reading the answers, while a bystander
//! echoes every 2 ms, as an interactive client would (500/s, within the
//! default rate limit; a closed loop on a quiet server would exceed it and be
//! throttled itself) (twice: writing without reading ahead of the
//! answers, then at most `WINDOW` unanswered). Figures: the bystander's p99 before and during
//! the flood, the flood's answers per second over time (throttled? cut?)
//! and how many log lines the server wrote.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::Ctx;
use super::raw::{self, MarkerCounter};
use crate::BenchResult;
use crate::client::{self, Conn, opcode};
use crate::stats::Latencies;
use crate::wire;

/// The bystander's measurement before the flood.
const QUIET: Duration = Duration::from_secs(5);
/// How long the flood lasts.
const FLOOD: Duration = Duration::from_secs(10);
/// Answers are counted in buckets of this length.
const BUCKET: Duration = Duration::from_millis(500);
/// Echo frames written per `write_all`.
const BATCH: usize = 64;
/// The bystander's pace: one echo per period, waiting for each answer.
const BYSTANDER_PERIOD: Duration = Duration::from_millis(2);
/// How long the bystander waits for an answer before it counts as lost.
const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// Unanswered echoes of the windowed flood.
const WINDOW: u64 = 4_096;

/// Run the scenario: a flood that writes without waiting for answers, then
/// one that keeps at most `WINDOW` echoes unanswered (it reads as fast as it
/// writes, so the outgoing-queue bound does not cut it).
pub async fn run(ctx: &Ctx) -> BenchResult<()> {
    let source = client::source_address(0, 1);
    let mut bystander = Conn::connect(&ctx.target, source).await?;
    let quiet = Latencies::new();
    let deadline = Instant::now() + QUIET;
    let mut pace = pacer();
    while Instant::now() < deadline {
        pace.tick().await;
        round_trip(&mut bystander, &quiet).await?;
    }
    let q = quiet.summary();
    ctx.figure(
        "bystander_quiet",
        format!(
            "p50 {:.2}ms p99 {:.2}ms ({} round trips)",
            q.p50_ms, q.p99_ms, q.count
        ),
    );
    for (prefix, window) in [("unbounded", None), ("windowed", Some(WINDOW))] {
        flood(ctx, &mut bystander, q.p99_ms, prefix, window).await?;
    }
    bystander.close().await;
    ctx.memory_after(Duration::ZERO, ctx.now(), &[]).await;
    Ok(())
}

/// One flood of `FLOOD` by a new client, at most `window` echoes unanswered.
async fn flood(
    ctx: &Ctx,
    bystander: &mut Conn,
    quiet_p99_ms: f64,
    prefix: &str,
    window: Option<u64>,
) -> BenchResult<()> {
    let flooder = Conn::connect(&ctx.target, client::source_address(0, 1)).await?;
    let logs_before = ctx.log_lines();
    let (stream, _) = flooder.into_parts();
    let (mut reader, mut writer) = stream.into_split();
    let flood_start = Instant::now();
    let flood_end = flood_start + FLOOD;
    let sent = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(Notify::new());
    let writer_task = {
        let (sent, served, answered) = (sent.clone(), served.clone(), answered.clone());
        tokio::spawn(async move {
            let mut batch = Vec::new();
            for _ in 0..BATCH {
                let frame = wire::event_packet("echo", &serde_json::json!({ "flood": 1 }));
                batch.extend(client::encode_frame(
                    opcode::TEXT,
                    frame.as_bytes(),
                    raw::ZERO_MASK,
                ));
            }
            while Instant::now() < flood_end {
                if let Some(window) = window {
                    let in_flight = sent.load(Ordering::Relaxed) - served.load(Ordering::Relaxed);
                    if in_flight + BATCH as u64 > window {
                        let _ =
                            tokio::time::timeout(Duration::from_millis(10), answered.notified())
                                .await;
                        continue;
                    }
                }
                if writer.write_all(&batch).await.is_err() {
                    return (Some(Instant::now()), writer);
                }
                sent.fetch_add(BATCH as u64, Ordering::Relaxed);
            }
            (None, writer)
        })
    };
    let buckets: Arc<Vec<AtomicU64>> = Arc::new(
        (0..(FLOOD.as_millis() / BUCKET.as_millis() + 4))
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    let cut = Arc::new(AtomicBool::new(false));
    let reader_task = {
        let (buckets, cut, served, answered) = (
            buckets.clone(),
            cut.clone(),
            served.clone(),
            answered.clone(),
        );
        tokio::spawn(async move {
            let mut counter = MarkerCounter::new(b"\"echo:response\"");
            let mut buf = vec![0u8; 64 << 10];
            let stop = flood_end + Duration::from_secs(2);
            loop {
                match tokio::time::timeout_at(stop.into(), reader.read(&mut buf)).await {
                    Err(_) => return None,
                    Ok(Ok(0)) | Ok(Err(_)) => {
                        cut.store(true, Ordering::Relaxed);
                        return Some(Instant::now());
                    }
                    Ok(Ok(n)) => {
                        let found = counter.feed(&buf[..n]);
                        served.fetch_add(found, Ordering::Relaxed);
                        answered.notify_one();
                        let slot =
                            (flood_start.elapsed().as_millis() / BUCKET.as_millis()) as usize;
                        if let Some(b) = buckets.get(slot) {
                            b.fetch_add(found, Ordering::Relaxed);
                        }
                    }
                }
            }
        })
    };
    let during = Latencies::new();
    let mut bystander_error = None;
    let mut pace = pacer();
    while Instant::now() < flood_end {
        pace.tick().await;
        if let Err(e) = round_trip(bystander, &during).await {
            bystander_error = Some(e.to_string());
            break;
        }
    }
    // The write half stays open until the reader is done: closing it would
    // end the session and look like a cut.
    let (write_cut, _writer) = match writer_task.await {
        Ok((cut, writer)) => (cut, Some(writer)),
        Err(_) => (None, None),
    };
    let read_cut = reader_task.await.ok().flatten();
    // Give the log writer a moment to catch up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let logs_after = ctx.log_lines();

    let figure = |name: &str, value: String| ctx.figure(&format!("{prefix}_{name}"), value);
    figure(
        "window",
        window.map_or("none".to_owned(), |w| {
            format!("{w} echoes unanswered at most")
        }),
    );
    let d = during.summary();
    figure(
        "bystander_during_flood",
        format!(
            "p50 {:.2}ms p99 {:.2}ms max {:.2}ms ({} round trips){}",
            d.p50_ms,
            d.p99_ms,
            d.max_ms,
            d.count,
            bystander_error
                .map(|e| format!(", error: {e}"))
                .unwrap_or_default()
        ),
    );
    figure(
        "p99_ratio_flood_over_quiet",
        format!("{:.1}", d.p99_ms / quiet_p99_ms.max(0.001)),
    );
    let per_sec = 1000.0 / BUCKET.as_millis() as f64;
    let series: Vec<String> = buckets
        .iter()
        .map(|b| format!("{:.0}", b.load(Ordering::Relaxed) as f64 * per_sec))
        .collect();
    figure("flood_sent", sent.load(Ordering::Relaxed).to_string());
    figure("flood_served", served.load(Ordering::Relaxed).to_string());
    figure("flood_served_per_s_by_500ms", series.join(","));
    let when = |t: Option<Instant>| {
        t.map_or("no".to_owned(), |t| {
            format!(
                "after {:.2}s",
                t.saturating_duration_since(flood_start).as_secs_f64()
            )
        })
    };
    let was_cut = cut.load(Ordering::Relaxed);
    figure(
        "flood_cut_by_server",
        format!(
            "{was_cut} (read side {}, write side {})",
            when(read_cut),
            when(write_cut)
        ),
    );
    let first: u64 = buckets
        .iter()
        .take(2)
        .map(|b| b.load(Ordering::Relaxed))
        .sum();
    let later: u64 = buckets
        .iter()
        .skip(4)
        .take(16)
        .map(|b| b.load(Ordering::Relaxed))
        .sum();
    let later_rate = later as f64 / 8.0;
    figure(
        "flood_throttled_or_cut_within_2s",
        format!(
            "{} (first second {first}/s, seconds 2-10 {later_rate:.0}/s)",
            later_rate < first as f64 / 2.0 || was_cut
        ),
    );
    figure(
        "server_log_lines",
        format!(
            "{} during the flood ({} in all, level {})",
            logs_after.saturating_sub(logs_before),
            logs_after,
            ctx.opts.server_log
        ),
    );
    Ok(())
}

/// One closed-loop echo, its latency recorded.
/// The bystander's schedule; a late answer delays the next echo rather
/// than bunching the missed ones.
fn pacer() -> tokio::time::Interval {
    let mut pace = tokio::time::interval(BYSTANDER_PERIOD);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pace
}

async fn round_trip(conn: &mut Conn, latencies: &Latencies) -> BenchResult<()> {
    let sent = Instant::now();
    conn.send_text(&wire::event_packet("echo", &serde_json::json!({ "by": 1 })))
        .await?;
    conn.wait_event("echo:response", ANSWER_WAIT).await?;
    latencies.record(0, sent.elapsed().as_micros() as u64);
    Ok(())
}
