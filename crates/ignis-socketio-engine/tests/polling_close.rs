//! A polling client's close packet ends its poll with a noop, also when the
//! poll reaches the server a moment after the close: the GET and the POST
//! travel on separate connections, so either may be served first (the
//! official Engine.IO test suite sends them together). After that noop, or
//! once the closing grace has passed, the session is gone (400).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use ignis_socketio_engine::io::SocketIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request on its own connection; the status and the body.
async fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

async fn open_polling(addr: SocketAddr) -> String {
    let (status, body) = request(addr, "GET", "/socket.io/?EIO=4&transport=polling", "").await;
    assert_eq!(status, 200, "{body}");
    let open: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

fn poll_path(sid: &str) -> String {
    format!("/socket.io/?EIO=4&transport=polling&sid={sid}")
}

#[tokio::test]
async fn a_poll_waiting_when_the_client_closes_gets_a_noop_then_the_session_is_gone() {
    let io = SocketIo::new(common::config());
    let addr = common::serve(&io).await;
    let sid = open_polling(addr).await;
    let path = poll_path(&sid);
    let waiting = tokio::spawn({
        let path = path.clone();
        async move { request(addr, "GET", &path, "").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(request(addr, "POST", &path, "1").await, (200, "ok".into()));
    assert_eq!(waiting.await.unwrap(), (200, "6".into()));
    assert_eq!(request(addr, "GET", &path, "").await.0, 400);
}

#[tokio::test]
async fn a_poll_arriving_just_after_the_close_gets_the_noop_too() {
    let io = SocketIo::new(common::config());
    let addr = common::serve(&io).await;
    let sid = open_polling(addr).await;
    let path = poll_path(&sid);
    assert_eq!(request(addr, "POST", &path, "1").await, (200, "ok".into()));
    assert_eq!(request(addr, "GET", &path, "").await, (200, "6".into()));
    assert_eq!(request(addr, "GET", &path, "").await.0, 400);
}

#[tokio::test]
async fn without_a_poll_the_closed_session_ends_after_a_short_grace() {
    let io = SocketIo::new(common::config());
    let addr = common::serve(&io).await;
    let sid = open_polling(addr).await;
    let path = poll_path(&sid);
    assert_eq!(request(addr, "POST", &path, "1").await, (200, "ok".into()));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(request(addr, "GET", &path, "").await.0, 400);
}
