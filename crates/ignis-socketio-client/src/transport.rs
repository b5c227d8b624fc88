//! The WebSocket connection on the engine's RFC 6455 framing, client role:
//! TCP (with TLS for `wss://`), the opening handshake (offering
//! permessage-deflate unless turned off), masked writes batched into one
//! buffer per flush, and unmasked reads. Compression and inflating are the
//! engine's, used in the client role.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use ignis_socketio_engine::codec::Frame;
use ignis_socketio_engine::ws::{
    ClientHandshake, DeflateConfig, DeflateParams, DeflatePool, Deflater, FrameReader, OpCode,
    Role, WsEvent, close_body, close_code, write_masked_frame, write_masked_message,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Target;
use crate::error::TransportError;

/// Largest message accepted from the server, in bytes, after inflating
/// when it came compressed: a bigger one (or a compressed one that would
/// inflate past it, a "zip bomb") closes the connection with 1009 before
/// more than this is allocated.
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Outgoing messages of this many bytes or more are compressed when
/// permessage-deflate was agreed; smaller ones go as they are. 1024 is the
/// default of Node's `ws` and socket.io-client: below about 1 KiB the
/// deflate header and the CPU cost outweigh what is saved, and Socket.IO's
/// small packets (heartbeats, acks, short events) stay as they are.
pub const DEFLATE_THRESHOLD: usize = 1024;

/// The client's permessage-deflate settings: Node's `ws` client's defaults
/// (offer `client_max_window_bits` without asking for no context takeover,
/// zlib level 6, a 1024-byte threshold). One writer per connection, so one
/// message is compressed at a time.
fn deflate_config() -> DeflateConfig {
    DeflateConfig {
        threshold: DEFLATE_THRESHOLD,
        level: 6,
        chunk_size: 16 * 1024,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        concurrency_limit: 1,
    }
}
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
    /// What was agreed and the compressor, when permessage-deflate was.
    deflate: Option<(DeflateParams, Deflater)>,
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
        let mut handshake = ClientHandshake::new();
        if target.per_message_deflate {
            handshake = handshake.offer_deflate(deflate_config());
        }
        let request = handshake.request(&target.authority, &target.path_and_query, &target.headers);
        io.write_all(&request).await?;
        io.flush().await?;
        let mut head = Vec::new();
        let upgraded = loop {
            if io.read_buf(&mut head).await? == 0 {
                return Err(TransportError::Closed);
            }
            if let Some(upgraded) = handshake.read_response(&head)? {
                break upgraded;
            }
        };
        let mut reader = FrameReader::for_client(MAX_MESSAGE_SIZE);
        let deflate = upgraded.deflate.map(|params| {
            let pool = Arc::new(DeflatePool::new(deflate_config()));
            let (deflater, inflater) = params.codecs(&pool, Role::Client);
            reader.set_inflater(inflater);
            (params, deflater)
        });
        let mut ws = WebSocket {
            io,
            reader,
            events: VecDeque::new(),
            write: Vec::new(),
            deflate,
        };
        // Frames the server sent right behind its answer.
        if head.len() > upgraded.head_len {
            ws.feed(&head[upgraded.head_len..])?;
        }
        Ok(ws)
    }

    /// The permessage-deflate parameters agreed, `None` when not negotiated.
    pub(crate) fn deflate(&self) -> Option<DeflateParams> {
        self.deflate.as_ref().map(|(params, _)| *params)
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

    /// Queues one data message (masked), compressed when permessage-deflate
    /// was agreed and it reaches the threshold and shrinks.
    fn queue_message(&mut self, opcode: OpCode, payload: &[u8]) {
        let compressed = self
            .deflate
            .as_ref()
            .and_then(|(_, deflater)| deflater.message(payload));
        let (payload, rsv1) = match &compressed {
            Some(bytes) => (&bytes[..], true),
            None => (payload, false),
        };
        write_masked_message(&mut self.write, opcode, payload, rand::random(), rsv1);
    }

    /// Queues an Engine.IO frame.
    pub(crate) fn queue_frame(&mut self, frame: &Frame) {
        let (binary, bytes) = frame.parts();
        let opcode = if binary { OpCode::Binary } else { OpCode::Text };
        self.queue_message(opcode, bytes);
    }

    /// Queues a text frame.
    pub(crate) fn queue_text(&mut self, text: &str) {
        self.queue_message(OpCode::Text, text.as_bytes());
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
