//! RFC 6455 frames: `FrameReader::feed` on peer bytes must not panic, and the
//! same bytes fed whole or cut into chunks at fuzzer-chosen points must give
//! the same events, the same error and the same final state.
//!
//! Input: byte 0 picks the size limit, bytes 1..4 are up to three cut points
//! (each a fraction of the stream, in 1/256ths), the rest is the stream.

#![no_main]

use ignis_socketio_engine::ws::{FrameReader, WsError, WsEvent};
use libfuzzer_sys::fuzz_target;

const LIMITS: [usize; 8] = [0, 1, 2, 125, 126, 1024, 1 << 16, usize::MAX];

fn feed_chunks(max: usize, chunks: &[&[u8]]) -> (Vec<WsEvent>, Result<(), WsError>, bool) {
    let mut reader = FrameReader::new(max);
    let mut events = Vec::new();
    for chunk in chunks {
        if let Err(e) = reader.feed(chunk, &mut events) {
            return (events, Err(e), false);
        }
    }
    let idle = reader.is_idle();
    (events, Ok(()), idle)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (head, stream) = data.split_at(4);
    let max = LIMITS[usize::from(head[0] & 7)];
    let mut cuts: Vec<usize> = head[1..]
        .iter()
        .map(|&c| stream.len() * usize::from(c) / 256)
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut from = 0;
    for cut in cuts {
        chunks.push(&stream[from..cut]);
        from = cut;
    }
    chunks.push(&stream[from..]);

    let whole = feed_chunks(max, &[stream]);
    let split = feed_chunks(max, &chunks);
    assert_eq!(whole, split, "cut at {chunks:?}");
});
