//! The engine's limits set through the helper reach the running engine:
//! attachments per packet, and the polling body's read timeout, which holds
//! behind any HTTP server (`axum::serve` here, which has no body deadline of
//! its own). Raw HTTP over real sockets, as a hostile client sends it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{TestServer, builder};
use ignis_socketio_test_support::http::{http, read_response, status};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const POLLING: &str = "/io/?EIO=4&transport=polling";

async fn open_session(addr: SocketAddr) -> String {
    let response = http(addr, "GET", POLLING, &[]).await;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let open: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

/// Sends a POST whose head announces `body.len()` bytes but writes only
/// `sent` of them; returns the response (or what came before the close).
async fn post(addr: SocketAddr, sid: &str, body: &str, sent: usize) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {POLLING}&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..sent]).await.unwrap();
    read_response(&mut stream).await
}

#[tokio::test]
async fn a_packet_announcing_more_attachments_than_allowed_closes_its_connection() {
    let server = TestServer::start(builder().attachments(2, Duration::from_secs(60))).await;
    let addr = server.addr;
    let sid = open_session(addr).await;
    let connect = r#"40{"token":"good"}"#;
    assert_eq!(status(&post(addr, &sid, connect, connect.len()).await), 200);
    server
        .wait_registry("the socket", |io| io.client_count() == 1)
        .await;
    let three = r#"453-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]"#;
    // Two attachments (sent with it, base64 in the polling payload) are
    // within the limit: the packet is complete and handled.
    let two = "452-[\"x\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]\u{1e}bAQI=\u{1e}bAwQ=";
    assert_eq!(status(&post(addr, &sid, two, two.len()).await), 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.io.client_count(), 1);
    assert_eq!(server.io.counters().protocol_errors, 0);

    let other = open_session(addr).await;
    assert_eq!(
        status(&post(addr, &other, connect, connect.len()).await),
        200
    );
    server
        .wait_registry("two sockets", |io| io.client_count() == 2)
        .await;
    assert_eq!(status(&post(addr, &other, three, three.len()).await), 200);
    server
        .wait_registry("the one over the limit is gone", |io| {
            io.client_count() == 1 && io.counters().protocol_errors == 1
        })
        .await;
    assert_eq!(
        server.io.counters().events_ignored,
        1,
        "the complete packet was read"
    );
}

#[tokio::test]
async fn a_polling_body_that_trickles_is_cut_behind_axum_serve() {
    let io = builder()
        .read_timeouts(Duration::from_secs(30), Duration::from_millis(300))
        .build()
        .unwrap();
    let app = io.attach(axum::Router::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let sid = open_session(addr).await;
    // Half of the body, then nothing: the engine gives up on it.
    let response = post(addr, &sid, r#"40{"token":"good"}"#, 5).await;
    assert_eq!(status(&response), 400, "{response}");
    ignis_socketio_test_support::wait::wait_for(
        "the session closed",
        Duration::from_secs(10),
        || io.counters().sessions_closed == 1,
    )
    .await;
    task.abort();
}
