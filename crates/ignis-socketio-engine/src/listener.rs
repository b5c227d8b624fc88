//! Binding a TCP listener with a backlog that survives connection bursts.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Listen backlog used by [`bind_listener`] (Node uses 511; tokio's `bind` uses 128,
/// which a burst of a few hundred handshakes overflows, costing 1 s SYN retries).
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds `addr` with `SO_REUSEADDR` and a listen backlog of [`LISTEN_BACKLOG`].
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// let listener = ignis_socketio_engine::bind_listener("127.0.0.1:0".parse().unwrap()).await?;
/// println!("listening on {}", listener.local_addr()?);
/// # Ok(()) }
/// ```
pub async fn bind_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
