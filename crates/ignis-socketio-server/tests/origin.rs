//! Origin checks on the bare helper: a WebSocket handshake is sent
//! cross-site with the visitor's cookies, so a helper given an allow-list
//! refuses browser requests from other origins itself, upgrade included.
//! Without one (the default) nothing is checked, as documented.

mod common;

use common::{TestServer, builder};
use ignis_socketio_server::CorsOrigins;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WS_UPGRADE: &[(&str, &str)] = &[
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
];

/// Sends one GET and returns the status code of the answer's head (an
/// accepted upgrade stays open, so only the head is read).
async fn status(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", server.addr);
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(common::WAIT, stream.read(&mut byte))
            .await
            .expect("an answer")
            .unwrap();
        if read == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

const POLLING: &str = "/io/?EIO=4&transport=polling";
const WEBSOCKET: &str = "/io/?EIO=4&transport=websocket";

fn with_origin<'a>(origin: &'a str, base: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut headers = base.to_vec();
    headers.push(("Origin", origin));
    headers
}

#[tokio::test]
async fn an_allow_list_refuses_foreign_origins_on_polling_and_websocket() {
    let server = TestServer::start(
        builder().allowed_origins(CorsOrigins::List(vec!["https://app.example".into()])),
    )
    .await;
    let evil = "https://evil.example";
    assert_eq!(status(&server, POLLING, &with_origin(evil, &[])).await, 403);
    assert_eq!(
        status(&server, WEBSOCKET, &with_origin(evil, WS_UPGRADE)).await,
        403
    );
    // Listed, the server's own, and no Origin at all (not a browser) pass.
    let own = format!("http://{}", server.addr);
    for origin in ["https://app.example", own.as_str()] {
        assert_eq!(
            status(&server, POLLING, &with_origin(origin, &[])).await,
            200
        );
        assert_eq!(
            status(&server, WEBSOCKET, &with_origin(origin, WS_UPGRADE)).await,
            101
        );
    }
    assert_eq!(status(&server, POLLING, &[]).await, 200);
    assert_eq!(status(&server, WEBSOCKET, WS_UPGRADE).await, 101);
    // The application's own routes are not the endpoint's business.
    assert_eq!(
        status(&server, "/health", &with_origin(evil, &[])).await,
        200
    );
    assert_eq!(
        server.io.client_count(),
        0,
        "a refused request leaves no socket"
    );
}

#[tokio::test]
async fn same_origin_only_and_the_development_switch() {
    let same = TestServer::start(builder().allowed_origins(CorsOrigins::SameOrigin)).await;
    let own = format!("http://{}", same.addr);
    assert_eq!(status(&same, POLLING, &with_origin(&own, &[])).await, 200);
    assert_eq!(
        status(
            &same,
            WEBSOCKET,
            &with_origin("https://app.example", WS_UPGRADE)
        )
        .await,
        403
    );
    let any = TestServer::start(builder().allowed_origins(CorsOrigins::Any)).await;
    assert_eq!(
        status(
            &any,
            WEBSOCKET,
            &with_origin("https://evil.example", WS_UPGRADE)
        )
        .await,
        101
    );
}

#[tokio::test]
async fn without_an_allow_list_nothing_is_checked() {
    let server = TestServer::start(builder()).await;
    assert_eq!(
        status(
            &server,
            WEBSOCKET,
            &with_origin("https://evil.example", WS_UPGRADE)
        )
        .await,
        101
    );
}
