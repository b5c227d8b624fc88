//! Memory attacks with large frames: `big-frames` (16 MiB WebSocket frames
//! before CONNECT, sent whole or stalled at 15 MiB) and `attachment-hoard`
//! (binary events whose announced attachments never all arrive).

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

use super::Ctx;
use super::raw::{self, percentile_secs};
use super::rss;
use crate::BenchResult;
use crate::client::{self, Conn, opcode};

/// Announced size of a big frame.
const BIG: usize = 16 << 20;
/// What a stalled big frame actually sends.
const STALLED: usize = 15 << 20;
/// Connections sending whole big frames.
const WHOLE_CONNS: usize = 20;
/// Connections stalling inside one.
const STALLED_CONNS: usize = 10;
/// How long a connection waits for the server to close it.
const WATCH: Duration = Duration::from_secs(60);

/// Sockets hoarding attachments.
const HOARDERS: usize = 40;
/// Attachments announced by each binary event (the server's default limit).
const ANNOUNCED: usize = 100;
/// Attachments actually sent.
const FED: usize = 99;
/// Attachment size of the hoard that stays under the payload limit.
const UNDER_LIMIT_ATTACHMENT: usize = 900;
/// Size of each attachment.
const ATTACHMENT: usize = 99_000;

/// What one attacking connection saw.
struct Attack {
    /// The attack could not start (connect or upgrade failed).
    error: Option<String>,
    /// When the payload was written (or the write failed).
    sent: Instant,
    /// Whether every byte was written.
    complete: bool,
    /// When the server closed the connection, if it did in time.
    closed: Option<Instant>,
}

impl Attack {
    fn failed(e: crate::BenchError) -> Attack {
        Attack {
            error: Some(e.to_string()),
            sent: Instant::now(),
            complete: false,
            closed: None,
        }
    }
}

/// Run `big-frames`.
pub async fn big_frames(ctx: &Ctx) -> BenchResult<()> {
    let attack_start = ctx.now();
    let started = Instant::now();
    let target = ctx.target.clone();
    let total = WHOLE_CONNS + STALLED_CONNS;
    let outcomes = raw::run_many(
        total,
        total,
        move |i| {
            let target = target.clone();
            async move { Conn::open(&target, client::source_address(i, total)).await }
        },
        move |i, opened| async move {
            let payload = if i < WHOLE_CONNS { BIG } else { STALLED };
            match opened {
                Err(e) => (i, Attack::failed(e)),
                Ok(conn) => {
                    let (stream, _) = conn.into_parts();
                    (
                        i,
                        send_then_watch(stream, BIG, payload, started + WATCH).await,
                    )
                }
            }
        },
    )
    .await;
    let attack_end = ctx.now();
    for (name, range) in [
        ("whole_16MiB", 0..WHOLE_CONNS),
        ("stalled_at_15MiB", WHOLE_CONNS..total),
    ] {
        let group: Vec<&Attack> = outcomes
            .iter()
            .filter(|(i, _)| range.contains(i))
            .map(|(_, a)| a)
            .collect();
        report_group(ctx, name, &group, started);
    }
    let peak = ctx.rss.peak_since(attack_start);
    ctx.figure(
        "peak_rss_above_start",
        format!(
            "{} (target < 20MB: {})",
            rss::mb_delta(peak, ctx.start_kib),
            peak.saturating_sub(ctx.start_kib) < 20 * 1024
        ),
    );
    let end = outcomes
        .iter()
        .filter_map(|(_, a)| a.closed)
        .max()
        .map_or(attack_end, |t| ctx.rss.offset(t));
    ctx.memory_after(attack_start, end, &[10, 30]).await;
    Ok(())
}

/// Write the header of a `announced`-byte text frame and `payload` zero
/// bytes, then wait for the server to close the connection.
async fn send_then_watch(
    stream: TcpStream,
    announced: usize,
    payload: usize,
    deadline: Instant,
) -> Attack {
    let (mut reader, mut writer) = stream.into_split();
    let header = client::frame_header(opcode::TEXT, announced, raw::ZERO_MASK);
    let written = async {
        writer.write_all(&header).await?;
        raw::write_zeros(&mut writer, payload).await
    };
    write_then_watch(&mut reader, written, deadline).await
}

/// Run `writing` until `deadline`, then wait for the server to close the
/// connection.
async fn write_then_watch(
    reader: &mut OwnedReadHalf,
    writing: impl Future<Output = std::io::Result<()>>,
    deadline: Instant,
) -> Attack {
    // A server that stops reading without closing must not hang the writer.
    let complete = matches!(
        tokio::time::timeout_at(deadline.into(), writing).await,
        Ok(Ok(()))
    );
    let sent = Instant::now();
    let closed = raw::wait_closed(reader, deadline).await;
    Attack {
        error: None,
        sent,
        complete,
        closed,
    }
}

/// Result lines of one group of attacking connections.
fn report_group(ctx: &Ctx, name: &str, group: &[&Attack], started: Instant) {
    let errors: Vec<&String> = group.iter().filter_map(|a| a.error.as_ref()).collect();
    let complete = group.iter().filter(|a| a.complete).count();
    let mut closed: Vec<Duration> = group
        .iter()
        .filter_map(|a| a.closed.map(|c| c.saturating_duration_since(started)))
        .collect();
    let pct = |d: &mut Vec<Duration>, q| {
        percentile_secs(d, q).map_or("-".to_owned(), |s| format!("{s:.2}s"))
    };
    ctx.figure(
        name,
        format!(
            "{} conns, {} failed to start{}, {} wrote everything, {} closed by server (after start: p50 {} max {})",
            group.len(),
            errors.len(),
            errors.first().map(|e| format!(" ({e})")).unwrap_or_default(),
            complete,
            closed.len(),
            pct(&mut closed, 0.5),
            pct(&mut closed, 1.0)
        ),
    );
}

/// Run `attachment-hoard`: first as asked (99 attachments of 99 KB: the
/// whole binary packet counts against the payload limit, 100 000 bytes by
/// default, so the first attachment already passes it), then just under that
/// limit (99 of 900 B), which is what parks the most memory.
pub async fn attachment_hoard(ctx: &Ctx) -> BenchResult<()> {
    for (prefix, size) in [("99KB", ATTACHMENT), ("900B", UNDER_LIMIT_ATTACHMENT)] {
        hoard_phase(ctx, prefix, size).await?;
    }
    Ok(())
}

/// One attack of `HOARDERS` sockets feeding `FED` attachments of `size` each.
async fn hoard_phase(ctx: &Ctx, prefix: &str, size: usize) -> BenchResult<()> {
    let figure = |name: &str, value: String| ctx.figure(&format!("{prefix}_{name}"), value);
    let base = ctx.rss.latest();
    let attack_start = ctx.now();
    let started = Instant::now();
    let target = ctx.target.clone();
    let outcomes = raw::run_many(
        HOARDERS,
        HOARDERS,
        move |i| {
            let target = target.clone();
            async move { Conn::connect(&target, client::source_address(i, HOARDERS)).await }
        },
        move |_, opened| async move {
            match opened {
                Err(e) => Attack::failed(e),
                Ok(conn) => {
                    let (stream, _) = conn.into_parts();
                    hoard(stream, size, started + WATCH).await
                }
            }
        },
    )
    .await;
    let group: Vec<&Attack> = outcomes.iter().collect();
    report_group(ctx, &format!("{prefix}_hoarders"), &group, started);
    let last_sent = outcomes.iter().map(|a| a.sent).max().unwrap_or(started);
    let fed_end = ctx.rss.offset(last_sent);
    // Let the watch run its course before reading what was freed when.
    ctx.rss.sleep_until(fed_end + Duration::from_secs(31)).await;
    let peak = ctx.rss.peak_since(attack_start);
    let parked = peak.saturating_sub(base);
    figure(
        "parked_peak_above_start",
        format!(
            "{} ({HOARDERS} sockets x {FED} x {size} B offered = {}; target < 10MB: {})",
            rss::mb_delta(peak, base),
            rss::mb((HOARDERS * FED * size / 1024) as u64),
            parked < 10 * 1024
        ),
    );
    // Freed: back within 10 % of the parked amount (at least 2 MB) of the start.
    let slack = (parked / 10).max(2 * 1024);
    let freed = ctx.rss.first_at_or_below(fed_end, base + slack);
    figure(
        "freed_after_last_frame",
        freed.map_or("not within 30 s".to_owned(), |t| {
            format!(
                "{:.1}s (RSS within {} of start; target <= 30s: {})",
                t.saturating_sub(fed_end).as_secs_f64(),
                rss::mb(slack),
                t.saturating_sub(fed_end) <= Duration::from_secs(30)
            )
        }),
    );
    let mut close_after_fed: Vec<Duration> = outcomes
        .iter()
        .filter_map(|a| a.closed.map(|c| c.saturating_duration_since(a.sent)))
        .collect();
    figure(
        "socket_closed_after_last_frame",
        format!(
            "{} of {HOARDERS}, p50 {}",
            close_after_fed.len(),
            percentile_secs(&mut close_after_fed, 0.5)
                .map_or("-".to_owned(), |s| format!("{s:.2}s"))
        ),
    );
    for secs in [5, 10, 30] {
        let kib = ctx.rss.at(fed_end + Duration::from_secs(secs));
        figure(
            &format!("rss_{secs}s_after"),
            format!(
                "{} ({} above start)",
                rss::mb(kib),
                rss::mb_delta(kib, base)
            ),
        );
    }
    Ok(())
}

/// Announce `ANNOUNCED` attachments, send `FED` of `size` bytes, then watch.
async fn hoard(stream: TcpStream, size: usize, deadline: Instant) -> Attack {
    let (mut reader, mut writer) = stream.into_split();
    let placeholders: Vec<serde_json::Value> = (0..ANNOUNCED)
        .map(|num| serde_json::json!({ "_placeholder": true, "num": num }))
        .collect();
    let packet = format!(
        "45{ANNOUNCED}-{}",
        serde_json::json!(["echo", placeholders])
    );
    let feeding = async {
        writer
            .write_all(&client::encode_frame(
                opcode::TEXT,
                packet.as_bytes(),
                raw::ZERO_MASK,
            ))
            .await?;
        let header = client::frame_header(opcode::BINARY, size, raw::ZERO_MASK);
        for _ in 0..FED {
            writer.write_all(&header).await?;
            raw::write_zeros(&mut writer, size).await?;
        }
        Ok::<_, std::io::Error>(())
    };
    write_then_watch(&mut reader, feeding, deadline).await
}
