//! Slow-consumer scenario: a room of reading members plus one member that,
//! half-way, stops reading its socket (the kernel buffers between it and the
//! server fill, then whatever the server queues for it), while one REST
//! sender sends 1 KiB messages to the room at a steady rate.
//!
//! Two phases of equal length in one run: in the first every member reads,
//! in the second one does not. Measured: the readers' delivery latency in
//! each phase, the server's resident memory every 250 ms, when the server
//! dropped the slow member (from its client list, polled every 250 ms), and
//! whether every reader received every message once, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Metrics, Settings, Stamp, connect_many, join_room, target};
use crate::BenchResult;
use crate::client::Conn;
use crate::http::HttpConn;
use crate::procfs;
use crate::stats::{Latencies, now_micros};
use crate::wire;

const ROOM: &str = "slow-room";
const TOPIC: &str = "bench";
/// Padding that makes each message's data about 1 KiB of JSON.
const PAD_BYTES: usize = 1000;
/// How often memory and the slow member's presence are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// The drain after the last send ends after this long without a delivery.
const DRAIN_IDLE: Duration = Duration::from_secs(3);

/// What one reading member saw, updated as it reads.
#[derive(Default)]
struct Reader {
    /// Messages received.
    received: AtomicU64,
    /// Messages whose number was not the previous one plus one.
    out_of_order: AtomicU64,
    /// Number of the last message received, -1 before the first.
    last: AtomicI64,
}

/// One sample of the server: when (µs), resident KiB, and whether the slow
/// member was still in its client list (`None`: the list could not be read).
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: u64,
    rss_kib: Option<u64>,
    slow_listed: Option<bool>,
}

/// Run the scenario against the server `pid` on `port`.
pub async fn run(pid: u32, port: u16, settings: &Settings) -> BenchResult<Metrics> {
    let readers_n = settings.slow_readers.max(1);
    let per_phase = (u64::from(settings.slow_rate.max(1)) * settings.slow_phase.as_millis() as u64
        / 1000)
        .max(1);
    let total = per_phase * 2;
    let (mut conns, _, first_error) = connect_many(
        &target(port),
        readers_n + 1,
        settings.concurrency,
        Arc::new(Latencies::new()),
    )
    .await;
    if conns.len() < readers_n + 1 {
        return Err(format!(
            "{} of {} clients connected: {}",
            conns.len(),
            readers_n + 1,
            first_error.unwrap_or_default()
        )
        .into());
    }
    let slow = conns.pop().ok_or("no slow client")?;
    let slow_sid = slow.sid.clone();
    let mut sids: Vec<String> = conns.iter().map(|c| c.sid.clone()).collect();
    sids.push(slow_sid.clone());
    let joined = join_room(port, sids, ROOM).await?;
    if joined != readers_n + 1 {
        return Err(format!("{joined} of {} clients joined the room", readers_n + 1).into());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let latencies = Arc::new([Latencies::new(), Latencies::new()]);
    let readers: Arc<Vec<Reader>> = Arc::new(
        (0..readers_n)
            .map(|_| Reader {
                last: AtomicI64::new(-1),
                ..Reader::default()
            })
            .collect(),
    );
    let reading: Vec<JoinHandle<()>> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| tokio::spawn(read(i, conn, readers.clone(), latencies.clone(), per_phase)))
        .collect();
    // The slow member reads the first phase, then stops reading; it keeps
    // its connection open.
    let slow_task = tokio::spawn(read_until(slow, per_phase - 1));
    let (stop_tx, stop_rx) = watch::channel(false);
    let sampler = tokio::spawn(sample(pid, port, slow_sid, stop_rx));

    let cpu_before = procfs::cpu_micros(pid).unwrap_or(0);
    let sent = match send(port, total, settings.slow_rate).await {
        Ok(s) => s,
        Err(e) => {
            let _ = stop_tx.send(true);
            reading.iter().for_each(JoinHandle::abort);
            return Err(e);
        }
    };
    drain(&readers, total).await;
    let cpu_after = procfs::cpu_micros(pid).unwrap_or(cpu_before);
    let _ = stop_tx.send(true);
    let samples = sampler.await.unwrap_or_default();
    reading.iter().for_each(JoinHandle::abort);
    let (slow_conn, stopped_at) = slow_task.await??;
    drop(slow_conn);

    let mut m = Metrics::new();
    m.insert("readers".into(), readers_n as f64);
    m.insert("messages".into(), sent.ok as f64);
    m.insert("send_errors".into(), sent.errors as f64);
    let phase_secs = |from: u64, to: u64| (to.saturating_sub(from)) as f64 / 1e6;
    m.insert(
        "rate_a_per_s".into(),
        per_phase as f64 / phase_secs(sent.first_at, sent.phase_b_at).max(1e-6),
    );
    m.insert(
        "rate_b_per_s".into(),
        per_phase as f64 / phase_secs(sent.phase_b_at, sent.last_at).max(1e-6),
    );
    let (a, b) = (latencies[0].summary(), latencies[1].summary());
    m.insert("p50_a_ms".into(), a.p50_ms);
    m.insert("p99_a_ms".into(), a.p99_ms);
    m.insert("max_a_ms".into(), a.max_ms);
    m.insert("p50_b_ms".into(), b.p50_ms);
    m.insert("p99_b_ms".into(), b.p99_ms);
    m.insert("max_b_ms".into(), b.max_ms);
    m.insert("p99_b_minus_a_ms".into(), b.p99_ms - a.p99_ms);
    insert_memory(&mut m, &samples, stopped_at);
    if let Some(gone) = samples
        .iter()
        .find(|s| s.at >= stopped_at && s.slow_listed == Some(false))
    {
        m.insert(
            "slow_dropped_after_s".into(),
            (gone.at - stopped_at) as f64 / 1e6,
        );
    }
    m.insert(
        "slow_dropped".into(),
        f64::from(u8::from(
            samples.iter().any(|s| s.slow_listed == Some(false)),
        )),
    );
    let received: u64 = readers
        .iter()
        .map(|r| r.received.load(Ordering::Relaxed))
        .sum();
    m.insert(
        "missing".into(),
        (sent.ok * readers_n as u64).saturating_sub(received) as f64,
    );
    m.insert(
        "out_of_order".into(),
        readers
            .iter()
            .map(|r| r.out_of_order.load(Ordering::Relaxed))
            .sum::<u64>() as f64,
    );
    m.insert(
        "server_cpu_pct".into(),
        100.0 * cpu_after.saturating_sub(cpu_before) as f64
            / 1e6
            / phase_secs(sent.first_at, sent.last_at).max(1e-6),
    );
    Ok(m)
}

/// Resident memory at the start, highest in each phase, and at the end, in MiB.
fn insert_memory(m: &mut Metrics, samples: &[Sample], stopped_at: u64) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rss = |s: &Sample| s.rss_kib;
    if let Some(first) = samples.iter().find_map(rss) {
        m.insert("rss_start_mib".into(), mib(first));
    }
    if let Some(last) = samples.iter().rev().find_map(rss) {
        m.insert("rss_end_mib".into(), mib(last));
    }
    let before = samples.iter().filter(|s| s.at < stopped_at).filter_map(rss);
    if let Some(max) = before.max() {
        m.insert("rss_max_a_mib".into(), mib(max));
    }
    let after = samples
        .iter()
        .filter(|s| s.at >= stopped_at)
        .filter_map(rss);
    if let Some(max) = after.max() {
        m.insert("rss_max_b_mib".into(), mib(max));
    }
    m.insert("rss_samples".into(), samples.len() as f64);
}

/// A reading member: records each message's latency in the histogram of
/// its phase and checks that numbers follow each other.
async fn read(
    index: usize,
    mut conn: Conn,
    readers: Arc<Vec<Reader>>,
    latencies: Arc<[Latencies; 2]>,
    per_phase: u64,
) {
    let Some(me) = readers.get(index) else {
        return;
    };
    while let Ok(array) = conn.next_event().await {
        if wire::event_name(array) != Some(TOPIC) {
            continue;
        }
        let Some(stamp) = Stamp::scan(array) else {
            continue;
        };
        let now = now_micros();
        let phase = usize::from(stamp.seq as u64 >= per_phase);
        latencies[phase].record(index, now.saturating_sub(stamp.t));
        let seq = stamp.seq as i64;
        if me.last.swap(seq, Ordering::Relaxed) + 1 != seq {
            me.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
        me.received.fetch_add(1, Ordering::Relaxed);
    }
}

/// The slow member: reads until message `last`, then returns its
/// connection, unread from then on, and when it stopped reading.
async fn read_until(mut conn: Conn, last: u64) -> BenchResult<(Conn, u64)> {
    loop {
        let array = conn.next_event().await?;
        if wire::event_name(array) == Some(TOPIC)
            && Stamp::scan(array).is_some_and(|s| s.seq as u64 >= last)
        {
            return Ok((conn, now_micros()));
        }
    }
}

/// What the sender did; times in [`now_micros`].
struct Sent {
    /// Sends answered 200.
    ok: u64,
    /// Sends answered otherwise.
    errors: u64,
    /// When the first message was sent.
    first_at: u64,
    /// When the second phase's first message was sent.
    phase_b_at: u64,
    /// When the last answer came.
    last_at: u64,
}

/// Send `total` messages to the room through one keep-alive connection, the
/// n-th due `n / rate` seconds after the first (late ones go at once),
/// so that the server receives them in order.
async fn send(port: u16, total: u64, rate: u32) -> BenchResult<Sent> {
    let mut http = HttpConn::connect(port).await?;
    let pad = "x".repeat(PAD_BYTES);
    let path = format!("/api/socket/room/{ROOM}/send");
    let start = tokio::time::Instant::now();
    let mut sent = Sent {
        ok: 0,
        errors: 0,
        first_at: now_micros(),
        phase_b_at: 0,
        last_at: 0,
    };
    let interval_ns = 1_000_000_000 / u64::from(rate.max(1));
    for seq in 0..total {
        tokio::time::sleep_until(start + Duration::from_nanos(seq * interval_ns)).await;
        let t = now_micros();
        if seq == 0 {
            sent.first_at = t;
        }
        if seq == total / 2 {
            sent.phase_b_at = t;
        }
        // Number and time first: the receivers' scan stops there.
        let body = format!(
            "{{\"topic\":\"{TOPIC}\",\"data\":{{\"seq\":{seq},\"t\":{t},\"pad\":\"{pad}\"}}}}"
        );
        match http.post(&path, &body).await {
            Ok(a) if a.status == 200 => sent.ok += 1,
            Ok(_) => sent.errors += 1,
            Err(e) => return Err(format!("send {seq}: {e}").into()),
        }
    }
    sent.last_at = now_micros();
    Ok(sent)
}

/// Wait until every reader received `total` messages, or nothing arrived for
/// [`DRAIN_IDLE`].
async fn drain(readers: &[Reader], total: u64) {
    let received = || -> u64 {
        readers
            .iter()
            .map(|r| r.received.load(Ordering::Relaxed))
            .sum()
    };
    let expected = total * readers.len() as u64;
    let (mut last, mut idle) = (received(), Duration::ZERO);
    while last < expected && idle < DRAIN_IDLE {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = received();
        idle = if now == last {
            idle + Duration::from_millis(50)
        } else {
            Duration::ZERO
        };
        last = now;
    }
}

/// Every [`SAMPLE_EVERY`] until `stop`: the server's resident memory and
/// whether `slow_sid` is still in `GET /api/socket/clients`.
async fn sample(
    pid: u32,
    port: u16,
    slow_sid: String,
    mut stop: watch::Receiver<bool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut http = HttpConn::connect(port).await.ok();
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => break,
        }
        let at = now_micros();
        let rss_kib = procfs::rss_kib(pid);
        let slow_listed = match http.as_mut() {
            Some(h) => match h.get("/api/socket/clients").await {
                Ok(a) if a.status == 200 => Some(a.body.contains(&slow_sid)),
                _ => {
                    http = HttpConn::connect(port).await.ok();
                    None
                }
            },
            None => {
                http = HttpConn::connect(port).await.ok();
                None
            }
        };
        samples.push(Sample {
            at,
            rss_kib,
            slow_listed,
        });
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at: u64, rss_kib: Option<u64>) -> Sample {
        Sample {
            at,
            rss_kib,
            slow_listed: None,
        }
    }

    #[test]
    fn memory_is_split_at_the_moment_the_slow_member_stopped_reading() {
        let samples = [
            at(0, Some(2048)),
            at(1, Some(4096)),
            at(2, None),
            at(3, Some(9216)),
            at(4, Some(8192)),
            at(5, None),
        ];
        let mut m = Metrics::new();
        insert_memory(&mut m, &samples, 2);
        assert_eq!(m.get("rss_start_mib"), Some(&2.0));
        assert_eq!(m.get("rss_max_a_mib"), Some(&4.0));
        assert_eq!(m.get("rss_max_b_mib"), Some(&9.0));
        assert_eq!(m.get("rss_end_mib"), Some(&8.0));
        assert_eq!(m.get("rss_samples"), Some(&6.0));
    }
}
