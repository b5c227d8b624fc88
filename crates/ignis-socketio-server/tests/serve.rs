//! `serve`: the crate's HTTP/1.1 serving. Every other test of this crate
//! serves through it too (see `common`); these check what is particular to
//! it: the request head reaches handlers intact after it was copied, the
//! peer address is recorded, and the stop is graceful without waiting on
//! upgraded or idle connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, RawQuery};
use axum::http::HeaderMap;
use axum::routing::get;
use ignis_socketio_server::{bind_listener, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Sends `request` and reads until the peer closes or `until` appears.
async fn exchange(stream: &mut TcpStream, request: &str, until: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = stream.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..n]);
            if String::from_utf8_lossy(&received).contains(until) {
                break;
            }
        }
    })
    .await
    .expect("answer within 5 s");
    String::from_utf8_lossy(&received).into_owned()
}

struct Served {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(app: Router) -> Served {
    let listener = bind_listener("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, app, async move {
        let _ = stopped.await;
    }));
    Served { addr, stop, done }
}

#[tokio::test]
async fn handlers_see_the_request_head_and_the_peer_address() {
    let app = Router::new().route(
        "/echo",
        get(
            |RawQuery(query): RawQuery,
             headers: HeaderMap,
             ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                let many: Vec<_> = headers
                    .get_all("x-many")
                    .iter()
                    .map(|v| v.to_str().unwrap_or("?").to_owned())
                    .collect();
                format!(
                    "query={} many={} peer={}",
                    query.unwrap_or_default(),
                    many.join(","),
                    peer.ip()
                )
            },
        ),
    );
    let served = start(app).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let answer = exchange(
        &mut stream,
        "GET /echo?a=1%202&b HTTP/1.1\r\nHost: t\r\nX-Many: one\r\nX-Many: two\r\nConnection: close\r\n\r\n",
        "peer=",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("query=a=1%202&b many=one,two peer=127.0.0.1"),
        "{answer}"
    );
    let _ = served.stop.send(());
}

#[tokio::test]
async fn stop_finishes_requests_in_flight_without_waiting_on_websockets_or_idle_connections() {
    let io = common::builder().build().unwrap();
    let app = io.attach(
        Router::new()
            .route("/health", get(|| async { "ok" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "slow-done"
                }),
            ),
    );
    let served = start(app).await;

    // An upgraded WebSocket, left open.
    let mut websocket = TcpStream::connect(served.addr).await.unwrap();
    let upgrade = exchange(
        &mut websocket,
        "GET /io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        "\r\n\r\n",
    )
    .await;
    assert!(upgrade.starts_with("HTTP/1.1 101"), "{upgrade}");
    // A keep-alive connection that served one request and stays idle.
    let mut idle = TcpStream::connect(served.addr).await.unwrap();
    let health = exchange(&mut idle, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n", "ok").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // A request in flight when the stop comes.
    let slow = tokio::spawn(async move {
        let mut stream = TcpStream::connect(served.addr).await.unwrap();
        exchange(
            &mut stream,
            "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n",
            "slow-done",
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let _ = served.stop.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(3), served.done).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "serve returns within 3 s: {stopped:?}"
    );
    let slow = slow.await.unwrap();
    assert!(
        slow.starts_with("HTTP/1.1 200") && slow.contains("slow-done"),
        "{slow}"
    );
    // Nothing listens any more.
    assert!(TcpStream::connect(served.addr).await.is_err());
    io.shutdown().await;
}

#[tokio::test]
async fn a_session_that_never_connects_is_closed_at_connect_timeout() {
    let server = common::TestServer::start(common::builder().options(
        ignis_socketio_server::ServerOptions {
            connect_timeout: Duration::from_millis(300),
            ..Default::default()
        },
    ))
    .await;
    // An Engine.IO session opened over polling that never sends CONNECT,
    // then long-polling: answered with a close packet (`1`) at the connect
    // timeout; without it, with a ping (`2`) after the 25 s heartbeat.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let open = exchange(
        &mut stream,
        "GET /io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "}",
    )
    .await;
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a handshake with a sid");
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let poll = exchange(
        &mut stream,
        &format!(
            "GET /io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        ),
        "\r\n\r\n1",
    )
    .await;
    assert!(poll.ends_with("\r\n\r\n1"), "{poll}");
    assert_eq!(server.io.counters().sessions_closed, 1);
}
