//! What hostile clients do below the Socket.IO client: watch a socket until
//! the server closes it, write payload bytes without building them,
//! trickle request bodies, run many clients a few at a time.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Masking key of hostile frames: all zeros (valid; the payload goes out as is).
pub const ZERO_MASK: [u8; 4] = [0; 4];

/// Read and drop whatever the server sends until it closes the connection
/// (end of stream or reset): when that happened, `None` if it had not by
/// `deadline`.
pub async fn wait_closed<R: AsyncRead + Unpin>(
    reader: &mut R,
    deadline: Instant,
) -> Option<Instant> {
    let mut buf = vec![0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline.into(), reader.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Write `n` zero bytes in 64 KiB pieces.
pub async fn write_zeros<W: AsyncWrite + Unpin>(writer: &mut W, n: usize) -> std::io::Result<()> {
    let chunk = vec![0u8; 64 << 10];
    let mut left = n;
    while left > 0 {
        let len = left.min(chunk.len());
        writer.write_all(&chunk[..len]).await?;
        left -= len;
    }
    writer.flush().await
}

/// Counts occurrences of a marker in a byte stream read in pieces (a
/// marker split across two reads is still counted once).
pub struct MarkerCounter {
    marker: &'static [u8],
    carry: Vec<u8>,
}

impl MarkerCounter {
    /// A counter of `marker`.
    pub fn new(marker: &'static [u8]) -> MarkerCounter {
        MarkerCounter {
            marker,
            carry: Vec::new(),
        }
    }

    /// Occurrences that end in `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> u64 {
        self.carry.extend_from_slice(bytes);
        let mut count = 0;
        let mut from = 0;
        while let Some(at) = crate::wire::find(&self.carry[from..], self.marker) {
            count += 1;
            from += at + self.marker.len();
        }
        let keep = self.marker.len().saturating_sub(1);
        let tail_from = self.carry.len().saturating_sub(keep).max(from);
        self.carry.drain(..tail_from);
        count
    }
}

/// Run `n` clients, at most `concurrency` of them in their `open` phase at
/// once; each then goes on in `rest` without holding a place. Returns what
/// each finished with, in no particular order.
pub async fn run_many<S, T, O, OF, R, RF>(n: usize, concurrency: usize, open: O, rest: R) -> Vec<T>
where
    S: Send + 'static,
    T: Send + 'static,
    O: Fn(usize) -> OF + Send + Sync + 'static,
    OF: Future<Output = S> + Send + 'static,
    R: Fn(usize, S) -> RF + Send + Sync + 'static,
    RF: Future<Output = T> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let open = Arc::new(open);
    let rest = Arc::new(rest);
    let mut set = JoinSet::new();
    for i in 0..n {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let (open, rest) = (open.clone(), rest.clone());
        set.spawn(async move {
            let opened = open(i).await;
            drop(permit);
            rest(i, opened).await
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        if let Ok(value) = done {
            out.push(value);
        }
    }
    out
}

/// Percentile `q` (0..=1) of durations, in seconds; `None` when empty.
pub fn percentile_secs(values: &mut [Duration], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let index = ((values.len() - 1) as f64 * q).round() as usize;
    values.get(index).map(Duration::as_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_split_across_reads_count_once() {
        let mut c = MarkerCounter::new(b"echo:response");
        assert_eq!(c.feed(b"42[\"echo:resp"), 0);
        assert_eq!(c.feed(b"onse\",1]42[\"echo:response\"]"), 2);
        assert_eq!(c.feed(b"echo:respons"), 0);
        assert_eq!(c.feed(b"e"), 1);
    }

    #[test]
    fn percentiles_of_durations() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_secs(&mut v, 0.5), Some(0.051));
        assert_eq!(percentile_secs(&mut [], 0.5), None);
    }
}
