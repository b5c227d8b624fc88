//! The client against servers that misbehave or say nothing: heartbeats
//! answered and missed, garbage frames, a server that never speaks
//! WebSocket, wrong upgrade answers. The raw servers are tokio-tungstenite's
//! (an implementation independent of the engine's framing) or bare TCP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures_util::{SinkExt, StreamExt};
use ignis_socketio_client::{ClientError, Event, ReconnectConfig, SocketClient, reasons};
use tokio_tungstenite::tungstenite::Message;

const T: Duration = Duration::from_secs(3);

#[tokio::test]
async fn heartbeat_pings_are_answered_with_pongs() {
    let pongs = Recorder::<String>::default();
    let p = pongs.clone();
    let server = RawServer::start(move |mut ws| {
        let p = p.clone();
        async move {
            raw_handshake(&mut ws, 10_000, 10_000).await;
            ws.send(Message::text("2")).await.ok();
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                p.push(t.to_string());
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    })
    .await;
    let client = SocketClient::builder(server.url()).build().unwrap();
    client.connect().unwrap();
    wait_for("pong", T, || pongs.len() == 1).await;
    assert_eq!(pongs.all()[0], "3");
    client.shutdown().await;
}

#[tokio::test]
async fn silent_server_is_detected_by_ping_timeout_and_reconnected() {
    // Promises a ping every 100 ms and never sends one.
    let server = RawServer::start(|mut ws| async move {
        raw_handshake(&mut ws, 100, 100).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let client = SocketClient::builder(server.url())
        .reconnection(fast_reconnect())
        .build()
        .unwrap();
    let reasons_seen = Recorder::<String>::default();
    let r = reasons_seen.clone();
    client.on_disconnect(move |reason| {
        let r = r.clone();
        async move { r.push(reason) }
    });
    client.connect().unwrap();
    wait_for("ping timeout", T, || !reasons_seen.all().is_empty()).await;
    assert_eq!(reasons_seen.all()[0], reasons::PING_TIMEOUT);
    wait_for("reconnected", T, || server.connections.get() >= 2).await;
    client.shutdown().await;
}

#[tokio::test]
async fn garbage_frames_are_reported_and_the_client_keeps_running() {
    let server = RawServer::start(|mut ws| async move {
        raw_handshake(&mut ws, 10_000, 10_000).await;
        for garbage in [
            "",
            "zzz",
            "4",
            "4zz",
            "42not json",
            "42[1]",
            "43[1]",
            "45-[\"x\"]",
            "4{}",
            "0{bad",
            "é",
        ] {
            ws.send(Message::text(garbage)).await.ok();
        }
        ws.send(Message::binary(Bytes::from_static(b"stray")))
            .await
            .ok();
        ws.send(Message::text(
            r#"451-["bin",{"_placeholder":true,"num":3}]"#,
        ))
        .await
        .ok();
        ws.send(Message::binary(Bytes::from_static(b"x")))
            .await
            .ok();
        ws.send(Message::text(r#"42["ok",1]"#)).await.ok();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let oks = Counter::default();
    let o = oks.clone();
    let client = SocketClient::builder(server.url()).build().unwrap();
    client.on_error(move |err| {
        let e = e.clone();
        async move { e.push(err) }
    });
    client.on("ok", move |_e: Event| {
        o.hit();
        std::future::ready(())
    });
    client.connect().unwrap();
    wait_for("the valid event after the garbage", T, || oks.get() == 1).await;
    assert!(client.is_connected());
    let errors = errors.all();
    assert!(errors.len() >= 10, "{errors:?}");
    assert!(
        errors.iter().all(|e| matches!(e, ClientError::Protocol(_))),
        "{errors:?}"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn connect_timeout_fires_when_the_server_never_answers() {
    // Accepts TCP, never speaks WebSocket.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let errors = Recorder::<ClientError>::default();
    let e = errors.clone();
    let client = SocketClient::builder(format!("http://{addr}"))
        .connect_timeout(Duration::from_millis(200))
        .reconnection(ReconnectConfig::disabled())
        .build()
        .unwrap();
    client.on_error(move |err| {
        let e = e.clone();
        async move { e.push(err) }
    });
    client.connect().unwrap();
    wait_for("timeout error", T, || errors.len() == 1).await;
    assert!(matches!(
        errors.all()[0],
        ClientError::ConnectTimeout(d) if d == Duration::from_millis(200)
    ));
    client.shutdown().await;
    hold.abort();
}

/// A server answering the upgrade with `answer` (and then silence).
async fn http_answering(answer: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tcp.write_all(answer.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn a_wrong_upgrade_answer_is_a_connect_failure_with_its_cause() {
    use ignis_socketio_client::TransportError;
    use ignis_socketio_engine::ws::UpgradeError;
    for (answer, expected) in [
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
            UpgradeError::Accept,
        ),
        (
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            UpgradeError::Status(404),
        ),
    ] {
        let (url, server) = http_answering(answer).await;
        let errors = Recorder::<ClientError>::default();
        let e = errors.clone();
        let client = SocketClient::builder(url)
            .reconnection(ReconnectConfig::disabled())
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        client.on_error(move |err| {
            let e = e.clone();
            async move { e.push(err) }
        });
        client.connect().unwrap();
        wait_for("connect failure", T, || errors.len() == 1).await;
        let error = errors.all().remove(0);
        assert!(
            matches!(&error, ClientError::ConnectFailed(TransportError::Upgrade(u)) if *u == expected),
            "{error:?}"
        );
        // The cause is reachable through `source()`.
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.contains("upgrade")), "{error:?}");
        client.shutdown().await;
        server.abort();
    }
}
