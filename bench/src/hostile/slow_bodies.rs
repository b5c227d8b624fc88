//! `slow-bodies`: REST and Engine.IO polling POSTs that send their headers
//! and then one body byte every 5 s. The server should cut each of them
//! within its body read timeout (30 s unless configured).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Ctx;
use crate::BenchResult;
use crate::http::HttpConn;
use crate::wire;

/// Requests of each kind.
const REQUESTS: usize = 5;
/// Time between two body bytes.
const TRICKLE: Duration = Duration::from_secs(5);
/// Announced body length (never reached).
const ANNOUNCED: usize = 1_000;
/// How long a request is watched.
const WATCH: Duration = Duration::from_secs(90);
/// The body read timeout the server is expected to have.
const EXPECTED: Duration = Duration::from_secs(30);

/// How one trickled request ended.
struct Cut {
    /// Time from the end of the headers to the server's answer or close.
    after: Option<Duration>,
    /// The first line of the server's answer, if any.
    status: String,
    /// Body bytes sent before that.
    bytes: usize,
}

/// Run the scenario.
pub async fn run(ctx: &Ctx) -> BenchResult<()> {
    let port = ctx.target.port;
    let path = ctx.target.path.trim_end_matches('/').to_owned();
    let mut tasks = Vec::new();
    for i in 0..REQUESTS * 2 {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let route = if i < REQUESTS {
                "/api/socket/broadcast".to_owned()
            } else {
                let sid = polling_sid(port, &path).await?;
                format!("{path}/?EIO=4&transport=polling&sid={sid}")
            };
            trickle(port, &route).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(match task.await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        });
    }
    for (name, part) in [
        ("rest_post", &results[..REQUESTS]),
        ("polling_post", &results[REQUESTS..]),
    ] {
        let mut cuts = Vec::new();
        for r in part {
            match r {
                Ok(cut) => cuts.push(format!(
                    "{} after {} body bytes ({})",
                    cut.after
                        .map_or("not cut".to_owned(), |d| format!("{:.1}s", d.as_secs_f64())),
                    cut.bytes,
                    if cut.status.is_empty() {
                        "closed, no answer"
                    } else {
                        &cut.status
                    }
                )),
                Err(e) => cuts.push(format!("error: {e}")),
            }
        }
        let worst = part
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|c| c.after.unwrap_or(WATCH))
            .max();
        ctx.figure(
            name,
            format!(
                "cut at: {} (target <= {}s: {})",
                cuts.join("; "),
                EXPECTED.as_secs(),
                worst.is_some_and(|w| w <= EXPECTED + Duration::from_secs(1))
            ),
        );
    }
    Ok(())
}

/// Open a polling session and return its sid.
async fn polling_sid(port: u16, path: &str) -> BenchResult<String> {
    let mut http = HttpConn::connect(port).await?;
    let answer = http
        .get(&format!("{path}/?EIO=4&transport=polling"))
        .await?;
    let body = answer.body.as_bytes();
    let key = b"\"sid\":\"";
    let from = wire::find(body, key).ok_or("no sid in the open packet")? + key.len();
    let len = body[from..]
        .iter()
        .position(|b| *b == b'"')
        .ok_or("unterminated sid")?;
    Ok(String::from_utf8_lossy(&body[from..from + len]).into_owned())
}

/// POST `route` with a body trickled one byte per `TRICKLE`.
async fn trickle(port: u16, route: &str) -> BenchResult<Cut> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {route} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {ANNOUNCED}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await?;
    let started = Instant::now();
    let deadline = started + WATCH;
    let sent = Arc::new(AtomicUsize::new(0));
    let writing = {
        let sent = sent.clone();
        tokio::spawn(async move {
            for _ in 1..ANNOUNCED {
                tokio::time::sleep(TRICKLE).await;
                if writer.write_all(b" ").await.is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            // Keep the write half (and so the connection) open until aborted.
            std::future::pending::<()>().await;
        })
    };
    let reading = async {
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return answer,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.contains(&b'\n') {
                        return answer;
                    }
                }
            }
        }
    };
    let outcome = tokio::time::timeout_at(deadline.into(), reading).await;
    writing.abort();
    let (after, status) = match outcome {
        Ok(answer) => (
            Some(started.elapsed()),
            String::from_utf8_lossy(&answer)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        Err(_) => (None, String::new()),
    };
    let bytes = sent.load(Ordering::Relaxed);
    Ok(Cut {
        after,
        status,
        bytes,
    })
}
