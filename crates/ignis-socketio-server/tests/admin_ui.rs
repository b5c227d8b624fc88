//! The Admin UI namespace with real Node `socket.io-client` pages: login,
//! what the page is sent, and what it may ask for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Driver, TestServer, builder};
use ignis_socketio_server::AdminUiOptions;
use serde_json::{Value, json};

/// A cheap bcrypt hash (cost 4) of `secret`.
fn hash() -> String {
    bcrypt::hash("secret", 4).unwrap()
}

async fn admin_server(options: AdminUiOptions) -> TestServer {
    let options = options.stats_interval(Duration::from_millis(300));
    TestServer::start(builder().admin_ui(options)).await
}

/// Connects page `name` to the admin namespace with `auth`.
async fn open_page(driver: &mut Driver, name: &str, server: &TestServer, auth: Value) {
    let url = format!("{}/admin", server.url);
    driver
        .send(json!({"cmd": "connect", "name": name, "url": url, "path": "/io", "auth": auth}))
        .await;
}

fn has_type(name: &'static str, kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["name"] == name && v["type"] == kind
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_right_one_gets_a_session() {
    let server = admin_server(AdminUiOptions::basic_auth("admin", hash())).await;
    let mut driver = Driver::spawn().await;

    open_page(
        &mut driver,
        "wrong",
        &server,
        json!({"username": "admin", "password": "nope"}),
    )
    .await;
    let refused = driver
        .wait_for("refusal", has_type("wrong", "connect_error"))
        .await;
    assert_eq!(refused["message"], "invalid credentials");

    open_page(&mut driver, "nobody", &server, json!({})).await;
    driver
        .wait_for("refusal", has_type("nobody", "connect_error"))
        .await;

    open_page(
        &mut driver,
        "right",
        &server,
        json!({"username": "admin", "password": "secret"}),
    )
    .await;
    driver
        .wait_for("connect", has_type("right", "connect"))
        .await;
    let session = driver.wait_event("right", "session").await;
    let session = session["data"].as_str().unwrap().to_owned();
    let config = driver.wait_event("right", "config").await;
    let features = config["data"]["supportedFeatures"].as_array().unwrap();
    assert!(features.contains(&json!("DISCONNECT")), "{features:?}");
    assert!(features.contains(&json!("ALL_EVENTS")), "{features:?}");

    // The session id stands for the password afterwards.
    open_page(&mut driver, "again", &server, json!({"sessionId": session})).await;
    driver
        .wait_for("connect", has_type("again", "connect"))
        .await;
    open_page(
        &mut driver,
        "forged",
        &server,
        json!({"sessionId": "made-up"}),
    )
    .await;
    driver
        .wait_for("refusal", has_type("forged", "connect_error"))
        .await;
}

#[tokio::test]
async fn the_page_sees_stats_sockets_rooms_and_live_news() {
    let server = admin_server(AdminUiOptions::without_auth()).await;
    let mut driver = Driver::spawn().await;
    let alice = driver
        .connect_authenticated("alice", &server, "websocket")
        .await;

    open_page(&mut driver, "page", &server, json!(null)).await;
    let stats = driver.wait_event("page", "server_stats").await["data"].clone();
    assert_eq!(stats["pid"], std::process::id());
    assert!(stats["serverId"].as_str().unwrap().contains('#'));
    let namespaces = stats["namespaces"].as_array().unwrap();
    assert!(
        namespaces.contains(&json!({"name": "/", "socketsCount": 1})),
        "{namespaces:?}"
    );
    assert!(stats["clientsCount"].as_u64().unwrap() >= 2, "{stats}");

    let all = driver.wait_event("page", "all_sockets").await["data"].clone();
    let sockets = all.as_array().unwrap();
    let mine = sockets
        .iter()
        .find(|s| s["id"] == alice.as_str())
        .unwrap_or_else(|| panic!("alice not listed: {all}"));
    assert_eq!(mine["nsp"], "/");
    assert_eq!(mine["transport"], "websocket");
    assert_eq!(mine["data"]["identity"]["id"], "user-good");
    let rooms = mine["rooms"].as_array().unwrap();
    assert!(rooms.contains(&json!(alice)), "{rooms:?}");
    assert!(rooms.contains(&json!("io-default")), "{rooms:?}");
    // The CONNECT payload (the client's token) is not shown.
    assert!(mine["handshake"].get("auth").is_none(), "{mine}");
    assert!(mine["handshake"]["headers"].is_object(), "{mine}");

    // Live: a new socket, its rooms, its events, its departure.
    let bob = driver
        .connect_authenticated("bob", &server, "polling")
        .await;
    let connected = driver
        .wait_for("socket_connected", |v| {
            v["name"] == "page"
                && v["event"] == "socket_connected"
                && v["data"]["id"] == bob.as_str()
        })
        .await;
    assert_eq!(connected["data"]["transport"], "polling");
    driver
        .wait_for("room_joined", |v| {
            v["name"] == "page"
                && v["event"] == "room_joined"
                && v["args"] == json!(["/", "io-default", bob, v["args"][3]])
        })
        .await;
    driver.emit("bob", "hello", json!([1, "two"])).await;
    driver
        .wait_for("event_received", |v| {
            v["name"] == "page"
                && v["event"] == "event_received"
                && v["args"][2] == json!(["hello", 1, "two"])
        })
        .await;
    driver.disconnect("bob").await;
    driver
        .wait_for("socket_disconnected", |v| {
            v["name"] == "page"
                && v["event"] == "socket_disconnected"
                && v["args"][1] == bob.as_str()
                && v["args"][2] == "client namespace disconnect"
        })
        .await;
}

#[tokio::test]
async fn an_upgrade_to_websocket_is_news_for_the_page() {
    let server = admin_server(AdminUiOptions::without_auth()).await;
    let mut driver = Driver::spawn().await;
    open_page(&mut driver, "page", &server, json!(null)).await;
    driver.wait_event("page", "all_sockets").await;

    // Polling first, then socket.io-client's upgrade to WebSocket.
    let carol = driver
        .connect_authenticated("carol", &server, "upgrade")
        .await;
    let updated = driver
        .wait_for("socket_updated", |v| {
            v["name"] == "page"
                && v["event"] == "socket_updated"
                && v["data"]["id"] == carol.as_str()
        })
        .await;
    assert_eq!(
        updated["data"],
        json!({"id": carol, "nsp": "/", "transport": "websocket"})
    );
}

#[tokio::test]
async fn the_page_disconnects_a_socket_unless_read_only() {
    for read_only in [false, true] {
        let options = AdminUiOptions::without_auth().read_only(read_only);
        let server = admin_server(options).await;
        let mut driver = Driver::spawn().await;
        let carol = driver
            .connect_authenticated("carol", &server, "websocket")
            .await;
        open_page(&mut driver, "page", &server, json!(null)).await;
        let config = driver.wait_event("page", "config").await;
        let features = config["data"]["supportedFeatures"].clone();
        assert_eq!(
            features.as_array().unwrap().contains(&json!("DISCONNECT")),
            !read_only,
            "{features}"
        );

        driver
            .emit("page", "_disconnect", json!(["/", false, carol]))
            .await;
        if read_only {
            driver
                .assert_none_within("carol's disconnect", Duration::from_millis(800), |v| {
                    v["name"] == "carol" && v["type"] == "disconnect"
                })
                .await;
            assert!(server.io.get_client(&carol).is_some());
        } else {
            let gone = driver
                .wait_for("carol's disconnect", has_type("carol", "disconnect"))
                .await;
            assert_eq!(gone["reason"], "io server disconnect");
            driver
                .wait_for("socket_disconnected", |v| {
                    v["name"] == "page"
                        && v["event"] == "socket_disconnected"
                        && v["args"][1] == carol.as_str()
                })
                .await;
        }
    }
}

#[tokio::test]
async fn production_mode_sends_stats_only() {
    let options = AdminUiOptions::without_auth().mode(ignis_socketio_server::AdminMode::Production);
    let server = admin_server(options).await;
    let mut driver = Driver::spawn().await;
    open_page(&mut driver, "page", &server, json!(null)).await;
    let config = driver.wait_event("page", "config").await;
    assert!(
        !config["data"]["supportedFeatures"]
            .as_array()
            .unwrap()
            .contains(&json!("ALL_EVENTS"))
    );
    driver.wait_event("page", "server_stats").await;
    driver
        .connect_authenticated("dave", &server, "websocket")
        .await;
    driver
        .assert_none_within("socket news", Duration::from_millis(500), |v| {
            v["name"] == "page" && (v["event"] == "all_sockets" || v["event"] == "socket_connected")
        })
        .await;
}

#[test]
fn a_password_that_is_not_a_bcrypt_hash_does_not_build() {
    let error = builder()
        .admin_ui(AdminUiOptions::basic_auth("admin", "plain-text"))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("bcrypt"), "{error}");
}
