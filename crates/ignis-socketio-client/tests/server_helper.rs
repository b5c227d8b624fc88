//! The auth flow end to end: our client helper against the project's own
//! `SocketIOServerHelper` on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use ignis_socketio_client::{
    ClientState, ReconnectConfig, SocketIOClientHelper, SocketIOClientHelperBuilder, reasons,
};
use ignis_socketio_protocol::{messages, rooms};
use ignis_socketio_server::{
    AckResponder, AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest,
    SocketIOServerHelper, Target, bind_listener,
};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(5);

struct Served {
    io: SocketIOServerHelper,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(auth_timeout: Duration) -> Served {
    let io = SocketIOServerHelper::builder()
        .identifier("client-tests")
        .path(PATH)
        .auth_timeout(auth_timeout)
        .authenticate(|hs: Handshake| async move {
            match hs.bearer_token() {
                Some("good") => Ok(Identity::new("alice")),
                Some("explode") => Err(AuthError::failed("database down")),
                Some(_) => Err(AuthError::rejected("bad token")),
                None => Err(AuthError::missing_token()),
            }
        })
        .validate_rooms(|req: JoinRequest| async move { req.keep(|r| r.starts_with("public-")) })
        .on_client_connected(|client: AuthenticatedClient| async move {
            client.on(
                "echo",
                |_c: AuthenticatedClient, data: Value, ack: Option<AckResponder>| async move {
                    if let Some(ack) = ack {
                        let _ = ack.send(&json!({ "original": data }));
                    }
                },
            );
        })
        .build()
        .unwrap();
    let app = io.attach(axum::Router::new());
    let listener = bind_listener("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Served { io, url, task }
}

fn client(served: &Served) -> SocketIOClientHelperBuilder {
    SocketIOClientHelper::builder()
        .identifier("against-server-helper")
        .url(&served.url)
        .path(PATH)
        .reconnection(ReconnectConfig::disabled())
}

#[tokio::test]
async fn token_in_auth_payload_authenticates_and_joins_default_rooms() {
    let served = serve(Duration::from_secs(10)).await;
    let got = Recorder::<Value>::default();
    let g = got.clone();
    let helper = client(&served)
        .auth(json!({"token": "good"}))
        .auto_authenticate(true)
        .on_authenticated(move |data| {
            let g = g.clone();
            async move { g.push(data) }
        })
        .build()
        .unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    wait_for("onAuthenticated", T, || got.len() == 1).await;
    let id = helper.client().id().unwrap();
    assert_eq!(got.all()[0]["id"], json!(id));
    let info = served.io.get_client(&id).unwrap();
    assert_eq!(
        info.state,
        ignis_socketio_protocol::ClientState::Authenticated
    );
    for room in rooms::DEFAULT_ROOMS {
        assert!(info.rooms.iter().any(|r| r == room), "{:?}", info.rooms);
    }
    helper.shutdown().await;
}

#[tokio::test]
async fn bearer_header_authenticates() {
    let served = serve(Duration::from_secs(10)).await;
    let helper = client(&served)
        .header("authorization", "Bearer good")
        .auto_authenticate(true)
        .build()
        .unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    helper.shutdown().await;
}

#[tokio::test]
async fn credentials_in_the_authenticate_event_authenticate() {
    let served = serve(Duration::from_secs(10)).await;
    let helper = client(&served).build().unwrap();
    assert!(helper.client().wait_connected(T).await);
    helper.authenticate_with(json!({"token": "good"})).unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    helper.shutdown().await;
}

#[tokio::test]
async fn refused_client_gets_the_message_then_a_server_disconnect() {
    let served = serve(Duration::from_secs(10)).await;
    let messages_seen = Recorder::<String>::default();
    let reasons_seen = Recorder::<String>::default();
    let (m, r) = (messages_seen.clone(), reasons_seen.clone());
    let helper = client(&served)
        .auth(json!({"token": "wrong"}))
        .auto_authenticate(true)
        .on_unauthenticated(move |msg| {
            let m = m.clone();
            async move { m.push(msg) }
        })
        .on_disconnected(move |reason| {
            let r = r.clone();
            async move { r.push(reason) }
        })
        .build()
        .unwrap();
    wait_for("refusal then disconnect", T, || reasons_seen.len() == 1).await;
    assert_eq!(
        messages_seen.all(),
        vec![messages::INVALID_TOKEN.to_string()]
    );
    assert_eq!(reasons_seen.all()[0], reasons::SERVER_DISCONNECT);
    assert_eq!(helper.state(), ClientState::Unauthorized);
    assert!(!helper.is_connected());
    helper.shutdown().await;
}

#[tokio::test]
async fn failing_authenticator_reports_the_failure_message() {
    let served = serve(Duration::from_secs(10)).await;
    let messages_seen = Recorder::<String>::default();
    let m = messages_seen.clone();
    let helper = client(&served)
        .auth(json!({"token": "explode"}))
        .auto_authenticate(true)
        .on_unauthenticated(move |msg| {
            let m = m.clone();
            async move { m.push(msg) }
        })
        .build()
        .unwrap();
    wait_for("unauthenticated", T, || messages_seen.len() == 1).await;
    assert_eq!(messages_seen.all()[0], messages::AUTHENTICATION_FAILED);
    helper.shutdown().await;
}

#[tokio::test]
async fn join_and_leave_return_the_servers_answers() {
    let served = serve(Duration::from_secs(10)).await;
    let helper = client(&served)
        .auth(json!({"token": "good"}))
        .auto_authenticate(true)
        .build()
        .unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    let join = helper
        .join_rooms(["public-a", "secret"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(join.joined, vec!["public-a".to_string()]);
    assert_eq!(join.rejected.len(), 1);
    assert_eq!(join.rejected[0].room, json!("secret"));
    assert_eq!(helper.remembered_rooms(), vec!["public-a".to_string()]);

    let leave = helper
        .leave_rooms(["public-a", rooms::DEFAULT])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leave.left, vec!["public-a".to_string()]);
    assert_eq!(leave.rejected.len(), 1, "the default room cannot be left");
    assert!(helper.remembered_rooms().is_empty());
    helper.shutdown().await;
}

#[tokio::test]
async fn server_sends_to_a_room_reach_the_client_and_events_are_acked() {
    let served = serve(Duration::from_secs(10)).await;
    let helper = client(&served)
        .auth(json!({"token": "good"}))
        .auto_authenticate(true)
        .build()
        .unwrap();
    let headlines = Recorder::<Value>::default();
    let h = headlines.clone();
    helper
        .subscribe("headline", move |v| {
            let h = h.clone();
            async move { h.push(v) }
        })
        .unwrap();
    assert!(helper.wait_for_state(ClientState::Authenticated, T).await);
    helper.join_rooms(["public-news"]).await.unwrap();
    served
        .io
        .send(Target::room("public-news"), "headline", &json!(0))
        .await
        .unwrap();
    wait_for("headline", T, || headlines.len() == 1).await;
    assert_eq!(headlines.all()[0], json!(0));

    let answer = helper
        .emit_with_ack("echo", &json!({"x": 1}), T)
        .await
        .unwrap();
    assert_eq!(answer.first(), Some(&json!({"original": {"x": 1}})));
    helper.shutdown().await;
}

#[tokio::test]
async fn server_auth_timeout_disconnects_a_silent_client() {
    let served = serve(Duration::from_millis(300)).await;
    let reasons_seen = Recorder::<String>::default();
    let r = reasons_seen.clone();
    let helper = client(&served)
        .on_disconnected(move |reason| {
            let r = r.clone();
            async move { r.push(reason) }
        })
        .build()
        .unwrap();
    wait_for("server auth timeout", T, || reasons_seen.len() == 1).await;
    assert_eq!(reasons_seen.all()[0], reasons::SERVER_DISCONNECT);
    helper.shutdown().await;
}
