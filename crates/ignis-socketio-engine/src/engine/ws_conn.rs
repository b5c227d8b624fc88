//! One WebSocket of a session: reading frames into packets and writing queued
//! frames with vectored writes (up to 16 frames per system call).

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::session::WsIo;
use crate::codec::Frame;
use crate::ws::{FrameReader, OpCode, WsEvent, close_frame, frame_header};

/// Frames written per system call at most.
const FRAMES_PER_WRITE: usize = 16;
/// Bytes read per system call; the buffer lives on the stack of one poll.
const READ_CHUNK: usize = 8 * 1024;

pub(crate) struct WsConn {
    io: WsIo,
    reader: FrameReader,
    /// Frames taken from the session's queue, not yet written.
    out: VecDeque<Frame>,
    /// Bytes of the first frame (header included) already written.
    head: usize,
    /// Control frames (pong, close) to write before the next data frame.
    control: Vec<u8>,
    pub(crate) eof: bool,
    close_queued: bool,
}

impl WsConn {
    pub(crate) fn new(io: WsIo, max_message: usize) -> WsConn {
        WsConn {
            io,
            reader: FrameReader::new(max_message),
            out: VecDeque::new(),
            head: 0,
            control: Vec::new(),
            eof: false,
            close_queued: false,
        }
    }

    /// Whether nothing waits to be written.
    pub(crate) fn is_flushed(&self) -> bool {
        self.out.is_empty() && self.control.is_empty()
    }

    /// Whether taken frames are still waiting (new ones are taken only then).
    pub(crate) fn has_frames(&self) -> bool {
        !self.out.is_empty()
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
            if self.out.is_empty() {
                return Pin::new(&mut self.io).poll_flush(cx);
            }
            let mut headers = [([0u8; 10], 0usize); FRAMES_PER_WRITE];
            for (slot, frame) in headers.iter_mut().zip(self.out.iter()) {
                *slot = match frame {
                    Frame::Text(b) => frame_header(OpCode::Text, b.len()),
                    Frame::Binary(b) => frame_header(OpCode::Binary, b.len()),
                };
            }
            let mut slices = Vec::with_capacity(FRAMES_PER_WRITE * 2);
            let mut skip = self.head;
            for ((header, used), frame) in headers.iter().zip(self.out.iter()) {
                let payload = match frame {
                    Frame::Text(b) | Frame::Binary(b) => &b[..],
                };
                for part in [&header[..*used], payload] {
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
            self.advance(n, &headers);
        }
    }

    fn advance(&mut self, mut n: usize, headers: &[([u8; 10], usize)]) {
        let mut i = 0;
        while n > 0 {
            let Some(frame) = self.out.front() else { break };
            let total = headers[i].1 + frame.len();
            let left = total - self.head;
            if n >= left {
                n -= left;
                self.head = 0;
                self.out.pop_front();
                i += 1;
            } else {
                self.head += n;
                n = 0;
            }
        }
        if self.out.is_empty() {
            // Give the queue's storage back while the connection is idle.
            self.out = VecDeque::new();
        }
    }

    pub(crate) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
