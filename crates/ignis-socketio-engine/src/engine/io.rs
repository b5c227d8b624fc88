//! The byte stream of an upgraded connection. When the server runs on plain
//! TCP the stream is taken back out of hyper's upgrade (and hyper's read
//! buffer let go); any other server's stream is used through hyper.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// An upgraded WebSocket: its bytes and the permessage-deflate parameters
/// agreed in its handshake.
pub(crate) struct WsUpgrade {
    pub(crate) io: WsIo,
    pub(crate) deflate: Option<crate::ws::DeflateParams>,
}

/// An upgraded connection's bytes.
pub(crate) enum WsIo {
    /// Plain TCP, with bytes the client sent right behind its handshake.
    Tcp(TcpStream, Bytes),
    /// Anything else (TLS, tests), through hyper.
    Upgraded(TokioIo<Upgraded>),
}

impl WsIo {
    pub(crate) fn new(upgraded: Upgraded) -> WsIo {
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            // Copy what was read ahead: the slice would pin hyper's whole buffer.
            Ok(parts) => WsIo::Tcp(
                parts.io.into_inner(),
                Bytes::copy_from_slice(&parts.read_buf),
            ),
            Err(upgraded) => WsIo::Upgraded(TokioIo::new(upgraded)),
        }
    }
}

impl AsyncRead for WsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(tcp, ahead) => {
                if ahead.has_remaining() {
                    let n = ahead.len().min(buf.remaining());
                    buf.put_slice(&ahead[..n]);
                    ahead.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Pin::new(tcp).poll_read(cx, buf)
            }
            WsIo::Upgraded(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WsIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(tcp, _) => Pin::new(tcp).poll_write(cx, data),
            WsIo::Upgraded(io) => Pin::new(io).poll_write(cx, data),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(tcp, _) => Pin::new(tcp).poll_write_vectored(cx, slices),
            WsIo::Upgraded(io) => Pin::new(io).poll_write_vectored(cx, slices),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(tcp, _) => Pin::new(tcp).poll_flush(cx),
            WsIo::Upgraded(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(tcp, _) => Pin::new(tcp).poll_shutdown(cx),
            WsIo::Upgraded(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}
