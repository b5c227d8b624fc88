//! Binding the TCP listener.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Listen backlog, as Node's default: tokio's `TcpListener::bind` uses 128,
/// which a burst of handshakes overflows (SYN retries cost a second each).
const LISTEN_BACKLOG: u32 = 511;

/// Binds `addr` with a backlog of 511 and `SO_REUSEADDR`.
pub(crate) async fn bind_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
