//! One load-generator connection: WebSocket only, one task per connection,
//! a small read buffer, frames parsed in place.
//!
//! The generator shares the machine's cores with the server under test, and
//! in the fan-out it reads hundreds of thousands of frames per second: what
//! it spends per frame is taken from the server. So the WebSocket framing is
//! done here, on the bare `TcpStream` (RFC 6455: text frames out, masked;
//! frames in, unmasked, parsed where they were read, no copy and no
//! allocation per frame), instead of through a general WebSocket library
//! with its per-message allocations, wakers and buffer zeroing.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ignis_socketio_engine::ws::{DeflateConfig, DeflatePool, Inflater};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::BenchResult;
use crate::wire::{self, Frame};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// Server port on 127.0.0.1.
    pub port: u16,
    /// Socket.IO path, `/io` by contract.
    pub path: String,
    /// Token sent as `auth.token` in the CONNECT packet.
    pub token: String,
    /// Offer permessage-deflate, as browsers and Node's clients do, and
    /// inflate what the server sends compressed.
    pub deflate: bool,
}

impl Target {
    fn upgrade_request(&self) -> String {
        let offer = if self.deflate {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        };
        format!(
            "GET {}/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: aWduaXMtYmVuY2gta2V5IQ==\r\n{offer}\r\n",
            self.path.trim_end_matches('/'),
            self.port
        )
    }
}

/// Inflate contexts shared by the generator's connections.
fn inflate_pool() -> Arc<DeflatePool> {
    static POOL: OnceLock<Arc<DeflatePool>> = OnceLock::new();
    POOL.get_or_init(|| Arc::new(DeflatePool::new(DeflateConfig::default())))
        .clone()
}

/// Where a text frame's payload is: in the read buffer, or inflated.
enum TextAt {
    Buffer(Range<usize>),
    Inflated,
}

/// Source address for client `index` out of `total`: spread over
/// 127.0.0.2..=127.0.0.9 when many clients would exhaust one address's
/// ephemeral ports.
pub fn source_address(index: usize, total: usize) -> Ipv4Addr {
    if total <= 2_000 {
        Ipv4Addr::LOCALHOST
    } else {
        Ipv4Addr::new(127, 0, 0, 2 + (index % 8) as u8)
    }
}

/// Initial read buffer; it grows only for a frame that does not fit.
const READ_BUFFER: usize = 1024;
/// Largest frame accepted from the server.
const MAX_FRAME: usize = 1 << 20;
/// Give up on a handshake step after this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// WebSocket opcodes (RFC 6455 section 5.2).
pub mod opcode {
    /// A text frame.
    pub const TEXT: u8 = 0x1;
    /// A binary frame.
    pub const BINARY: u8 = 0x2;
    /// A close frame.
    pub const CLOSE: u8 = 0x8;
    /// A ping frame.
    pub const PING: u8 = 0x9;
    /// A pong frame.
    pub const PONG: u8 = 0xA;
}

/// An authenticated Socket.IO connection.
pub struct Conn {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Bytes read and not parsed yet: `buffer[start..end]`.
    start: usize,
    end: usize,
    /// Masking key of the next frame sent (any key is valid; it changes so
    /// that it is not constant).
    mask: u32,
    /// The socket id the server announced in `authenticated`.
    pub sid: String,
    /// Set when the server accepted permessage-deflate.
    inflater: Option<Inflater>,
    /// The last compressed text message, inflated.
    inflated: String,
    /// Bytes read off the socket so far.
    bytes_read: u64,
}

impl Conn {
    /// Connect, upgrade to WebSocket, send CONNECT with the token, emit
    /// `authenticate` and wait for `authenticated`.
    pub async fn connect(target: &Target, source: Ipv4Addr) -> BenchResult<Conn> {
        let mut conn = Conn::open(target, source).await?;
        tokio::time::timeout(STEP_TIMEOUT, async {
            conn.join(&target.token).await?;
            conn.authenticate().await
        })
        .await
        .map_err(|_| "handshake timed out")??;
        Ok(conn)
    }

    /// Connect, upgrade to WebSocket and wait for the Engine.IO open packet:
    /// no namespace joined yet.
    pub async fn open(target: &Target, source: Ipv4Addr) -> BenchResult<Conn> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
        let stream = socket
            .connect(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::LOCALHOST,
                target.port,
            )))
            .await?;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream,
            buffer: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            mask: 0x9e37_79b9,
            sid: String::new(),
            inflater: None,
            inflated: String::new(),
            bytes_read: 0,
        };
        tokio::time::timeout(STEP_TIMEOUT, conn.engine_open(target))
            .await
            .map_err(|_| "handshake timed out")??;
        Ok(conn)
    }

    async fn engine_open(&mut self, target: &Target) -> BenchResult<()> {
        self.upgrade(target).await?;
        loop {
            let text = self.next_text().await?;
            match wire::classify(self.text(&text)) {
                Frame::Open => return Ok(()),
                Frame::Ping => self.send_text("3").await?,
                _ => {}
            }
        }
    }

    /// Send CONNECT to `/` with `token` and wait for its acknowledgement.
    pub async fn join(&mut self, token: &str) -> BenchResult<()> {
        self.send_text(&wire::connect_packet(token)).await?;
        loop {
            let text = self.next_text().await?;
            match wire::classify(self.text(&text)) {
                Frame::Connected(_) => break,
                Frame::ConnectError(why) => return Err(format!("connect refused: {why}").into()),
                Frame::Ping => self.send_text("3").await?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Emit `authenticate` and wait for `authenticated`.
    pub async fn authenticate(&mut self) -> BenchResult<()> {
        self.send_text(&wire::bare_event_packet("authenticate"))
            .await?;
        loop {
            let array = self.next_event().await?;
            match wire::event_name(array) {
                Some("authenticated") => {
                    let (_, data): (String, serde_json::Value) = serde_json::from_str(array)?;
                    self.sid = data
                        .get("id")
                        .and_then(|v| v.as_str())
                        .ok_or("authenticated without id")?
                        .to_owned();
                    return Ok(());
                }
                Some("unauthenticated") => return Err("unauthenticated".into()),
                _ => {}
            }
        }
    }

    /// The HTTP/1.1 upgrade. Bytes after the response head (the server may
    /// send its first frame in the same segment) stay in the buffer.
    async fn upgrade(&mut self, target: &Target) -> BenchResult<()> {
        self.stream
            .write_all(target.upgrade_request().as_bytes())
            .await?;
        let head_end = loop {
            if let Some(at) = wire::find(&self.buffer[..self.end], b"\r\n\r\n") {
                break at + 4;
            }
            if self.end == self.buffer.len() {
                return Err("upgrade response head too long".into());
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]);
        if !head.starts_with("HTTP/1.1 101") {
            let status = head.lines().next().unwrap_or_default().to_owned();
            return Err(format!("upgrade refused: {status}").into());
        }
        if head
            .to_ascii_lowercase()
            .contains("sec-websocket-extensions: permessage-deflate")
        {
            self.inflater = Some(Inflater::new(inflate_pool(), 15, false));
        }
        self.start = head_end;
        Ok(())
    }

    /// Bytes read off the socket so far (WebSocket frames as they crossed
    /// the wire, compressed or not, the upgrade response included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads more bytes after `end`; an error once the server closed.
    async fn fill(&mut self) -> BenchResult<()> {
        let n = self.stream.read(&mut self.buffer[self.end..]).await?;
        if n == 0 {
            return Err("connection closed".into());
        }
        self.end += n;
        self.bytes_read += n as u64;
        Ok(())
    }

    /// Makes room for a frame of `needed` bytes starting at `start`.
    fn make_room(&mut self, needed: usize) {
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if needed > self.buffer.len() {
            self.buffer.resize(needed, 0);
        }
    }

    /// The next complete frame: its opcode, RSV1 (compressed) and where its payload is.
    async fn next_frame(&mut self) -> BenchResult<(u8, bool, Range<usize>)> {
        loop {
            let available = &self.buffer[self.start..self.end];
            if let Some(header) = parse_header(available)? {
                let total = header.len + header.payload_len;
                if available.len() >= total {
                    let payload = self.start + header.len..self.start + total;
                    self.start += total;
                    return Ok((header.opcode, header.rsv1, payload));
                }
                if self.start + total > self.buffer.len() {
                    self.make_room(total);
                }
            } else if self.end == self.buffer.len() {
                self.make_room(self.buffer.len());
            }
            self.fill().await?;
        }
    }

    /// The next text frame's payload; answers WebSocket pings on the way.
    async fn next_text(&mut self) -> BenchResult<TextAt> {
        loop {
            let (code, compressed, payload) = self.next_frame().await?;
            match code {
                opcode::TEXT if compressed => {
                    let inflater = self
                        .inflater
                        .as_mut()
                        .ok_or("compressed frame without permessage-deflate")?;
                    let data = inflater.inflate(&self.buffer[payload], MAX_FRAME * 16)?;
                    self.inflated = String::from_utf8(data)?;
                    return Ok(TextAt::Inflated);
                }
                opcode::TEXT => {
                    std::str::from_utf8(&self.buffer[payload.clone()])?;
                    return Ok(TextAt::Buffer(payload));
                }
                opcode::CLOSE => return Err("connection closed".into()),
                opcode::PING => {
                    let data = self.buffer[payload].to_vec();
                    self.send_frame(opcode::PONG, &data).await?;
                }
                _ => {}
            }
        }
    }

    /// A payload `next_text` checked as UTF-8.
    fn text(&self, at: &TextAt) -> &str {
        match at {
            TextAt::Buffer(payload) => {
                std::str::from_utf8(&self.buffer[payload.clone()]).unwrap_or_default()
            }
            TextAt::Inflated => &self.inflated,
        }
    }

    /// The next Socket.IO event's JSON array text (`["name",...]`), valid
    /// until the next read; answers heartbeats on the way.
    pub async fn next_event(&mut self) -> BenchResult<&str> {
        loop {
            let payload = self.next_text().await?;
            match wire::classify(self.text(&payload)) {
                Frame::Event(_) => {
                    return Ok(self.text(&payload).get(2..).unwrap_or_default());
                }
                Frame::Ping => self.send_text("3").await?,
                Frame::Close | Frame::Disconnect => return Err("server disconnected".into()),
                _ => {}
            }
        }
    }

    /// Waits up to `within` for the event `name`, skipping others; an error
    /// when it does not come in time or the connection ends.
    pub async fn wait_event(&mut self, name: &str, within: Duration) -> BenchResult<()> {
        let found = tokio::time::timeout(within, async {
            loop {
                let array = self.next_event().await?;
                if wire::event_name(array) == Some(name) {
                    return Ok::<(), crate::BenchError>(());
                }
            }
        })
        .await;
        match found {
            Ok(result) => result,
            Err(_) => Err(format!("no {name} within {within:?}").into()),
        }
    }

    /// Send one text frame.
    pub async fn send_text(&mut self, text: &str) -> BenchResult<()> {
        self.send_frame(opcode::TEXT, text.as_bytes()).await
    }

    async fn send_frame(&mut self, code: u8, payload: &[u8]) -> BenchResult<()> {
        self.mask = self.mask.rotate_left(5).wrapping_add(0x6d2b_79f5);
        let frame = encode_frame(code, payload, self.mask.to_be_bytes());
        self.stream.write_all(&frame).await?;
        Ok(())
    }

    /// The TCP stream and the bytes read off it but not parsed yet, for a
    /// caller that goes on with its own framing.
    pub fn into_parts(self) -> (TcpStream, Vec<u8>) {
        let unread = self.buffer[self.start..self.end].to_vec();
        (self.stream, unread)
    }

    /// Close the WebSocket politely.
    pub async fn close(mut self) {
        let _ = self.send_frame(opcode::CLOSE, &[]).await;
        let _ = self.stream.shutdown().await;
    }
}

/// A frame header (RFC 6455 section 5.2) from the server.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    opcode: u8,
    /// RSV1: a compressed message (permessage-deflate).
    rsv1: bool,
    /// Header length in bytes.
    len: usize,
    payload_len: usize,
}

/// The header at the start of `bytes`, `None` while incomplete.
fn parse_header(bytes: &[u8]) -> BenchResult<Option<Header>> {
    let (Some(&first), Some(&second)) = (bytes.first(), bytes.get(1)) else {
        return Ok(None);
    };
    if first & 0x80 == 0 {
        return Err("fragmented frames are not expected from the server".into());
    }
    if second & 0x80 != 0 {
        return Err("masked frame from the server".into());
    }
    let (len, payload_len) = match second & 0x7f {
        126 => match bytes.get(2..4) {
            Some(b) => (4, usize::from(u16::from_be_bytes([b[0], b[1]]))),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10) {
            Some(b) => {
                let mut n = [0u8; 8];
                n.copy_from_slice(b);
                (
                    10,
                    usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX),
                )
            }
            None => return Ok(None),
        },
        n => (2, usize::from(n)),
    };
    if payload_len > MAX_FRAME {
        return Err(format!("frame of {payload_len} bytes is too large").into());
    }
    Ok(Some(Header {
        opcode: first & 0x0f,
        rsv1: first & 0x40 != 0,
        len,
        payload_len,
    }))
}

/// A final frame from the client: masked, as RFC 6455 requires.
pub fn encode_frame(code: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = frame_header(code, payload.len(), mask);
    frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    frame
}

/// The header of a final, masked client frame of `len` payload bytes (the
/// payload may follow in as many writes as the caller likes).
pub fn frame_header(code: u8, len: usize, mask: [u8; 4]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(len.min(1 << 16) + 14);
    frame.push(0x80 | code);
    match len {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_every_length_form_are_read() {
        assert_eq!(parse_header(&[0x81]).ok().flatten(), None);
        let short = parse_header(&[0x81, 5]).ok().flatten();
        assert_eq!(
            short,
            Some(Header {
                opcode: 1,
                rsv1: false,
                len: 2,
                payload_len: 5
            })
        );
        let medium = parse_header(&[0x81, 126, 0x01, 0x00]).ok().flatten();
        assert_eq!(medium.map(|h| (h.len, h.payload_len)), Some((4, 256)));
        assert_eq!(parse_header(&[0x81, 126, 0x01]).ok().flatten(), None);
        let long = parse_header(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
            .ok()
            .flatten();
        assert_eq!(
            long.map(|h| (h.opcode, h.len, h.payload_len)),
            Some((2, 10, 65_536))
        );
    }

    #[test]
    fn fragmented_masked_and_huge_frames_are_errors() {
        assert!(parse_header(&[0x01, 1]).is_err());
        assert!(parse_header(&[0x81, 0x81]).is_err());
        assert!(parse_header(&[0x81, 127, 0, 0, 0, 1, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn client_frames_are_masked_and_unmask_to_the_payload() {
        let mask = [1, 2, 3, 4];
        let frame = encode_frame(opcode::TEXT, b"42[\"echo\"]", mask);
        assert_eq!(frame[0], 0x81);
        assert_eq!(frame[1], 0x80 | 10);
        assert_eq!(&frame[2..6], &mask);
        let unmasked: Vec<u8> = frame[6..]
            .iter()
            .zip(mask.iter().cycle())
            .map(|(b, m)| b ^ m)
            .collect();
        assert_eq!(unmasked, b"42[\"echo\"]");
        let big = encode_frame(opcode::TEXT, &[b'x'; 300], mask);
        assert_eq!(
            (big[1], u16::from_be_bytes([big[2], big[3]])),
            (0x80 | 126, 300)
        );
    }
}
