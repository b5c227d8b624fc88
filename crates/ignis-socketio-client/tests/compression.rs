//! permessage-deflate (RFC 7692) from the client's side: against the
//! project's server through a byte-counting TCP relay (so "compressed" is
//! seen on the wire, not assumed), with the setting off, against a server
//! that declines, and against raw peers that answer with an extension that
//! was not offered or send a compressed message inflating past the limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use ignis_socketio_client::{
    ClientError, ClientPayload, MAX_MESSAGE_SIZE, ReconnectConfig, SocketClient, TransportError,
    reasons,
};
use ignis_socketio_engine::engine::EngineConfig;
use ignis_socketio_engine::ws::{
    DeflateConfig, FrameReader, NegotiationError, OpCode, UpgradeError, WsEvent, accept_key,
    data_frame_header,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T: Duration = Duration::from_secs(5);

/// A JSON document of about `len` bytes, repetitive like real telemetry.
fn telemetry(len: usize) -> Value {
    let mut rows = Vec::new();
    let mut size = 0;
    while size < len {
        let row = json!({"id": rows.len(), "sensor": format!("sensor-{}", rows.len() % 40),
                         "value": (rows.len() * 7 % 100) as f64 / 10.0, "status": "ok"});
        size += row.to_string().len() + 1;
        rows.push(row);
    }
    Value::Array(rows)
}

/// Bytes that compress well but are not all the same.
fn pattern(len: usize) -> Bytes {
    (0..len).map(|i| (i % 251) as u8 / 8).collect()
}

/// A server on `/io` answering every `echo` with its own arguments.
async fn echo_server(deflate: Option<DeflateConfig>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine = EngineConfig {
        per_message_deflate: deflate,
        ..EngineConfig::default()
    };
    TestServer::start_with_engine(listener, engine, |io| {
        io.ns(
            "/",
            Ns::new().on("echo", |_s, e, ack| async move {
                if let Some(ack) = ack {
                    let _ = ack.send(&e.args);
                }
            }),
        );
    })
    .await
}

/// A TCP relay counting the bytes each way.
struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicUsize>,
    down: Arc<AtomicUsize>,
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    n: Arc<AtomicUsize>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(read) = from.read(&mut buf).await {
        if read == 0 || to.write_all(&buf[..read]).await.is_err() {
            break;
        }
        n.fetch_add(read, Ordering::SeqCst);
    }
    let _ = to.shutdown().await;
}

impl Relay {
    async fn to(server: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, down) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (u, d) = (up.clone(), down.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = TcpStream::connect(server).await.unwrap();
                let (cr, cw) = client.into_split();
                let (sr, sw) = upstream.into_split();
                tokio::spawn(pipe(cr, sw, u.clone()));
                tokio::spawn(pipe(sr, cw, d.clone()));
            }
        });
        Relay { addr, up, down }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

fn client(url: String, deflate: bool) -> SocketClient {
    let client = SocketClient::builder(url)
        .path(PATH)
        .reconnection(ReconnectConfig::disabled())
        .per_message_deflate(deflate)
        .build()
        .unwrap();
    client.connect().unwrap();
    client
}

/// Sends `payload` as `echo` and checks the answer is the same; returns the
/// bytes the relay carried each way meanwhile.
async fn echo(client: &SocketClient, relay: &Relay, payload: ClientPayload) -> (usize, usize) {
    let before = relay.counts();
    let answer = client
        .emit_with_ack("echo", payload.clone(), T)
        .await
        .unwrap();
    assert_eq!(answer.args(), payload.args());
    assert_eq!(answer.binaries(), payload.binaries());
    let after = relay.counts();
    (after.0 - before.0, after.1 - before.1)
}

#[tokio::test]
async fn large_messages_travel_compressed_both_ways_and_small_ones_as_they_are() {
    let server = echo_server(Some(DeflateConfig::default())).await;
    let relay = Relay::to(server.addr).await;
    let client = client(relay.url(), true);
    assert!(client.wait_connected(T).await);
    let agreed = client.compression().expect("permessage-deflate agreed");
    // The project's server's defaults, as answered to the client's offer.
    assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
    assert_eq!(
        (agreed.server_max_window_bits, agreed.client_max_window_bits),
        (10, 12)
    );

    let doc = telemetry(16 * 1024);
    let text_len = doc.to_string().len();
    let (up, down) = echo(&client, &relay, ClientPayload::from(doc)).await;
    assert!(up < text_len / 3, "client sent {up} bytes for {text_len}");
    assert!(
        down < text_len / 3,
        "server sent {down} bytes for {text_len}"
    );

    let blob = pattern(16 * 1024);
    let payload = ClientPayload::from(json!({"kind": "blob"})).with_binary(blob.clone());
    let (up, down) = echo(&client, &relay, payload).await;
    assert!(
        up < blob.len() / 3,
        "client sent {up} bytes for {}",
        blob.len()
    );
    assert!(
        down < blob.len() / 3,
        "server sent {down} bytes for {}",
        blob.len()
    );

    // Under both thresholds (1024 client, 4096 server): sent as they are.
    let small = json!({"text": "x".repeat(900)});
    let (up, down) = echo(&client, &relay, ClientPayload::from(small)).await;
    assert!(
        up > 900 && down > 900,
        "small message went {up} / {down} bytes"
    );
    client.shutdown().await;
    server.stop().await;
}

#[tokio::test]
async fn with_the_setting_off_nothing_is_offered_or_compressed() {
    let server = echo_server(Some(DeflateConfig::default())).await;
    let relay = Relay::to(server.addr).await;
    let client = client(relay.url(), false);
    assert!(client.wait_connected(T).await);
    assert_eq!(client.compression(), None);
    let doc = telemetry(16 * 1024);
    let len = doc.to_string().len();
    let (up, down) = echo(&client, &relay, ClientPayload::from(doc)).await;
    assert!(up > len && down > len, "{up} / {down} bytes for {len}");
    client.shutdown().await;
    server.stop().await;
}

#[tokio::test]
async fn a_server_declining_the_offer_gets_plain_messages() {
    let server = echo_server(None).await;
    let relay = Relay::to(server.addr).await;
    let client = client(relay.url(), true);
    assert!(client.wait_connected(T).await);
    assert_eq!(client.compression(), None);
    let doc = telemetry(16 * 1024);
    let len = doc.to_string().len();
    let (up, _) = echo(&client, &relay, ClientPayload::from(doc)).await;
    assert!(up > len);
    client.shutdown().await;
    server.stop().await;
}

/// A bare TCP peer answering the upgrade with `extensions` (a header line or
/// nothing), then the Engine.IO and namespace handshakes, then `after`
/// frames; it returns the client's events read after that.
async fn raw_peer(
    extensions: &'static str,
    after: Vec<u8>,
) -> (String, tokio::task::JoinHandle<Vec<WsEvent>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            tcp.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        let mut headers = http::HeaderMap::new();
        for line in String::from_utf8(head).unwrap().lines().skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                headers.append(
                    http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                    http::HeaderValue::from_str(value.trim()).unwrap(),
                );
            }
        }
        let accept = accept_key(&http::Method::GET, &headers).unwrap();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{extensions}\r\n"
        );
        tcp.write_all(answer.as_bytes()).await.unwrap();
        let mut reader = FrameReader::new(1 << 20);
        let text = |t: &str| {
            let (header, used) = data_frame_header(OpCode::Text, t.len(), false);
            [&header[..used], t.as_bytes()].concat()
        };
        let open = r#"0{"sid":"raw","upgrades":[],"pingInterval":10000,"pingTimeout":10000,"maxPayload":1000000}"#;
        if tcp.write_all(&text(open)).await.is_err() {
            return Vec::new();
        }
        let mut events = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        // Up to the namespace CONNECT, then the rest of the conversation.
        let mut answered = false;
        while let Ok(read) = tcp.read(&mut buf).await {
            if read == 0 || reader.feed(&buf[..read], &mut events).is_err() {
                break;
            }
            if !answered
                && events
                    .iter()
                    .any(|e| matches!(e, WsEvent::Text(t) if t.starts_with("40")))
            {
                answered = true;
                events.clear();
                let mut out = text(r#"40{"sid":"raw-socket"}"#);
                out.extend_from_slice(&after);
                tcp.write_all(&out).await.unwrap();
            }
        }
        events
    });
    (url, task)
}

async fn first_error(url: String, deflate: bool) -> ClientError {
    let client = SocketClient::builder(url)
        .reconnection(ReconnectConfig::disabled())
        .per_message_deflate(deflate)
        .build()
        .unwrap();
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    client.on_error(move |error| {
        let e = e.clone();
        async move { e.push(error) }
    });
    client.connect().unwrap();
    wait_for("an error", T, || errors.len() == 1).await;
    assert!(!client.is_connected());
    client.shutdown().await;
    errors.all().remove(0)
}

#[tokio::test]
async fn an_answer_naming_what_was_not_offered_fails_the_connection() {
    let cases = [
        (
            "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n",
            true,
            NegotiationError::NotOffered,
        ),
        (
            "Sec-WebSocket-Extensions: permessage-deflate; mystery=1\r\n",
            true,
            NegotiationError::BadParameter,
        ),
        // Nothing offered: even permessage-deflate is refused.
        (
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            false,
            NegotiationError::NotOffered,
        ),
    ];
    for (extensions, deflate, expected) in cases {
        let (url, _peer) = raw_peer(extensions, Vec::new()).await;
        let error = first_error(url, deflate).await;
        assert!(
            matches!(
                &error,
                ClientError::ConnectFailed(TransportError::Upgrade(UpgradeError::Extension(e))) if *e == expected
            ),
            "{extensions}: {error:?}"
        );
        assert!(error.to_string().contains("connection failed"), "{error}");
    }
}

/// A raw deflate stream of `copies` MiB of zeros, built by repeating one
/// sync-flushed block (each copy stands alone), tail removed.
fn zip_bomb(copies: usize) -> Vec<u8> {
    let mut one = Vec::with_capacity(8 * 1024);
    let mut z = flate2::Compress::new(flate2::Compression::best(), false);
    z.compress_vec(&vec![0u8; 1 << 20], &mut one, flate2::FlushCompress::Sync)
        .unwrap();
    assert!(one.ends_with(&[0, 0, 0xff, 0xff]));
    let mut bomb = one.repeat(copies);
    bomb.truncate(bomb.len() - 4);
    bomb
}

#[tokio::test]
async fn a_compressed_message_inflating_past_the_limit_closes_with_1009() {
    let bomb = zip_bomb(MAX_MESSAGE_SIZE / (1 << 20) + 1);
    assert!(bomb.len() < 1 << 20, "the bomb is {} bytes", bomb.len());
    let (header, used) = data_frame_header(OpCode::Text, bomb.len(), true);
    let frame = [&header[..used], &bomb[..]].concat();
    let (url, peer) = raw_peer("Sec-WebSocket-Extensions: permessage-deflate\r\n", frame).await;
    let client = SocketClient::builder(url)
        .reconnection(ReconnectConfig::disabled())
        .build()
        .unwrap();
    let reasons_seen = Recorder::<String>::default();
    let r = reasons_seen.clone();
    client.on_disconnect(move |reason| {
        let r = r.clone();
        async move { r.push(reason) }
    });
    client.connect().unwrap();
    wait_for("disconnect", T, || reasons_seen.len() == 1).await;
    assert_eq!(reasons_seen.all()[0], reasons::TRANSPORT_ERROR);
    let events = within(5, peer).await.unwrap();
    assert!(
        events.iter().any(|e| matches!(e, WsEvent::Close(1009, _))),
        "the client's frames: {events:?}"
    );
    client.shutdown().await;
}
