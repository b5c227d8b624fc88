//! The WebSocket connection on the engine's RFC 6455 framing, client role:
//! TCP (with TLS for `wss://`), the opening handshake, masked writes batched
//! into one buffer per flush, and unmasked reads.

use std::collections::VecDeque;

use bytes::Bytes;
use ignis_socketio_engine::codec::Frame;
use ignis_socketio_engine::ws::{
    ClientHandshake, FrameReader, OpCode, WsEvent, close_body, close_code, write_masked_frame,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Target;
use crate::error::TransportError;

/// Largest message accepted from the server.
const MAX_MESSAGE: usize = 64 << 20;
/// Bytes read per system call.
const READ_CHUNK: usize = 16 * 1024;
/// A write buffer over this size is released after its flush.
const KEEP_WRITE_BUFFER: usize = 64 * 1024;

/// A byte stream the WebSocket runs over: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// How to make TLS connections (only with the `rustls` feature).
#[cfg(feature = "rustls")]
pub(crate) type Tls = tokio_rustls::TlsConnector;
/// How to make TLS connections (only with the `rustls` feature).
#[cfg(not(feature = "rustls"))]
pub(crate) type Tls = ();

/// One open WebSocket.
pub(crate) struct WebSocket {
    io: Box<dyn Io>,
    reader: FrameReader,
    /// Events read but not yet taken.
    events: VecDeque<WsEvent>,
    /// Masked frames waiting for the next flush.
    write: Vec<u8>,
}

async fn open_stream(target: &Target, tls: &Tls) -> Result<Box<dyn Io>, TransportError> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
    // Small packets (acks, pongs) must not wait for Nagle's algorithm.
    tcp.set_nodelay(true)?;
    #[cfg(feature = "rustls")]
    if target.tls {
        return Ok(Box::new(crate::tls::wrap(tls, &target.host, tcp).await?));
    }
    let _ = tls;
    Ok(Box::new(tcp))
}

impl WebSocket {
    /// Connects and runs the opening handshake.
    pub(crate) async fn connect(target: &Target, tls: &Tls) -> Result<WebSocket, TransportError> {
        let mut io = open_stream(target, tls).await?;
        let handshake = ClientHandshake::new();
        let request = handshake.request(&target.authority, &target.path_and_query, &target.headers);
        io.write_all(&request).await?;
        io.flush().await?;
        let mut head = Vec::new();
        let used = loop {
            if io.read_buf(&mut head).await? == 0 {
                return Err(TransportError::Closed);
            }
            if let Some(used) = handshake.read_response(&head)? {
                break used;
            }
        };
        let mut ws = WebSocket {
            io,
            reader: FrameReader::for_client(MAX_MESSAGE),
            events: VecDeque::new(),
            write: Vec::new(),
        };
        // Frames the server sent right behind its answer.
        if head.len() > used {
            ws.feed(&head[used..])?;
        }
        Ok(ws)
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let mut out = Vec::new();
        let fed = self.reader.feed(bytes, &mut out);
        self.events.extend(out);
        fed.map_err(TransportError::from)
    }

    /// The next event; `None` once the server closed the connection. Cancel
    /// safe: nothing is lost when the future is dropped before it completes.
    pub(crate) async fn next(&mut self) -> Result<Option<WsEvent>, TransportError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            let mut chunk = [0u8; READ_CHUNK];
            let read = self.io.read(&mut chunk).await?;
            if read == 0 {
                return Ok(None);
            }
            if let Err(error) = self.feed(&chunk[..read]) {
                if let TransportError::Frames(ws) = &error {
                    self.queue(OpCode::Close, &close_body(ws.code, ws.reason));
                    let _ = self.flush().await;
                }
                return Err(error);
            }
        }
    }

    /// Queues one frame (masked) for the next flush.
    pub(crate) fn queue(&mut self, opcode: OpCode, payload: &[u8]) {
        write_masked_frame(&mut self.write, opcode, payload, rand::random());
    }

    /// Queues an Engine.IO frame.
    pub(crate) fn queue_frame(&mut self, frame: &Frame) {
        let (binary, bytes) = frame.parts();
        let opcode = if binary { OpCode::Binary } else { OpCode::Text };
        self.queue(opcode, bytes);
    }

    /// Queues a text frame.
    pub(crate) fn queue_text(&mut self, text: &str) {
        self.queue(OpCode::Text, text.as_bytes());
    }

    /// Answers a WebSocket ping.
    pub(crate) fn queue_pong(&mut self, data: &Bytes) {
        self.queue(OpCode::Pong, data);
    }

    /// Writes everything queued.
    pub(crate) async fn flush(&mut self) -> Result<(), TransportError> {
        if !self.write.is_empty() {
            self.io.write_all(&self.write).await?;
            self.write.clear();
            if self.write.capacity() > KEEP_WRITE_BUFFER {
                self.write = Vec::new();
            }
        }
        self.io.flush().await?;
        Ok(())
    }

    /// Sends a normal close and ends the stream (errors ignored: the
    /// connection is going away anyway).
    pub(crate) async fn close(&mut self) {
        self.queue(OpCode::Close, &close_body(close_code::NORMAL, ""));
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
    }
}
