//! RFC 6455 frames: parsing a peer's frames into messages, with
//! fragmentation, interleaved control frames, UTF-8 checks and size limits;
//! writing frames. A server reads masked frames and writes unmasked ones; a
//! client reads unmasked frames and masks what it writes (§5.1).
//!
//! The reader keeps bytes only while a frame or a fragmented message is
//! incomplete: an idle connection holds no buffer. With permessage-deflate
//! (RFC 7692) it takes RSV1 on the first frame of a data message and
//! inflates the whole message, within the same size limit.

use bytes::Bytes;

use super::deflate::{InflateError, Inflater};

/// Close codes used when the peer breaks the protocol (RFC 6455 §7.4.1).
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The server is going away.
    pub const GOING_AWAY: u16 = 1001;
    /// A protocol error.
    pub const PROTOCOL: u16 = 1002;
    /// A text message that is not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// A policy violation (e.g. a slow consumer).
    pub const POLICY: u16 = 1008;
    /// A message over the size limit.
    pub const TOO_BIG: u16 = 1009;
}

/// Frame opcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// Continues a fragmented message.
    Continuation,
    /// A UTF-8 text message.
    Text,
    /// A binary message.
    Binary,
    /// Closes the connection.
    Close,
    /// Asks for a pong.
    Ping,
    /// Answers a ping.
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// What the reader found in the bytes it was fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// A complete text message.
    Text(String),
    /// A complete binary message.
    Binary(Bytes),
    /// A ping, with its payload to echo in the pong.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// The peer closes: its code (1005 when it gave none) and reason.
    Close(u16, String),
}

/// Why the peer's bytes cannot be read: the close code to answer with and a
/// reason for the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WebSocket close {code}: {reason}")]
pub struct WsError {
    /// The close code to send.
    pub code: u16,
    /// What went wrong.
    pub reason: &'static str,
}

fn fail<T>(code: u16, reason: &'static str) -> Result<T, WsError> {
    Err(WsError { code, reason })
}

/// Parses the peer's frames; one per connection.
#[derive(Debug, Default)]
pub struct FrameReader {
    /// Reading a server's frames (the client role): they must not be masked.
    from_server: bool,
    /// Bytes of an incomplete frame (empty, without allocation, when idle).
    pending: Vec<u8>,
    /// The fragmented message being assembled: its opcode, whether it is
    /// compressed, and its data so far.
    message: Option<(OpCode, bool, Vec<u8>)>,
    max_message: usize,
    /// Set when permessage-deflate was negotiated.
    inflater: Option<Inflater>,
}

/// A frame header parsed from the front of a buffer.
struct Header {
    fin: bool,
    compressed: bool,
    opcode: OpCode,
    mask: [u8; 4],
    header_len: usize,
    payload_len: usize,
}

impl FrameReader {
    /// A server's reader of a client's (masked) frames, refusing messages
    /// (and frames) over `max_message` bytes.
    pub fn new(max_message: usize) -> FrameReader {
        FrameReader {
            from_server: false,
            pending: Vec::new(),
            message: None,
            max_message,
            inflater: None,
        }
    }

    /// A client's reader of a server's (unmasked) frames, refusing messages
    /// (and frames) over `max_message` bytes.
    pub fn for_client(max_message: usize) -> FrameReader {
        FrameReader {
            from_server: true,
            ..FrameReader::new(max_message)
        }
    }

    /// Takes compressed messages (RSV1 set on their first frame) from now on,
    /// inflating them with `inflater` within the size limit.
    pub fn set_inflater(&mut self, inflater: Inflater) {
        self.inflater = Some(inflater);
    }

    /// Whether the reader holds no partial frame or message.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.message.is_none()
    }

    /// Feeds bytes read from the socket; complete events are pushed to `out`.
    /// After an error the connection must be closed with the error's code.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<WsEvent>) -> Result<(), WsError> {
        if self.pending.is_empty() {
            let used = self.parse(input, out)?;
            self.pending.extend_from_slice(&input[used..]);
        } else {
            let mut pending = std::mem::take(&mut self.pending);
            pending.extend_from_slice(input);
            let used = self.parse(&pending, out)?;
            pending.drain(..used);
            if !pending.is_empty() {
                self.pending = pending;
            }
        }
        Ok(())
    }

    /// Parses every complete frame at the front of `buf`; returns the bytes used.
    fn parse(&mut self, buf: &[u8], out: &mut Vec<WsEvent>) -> Result<usize, WsError> {
        let mut at = 0;
        while let Some(header) = self.header(&buf[at..])? {
            let start = at + header.header_len;
            let Some(end) = start
                .checked_add(header.payload_len)
                .filter(|e| *e <= buf.len())
            else {
                break;
            };
            let mut payload = buf[start..end].to_vec();
            if !self.from_server {
                unmask(&mut payload, header.mask);
            }
            at = end;
            self.frame(&header, payload, out)?;
        }
        Ok(at)
    }

    fn header(&self, buf: &[u8]) -> Result<Option<Header>, WsError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (buf[0], buf[1]);
        let Some(opcode) = OpCode::from_bits(b0 & 0x0F) else {
            return fail(close_code::PROTOCOL, "unknown opcode");
        };
        let compressed = b0 & 0x40 != 0;
        if b0 & 0x30 != 0 || (compressed && self.inflater.is_none()) {
            return fail(
                close_code::PROTOCOL,
                "reserved bits set without an extension",
            );
        }
        // RSV1 marks a compressed message on its first frame only (RFC 7692 §6).
        if compressed && !matches!(opcode, OpCode::Text | OpCode::Binary) {
            return fail(
                close_code::PROTOCOL,
                "RSV1 on a control or continuation frame",
            );
        }
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        if masked == self.from_server {
            return fail(
                close_code::PROTOCOL,
                if self.from_server {
                    "server frame masked"
                } else {
                    "client frame not masked"
                },
            );
        }
        let short = usize::from(b1 & 0x7F);
        let (len, mut header_len) = match short {
            126 => {
                let Some(b) = buf.get(2..4) else {
                    return Ok(None);
                };
                (u64::from(u16::from_be_bytes([b[0], b[1]])), 4)
            }
            127 => {
                let Some(b) = buf.get(2..10) else {
                    return Ok(None);
                };
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return fail(close_code::PROTOCOL, "frame length with the high bit set");
                }
                (len, 10)
            }
            n => (n as u64, 2),
        };
        if opcode.is_control() && (len > 125 || !fin) {
            return fail(
                close_code::PROTOCOL,
                "control frame fragmented or over 125 bytes",
            );
        }
        let so_far = self.message.as_ref().map_or(0, |(_, _, data)| data.len()) as u64;
        if len.saturating_add(so_far) > self.max_message as u64 {
            return fail(close_code::TOO_BIG, "message over the size limit");
        }
        let mut mask = [0u8; 4];
        if masked {
            let Some(m) = buf.get(header_len..header_len + 4) else {
                return Ok(None);
            };
            mask.copy_from_slice(m);
            header_len += 4;
        }
        Ok(Some(Header {
            fin,
            compressed,
            opcode,
            mask,
            header_len,
            payload_len: len as usize,
        }))
    }

    fn frame(
        &mut self,
        header: &Header,
        payload: Vec<u8>,
        out: &mut Vec<WsEvent>,
    ) -> Result<(), WsError> {
        match header.opcode {
            OpCode::Ping => out.push(WsEvent::Ping(Bytes::from(payload))),
            OpCode::Pong => out.push(WsEvent::Pong),
            OpCode::Close => out.push(close_event(&payload)?),
            OpCode::Text | OpCode::Binary => {
                if self.message.is_some() {
                    return fail(close_code::PROTOCOL, "new message inside a fragmented one");
                }
                if header.fin {
                    let event = self.message(header.opcode, header.compressed, payload)?;
                    out.push(event);
                } else {
                    self.message = Some((header.opcode, header.compressed, payload));
                }
            }
            OpCode::Continuation => {
                let Some((_, _, data)) = self.message.as_mut() else {
                    return fail(close_code::PROTOCOL, "continuation without a message");
                };
                data.extend_from_slice(&payload);
                if header.fin
                    && let Some((kind, compressed, data)) = self.message.take()
                {
                    let event = self.message(kind, compressed, data)?;
                    out.push(event);
                }
            }
        }
        Ok(())
    }

    /// A whole data message, inflated first when it came compressed.
    fn message(
        &mut self,
        opcode: OpCode,
        compressed: bool,
        data: Vec<u8>,
    ) -> Result<WsEvent, WsError> {
        let data = match (compressed, self.inflater.as_mut()) {
            (false, _) => data,
            (true, Some(inflater)) => match inflater.inflate(&data, self.max_message) {
                Ok(inflated) => inflated,
                Err(InflateError::TooBig { .. }) => {
                    return fail(
                        close_code::TOO_BIG,
                        "compressed message inflates past the limit",
                    );
                }
                Err(InflateError::Corrupt(_)) => {
                    return fail(
                        close_code::INVALID_DATA,
                        "compressed message does not inflate",
                    );
                }
            },
            (true, None) => {
                return fail(
                    close_code::PROTOCOL,
                    "compressed message without the extension",
                );
            }
        };
        if opcode == OpCode::Text {
            match String::from_utf8(data) {
                Ok(text) => Ok(WsEvent::Text(text)),
                Err(_) => fail(close_code::INVALID_DATA, "text message is not UTF-8"),
            }
        } else {
            Ok(WsEvent::Binary(Bytes::from(data)))
        }
    }
}

fn close_event(payload: &[u8]) -> Result<WsEvent, WsError> {
    match payload {
        [] => Ok(WsEvent::Close(1005, String::new())),
        [_] => fail(close_code::PROTOCOL, "close frame with a one-byte body"),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let valid = matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999);
            if !valid {
                return fail(close_code::PROTOCOL, "invalid close code");
            }
            match std::str::from_utf8(reason) {
                Ok(reason) => Ok(WsEvent::Close(code, reason.to_owned())),
                Err(_) => fail(close_code::INVALID_DATA, "close reason is not UTF-8"),
            }
        }
    }
}

fn unmask(data: &mut [u8], mask: [u8; 4]) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

/// The header of an unmasked server frame carrying `len` payload bytes: up to
/// 10 bytes, and how many of them are used.
pub fn frame_header(opcode: OpCode, len: usize) -> ([u8; 10], usize) {
    data_frame_header(opcode, len, false)
}

/// [`frame_header`] for a whole (unfragmented) message, with RSV1 set when
/// its payload is compressed (permessage-deflate).
pub fn data_frame_header(opcode: OpCode, len: usize, compressed: bool) -> ([u8; 10], usize) {
    let mut header = [0u8; 10];
    header[0] = 0x80 | if compressed { 0x40 } else { 0 } | opcode.bits();
    let used = if len < 126 {
        header[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (header, used)
}

/// The body of a close frame: `code` and `reason` cut to fit 123 bytes.
pub fn close_body(code: u16, reason: &str) -> Vec<u8> {
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut body = Vec::with_capacity(2 + cut);
    body.extend_from_slice(&code.to_be_bytes());
    body.extend_from_slice(&reason.as_bytes()[..cut]);
    body
}

/// A whole (unmasked, server) close frame with `code` and `reason` (reason
/// cut to fit 123 bytes).
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let body = close_body(code, reason);
    let (header, used) = frame_header(OpCode::Close, body.len());
    let mut frame = header[..used].to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// A whole masked (client) frame carrying `payload`, appended to `out`: the
/// header with the mask bit and `mask`, then the payload masked with it.
pub fn write_masked_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8], mask: [u8; 4]) {
    write_masked_message(out, opcode, payload, mask, false);
}

/// [`write_masked_frame`] for a whole data message, with RSV1 set when its
/// payload is compressed (permessage-deflate).
pub fn write_masked_message(
    out: &mut Vec<u8>,
    opcode: OpCode,
    payload: &[u8],
    mask: [u8; 4],
    compressed: bool,
) {
    let (mut header, used) = data_frame_header(opcode, payload.len(), compressed);
    header[1] |= 0x80;
    out.reserve(used + 4 + payload.len());
    out.extend_from_slice(&header[..used]);
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    unmask(&mut out[start..], mask);
}
