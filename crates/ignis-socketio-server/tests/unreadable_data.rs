//! Event data the server cannot read (JSON nested deeper than 128 levels, a
//! lone surrogate escape, a binary placeholder naming no attachment) never
//! reaches a handler: the client gets an error in its acknowledgement, the
//! server a warning within the client's budget, and the connection carries
//! on. Raw frames on tokio-tungstenite, since no Socket.IO client sends them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestServer, builder};
use futures_util::SinkExt;
use ignis_socketio_server::{AckResponder, AuthenticatedClient};
use ignis_socketio_test_support::ws::{Ws, connect_bearer, next_text};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A raw client past the Engine.IO handshake and the CONNECT of `/`.
async fn connect(server: &TestServer) -> Ws {
    let url = format!("ws://{}/io/?EIO=4&transport=websocket", server.addr);
    connect_bearer(&url, "good").await
}

/// Sends `frames` and returns the acknowledgement `id`'s argument (events
/// arriving meanwhile are skipped).
async fn ack_of(ws: &mut Ws, frames: Vec<Message>, id: u64) -> Value {
    for frame in frames {
        ws.send(frame).await.unwrap();
    }
    let prefix = format!("43{id}");
    loop {
        let text = next_text(ws)
            .await
            .unwrap_or_else(|| panic!("connection closed before ack {id}"));
        if let Some(body) = text.strip_prefix(&prefix)
            && body.starts_with('[')
        {
            let args: Vec<Value> = serde_json::from_str(body).unwrap();
            return args.into_iter().next().unwrap_or(Value::Null);
        }
    }
}

fn text(t: impl Into<String>) -> Vec<Message> {
    vec![Message::text(t.into())]
}

fn assert_unreadable(answer: &Value, what: &str) {
    assert_eq!(
        answer["error"]["code"], "unreadable_data",
        "{what}: answered {answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_event_data_is_refused_in_the_ack_and_the_connection_carries_on() {
    // The only test of this binary: a global subscriber is fine.
    let logs = common::capture_logs(tracing::Level::INFO);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = TestServer::start(builder().on_client_connected(
        move |client: AuthenticatedClient| {
            let counted = counted.clone();
            async move {
                client.on(
                    "probe",
                    move |_: AuthenticatedClient, data: Value, ack: Option<AckResponder>| {
                        counted.fetch_add(1, Ordering::SeqCst);
                        async move { ack.map_or(Ok(()), |ack| ack.send(&json!({ "got": data }))) }
                    },
                );
            }
        },
    ))
    .await;

    let mut bystander = connect(&server).await;
    let answer = ack_of(&mut bystander, text("4290[\"authenticate\"]"), 90).await;
    assert_eq!(answer["state"], "authenticated", "{answer}");

    let mut ws = connect(&server).await;
    // authenticate itself with unreadable data: refused, state unchanged.
    let answer = ack_of(&mut ws, text("420[\"authenticate\",\"\\ud800\"]"), 0).await;
    assert_unreadable(&answer, "authenticate");
    assert_eq!(answer["state"], "unauthorized", "{answer}");
    let answer = ack_of(&mut ws, text("421[\"authenticate\"]"), 1).await;
    assert_eq!(answer["state"], "authenticated", "{answer}");

    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let cases: Vec<(&str, Vec<Message>)> = vec![
        ("deep nesting", text(format!("422[\"probe\",{deep}]"))),
        ("lone surrogate", text("423[\"probe\",{\"a\":\"\\ud800\"}]")),
        (
            "placeholder without attachments",
            text("424[\"probe\",{\"_placeholder\":true,\"num\":0}]"),
        ),
        (
            "placeholder past the attachments",
            vec![
                Message::text("451-5[\"probe\",{\"_placeholder\":true,\"num\":3}]"),
                Message::binary(vec![1u8, 2, 3]),
            ],
        ),
        ("unreadable name", text("426[\"\\udc00\",1]")),
    ];
    for (id, (what, frames)) in (2u64..).zip(cases) {
        let answer = ack_of(&mut ws, frames, id).await;
        assert_unreadable(&answer, what);
        assert_eq!(calls.load(Ordering::SeqCst), 0, "{what}: the handler ran");
    }

    // The helper's own room events, in their own acknowledgement shape.
    let answer = ack_of(
        &mut ws,
        text("4210[\"join\",{\"rooms\":[\"\\ud800\"]}]"),
        10,
    )
    .await;
    assert_unreadable(&answer, "join");
    assert_eq!(answer["joined"], json!([]), "{answer}");
    let answer = ack_of(&mut ws, text(format!("4211[\"leave\",{deep}]")), 11).await;
    assert_unreadable(&answer, "leave");
    assert_eq!(answer["left"], json!([]), "{answer}");

    // Without an acknowledgement: nothing is answered, nothing is handled.
    ws.send(Message::text("42[\"probe\",\"\\ud800\"]"))
        .await
        .unwrap();

    // The same connection still serves a valid event, which alone is handled.
    let answer = ack_of(&mut ws, text("4212[\"probe\",{\"ok\":1}]"), 12).await;
    assert_eq!(answer, json!({"got": {"ok": 1}}));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The other client was not affected.
    let answer = ack_of(&mut bystander, text("4291[\"probe\",2]"), 91).await;
    assert_eq!(answer, json!({"got": 2}));
    assert_eq!(server.io.get_clients().len(), 2);

    let logs = logs();
    let refused = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("its data cannot be read"))
        .count();
    // Ten refusals, five warnings per client and window written.
    assert!((1..=5).contains(&refused), "{refused} warnings:\n{logs}");
}
