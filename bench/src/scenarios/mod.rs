//! The load scenarios. Each returns named figures (`Metrics`) for one server.

pub mod connect;
pub mod echo;
pub mod fanout;
pub mod slow_consumer;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::BenchResult;
use crate::client::{self, Conn, Target};
use crate::http::HttpConn;
use crate::servers::TOKEN;
use crate::stats::Latencies;
use crate::wire;

/// Named figures of one scenario run, e.g. `rate_per_s`.
pub type Metrics = BTreeMap<String, f64>;

/// Which measurement to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Scenario {
    /// N clients connect and authenticate; rate, latency, CPU and memory per connection.
    Connect,
    /// N clients in a room, messages sent to it through REST; deliveries/s, loss, latency.
    Fanout,
    /// N clients in an `echo` loop; round trips/s and latency.
    Echo,
    /// Fan-out across two servers sharing a Redis: clients on one, sends on the other.
    CrossNode,
    /// Fan-out of 16 KiB dashboard JSON messages, clients offering
    /// permessage-deflate: bytes on the wire per message, deliveries/s, CPU.
    #[value(name = "fanout-16k")]
    Fanout16k,
    /// A room of reading members and one member that stops reading its
    /// socket while 1 KiB messages arrive at a steady rate: the readers'
    /// latency with and without it, the server's memory, and when the slow
    /// member is disconnected.
    SlowConsumer,
}

impl Scenario {
    /// Name used in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Connect => "connect",
            Scenario::Fanout => "fanout",
            Scenario::Echo => "echo",
            Scenario::CrossNode => "cross-node",
            Scenario::Fanout16k => "fanout-16k",
            Scenario::SlowConsumer => "slow-consumer",
        }
    }
}

/// Sizes and durations of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Clients of the connect scenario.
    pub connect_clients: usize,
    /// How long connections are held before memory is read.
    pub hold: Duration,
    /// Clients in the fan-out room (also cross-node).
    pub fanout_clients: usize,
    /// Clients in the echo loop.
    pub echo_clients: usize,
    /// Length of the fan-out and echo measurement phase.
    pub duration: Duration,
    /// Fan-out messages in flight (sent but not yet delivered to every client).
    pub window: usize,
    /// Connection attempts in flight at once.
    pub concurrency: usize,
    /// Reading members of the slow-consumer room (the slow one comes on top).
    pub slow_readers: usize,
    /// Length of each of the two slow-consumer phases.
    pub slow_phase: Duration,
    /// Messages per second sent to the slow-consumer room.
    pub slow_rate: u32,
    /// Echo events per second offered by all echo clients together (open
    /// loop, each client on its own schedule); `None` runs the closed loop,
    /// where each client sends again as soon as its answer came.
    pub echo_rate: Option<u32>,
}

/// The target of `port` with the contract's path and token. Clients offer
/// permessage-deflate, as browsers and Node's client do: a server that
/// compresses negotiates it, the others decline.
pub fn target(port: u16) -> Target {
    Target {
        port,
        path: "/io".to_owned(),
        token: TOKEN.to_owned(),
        deflate: true,
    }
}

/// Connect and authenticate `n` clients, `concurrency` at a time, recording
/// each one's connect-to-authenticated latency. Failures are counted, the
/// first error kept.
pub async fn connect_many(
    target: &Target,
    n: usize,
    concurrency: usize,
    latencies: Arc<Latencies>,
) -> (Vec<Conn>, usize, Option<String>) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for i in 0..n {
        let target = target.clone();
        let permits = permits.clone();
        let latencies = latencies.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let started = Instant::now();
            let conn = Conn::connect(&target, client::source_address(i, n)).await;
            if conn.is_ok() {
                latencies.record(i, started.elapsed().as_micros() as u64);
            }
            conn.map_err(|e| e.to_string())
        });
    }
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(conn)) => conns.push(conn),
            Ok(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    (conns, failed, first_error)
}

/// Join every client to `room` through `POST /api/socket/client/:id/join`,
/// over a few keep-alive connections. Returns how many joins succeeded.
pub async fn join_room(port: u16, sids: Vec<String>, room: &str) -> BenchResult<usize> {
    let lanes = 8.min(sids.len().max(1));
    let sids = Arc::new(sids);
    let mut set = JoinSet::new();
    for lane in 0..lanes {
        let sids = sids.clone();
        let body = serde_json::json!({ "rooms": [room] }).to_string();
        set.spawn(async move {
            let mut http = HttpConn::connect(port).await?;
            let mut ok = 0usize;
            for sid in sids.iter().skip(lane).step_by(lanes) {
                let answer = http
                    .post(&format!("/api/socket/client/{sid}/join"), &body)
                    .await?;
                if answer.status == 200 && answer.body.contains("\"success\":true") {
                    ok += 1;
                }
            }
            Ok::<usize, crate::BenchError>(ok)
        });
    }
    let mut total = 0;
    while let Some(joined) = set.join_next().await {
        total += joined??;
    }
    Ok(total)
}

/// The sequence number and send time a scenario embeds in each message's data.
pub struct Stamp {
    /// Message number, from 0.
    pub seq: usize,
    /// When it was sent, in [`crate::stats::now_micros`].
    pub t: u64,
}

impl Stamp {
    /// `seq` and `t` from `["bench",{"seq":N,"t":N}]` (any key order).
    pub fn scan(array: &str) -> Option<Stamp> {
        Some(Stamp {
            seq: number_after(array, "\"seq\":")? as usize,
            t: number_after(array, "\"t\":")?,
        })
    }
}

/// The number after `key`. A byte scan: `str::find` with a string pattern
/// builds a searcher per call, which showed in the generator's profile.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let start = wire::find(bytes, key.as_bytes())? + key.len();
    let mut digits = bytes[start..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .peekable();
    digits.peek()?;
    digits.try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_scan_reads_both_numbers_in_any_order() {
        let s = Stamp::scan("[\"bench\",{\"seq\":12,\"t\":345}]").map(|s| (s.seq, s.t));
        assert_eq!(s, Some((12, 345)));
        let s = Stamp::scan("[\"bench\",{\"t\": 7, \"seq\": 3}]").map(|s| (s.seq, s.t));
        assert_eq!(s, Some((3, 7)));
        assert!(Stamp::scan("[\"bench\",{}]").is_none());
    }
}
