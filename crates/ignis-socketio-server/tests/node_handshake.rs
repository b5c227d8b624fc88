//! `Handshake::to_node_json` (the engine's `HandshakeSource`, which the Redis
//! adapter's `SocketDetails::from_request` uses too) against what a Node
//! socket.io server reports as `socket.handshake` for the same request:
//! repeated headers, a percent-encoded and a repeated query key, an origin,
//! the peer address, the URL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use axum::extract::ConnectInfo;
use ignis_socketio_server::Handshake;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

const TARGET: &str = "/io/?EIO=4&transport=polling&name=a%20b&tag=1&tag=2";
const HEADERS: [(&str, &str); 7] = [
    ("Host", "example.test"),
    ("Connection", "close"),
    ("Origin", "http://elsewhere.example"),
    ("X-Custom", "one"),
    ("X-Custom", "two"),
    ("Cookie", "a=1"),
    ("Cookie", "b=2"),
];

/// Sends one HTTP/1.1 request (`head` ends with its last header line) and reads the answer until the peer closes.
async fn request(port: u16, head: &str, body: &str) -> (String, SocketAddr) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let local = stream.local_addr().unwrap();
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("Node answers")
        .unwrap();
    (answer, local)
}

#[tokio::test]
async fn node_json_is_what_a_node_server_reports_for_the_same_request() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testing/node/server/report-handshake.mjs");
    let mut node = Command::new("node")
        .arg(script)
        .arg("/io")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a line from node")
            .unwrap()
            .expect("node still running");
        serde_json::from_str(&line).unwrap()
    };
    let port = next().await["port"].as_u64().unwrap() as u16;

    // The Engine.IO handshake carries the headers Node keeps in socket.handshake.
    let mut head = format!("GET {TARGET} HTTP/1.1\r\n");
    for (name, value) in HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let (open, local) = request(port, &head, "").await;
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an Engine.IO open packet");
    let connect = format!(
        "POST /io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: example.test\r\n\
         Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n"
    );
    request(port, &connect, "40").await;
    let reported = next().await["handshake"].take();

    let mut builder = http::Request::builder().uri(TARGET);
    for (name, value) in HEADERS {
        builder = builder.header(name, value);
    }
    let (mut parts, ()) = builder.body(()).unwrap().into_parts();
    parts.extensions.insert(ConnectInfo(local));
    let ours = Handshake::from_request_parts(&parts, None).to_node_json();

    for field in [
        "headers", "address", "xdomain", "secure", "url", "query", "auth",
    ] {
        assert_eq!(ours[field], reported[field], "{field}");
    }
    assert_eq!(
        reported["query"],
        json!({"EIO": "4", "transport": "polling", "name": "a b", "tag": "2"}),
        "the request exercises decoding and a repeated key"
    );
    assert_eq!(reported["headers"]["x-custom"], "one, two");
    // Both are JavaScript date strings and millisecond numbers.
    let suffix = |v: &Value| v.as_str().unwrap().split(" GMT").nth(1).map(str::to_owned);
    assert_eq!(suffix(&ours["time"]), suffix(&reported["time"]));
    assert!(ours["issued"].is_u64() && reported["issued"].is_u64());
}
