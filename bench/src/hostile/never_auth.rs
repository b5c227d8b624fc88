//! `never-auth`: clients open Engine.IO over WebSocket and join the
//! namespace with a valid token, then never emit `authenticate`. Every one
//! of them should have its connection closed by the server within the
//! authentication window (plus a second), and the memory they took should
//! come back.

use std::time::{Duration, Instant};

use super::Ctx;
use super::raw::{self, percentile_secs};
use crate::BenchResult;
use crate::client::{self, Conn};

/// Clients by default.
const DEFAULT_CLIENTS: usize = 5_000;
/// Connection attempts in flight.
const CONCURRENCY: usize = 200;
/// How long past the window a client waits for the server to close.
const GRACE: Duration = Duration::from_secs(30);

/// What happened to one client.
enum Outcome {
    /// Could not connect or join.
    Failed(String),
    /// Joined at `joined`; the server closed the TCP connection at `closed`
    /// (`None`: still open at the deadline).
    Joined {
        joined: Instant,
        closed: Option<Instant>,
    },
}

/// Run the scenario.
pub async fn run(ctx: &Ctx) -> BenchResult<()> {
    let n = ctx.opts.count.unwrap_or(DEFAULT_CLIENTS);
    let window = Duration::from_millis(ctx.opts.auth_timeout_ms);
    let attack_start = ctx.now();
    let target = ctx.target.clone();
    let outcomes = raw::run_many(
        n,
        CONCURRENCY,
        move |i| {
            let target = target.clone();
            async move {
                let mut conn = Conn::open(&target, client::source_address(i, n)).await?;
                conn.join(&target.token).await?;
                Ok::<_, crate::BenchError>((conn, Instant::now()))
            }
        },
        move |_, opened| async move {
            match opened {
                Err(e) => Outcome::Failed(e.to_string()),
                Ok((conn, joined)) => {
                    let (mut stream, _) = conn.into_parts();
                    let closed = raw::wait_closed(&mut stream, joined + window + GRACE).await;
                    Outcome::Joined { joined, closed }
                }
            }
        },
    )
    .await;
    let attack_end = ctx.now();

    let mut failed = 0;
    let mut first_error = None;
    let mut delays = Vec::new();
    let mut still_open = 0;
    let mut last_close = None;
    for outcome in &outcomes {
        match outcome {
            Outcome::Failed(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| e.clone());
            }
            Outcome::Joined {
                joined,
                closed: Some(closed),
            } => {
                delays.push(closed.saturating_duration_since(*joined));
                last_close = last_close.max(Some(*closed));
            }
            Outcome::Joined { closed: None, .. } => still_open += 1,
        }
    }
    let within = delays
        .iter()
        .filter(|d| **d <= window + Duration::from_secs(1))
        .count();
    ctx.figure("clients", n);
    ctx.figure("auth_timeout_ms", ctx.opts.auth_timeout_ms);
    ctx.figure(
        "join_failed",
        format!(
            "{failed}{}",
            first_error
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        ),
    );
    ctx.figure("closed_by_server", delays.len());
    ctx.figure(
        "closed_within_timeout_plus_1s",
        format!("{within} of {} joined", delays.len() + still_open),
    );
    ctx.figure("still_open_after_timeout_plus_30s", still_open);
    let pct = |d: &mut Vec<Duration>, q| {
        percentile_secs(d, q).map_or("-".to_owned(), |s| format!("{s:.2}s"))
    };
    ctx.figure(
        "close_after_join",
        format!(
            "min {} p50 {} p99 {} max {}",
            pct(&mut delays, 0.0),
            pct(&mut delays, 0.5),
            pct(&mut delays, 0.99),
            pct(&mut delays, 1.0)
        ),
    );
    ctx.figure(
        "attack_secs",
        format!("{:.1}", (attack_end - attack_start).as_secs_f64()),
    );
    // The attack is over once the last socket is closed.
    let end = last_close.map_or(attack_end, |t| ctx.rss.offset(t));
    ctx.memory_after(attack_start, end, &[10, 30]).await;
    let after_10 = ctx.rss.at(end + Duration::from_secs(10));
    ctx.figure(
        "rss_10s_after_within_2x_start",
        after_10 <= 2 * ctx.start_kib,
    );
    Ok(())
}
