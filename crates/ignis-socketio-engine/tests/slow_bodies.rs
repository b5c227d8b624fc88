//! Slow bodies are cut: a client that sends its request head and then trickles
//! the body (slow loris) is answered with an error and disconnected once the
//! body deadline passes, for a REST route beside the engine and for a polling
//! POST; a body that arrives in time is served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::post;
use ignis_socketio_engine::io::SocketIo;
use ignis_socketio_engine::{ServeLimits, serve_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BODY_LIMIT: Duration = Duration::from_millis(800);

async fn serve_fast_limits(io: &SocketIo) -> SocketAddr {
    let listener = ignis_socketio_engine::bind_listener(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route(
            "/api/echo",
            post(|body: axum::body::Bytes| async move { body }),
        )
        .layer(io.layer());
    let limits = ServeLimits {
        body_read_timeout: BODY_LIMIT,
        ..ServeLimits::default()
    };
    tokio::spawn(serve_with(listener, app, std::future::pending(), limits));
    addr
}

/// Sends `head`, then one body byte every 300 ms; returns what the server
/// answered once it closed the connection, or `None` if it was still open
/// after 20 bytes (6 s).
async fn trickle(addr: SocketAddr, head: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    for _ in 0..20 {
        if stream.write_all(b"x").await.is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    // Read what is left: a closed connection ends the read.
    let mut rest = Vec::new();
    match tokio::time::timeout(Duration::from_millis(500), stream.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => {
            answer.extend_from_slice(&rest);
            Some(String::from_utf8_lossy(&answer).into_owned())
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_trickled_rest_body_is_refused_and_the_connection_closed() {
    let io = SocketIo::new(common::config());
    let addr = serve_fast_limits(&io).await;
    let head = "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    let answer = trickle(addr, head)
        .await
        .expect("the connection was still open after 6 s of a 100-byte body");
    assert!(
        answer.starts_with("HTTP/1.1 4"),
        "a client error, not a served request: {answer:?}"
    );
}

#[tokio::test]
async fn a_trickled_polling_post_is_refused_and_the_connection_closed() {
    let io = SocketIo::new(common::config());
    let addr = serve_fast_limits(&io).await;
    // A polling session to post into.
    let open = reqwest_like_get(addr, "/socket.io/?EIO=4&transport=polling").await;
    let start = open.find("\"sid\":\"").expect("an open packet") + 7;
    let sid = &open[start..start + 20];
    let head = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n"
    );
    let answer = trickle(addr, &head)
        .await
        .expect("the connection was still open after 6 s of a 100-byte body");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
}

#[tokio::test]
async fn a_body_sent_in_time_is_served() {
    let io = SocketIo::new(common::config());
    let addr = serve_fast_limits(&io).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhel")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(b"lo").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.ends_with("hello"), "{answer:?}");
}

/// A plain GET over a fresh connection; the response body.
async fn reqwest_like_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}
