//! RFC 7692 permessage-deflate: compressing and inflating whole messages.
//!
//! Role-agnostic: a server and a client use the same pool and inflater, only
//! choosing which negotiated window applies to which direction
//! ([`DeflateParams`](super::DeflateParams)). The module knows nothing of
//! frames or masking: the framing sets RSV1 on the first frame of a message
//! whose payload came out of [`DeflatePool::compress`], and hands the joined
//! payload of a message whose first frame had RSV1 to [`Inflater::inflate`].
//!
//! No compression context belongs to a connection unless context takeover
//! was negotiated for its incoming direction: the [`DeflatePool`] lends
//! contexts for one message at a time and keeps at most `concurrency_limit`
//! of them, so an idle connection holds none. Outgoing messages are always
//! compressed without context takeover (each message on its own), which is
//! valid whatever was negotiated.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The four bytes a sync flush ends with: removed from every compressed
/// message and added back before inflating (RFC 7692 §7.2.1, §7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest and largest LZ77 window (in bits) the deflate backend takes.
pub const WINDOW_BITS: std::ops::RangeInclusive<u8> = 9..=15;

/// Settings of permessage-deflate, with the names of RFC 7692's parameters.
///
/// The defaults are the reference component's: threshold 4096, 10 KiB output
/// chunks, no context takeover either way, a 2^10 server window, a 2^12 client
/// window (asked of clients that allow it), 20 messages compressed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Messages smaller than this (in bytes) are sent uncompressed.
    pub threshold: usize,
    /// zlib compression level, 0 (none) to 9 (smallest output).
    pub level: u32,
    /// The step (in bytes) by which compression output grows.
    pub chunk_size: usize,
    /// Announce that the server compresses every message on its own. The
    /// server always does; this only sets whether the response says so (it
    /// always does when the client asks).
    pub server_no_context_takeover: bool,
    /// Ask the client to compress every message on its own, so the server
    /// keeps no inflate context between messages. When false and the client
    /// does not ask for it, the server keeps one inflate context per
    /// connection from its first compressed message on.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with (9 to 15; lower still
    /// when the client asks).
    pub server_max_window_bits: u8,
    /// The window asked of clients that offer `client_max_window_bits`
    /// (9 to 15); the server inflates with it.
    pub client_max_window_bits: u8,
    /// How many messages may be compressed at the same moment; a message
    /// finding every slot taken is sent uncompressed.
    pub concurrency_limit: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            threshold: 4096,
            level: 6,
            chunk_size: 10 * 1024,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 12,
            concurrency_limit: 20,
        }
    }
}

/// Why a compressed message was refused.
#[derive(Debug, thiserror::Error)]
pub enum InflateError {
    /// It inflates past the message size limit (a zip bomb, or just too big).
    #[error("a compressed message inflates past {limit} bytes")]
    TooBig {
        /// The limit it went over.
        limit: usize,
    },
    /// The compressed data is not a valid deflate stream.
    #[error("a compressed message does not inflate")]
    Corrupt(#[source] flate2::DecompressError),
}

/// What [`DeflatePool::compress`] made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compressed {
    /// The compressed payload (tail removed): send it with RSV1.
    Smaller(Bytes),
    /// Compression did not shrink it: send it as it is.
    NotSmaller,
    /// Every compression slot was busy: send it as it is this time.
    Busy,
}

/// Compression and inflate contexts lent one message at a time, shared by
/// every connection of a server (or a client). At most `concurrency_limit`
/// messages compress at once, and at most that many idle contexts are kept.
#[derive(Debug)]
pub struct DeflatePool {
    config: DeflateConfig,
    busy: AtomicUsize,
    /// Idle compressors and the window (in bits) each was made for.
    compressors: Mutex<Vec<(u8, Compress)>>,
    inflaters: Mutex<Vec<Decompress>>,
}

/// A compression slot taken; given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(*WINDOW_BITS.start(), *WINDOW_BITS.end())
}

impl DeflatePool {
    /// A pool for `config` (window bits are brought into 9..=15).
    pub fn new(mut config: DeflateConfig) -> DeflatePool {
        config.server_max_window_bits = clamp_bits(config.server_max_window_bits);
        config.client_max_window_bits = clamp_bits(config.client_max_window_bits);
        config.level = config.level.min(9);
        config.chunk_size = config.chunk_size.max(64);
        config.concurrency_limit = config.concurrency_limit.max(1);
        DeflatePool {
            config,
            busy: AtomicUsize::new(0),
            compressors: Mutex::new(Vec::new()),
            inflaters: Mutex::new(Vec::new()),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &DeflateConfig {
        &self.config
    }

    /// Whether a message of `len` bytes is worth compressing.
    pub fn wants(&self, len: usize) -> bool {
        len >= self.config.threshold
    }

    /// Compresses one whole message with a `window_bits` window (each
    /// message on its own, no context kept), tail removed.
    pub fn compress(&self, data: &[u8], window_bits: u8) -> Compressed {
        if self.busy.fetch_add(1, Ordering::AcqRel) >= self.config.concurrency_limit {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            return Compressed::Busy;
        }
        let _slot = Slot(&self.busy);
        let bits = clamp_bits(window_bits);
        let idle = {
            let mut idle = lock(&self.compressors);
            let found = idle.iter().rposition(|(made_for, _)| *made_for == bits);
            found.map(|at| idle.swap_remove(at).1)
        };
        let mut compressor = idle.unwrap_or_else(|| {
            Compress::new_with_window_bits(Compression::new(self.config.level), false, bits)
        });
        let result = self.run_compress(&mut compressor, data);
        compressor.reset();
        let mut idle = lock(&self.compressors);
        if idle.len() < self.config.concurrency_limit {
            idle.push((bits, compressor));
        }
        drop(idle);
        match result {
            Some(out) if out.len() < data.len() => Compressed::Smaller(Bytes::from(out)),
            _ => Compressed::NotSmaller,
        }
    }

    fn run_compress(&self, compressor: &mut Compress, data: &[u8]) -> Option<Vec<u8>> {
        let step = self.config.chunk_size.min(data.len() / 2 + 64);
        let mut out = Vec::with_capacity(step);
        loop {
            if out.len() == out.capacity() {
                out.reserve_exact(self.config.chunk_size);
            }
            let consumed = usize::try_from(compressor.total_in()).unwrap_or(usize::MAX);
            let rest = data.get(consumed..).unwrap_or_default();
            compressor
                .compress_vec(rest, &mut out, FlushCompress::Sync)
                .ok()?;
            let done = compressor.total_in() as usize == data.len();
            // A sync flush is complete once it left room in the output.
            if done && out.len() < out.capacity() {
                break;
            }
        }
        out.ends_with(&TAIL).then(|| {
            out.truncate(out.len() - TAIL.len());
            out
        })
    }

    fn take_inflater(&self) -> Decompress {
        lock(&self.inflaters)
            .pop()
            .unwrap_or_else(|| Decompress::new_with_window_bits(false, *WINDOW_BITS.end()))
    }

    fn give_inflater(&self, mut inflater: Decompress) {
        inflater.reset(false);
        let mut idle = lock(&self.inflaters);
        if idle.len() < self.config.concurrency_limit {
            idle.push(inflater);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Compresses the outgoing messages of one connection: the shared pool and
/// the window agreed for this side's messages.
#[derive(Debug, Clone)]
pub struct Deflater {
    pool: std::sync::Arc<DeflatePool>,
    window_bits: u8,
}

impl Deflater {
    /// A deflater compressing with at most a `window_bits` window.
    pub fn new(pool: std::sync::Arc<DeflatePool>, window_bits: u8) -> Self {
        Deflater {
            pool,
            window_bits: clamp_bits(window_bits),
        }
    }

    /// The window (in bits) messages are compressed with.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Whether a message of `len` bytes reaches the threshold.
    pub fn wants(&self, len: usize) -> bool {
        self.pool.wants(len)
    }

    /// Compresses one message, whatever its size.
    pub fn compress(&self, data: &[u8]) -> Compressed {
        self.pool.compress(data, self.window_bits)
    }

    /// The payload to send with RSV1 for a message, or `None` to send it as
    /// it is (under the threshold, not smaller, or every slot busy).
    pub fn message(&self, data: &[u8]) -> Option<Bytes> {
        if !self.wants(data.len()) {
            return None;
        }
        match self.compress(data) {
            Compressed::Smaller(bytes) => Some(bytes),
            Compressed::NotSmaller | Compressed::Busy => None,
        }
    }
}

/// Inflates the compressed messages of one direction of one connection.
/// Without context takeover it holds nothing between messages (contexts come
/// from the pool); with it, it keeps one context from the first compressed
/// message on, as RFC 7692 requires.
#[derive(Debug)]
pub struct Inflater {
    pool: std::sync::Arc<DeflatePool>,
    kept: Option<Box<Decompress>>,
    window_bits: u8,
    keep_context: bool,
}

impl Inflater {
    /// An inflater for messages compressed with at most a `window_bits`
    /// window, keeping its context between messages when `keep_context`.
    pub fn new(pool: std::sync::Arc<DeflatePool>, window_bits: u8, keep_context: bool) -> Self {
        Inflater {
            pool,
            kept: None,
            window_bits: clamp_bits(window_bits),
            keep_context,
        }
    }

    /// Inflates one message's joined payload (tail removed, as sent),
    /// refusing to produce more than `limit` bytes.
    pub fn inflate(&mut self, data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
        if self.keep_context {
            let bits = self.window_bits;
            let inflater = self
                .kept
                .get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, bits)));
            let result = run_inflate(inflater, data, limit, self.pool.config.chunk_size);
            if result.is_err() {
                self.kept = None;
            }
            return result;
        }
        let mut inflater = self.pool.take_inflater();
        let result = run_inflate(&mut inflater, data, limit, self.pool.config.chunk_size);
        self.pool.give_inflater(inflater);
        result
    }
}

fn run_inflate(
    inflater: &mut Decompress,
    data: &[u8],
    limit: usize,
    chunk: usize,
) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::with_capacity(chunk.min(limit.saturating_add(1)));
    for input in [data, &TAIL[..]] {
        let start = inflater.total_in();
        loop {
            if out.len() == out.capacity() {
                if out.len() > limit {
                    return Err(InflateError::TooBig { limit });
                }
                // Never more room than one byte past the limit.
                let room = chunk.min(limit + 1 - out.len()).max(1);
                out.reserve_exact(room);
            }
            let used = (inflater.total_in() - start) as usize;
            let rest = input.get(used..).unwrap_or_default();
            let status = inflater
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .map_err(InflateError::Corrupt)?;
            if out.len() > limit {
                return Err(InflateError::TooBig { limit });
            }
            if status == Status::StreamEnd {
                // The sender ended the stream (BFINAL): the next message
                // starts a new one.
                inflater.reset(false);
                return Ok(out);
            }
            let used = (inflater.total_in() - start) as usize;
            if used == input.len() && out.len() < out.capacity() {
                break;
            }
            if status == Status::BufError && out.len() < out.capacity() {
                break;
            }
        }
    }
    Ok(out)
}
