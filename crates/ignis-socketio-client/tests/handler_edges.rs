//! Handler edges of the client helper: listeners that stack like Node's
//! `socket.on`, and handlers that return `event.ack(..)` directly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use ignis_socketio_client::{Event, EventHandler, SocketIOClientHelper};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(3);

/// On `ask`, emits `question` with an ack to the asker and reports the
/// answer (or the failure) as `answer-received`; on `trigger`, emits
/// `{event, data}` back.
fn asking_server(io: &SocketIo) {
    let ns = Ns::new()
        .on("ask", |s, e, _ack| async move {
            let answer = match s.emit_with_ack("question", &e.args, T).await {
                Ok(args) => args.values.first().cloned().unwrap_or(Value::Null),
                Err(e) => json!({ "error": e.to_string() }),
            };
            let _ = s.emit("answer-received", &answer);
        })
        .on("trigger", |s, e, _ack| async move {
            let req = first(&e);
            let event = req["event"].as_str().unwrap_or("test-event");
            let _ = s.emit(event, &req["data"]);
        });
    io.ns("/", ns);
}

fn record_answers(helper: &SocketIOClientHelper) -> Recorder<Value> {
    let answers = Recorder::<Value>::default();
    let a = answers.clone();
    helper
        .subscribe("answer-received", move |v| {
            let a = a.clone();
            async move { a.push(v) }
        })
        .unwrap();
    answers
}

#[tokio::test]
async fn a_handler_returns_its_ack_directly() {
    let server = TestServer::start(asking_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    // The handler's value is `event.ack(..)` itself: no `.map(|_| ())`.
    let handler = EventHandler::event(|event: Event| async move {
        let q = event.data()["q"].as_i64().unwrap_or(0);
        event.ack(json!({ "answer": q + 1 }))
    });
    assert!(helper.subscribe_handler("question", handler, false).is_ok());
    let answers = record_answers(&helper);
    assert!(helper.client().wait_connected(T).await);
    helper.emit("ask", &json!({ "q": 41 })).unwrap();
    wait_for("the server got the ack", T, || answers.len() == 1).await;
    assert_eq!(answers.all()[0], json!({ "answer": 42 }));
    helper.shutdown().await;
}

#[tokio::test]
async fn a_transport_handler_returns_its_ack_directly() {
    let server = TestServer::start(asking_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    helper.client().on("question", |event: Event| async move {
        event.ack(json!("from the transport"))
    });
    let answers = record_answers(&helper);
    assert!(helper.client().wait_connected(T).await);
    helper.emit("ask", &json!(null)).unwrap();
    wait_for("the server got the ack", T, || answers.len() == 1).await;
    assert_eq!(answers.all()[0], json!("from the transport"));
    helper.shutdown().await;
}

#[tokio::test]
async fn stacked_handlers_run_in_order_and_leave_one_by_one() {
    let server = TestServer::start(asking_server).await;
    let helper = helper_to(&server.url()).build().unwrap();
    let seen = Recorder::<(&'static str, Value)>::default();
    let mut ids = Vec::new();
    for name in ["first", "second"] {
        let s = seen.clone();
        let id = helper.subscribe("news", move |v| {
            let s = s.clone();
            async move { s.push((name, v)) }
        });
        ids.push(id.expect("a second subscription is added"));
    }
    assert!(helper.client().wait_connected(T).await);
    helper
        .emit("trigger", &json!({ "event": "news", "data": 1 }))
        .unwrap();
    wait_for("both handlers", T, || seen.len() == 2).await;
    assert_eq!(seen.all(), vec![("first", json!(1)), ("second", json!(1))]);

    // Removing the first handler leaves the second one in place.
    assert!(helper.unsubscribe_handler(ids[0]));
    helper
        .emit("trigger", &json!({ "event": "news", "data": 2 }))
        .unwrap();
    wait_for("the remaining handler", T, || seen.len() == 3).await;
    assert_eq!(seen.all()[2], ("second", json!(2)));
    // Events are dispatched in order: one more round trip proves the first stayed silent.
    helper
        .emit("trigger", &json!({ "event": "news", "data": 3 }))
        .unwrap();
    wait_for("the remaining handler again", T, || seen.len() == 4).await;
    assert_eq!(seen.all()[3], ("second", json!(3)));
    assert_eq!(helper.unsubscribe("news"), 1);
    helper.shutdown().await;
}
