//! Interop against the real Node `socket.io` 4.8.4 server in
//! `testing/node/client/server.mjs`: handshake credentials, the auth
//! protocol, acknowledgements both ways and binary attachments both ways.
//! Needs `node` on PATH and `npm ci --prefix testing/node`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use ignis_socketio_client::{ClientPayload, ClientState, Event, SocketIOClientHelper};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const T: Duration = Duration::from_secs(5);

struct NodeServer {
    child: Child,
    port: u16,
    lines: Recorder<Value>,
}

impl NodeServer {
    async fn start() -> NodeServer {
        Self::start_with_env(&[]).await
    }

    async fn start_with_env(env: &[(&str, PathBuf)]) -> NodeServer {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let node_dir = root.join("testing/node");
        assert!(
            node_dir.join("node_modules/socket.io").exists(),
            "Node packages are missing: run `npm ci --prefix testing/node`"
        );
        let mut command = Command::new("node");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .arg(node_dir.join("client/server.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("`node` must be on PATH to run the interop tests");
        let stdout = child.stdout.take().unwrap();
        let lines = Recorder::<Value>::default();
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        let l = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            let mut port_tx = Some(port_tx);
            while let Ok(Some(line)) = reader.next_line().await {
                let v: Value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if let (Some(port), Some(tx)) = (v["port"].as_u64(), port_tx.take()) {
                    let _ = tx.send(port as u16);
                } else {
                    l.push(v);
                }
            }
        });
        let port = within(10, port_rx)
            .await
            .expect("node server did not start");
        NodeServer { child, port, lines }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn logged(&self, event: &str) -> Vec<Value> {
        self.lines
            .all()
            .into_iter()
            .filter(|v| v["event"] == event)
            .collect()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn helper(server: &NodeServer) -> ignis_socketio_client::SocketIOClientHelperBuilder {
    SocketIOClientHelper::builder()
        .identifier("node-interop")
        .url(server.url())
        .path("/io")
        .reconnection(ignis_socketio_client::ReconnectConfig::disabled())
}

#[tokio::test]
async fn node_server_sees_auth_headers_query_and_authenticates_the_client() {
    let server = NodeServer::start().await;
    let helper = helper(&server)
        .auth(json!({"token": "tok"}))
        .header("authorization", "Bearer tok-h")
        .query("room", "lobby")
        .auto_authenticate(true)
        .build()
        .unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    wait_for("connection logged", T, || {
        !server.logged("connection").is_empty()
    })
    .await;
    let conn = &server.logged("connection")[0];
    assert_eq!(conn["auth"], json!({"token": "tok"}));
    assert_eq!(conn["authorization"], "Bearer tok-h");
    assert_eq!(conn["query"], "lobby");
    assert_eq!(conn["id"], json!(helper.client().id().unwrap()));
    let ack = helper.join_rooms(["a", "b"]).await.unwrap().unwrap();
    assert_eq!(ack.joined, vec!["a".to_string(), "b".to_string()]);
    helper.shutdown().await;
    wait_for("node saw the disconnect", T, || {
        !server.logged("disconnect").is_empty()
    })
    .await;
    assert_eq!(
        server.logged("disconnect")[0]["reason"],
        "client namespace disconnect"
    );
}

#[tokio::test]
async fn node_server_refuses_a_client_without_token() {
    let server = NodeServer::start().await;
    let messages = Recorder::<String>::default();
    let m = messages.clone();
    let helper = helper(&server)
        .on_unauthenticated(move |msg| {
            let m = m.clone();
            async move { m.push(msg) }
        })
        .build()
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate().unwrap();
    wait_for("unauthenticated", T, || messages.len() == 1).await;
    assert_eq!(
        messages.all()[0],
        "Invalid token to authenticate! Please login again!"
    );
    assert_eq!(helper.state(), ClientState::Unauthorized);
    helper.shutdown().await;
}

#[tokio::test]
async fn acks_travel_both_ways_with_node() {
    let server = NodeServer::start().await;
    let helper = helper(&server).build().unwrap();
    helper.client().on("question", |event: Event| async move {
        let q = event.data()["q"].as_i64().unwrap_or(0);
        event.ack(json!({"answer": q + 1})).map(|_| ())
    });
    let received = Recorder::<Value>::default();
    let r = received.clone();
    helper
        .subscribe("answer-received", move |v| {
            let r = r.clone();
            async move { r.push(v) }
        })
        .unwrap();
    assert!(helper.client().wait_connected(T).await);
    // Client -> server ack, with falsy values too.
    for v in [json!({"k": [1, 2]}), json!(0), json!(""), json!(null)] {
        let answer = helper.emit_with_ack("echo", &v, T).await.unwrap();
        assert_eq!(answer.first(), Some(&v));
    }
    // Server -> client ack.
    helper.emit("ready", &json!(null)).unwrap();
    wait_for("node got our ack", T, || received.len() == 1).await;
    assert_eq!(received.all()[0], json!({"answer": 42}));
    helper.shutdown().await;
}

#[tokio::test]
async fn binary_attachments_travel_both_ways_with_node() {
    let server = NodeServer::start().await;
    let helper = helper(&server).build().unwrap();
    let back = Recorder::<(Value, Vec<u8>)>::default();
    let b = back.clone();
    helper.client().on("bin-back", move |event: Event| {
        let b = b.clone();
        async move {
            let p = event.payload();
            let data = p
                .binary(&p.args()[1])
                .map(|x| x.to_vec())
                .unwrap_or_default();
            b.push((p.args()[0].clone(), data));
        }
    });
    assert!(helper.client().wait_connected(T).await);
    let payload = ClientPayload::from(json!({"name": "blob"}))
        .with_binary(Bytes::from_static(&[9, 8, 7, 0, 255]));
    let answer = helper
        .client()
        .emit_with_ack("bin-echo", payload, T)
        .await
        .unwrap();
    // The ack carries a nested Buffer: a placeholder resolved to an attachment.
    let ack = answer.first().unwrap();
    assert_eq!(ack["size"], 5);
    assert_eq!(answer.binary(&ack["first"]).unwrap().as_ref(), &[9]);
    wait_for("bin-back", T, || back.len() == 1).await;
    assert_eq!(
        back.all()[0],
        (json!({"name": "blob"}), vec![255, 0, 7, 8, 9])
    );
    helper.shutdown().await;
}

#[tokio::test]
async fn node_heartbeats_keep_the_connection_alive() {
    // Node pings every 500 ms with a 500 ms timeout: without pongs it would
    // drop us within about 1 s.
    let server = NodeServer::start().await;
    let helper = helper(&server).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    let id = helper.client().id();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(helper.is_connected());
    assert_eq!(helper.client().id(), id);
    assert!(server.logged("disconnect").is_empty());
    helper.shutdown().await;
}

/// About `len` bytes of repetitive JSON, like real telemetry.
fn telemetry(len: usize) -> Value {
    let rows: Vec<Value> = (0..len / 40)
        .map(|i| json!({"id": i, "sensor": format!("sensor-{}", i % 40), "value": i * 7 % 100}))
        .collect();
    Value::Array(rows)
}

#[tokio::test]
async fn large_messages_travel_both_ways_with_a_compressing_node_server() {
    let server =
        NodeServer::start_with_env(&[("PER_MESSAGE_DEFLATE", PathBuf::from("true"))]).await;
    let helper = helper(&server).build().unwrap();
    let back = Recorder::<Vec<u8>>::default();
    let b = back.clone();
    helper.client().on("bin-back", move |event: Event| {
        let b = b.clone();
        async move {
            let p = event.payload();
            b.push(
                p.binary(&p.args()[1])
                    .map(|x| x.to_vec())
                    .unwrap_or_default(),
            );
        }
    });
    assert!(helper.client().wait_connected(T).await);
    // The reference's settings, as Node's ws answers the client's offer.
    let agreed = helper
        .client()
        .compression()
        .expect("permessage-deflate agreed");
    assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
    assert_eq!(agreed.server_max_window_bits, 10);
    wait_for("connection logged", T, || {
        !server.logged("connection").is_empty()
    })
    .await;
    assert_eq!(
        server.logged("connection")[0]["extensions"],
        "permessage-deflate"
    );
    // 16 KiB of JSON each way: compressed by both ends (over both thresholds).
    let doc = telemetry(16 * 1024);
    assert!(doc.to_string().len() > 16 * 1024);
    let answer = helper.emit_with_ack("echo", &doc, T).await.unwrap();
    assert_eq!(answer.first(), Some(&doc));
    // 16 KiB of binary each way.
    let blob: Vec<u8> = (0..16 * 1024).map(|i| (i % 251) as u8 / 8).collect();
    let payload =
        ClientPayload::from(json!({"name": "big"})).with_binary(Bytes::from(blob.clone()));
    let ack = helper
        .client()
        .emit_with_ack("bin-echo", payload, T)
        .await
        .unwrap();
    assert_eq!(ack.first().unwrap()["size"], 16 * 1024);
    wait_for("bin-back", T, || back.len() == 1).await;
    let mut reversed = blob;
    reversed.reverse();
    assert_eq!(back.all()[0], reversed);
    assert!(helper.is_connected());
    helper.shutdown().await;
}

#[tokio::test]
async fn with_the_setting_off_a_compressing_node_server_agrees_on_nothing() {
    let server =
        NodeServer::start_with_env(&[("PER_MESSAGE_DEFLATE", PathBuf::from("true"))]).await;
    let helper = helper(&server).per_message_deflate(false).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    assert_eq!(helper.client().compression(), None);
    wait_for("connection logged", T, || {
        !server.logged("connection").is_empty()
    })
    .await;
    assert_eq!(server.logged("connection")[0]["extensions"], "");
    let doc = telemetry(16 * 1024);
    let answer = helper.emit_with_ack("echo", &doc, T).await.unwrap();
    assert_eq!(answer.first(), Some(&doc));
    helper.shutdown().await;
}

/// wss:// against a Node HTTPS server whose certificate is signed by a
/// private CA made for the test (needs the `openssl` command).
#[cfg(feature = "rustls")]
mod tls {
    use super::*;
    use ignis_socketio_client::ClientError;

    fn openssl(dir: &std::path::Path, args: &[&str]) {
        let status = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("`openssl` must be on PATH to make the test certificates");
        assert!(status.success(), "openssl {args:?} failed");
    }

    /// Returns (dir, CA PEM) after writing ca.pem, leaf.pem and leaf.key into dir.
    fn make_certificates() -> (PathBuf, Vec<u8>) {
        let dir = std::env::temp_dir().join(format!(
            "ignis-client-tls-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "1",
                "-subj",
                "/CN=ignis-test-ca",
            ],
        );
        openssl(
            &dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "1",
                "-extfile",
                "ext.cnf",
            ],
        );
        let ca = std::fs::read(dir.join("ca.pem")).unwrap();
        (dir, ca)
    }

    fn rand_suffix() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }

    #[tokio::test]
    async fn wss_with_a_private_ca_authenticates_and_an_unknown_ca_is_refused() {
        let (dir, ca) = make_certificates();
        let server = NodeServer::start_with_env(&[
            ("TLS_CERT", dir.join("leaf.pem")),
            ("TLS_KEY", dir.join("leaf.key")),
        ])
        .await;
        let url = format!("https://localhost:{}", server.port);

        let helper = SocketIOClientHelper::builder()
            .url(&url)
            .path("/io")
            .reconnection(ignis_socketio_client::ReconnectConfig::disabled())
            .tls_root_certificate_pem(ca)
            .auth(json!({"token": "tls"}))
            .auto_authenticate(true)
            .build()
            .unwrap();
        assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
        let answer = helper
            .emit_with_ack("echo", &json!("over tls"), T)
            .await
            .unwrap();
        assert_eq!(answer.first(), Some(&json!("over tls")));
        helper.shutdown().await;

        // Without the private root the certificate is not trusted.
        let errors = Recorder::<ClientError>::default();
        let e = errors.clone();
        let untrusting = SocketIOClientHelper::builder()
            .url(&url)
            .path("/io")
            .reconnection(ignis_socketio_client::ReconnectConfig::disabled())
            .on_error(move |err| {
                let e = e.clone();
                async move { e.push(err) }
            })
            .build()
            .unwrap();
        wait_for("certificate refused", T, || errors.len() == 1).await;
        assert!(
            matches!(&errors.all()[0], e @ ClientError::ConnectFailed(_) if e.to_string().to_lowercase().contains("certificate")),
            "{:?}",
            errors.all()
        );
        untrusting.shutdown().await;

        // A PEM without a certificate is refused when the client is built.
        let bad = SocketIOClientHelper::builder()
            .url(&url)
            .tls_root_certificate_pem(b"nope".to_vec())
            .build();
        assert!(matches!(bad, Err(ClientError::Tls(_))));
        let _ = std::fs::remove_dir_all(dir);
    }
}
