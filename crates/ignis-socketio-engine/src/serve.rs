//! Serving a router over HTTP/1.1 with what a Socket.IO server needs and
//! nothing it does not: WebSocket upgrades, the peer address, a graceful stop.
//!
//! `axum::serve` works, but each idle WebSocket connection then costs about
//! 8 KiB more (measured, see `docs/performance.md`):
//! - it detects HTTP/1 or HTTP/2 per connection, which keeps one more read
//!   buffer around; Socket.IO clients speak HTTP/1.1;
//! - hyper parses the URI and header values as views into its 8 KiB read
//!   buffer; a head kept for a socket's lifetime would keep the whole buffer.
//!   [`serve`] copies the head out before the router sees it;
//! - on plain HTTP/1 the engine takes the TCP stream back out of hyper's
//!   upgrade and drops hyper's buffers (behind `axum::serve` it cannot).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::body_deadline::DeadlineBody;

/// How long a client may take to send a request head (slow-loris guard).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send a request body, counted from the
/// first read that has to wait for it (slow-loris guard for REST and
/// polling POSTs). A body that is late fails to read: the handler answers
/// with an error and the connection is closed.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The time limits [`serve_with`] applies to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// For the request head ([`HEADER_READ_TIMEOUT`] by default).
    pub header_read_timeout: Duration,
    /// For the whole request body ([`BODY_READ_TIMEOUT`] by default).
    pub body_read_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
        }
    }
}

/// Serves `router` on `listener` over HTTP/1.1 with upgrades, until
/// `shutdown` completes; then stops accepting, lets requests in flight
/// finish, and returns. Upgraded connections (WebSockets) are the router's:
/// close them first (e.g. [`SocketIo::close`](crate::io::SocketIo::close)).
///
/// Handlers can extract [`ConnectInfo<SocketAddr>`] as with
/// `into_make_service_with_connect_info`. HTTP/2 is not offered.
///
/// ```no_run
/// # async fn f(io: ignis_socketio_engine::io::SocketIo) -> std::io::Result<()> {
/// let app = axum::Router::new().layer(io.layer());
/// let listener = ignis_socketio_engine::bind_listener("127.0.0.1:3000".parse().unwrap()).await?;
/// ignis_socketio_engine::serve(listener, app, async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
///
/// # Errors
/// None today: accept errors (a full descriptor table, say) are logged and
/// retried after a pause, as `axum::serve` does. The `Result` leaves room
/// for listener errors that cannot be retried.
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(listener, router, shutdown, ServeLimits::default()).await
}

/// [`serve`] with other time limits for request heads and bodies.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
    limits: ServeLimits,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                tracing::error!(%error, "accept failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            stopping.clone(),
            limits,
        ));
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    stopping: CancellationToken,
    limits: ServeLimits,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let (mut head, body) = request.into_parts();
        crate::engine::own_and_mark_request_head(&mut head);
        head.extensions.insert(ConnectInfo(peer));
        let body = DeadlineBody::new(body, limits.body_read_timeout);
        let request = axum::extract::Request::from_parts(head, axum::body::Body::new(body));
        router.clone().oneshot(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopping.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        // A peer that goes away mid-request, a malformed request: the
        // client's problem, not the server's.
        tracing::debug!(%peer, %error, "HTTP connection ended with an error");
    }
}

/// Errors of one incoming connection (it was reset before being accepted),
/// not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
