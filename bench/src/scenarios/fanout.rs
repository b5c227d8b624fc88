//! Fan-out scenario: clients in one room, messages sent to the room through
//! `POST /api/socket/room/:roomId/send`. A closed loop keeps at most
//! `window` messages in flight, so the figures describe a steady state and
//! not a queue that grows without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Metrics, Settings, Stamp, connect_many, join_room, target};
use crate::BenchResult;
use crate::http::HttpConn;
use crate::procfs;
use crate::stats::{Latencies, now_micros};
use crate::wire;

const ROOM: &str = "bench-room";
const TOPIC: &str = "bench";
/// Upper bound of messages one run may send.
const MAX_MESSAGES: usize = 2_000_000;
/// Most REST connections sending in parallel.
const MAX_SENDERS: usize = 64;

struct Shared {
    /// Deliveries per message, by `seq`.
    delivered: Vec<AtomicU32>,
    members: u32,
    window: Semaphore,
    latencies: Latencies,
    /// When the last message reached its last member. Updated once per
    /// message, not per delivery: receivers on both cores updating one
    /// counter per delivery cost the generator several percent.
    last_delivery: AtomicU64,
    /// Bytes each receiver read off its socket during the run (one slot per
    /// receiver, so no two cores write the same counter).
    wire_bytes: Vec<AtomicU64>,
    /// Length of the last message text a receiver saw (`42[...]`).
    message_len: AtomicU64,
}

impl Shared {
    /// Deliveries of the first `issued` messages.
    fn total(&self, issued: u64) -> u64 {
        self.delivered
            .iter()
            .take(issued as usize)
            .map(|count| u64::from(count.load(Ordering::Relaxed)))
            .sum()
    }
}

/// Run fan-out with clients on `join_port` and sends on `send_port` (the
/// same port for one server, another node's for cross-node). `pids` are
/// the server processes whose CPU is counted.
pub async fn run(
    pids: &[u32],
    join_port: u16,
    send_port: u16,
    settings: &Settings,
) -> BenchResult<Metrics> {
    run_with(pids, join_port, send_port, settings, None).await
}

/// Size of the dashboard message of the 16 KiB fan-out, in bytes of JSON.
pub const DASHBOARD_BYTES: usize = 16 * 1024;

/// Fan-out of 16 KiB dashboard JSON (rows of host metrics, as a monitoring
/// page receives) to clients that offer permessage-deflate, as browsers do;
/// the server compresses or not as it is configured.
pub async fn run_dashboard(pid: u32, port: u16, settings: &Settings) -> BenchResult<Metrics> {
    run_with(
        &[pid],
        port,
        port,
        settings,
        Some(dashboard(DASHBOARD_BYTES)),
    )
    .await
}

/// JSON rows of a monitoring dashboard, about `bytes` long.
pub fn dashboard(bytes: usize) -> String {
    let mut rows = Vec::new();
    let mut len = 2;
    let mut i = 0usize;
    while len < bytes {
        let row = format!(
            "{{\"host\":\"web-{:02}.eu-west-{}\",\"service\":\"{}\",\"cpu\":{}.{},\"mem_mb\":{},\"rps\":{},\"p99_ms\":{}.{},\"status\":\"{}\"}}",
            i % 24,
            1 + i % 3,
            ["api", "web", "worker", "search"][i % 4],
            (i * 37) % 100,
            (i * 7) % 10,
            512 + (i * 131) % 3584,
            (i * 977) % 20_000,
            (i * 53) % 400,
            i % 10,
            if i.is_multiple_of(11) {
                "degraded"
            } else {
                "ok"
            }
        );
        len += row.len() + 1;
        rows.push(row);
        i += 1;
    }
    format!("[{}]", rows.join(","))
}

async fn run_with(
    pids: &[u32],
    join_port: u16,
    send_port: u16,
    settings: &Settings,
    rows: Option<String>,
) -> BenchResult<Metrics> {
    let n = settings.fanout_clients;
    let connect_lat = Arc::new(Latencies::new());
    let to = target(join_port);
    let (conns, failed, first_error) =
        connect_many(&to, n, settings.concurrency, connect_lat).await;
    if conns.is_empty() {
        return Err(first_error
            .unwrap_or_else(|| "no client connected".into())
            .into());
    }
    let sids: Vec<String> = conns.iter().map(|c| c.sid.clone()).collect();
    let joined = join_room(join_port, sids, ROOM).await?;
    if joined == 0 {
        return Err("no client could join the room".into());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let shared = Arc::new(Shared {
        delivered: (0..MAX_MESSAGES).map(|_| AtomicU32::new(0)).collect(),
        members: joined as u32,
        window: Semaphore::new(settings.window.max(1)),
        latencies: Latencies::new(),
        last_delivery: AtomicU64::new(0),
        wire_bytes: (0..n).map(|_| AtomicU64::new(0)).collect(),
        message_len: AtomicU64::new(0),
    });
    let receivers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let base = conn.bytes_read();
                while let Ok(array) = conn.next_event().await {
                    if wire::event_name(array) != Some(TOPIC) {
                        continue;
                    }
                    if i == 0 {
                        shared
                            .message_len
                            .store(array.len() as u64 + 2, Ordering::Relaxed);
                    }
                    // A cheap scan, not a JSON parse: at hundreds of thousands
                    // of deliveries per second the generator shares the cores
                    // with the server under test.
                    let Some(stamp) = Stamp::scan(array) else {
                        continue;
                    };
                    let now = now_micros();
                    if let Some(bytes) = shared.wire_bytes.get(i) {
                        bytes.store(conn.bytes_read() - base, Ordering::Relaxed);
                    }
                    shared.latencies.record(i, now.saturating_sub(stamp.t));
                    if let Some(count) = shared.delivered.get(stamp.seq)
                        && count.fetch_add(1, Ordering::AcqRel) + 1 == shared.members
                    {
                        shared.last_delivery.fetch_max(now, Ordering::Relaxed);
                        shared.window.add_permits(1);
                    }
                }
            })
        })
        .collect();

    let cpu_before: u64 = pids.iter().filter_map(|p| procfs::cpu_micros(*p)).sum();
    let next_seq = Arc::new(AtomicU64::new(0));
    let stalls = Arc::new(AtomicU64::new(0));
    let send_errors = Arc::new(AtomicU64::new(0));
    let first_send = now_micros();
    let deadline = Instant::now() + settings.duration;
    let mut senders = JoinSet::new();
    // One keep-alive REST connection per message in flight: with fewer, the
    // sends wait on REST round trips and the window is never full.
    let senders_count = settings.window.clamp(1, MAX_SENDERS);
    let rows: Arc<str> = rows.unwrap_or_default().into();
    for _ in 0..senders_count {
        let (shared, next_seq, stalls, send_errors, rows) = (
            shared.clone(),
            next_seq.clone(),
            stalls.clone(),
            send_errors.clone(),
            rows.clone(),
        );
        senders.spawn(async move {
            let mut http = HttpConn::connect(send_port).await?;
            while Instant::now() < deadline {
                // A message lost on the way never returns its permit: after a
                // second, count a stall and go on without it.
                match tokio::time::timeout(Duration::from_secs(1), shared.window.acquire()).await {
                    Ok(Ok(permit)) => permit.forget(),
                    Ok(Err(_)) => break,
                    Err(_) => {
                        stalls.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let seq = next_seq.fetch_add(1, Ordering::Relaxed);
                if seq as usize >= MAX_MESSAGES {
                    break;
                }
                let body = if rows.is_empty() {
                    serde_json::json!({
                        "topic": TOPIC,
                        "data": { "seq": seq, "t": now_micros() },
                    })
                    .to_string()
                } else {
                    format!(
                        "{{\"topic\":\"{TOPIC}\",\"data\":{{\"rows\":{rows},\"seq\":{seq},\"t\":{}}}}}",
                        now_micros()
                    )
                };
                match http
                    .post(&format!("/api/socket/room/{ROOM}/send"), &body)
                    .await
                {
                    Ok(a) if a.status == 200 => {}
                    Ok(_) => {
                        send_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        send_errors.fetch_add(1, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok::<(), crate::BenchError>(())
        });
    }
    let mut sender_error = None;
    while let Some(r) = senders.join_next().await {
        if let Ok(Err(e)) = r {
            sender_error.get_or_insert(e.to_string());
        }
    }
    let send_phase = (now_micros() - first_send) as f64 / 1e6;
    let issued = next_seq.load(Ordering::Relaxed).min(MAX_MESSAGES as u64);
    let sent = issued - send_errors.load(Ordering::Relaxed).min(issued);
    // Drain: wait until every sent message reached every member, or no
    // progress for two seconds.
    let expected = sent * shared.members as u64;
    let mut last_total = 0;
    let mut idle_since = Instant::now();
    while shared.total(issued) < expected {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let total = shared.total(issued);
        if total != last_total {
            last_total = total;
            idle_since = Instant::now();
        } else if idle_since.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    let cpu_after: u64 = pids.iter().filter_map(|p| procfs::cpu_micros(*p)).sum();
    for r in &receivers {
        r.abort();
    }
    let total = shared.total(issued);
    let span = (shared
        .last_delivery
        .load(Ordering::Relaxed)
        .saturating_sub(first_send)) as f64
        / 1e6;
    if sent == 0 {
        return Err(sender_error.unwrap_or_else(|| "nothing sent".into()).into());
    }
    let summary = shared.latencies.summary();
    let mut m = Metrics::new();
    m.insert("clients".into(), n as f64);
    m.insert("connect_failed".into(), failed as f64);
    m.insert("members".into(), joined as f64);
    m.insert("messages".into(), sent as f64);
    m.insert("sends_per_s".into(), sent as f64 / send_phase);
    m.insert("deliveries_per_s".into(), total as f64 / span.max(1e-6));
    m.insert(
        "loss_pct".into(),
        100.0 * expected.saturating_sub(total) as f64 / expected.max(1) as f64,
    );
    m.insert("p50_ms".into(), summary.p50_ms);
    m.insert("p99_ms".into(), summary.p99_ms);
    m.insert(
        "send_errors".into(),
        send_errors.load(Ordering::Relaxed) as f64,
    );
    m.insert("stalls".into(), stalls.load(Ordering::Relaxed) as f64);
    m.insert(
        "server_cpu_pct".into(),
        100.0 * (cpu_after - cpu_before) as f64 / 1e6 / span.max(1e-6),
    );
    m.insert(
        "cpu_us_per_delivery".into(),
        (cpu_after - cpu_before) as f64 / total.max(1) as f64,
    );
    let wire: u64 = shared
        .wire_bytes
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .sum();
    m.insert(
        "wire_bytes_per_msg".into(),
        wire as f64 / total.max(1) as f64,
    );
    m.insert(
        "json_bytes".into(),
        shared.message_len.load(Ordering::Relaxed) as f64,
    );
    Ok(m)
}
