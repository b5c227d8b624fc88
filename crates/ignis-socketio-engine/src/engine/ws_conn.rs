//! One WebSocket of a session: reading frames into packets and writing queued
//! frames with vectored writes (up to 16 frames per system call), compressing
//! those at or above the threshold when permessage-deflate was negotiated.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use bytes::Bytes;

use super::session::{WsIo, WsUpgrade};
use crate::codec::Frame;
use crate::ws::{
    Compressed, DeflatePool, Deflater, FrameReader, OpCode, Role, WsEvent, close_frame,
    data_frame_header, frame_header,
};

/// Frames written per system call at most.
const FRAMES_PER_WRITE: usize = 16;
/// Bytes read per system call; the buffer lives on the stack of one poll.
const READ_CHUNK: usize = 8 * 1024;

pub(crate) struct WsConn {
    io: WsIo,
    reader: FrameReader,
    /// Frames taken from the session's queue, not yet prepared.
    out: VecDeque<Frame>,
    /// Frames prepared for the wire (compressed or not), at most
    /// [`FRAMES_PER_WRITE`]: compression happens only as frames are written.
    ready: VecDeque<Wire>,
    /// Bytes of the first ready frame (header included) already written.
    head: usize,
    /// Set when permessage-deflate was negotiated.
    deflate: Option<Deflater>,
    /// Control frames (pong, close) to write before the next data frame.
    control: Vec<u8>,
    pub(crate) eof: bool,
    close_queued: bool,
}

/// The compressed payload of `frame`, when it is worth compressing and
/// shrinks (a broadcast frame is compressed once for all its receivers).
fn compress(deflater: &Deflater, frame: &Frame) -> Option<Bytes> {
    match frame {
        Frame::Shared(shared) => {
            if !deflater.wants(frame.len()) {
                return None;
            }
            shared
                .deflated(deflater.window_bits(), |data| {
                    match deflater.compress(data) {
                        Compressed::Smaller(bytes) => Ok(Some(bytes)),
                        Compressed::NotSmaller => Ok(None),
                        Compressed::Busy => Err(()),
                    }
                })
                .ok()
                .flatten()
        }
        other => deflater.message(other.parts().1),
    }
}

/// A frame as it goes on the wire: its header and payload.
struct Wire {
    header: [u8; 10],
    header_len: usize,
    payload: Bytes,
}

impl Wire {
    fn len(&self) -> usize {
        self.header_len + self.payload.len()
    }
}

impl WsConn {
    pub(crate) fn new(
        upgrade: WsUpgrade,
        max_message: usize,
        pool: Option<&Arc<DeflatePool>>,
    ) -> WsConn {
        let mut reader = FrameReader::new(max_message);
        let deflate = pool.zip(upgrade.deflate).map(|(pool, params)| {
            let (deflater, inflater) = params.codecs(pool, Role::Server);
            reader.set_inflater(inflater);
            deflater
        });
        WsConn {
            io: upgrade.io,
            reader,
            out: VecDeque::new(),
            ready: VecDeque::new(),
            head: 0,
            deflate,
            control: Vec::new(),
            eof: false,
            close_queued: false,
        }
    }

    /// Whether nothing waits to be written.
    pub(crate) fn is_flushed(&self) -> bool {
        !self.has_frames() && self.control.is_empty()
    }

    /// Whether taken frames are still waiting (new ones are taken only then).
    pub(crate) fn has_frames(&self) -> bool {
        !self.out.is_empty() || !self.ready.is_empty()
    }

    /// Prepares the next frames for the wire, up to [`FRAMES_PER_WRITE`].
    fn prepare(&mut self) {
        while self.ready.len() < FRAMES_PER_WRITE {
            let Some(frame) = self.out.pop_front() else {
                break;
            };
            let opcode = if frame.parts().0 {
                OpCode::Binary
            } else {
                OpCode::Text
            };
            let compressed = self.deflate.as_ref().and_then(|d| compress(d, &frame));
            let (payload, rsv1) = match compressed {
                Some(bytes) => (bytes, true),
                None => (frame.parts().1.clone(), false),
            };
            let (header, header_len) = data_frame_header(opcode, payload.len(), rsv1);
            self.ready.push_back(Wire {
                header,
                header_len,
                payload,
            });
        }
    }

    pub(crate) fn push(&mut self, frames: VecDeque<Frame>) {
        if self.out.is_empty() {
            self.out = frames;
        } else {
            self.out.extend(frames);
        }
    }

    pub(crate) fn push_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let (header, used) = frame_header(opcode, payload.len());
        self.control.extend_from_slice(&header[..used]);
        self.control.extend_from_slice(payload);
    }

    /// Queues the close frame (once; later calls are ignored).
    pub(crate) fn push_close(&mut self, code: u16, reason: &str) {
        if std::mem::replace(&mut self.close_queued, true) {
            return;
        }
        self.control.extend_from_slice(&close_frame(code, reason));
    }

    /// Reads what is available; events go to `out`. `Ready(Ok)` after some
    /// bytes were read (or at end of stream, with `eof` set).
    pub(crate) fn poll_read_events(
        &mut self,
        cx: &mut Context<'_>,
        events: &mut Vec<WsEvent>,
    ) -> Poll<io::Result<()>> {
        let mut storage = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut storage);
        match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                self.eof = true;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(())) => Poll::Ready(
                self.reader
                    .feed(buf.filled(), events)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            ),
        }
    }

    /// Writes until everything is written or the socket is full.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if !self.control.is_empty() && self.head == 0 {
                let n = match Pin::new(&mut self.io).poll_write(cx, &self.control) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => result?,
                };
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.control.drain(..n);
                if self.control.is_empty() {
                    self.control = Vec::new();
                }
                continue;
            }
            self.prepare();
            if self.ready.is_empty() {
                return Pin::new(&mut self.io).poll_flush(cx);
            }
            let mut slices = Vec::with_capacity(FRAMES_PER_WRITE * 2);
            let mut skip = self.head;
            for wire in &self.ready {
                for part in [&wire.header[..wire.header_len], &wire.payload[..]] {
                    if skip >= part.len() {
                        skip -= part.len();
                    } else {
                        slices.push(IoSlice::new(&part[skip..]));
                        skip = 0;
                    }
                }
            }
            let n = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result?,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.advance(n);
        }
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(wire) = self.ready.front() else {
                break;
            };
            let left = wire.len() - self.head;
            if n >= left {
                n -= left;
                self.head = 0;
                self.ready.pop_front();
            } else {
                self.head += n;
                n = 0;
            }
        }
        if !self.has_frames() {
            // Give the queues' storage back while the connection is idle.
            self.out = VecDeque::new();
            self.ready = VecDeque::new();
        }
    }

    pub(crate) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
