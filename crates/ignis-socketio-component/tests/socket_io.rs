//! SocketIOComponent: binding validation, start-up order, serving beside the
//! application's routes, CORS, the in-memory/Redis choice and stop, driven by
//! Node's socket.io-client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use common::{Observer, header, http, http_on, numsub, redis_url, status, unique_key};
use ignis_socketio_component::{
    Application, AuthenticateFn, ClientConnectedFn, ComponentError, CorsOptions, LifecyclePhase,
    ServerOptions, SocketIOBindingKeys, SocketIOComponent, ValidateRoomFn,
};
use ignis_socketio_redis::RedisConfig;
use ignis_socketio_server::{
    AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest, SocketIOServerHelper, Target,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;

const TOKEN: &str = "test-token";

fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn authenticate() -> AuthenticateFn {
    AuthenticateFn::new(|handshake: Handshake| async move {
        match handshake.bearer_token() {
            Some(TOKEN) => Ok(Identity::new("tester")),
            Some(_) => Err(AuthError::rejected("wrong token")),
            None => Err(AuthError::missing_token()),
        }
    })
}

/// An application as the reference example builds it: handlers bound,
/// component registered, a REST route of its own.
fn app_with_handlers(options: Option<ServerOptions>) -> Application {
    let mut app = Application::new().listen_on(local());
    app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER)
        .to_value(authenticate());
    app.bind(&SocketIOBindingKeys::VALIDATE_ROOM_HANDLER)
        .to_value(ValidateRoomFn::new(|request: JoinRequest| async move {
            request.keep(|room| room.starts_with("public-"))
        }));
    app.bind(&SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER)
        .to_value(ClientConnectedFn::new(
            |client: AuthenticatedClient| async move {
                client.on(
                    "echo",
                    |client: AuthenticatedClient, data: Value| async move {
                        client.emit("echo:response", &json!({ "original": data }))
                    },
                );
            },
        ));
    if let Some(options) = options {
        app.bind(&SocketIOBindingKeys::SERVER_OPTIONS)
            .to_value(options);
    }
    app.component(SocketIOComponent::new());
    app.route("/io-health", get(|| async { "app route" }));
    app
}

async fn polling_handshake(addr: SocketAddr, path: &str) -> String {
    http(
        addr,
        "GET",
        &format!("{path}/?EIO=4&transport=polling"),
        &[],
    )
    .await
}

// ===== binding validation =====

#[tokio::test]
async fn missing_authenticate_handler_fails_start_naming_the_key() {
    let listener = std::net::TcpListener::bind(local()).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = Application::new().with_std_listener(listener);
    app.component(SocketIOComponent::new());
    let error = app.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "[SocketIOComponent] Binding key: @app/socket-io/authenticate-handler is not bound \
         (the authenticate handler is required)"
    );
    assert_eq!(error.key(), Some("@app/socket-io/authenticate-handler"));
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing may listen"
    );
}

#[tokio::test]
async fn any_origin_with_credentials_fails_start_naming_the_options_key() {
    let app = app_with_handlers(Some(
        ServerOptions::default().cors(CorsOptions::default().allow_any_origin()),
    ));
    let error = app.start().await.unwrap_err();
    assert_eq!(error.key(), Some("@app/socket-io/server-options"));
    let message = error.to_string();
    assert!(
        message.starts_with(
            "[SocketIOComponent] Binding key: @app/socket-io/server-options is invalid: cors.origins: \
             any origin together with credentials is refused"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn invalid_path_fails_start_naming_the_options_key_and_field() {
    let app = app_with_handlers(Some(ServerOptions::default().path("io")));
    let error = app.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "[SocketIOComponent] Binding key: @app/socket-io/server-options is invalid: path: \
         must start with '/', got \"io\""
    );
}

#[tokio::test]
async fn helper_option_checks_are_reported_at_binding() {
    // One default room more than the per-socket room limit leaves space for.
    let app = app_with_handlers(Some(
        ServerOptions::default()
            .room_limits(ignis_socketio_component::RoomLimitsOptions {
                max_rooms_per_socket: Some(3),
                ..Default::default()
            })
            .default_rooms(["a", "b"]),
    ));
    let error = app.start().await.unwrap_err();
    assert_eq!(error.key(), Some("@app/socket-io/server-options"));
    assert!(
        error
            .to_string()
            .contains("room_limits.max_rooms_per_socket"),
        "{error}"
    );
}

#[tokio::test]
async fn invalid_redis_connection_fails_start_naming_the_redis_key() {
    let app = app_with_handlers(None);
    app.bind(&SocketIOBindingKeys::REDIS_CONNECTION)
        .to_value(RedisConfig::cluster(Vec::<String>::new()));
    let error = app.start().await.unwrap_err();
    assert_eq!(error.key(), Some("@app/socket-io/redis-connection"));
    assert!(
        error.to_string().starts_with(
            "[SocketIOComponent] Binding key: @app/socket-io/redis-connection is invalid: "
        ),
        "{error}"
    );
}

#[tokio::test]
async fn unreachable_redis_fails_start_before_listening() {
    // A port nothing listens on (bound then released).
    let free = std::net::TcpListener::bind(local())
        .unwrap()
        .local_addr()
        .unwrap();
    let listener = std::net::TcpListener::bind(local()).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app_with_handlers(None).with_std_listener(listener);
    app.bind(&SocketIOBindingKeys::REDIS_CONNECTION).to_value(
        RedisConfig::single(format!("redis://{free}")).connect_timeout(Duration::from_millis(500)),
    );
    let error = app.start().await.unwrap_err();
    assert_eq!(error.key(), Some("@app/socket-io/redis-connection"));
    assert!(
        error.to_string().contains("cannot connect to Redis"),
        "{error}"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing may listen"
    );
}

#[tokio::test]
async fn wrongly_typed_binding_is_a_container_error_naming_the_key() {
    // A key string reused with another type cannot be caught at compile time.
    const SAME_STRING: ignis_socketio_component::BindingKey<String> =
        ignis_socketio_component::BindingKey::new("@app/socket-io/authenticate-handler");
    let mut app = Application::new().listen_on(local());
    app.bind(&SAME_STRING).to_value("not a handler".into());
    app.component(SocketIOComponent::new());
    let error = app.start().await.unwrap_err();
    assert!(matches!(error, ComponentError::Container { .. }), "{error}");
    assert_eq!(error.key(), Some("@app/socket-io/authenticate-handler"));
}

// ===== start-up order =====

#[tokio::test]
async fn instance_is_bound_before_the_listener_exists() {
    let mut app = app_with_handlers(None);
    app.on_post_configure("check-instance", |ctx| async move {
        assert!(
            ctx.local_addr.is_none(),
            "post-configure runs before listening"
        );
        let helper = ctx
            .container
            .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
            .map_err(|e| e.to_string())?;
        assert_eq!(helper.path(), "/io");
        Ok::<_, String>(())
    });
    let running = app.start().await.unwrap();
    let helper = running
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap();
    assert_eq!(helper.identifier(), "SOCKET_IO_SERVER");
    assert!(helper.get_clients().is_empty());
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_connection_made_during_start_up_is_served_by_socket_io_never_404() {
    // Bind first and connect before `start`: the connection waits in the
    // backlog and must be answered by Socket.IO (the reference answered 404
    // until its post-start hook had run).
    let listener = std::net::TcpListener::bind(local()).unwrap();
    let addr = listener.local_addr().unwrap();
    let early = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        http_on(&mut stream, "GET", "/io/?EIO=4&transport=polling", &[]).await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let running = app_with_handlers(None)
        .with_std_listener(listener)
        .start()
        .await
        .unwrap();
    let response = early.await.unwrap();
    assert_eq!(status(&response), 200, "{response}");
    assert!(response.contains("\"sid\""), "{response}");
    running.stop().await.unwrap();
}

// ===== serving =====

#[tokio::test]
async fn socket_io_and_application_routes_are_served_side_by_side() {
    let running = app_with_handlers(None).start().await.unwrap();
    let addr = running.local_addr();
    let handshake = polling_handshake(addr, "/io").await;
    assert_eq!(status(&handshake), 200, "{handshake}");
    assert!(handshake.contains("\"sid\""));
    // `/io-health` shares the prefix but not the segment: the application's.
    let health = http(addr, "GET", "/io-health", &[]).await;
    assert_eq!(status(&health), 200);
    assert!(health.ends_with("app route"));
    assert_eq!(status(&http(addr, "GET", "/nothing", &[]).await), 404);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn custom_path_and_identifier_are_applied() {
    let running = app_with_handlers(Some(
        ServerOptions::default()
            .path("/realtime/")
            .identifier("chat"),
    ))
    .start()
    .await
    .unwrap();
    let addr = running.local_addr();
    assert_eq!(status(&polling_handshake(addr, "/realtime").await), 200);
    assert_eq!(status(&polling_handshake(addr, "/io").await), 404);
    let helper = running
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap();
    assert_eq!(helper.identifier(), "chat");
    assert_eq!(helper.path(), "/realtime");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn default_cors_sends_no_cross_origin_headers() {
    let running = app_with_handlers(None).start().await.unwrap();
    let response = http(
        running.local_addr(),
        "OPTIONS",
        "/io/?EIO=4&transport=polling",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        None,
        "{response}"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn cors_preflight_answers_204_with_merged_defaults_on_the_socket_io_path_only() {
    let running = app_with_handlers(Some(
        ServerOptions::default()
            .cors(CorsOptions::default().allow_origins(["https://app.example"])),
    ))
    .start()
    .await
    .unwrap();
    let addr = running.local_addr();
    async fn preflight(addr: SocketAddr, origin: &str, path: &str) -> String {
        http(
            addr,
            "OPTIONS",
            path,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
        )
        .await
    }
    let allowed = preflight(addr, "https://app.example", "/io/?EIO=4&transport=polling").await;
    assert_eq!(status(&allowed), 204, "{allowed}");
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        header(&allowed, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = header(&allowed, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("GET") && methods.contains("POST"),
        "{methods}"
    );

    let refused = preflight(addr, "https://evil.example", "/io/?EIO=4&transport=polling").await;
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        None,
        "{refused}"
    );

    // The application's own routes are not touched by the Socket.IO CORS.
    let app_route = http(
        addr,
        "GET",
        "/io-health",
        &[("origin", "https://app.example")],
    )
    .await;
    assert_eq!(
        header(&app_route, "access-control-allow-origin"),
        None,
        "{app_route}"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn any_origin_in_development_mirrors_the_origin_with_credentials() {
    let running = app_with_handlers(Some(
        ServerOptions::default().cors(
            CorsOptions::default()
                .allow_any_origin()
                .allow_any_origin_with_credentials_in_development(true),
        ),
    ))
    .start()
    .await
    .unwrap();
    let response = http(
        running.local_addr(),
        "GET",
        "/io/?EIO=4&transport=polling",
        &[("origin", "http://localhost:5173")],
    )
    .await;
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    running.stop().await.unwrap();
}

/// The helper the component bound in a running application.
fn running_helper(running: &ignis_socketio_component::RunningApplication) -> SocketIOServerHelper {
    running
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap()
}

#[tokio::test]
async fn helper_options_reach_the_running_helper() {
    let running = app_with_handlers(Some(
        ServerOptions::default()
            .auth_timeout(Duration::from_millis(4_000))
            .ping_interval(Duration::from_millis(200))
            .default_rooms(["lobby"])
            .max_payload(2_048)
            .room_limits(ignis_socketio_component::RoomLimitsOptions {
                max_rooms_per_request: Some(3),
                ..Default::default()
            }),
    ))
    .start()
    .await
    .unwrap();
    let helper = running_helper(&running);
    let options = helper.options();
    assert_eq!(options.auth_timeout, Duration::from_millis(4_000));
    assert_eq!(options.ping_interval, Duration::from_millis(200));
    assert_eq!(options.default_rooms, ["lobby"]);
    assert_eq!(options.max_payload, 2_048);
    assert_eq!(options.room_limits.max_rooms_per_request, 3);

    // Behaviour, seen by a real client: its default room, and the fast ping.
    let mut client = Observer::start(
        running.local_addr(),
        &[("TOKEN", TOKEN), ("LISTEN", "ping")],
    );
    let id = client.expect("authenticated").await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    client.expect("ping").await;
    client.expect("ping").await;
    let rooms = helper.get_client(&id).unwrap().rooms;
    assert!(rooms.contains(&"lobby".to_owned()), "{rooms:?}");
    assert!(!rooms.contains(&"io-default".to_owned()), "{rooms:?}");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn connection_caps_and_engine_limits_reach_the_running_helper() {
    let running = app_with_handlers(Some(
        ServerOptions::default()
            .max_unauthenticated_connections(1)
            .max_attachments(7)
            .attachment_timeout(Duration::from_secs(2))
            .max_buffered_bytes(1 << 20)
            .max_buffered_packets(1_000)
            .body_read_timeout(Duration::from_secs(3))
            .header_read_timeout(Duration::from_millis(300)),
    ))
    .start()
    .await
    .unwrap();
    let helper = running_helper(&running);
    let options = helper.options();
    assert_eq!(options.max_unauthenticated_connections, Some(1));
    assert_eq!(options.max_unauthenticated_per_address, None);
    assert_eq!(options.max_attachments, 7);
    assert_eq!(options.attachment_timeout, Duration::from_secs(2));
    assert_eq!(
        (options.max_buffered_bytes, options.max_buffered_packets),
        (1 << 20, 1_000)
    );
    assert_eq!(options.body_read_timeout, Duration::from_secs(3));

    // The cap, seen by real requests: the second unauthenticated session is refused.
    let addr = running.local_addr();
    let handshake = "/io/?EIO=4&transport=polling";
    assert_eq!(status(&http(addr, "GET", handshake, &[]).await), 200);
    let refused = http(addr, "GET", handshake, &[]).await;
    assert_eq!(status(&refused), 503, "{refused}");
    assert_eq!(helper.counters().connections_refused, 1);

    // The application serves with the options' header timeout (30 s by
    // default): a head that never ends is cut.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut slow, b"GET /io/?EIO=4 HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read_to_end(&mut slow, &mut rest),
    )
    .await;
    assert!(
        closed.is_ok(),
        "the unfinished head is cut well before 30 s"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn foreign_origins_are_refused_on_the_socket_io_path_only() {
    let running = app_with_handlers(None).start().await.unwrap();
    let addr = running.local_addr();
    let host = addr.to_string();
    let own_origin = format!("http://{addr}");
    let handshake = "/io/?EIO=4&transport=polling";

    let foreign = http(
        addr,
        "GET",
        handshake,
        &[("host", &host), ("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status(&foreign), 403, "{foreign}");
    assert!(
        foreign.ends_with(r#"{"code":4,"message":"Forbidden"}"#),
        "{foreign}"
    );

    let same = http(
        addr,
        "GET",
        handshake,
        &[("host", &host), ("origin", &own_origin)],
    )
    .await;
    assert_eq!(status(&same), 200, "{same}");
    let no_origin = http(addr, "GET", handshake, &[("host", &host)]).await;
    assert_eq!(status(&no_origin), 200, "{no_origin}");
    // The application's routes are the application's business.
    let app_route = http(
        addr,
        "GET",
        "/io-health",
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status(&app_route), 200, "{app_route}");

    // A WebSocket opened by a foreign page never connects.
    let mut client = Observer::start(addr, &[("TOKEN", TOKEN), ("ORIGIN", "http://evil.example")]);
    client.expect("connect_error").await;
    // The same client from the server's own origin does.
    let mut client = Observer::start(addr, &[("TOKEN", TOKEN), ("ORIGIN", own_origin.as_str())]);
    client.expect("authenticated").await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn listed_origin_connects_and_enforcement_can_be_switched_off() {
    let listed = app_with_handlers(Some(
        ServerOptions::default()
            .cors(CorsOptions::default().allow_origins(["https://app.example"])),
    ))
    .start()
    .await
    .unwrap();
    let mut client = Observer::start(
        listed.local_addr(),
        &[("TOKEN", TOKEN), ("ORIGIN", "https://app.example")],
    );
    client.expect("authenticated").await;
    listed.stop().await.unwrap();

    let open = app_with_handlers(Some(
        ServerOptions::default().cors(CorsOptions::default().enforce_origin(false)),
    ))
    .start()
    .await
    .unwrap();
    let response = http(
        open.local_addr(),
        "GET",
        "/io/?EIO=4&transport=polling",
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status(&response), 200, "{response}");
    open.stop().await.unwrap();
}

// ===== clients, in memory =====

#[tokio::test]
async fn node_client_authenticates_joins_and_uses_events_through_the_component() {
    let running = app_with_handlers(None).start().await.unwrap();
    let mut client = Observer::start(
        running.local_addr(),
        &[
            ("TOKEN", TOKEN),
            ("JOIN", "public-news,private"),
            ("EMIT", r#"[["echo", {"n": 1}]]"#),
            ("LISTEN", "echo:response,headline"),
        ],
    );
    let authenticated = client.expect("authenticated").await;
    let id = authenticated["data"]["id"].as_str().unwrap().to_owned();
    let ack = client.expect("join-ack").await;
    assert_eq!(ack["data"]["joined"], json!(["public-news"]));
    assert_eq!(ack["data"]["rejected"][0]["room"], "private");
    let echo = client.expect("echo:response").await;
    assert_eq!(echo["data"]["original"], json!({ "n": 1 }));

    let helper = running
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap();
    let info = helper.get_client(&id).expect("client in the registry");
    assert!(info.rooms.contains(&"public-news".to_owned()), "{info:?}");
    helper
        .send(Target::room("public-news"), "headline", &json!("hello"))
        .await
        .unwrap();
    assert_eq!(client.expect("headline").await["data"], "hello");
    running.stop().await.unwrap();
    client.expect("disconnect").await;
}

#[tokio::test]
async fn wrong_token_gets_unauthenticated_then_disconnect() {
    let running = app_with_handlers(None).start().await.unwrap();
    let mut client = Observer::start(running.local_addr(), &[("TOKEN", "wrong")]);
    let refused = client.expect("unauthenticated").await;
    assert_eq!(
        refused["data"]["message"],
        "Invalid token to authenticate! Please login again!"
    );
    client.expect("disconnect").await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn stop_disconnects_connected_clients_unbinds_the_instance_and_closes_the_listener() {
    let running = app_with_handlers(None).start().await.unwrap();
    let addr = running.local_addr();
    let mut websocket = Observer::start(addr, &[("TOKEN", TOKEN)]);
    let mut polling = Observer::start(addr, &[("TOKEN", TOKEN), ("TRANSPORT", "polling")]);
    websocket.expect("ready").await;
    polling.expect("ready").await;
    let container = running.container().clone();
    assert_eq!(
        container
            .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
            .unwrap()
            .client_count(),
        2
    );

    tokio::time::timeout(Duration::from_secs(15), running.stop())
        .await
        .expect("stop finishes with clients connected")
        .unwrap();

    for (transport, mut client) in [("websocket", websocket), ("polling", polling)] {
        let disconnect = client.expect("disconnect").await;
        assert_eq!(disconnect["reason"], "io server disconnect", "{transport}");
        assert_eq!(client.exit_code().await, Some(0));
    }
    assert!(!container.is_bound(&SocketIOBindingKeys::SOCKET_IO_INSTANCE));
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener must be closed"
    );
}

#[tokio::test]
async fn failing_post_start_hook_shuts_socket_io_and_the_listener_down() {
    let listener = std::net::TcpListener::bind(local()).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = app_with_handlers(None).with_std_listener(listener);
    app.on_post_start("warm-cache", |_| async {
        Err::<(), _>(std::io::Error::other("cache unreachable"))
    });
    let container = app.container().clone();
    let error = app.start().await.unwrap_err();
    assert!(matches!(
        error,
        ComponentError::Hook {
            phase: LifecyclePhase::PostStart,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "post-start hook 'warm-cache' failed: cache unreachable"
    );
    assert!(!container.is_bound(&SocketIOBindingKeys::SOCKET_IO_INSTANCE));
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener must be closed"
    );
}

// ===== Redis =====

fn redis_app(url: &str, key: &str) -> Application {
    let app = app_with_handlers(None);
    app.bind(&SocketIOBindingKeys::REDIS_CONNECTION)
        .to_value(RedisConfig::single(url).key(key));
    app
}

#[tokio::test]
async fn redis_connection_binding_selects_the_redis_adapter_across_two_apps() {
    let url = redis_url().await;
    let key = unique_key();
    let first = redis_app(&url, &key).start().await.unwrap();
    let second = redis_app(&url, &key).start().await.unwrap();
    let request_channel = format!("{key}-request#/#");
    assert_eq!(
        numsub(&url, &request_channel).await,
        2,
        "both servers subscribed"
    );
    let adapter = first.get(&SocketIOBindingKeys::REDIS_ADAPTER).unwrap();
    assert!(adapter.is_healthy(), "{:?}", adapter.health());
    assert_eq!(adapter.config().key, key);

    let mut client = Observer::start(
        first.local_addr(),
        &[
            ("TOKEN", TOKEN),
            ("JOIN", "public-room"),
            ("LISTEN", "news"),
        ],
    );
    client.expect("ready").await;
    // Sent on the second server, delivered by the first through Redis.
    let helper = second
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap();
    helper
        .send(
            Target::room("public-room"),
            "news",
            &json!({ "via": "redis" }),
        )
        .await
        .unwrap();
    assert_eq!(
        client.expect("news").await["data"],
        json!({ "via": "redis" })
    );

    second.stop().await.unwrap();
    assert_eq!(numsub(&url, &request_channel).await, 1, "stop closes Redis");
    let container = first.container().clone();
    first.stop().await.unwrap();
    client.expect("disconnect").await;
    assert_eq!(numsub(&url, &request_channel).await, 0, "stop closes Redis");
    assert!(adapter.health().closed);
    assert!(!container.is_bound(&SocketIOBindingKeys::REDIS_ADAPTER));
}

#[tokio::test]
async fn redis_fetch_sockets_sees_handshake_and_identity_of_rust_sockets() {
    let url = redis_url().await;
    let key = unique_key();
    let first = redis_app(&url, &key).start().await.unwrap();
    let second = redis_app(&url, &key).start().await.unwrap();
    let mut client = Observer::start(
        first.local_addr(),
        &[("TOKEN", TOKEN), ("JOIN", "public-x")],
    );
    let id = client.expect("authenticated").await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    client.expect("ready").await;

    // Asked from the other server, as Node's fetchSockets() would.
    let adapter = second.get(&SocketIOBindingKeys::REDIS_ADAPTER).unwrap();
    let sockets = adapter
        .fetch_sockets("/", vec!["public-x".to_owned()], Vec::new())
        .await
        .unwrap();
    assert_eq!(sockets.len(), 1, "{sockets:?}");
    let socket = &sockets[0];
    assert_eq!(socket.id, id);
    assert_eq!(socket.handshake["auth"]["token"], TOKEN);
    assert_eq!(
        socket.handshake["headers"]["authorization"],
        format!("Bearer {TOKEN}")
    );
    assert_eq!(socket.data["identity"]["id"], "tester");
    assert!(
        socket.rooms.contains(&"public-x".to_owned()),
        "{:?}",
        socket.rooms
    );

    second.stop().await.unwrap();
    first.stop().await.unwrap();
}

#[tokio::test]
async fn without_redis_binding_apps_do_not_share_rooms() {
    let first = app_with_handlers(None).start().await.unwrap();
    assert!(
        !first
            .container()
            .is_bound(&SocketIOBindingKeys::REDIS_ADAPTER)
    );
    let second = app_with_handlers(None).start().await.unwrap();
    let mut client = Observer::start(
        first.local_addr(),
        &[
            ("TOKEN", TOKEN),
            ("JOIN", "public-room"),
            ("LISTEN", "news,local"),
        ],
    );
    client.expect("ready").await;
    second
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap()
        .send(Target::room("public-room"), "news", &json!(1))
        .await
        .unwrap();
    // A later message from its own server arrives; the other server's never does.
    first
        .get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)
        .unwrap()
        .send(Target::room("public-room"), "local", &json!(2))
        .await
        .unwrap();
    client.expect("local").await;
    assert!(
        client.seen.iter().all(|event| event["event"] != "news"),
        "{:?}",
        client.seen
    );
    second.stop().await.unwrap();
    first.stop().await.unwrap();
}

// ===== the project's own client =====

#[tokio::test]
async fn rust_client_authenticates_and_sees_server_disconnect_on_stop() {
    use ignis_socketio_client::{SocketIOClientHelper, reasons};
    use ignis_socketio_protocol::ClientState;

    let running = app_with_handlers(None).start().await.unwrap();
    let (reason_tx, mut reasons_rx) = tokio::sync::mpsc::unbounded_channel();
    let client = SocketIOClientHelper::builder()
        .url(format!("http://{}", running.local_addr()))
        .path("/io")
        .auth(json!({ "token": TOKEN }))
        .auto_authenticate(true)
        .on_disconnected(move |reason: String| {
            let reason_tx = reason_tx.clone();
            async move {
                let _ = reason_tx.send(reason);
            }
        })
        .build()
        .unwrap();
    assert!(
        client
            .wait_for_state(ClientState::Authenticated, Duration::from_secs(10))
            .await
    );
    let answer = client.join_rooms(["public-a", "other"]).await.unwrap();
    assert_eq!(answer.map(|a| a.joined), Some(vec!["public-a".to_owned()]));

    running.stop().await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(10), reasons_rx.recv())
        .await
        .expect("disconnect reported within 10 s");
    assert_eq!(reason.as_deref(), Some(reasons::SERVER_DISCONNECT));
    assert_eq!(client.state(), ClientState::Unauthorized);
    client.shutdown().await;
}

// ===== no task left behind =====

/// Waits (up to 10 s) for the runtime's alive tasks to fall to `baseline`;
/// returns the last count seen.
async fn settle_tasks(baseline: usize) -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..200 {
        if metrics.num_alive_tasks() <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    metrics.num_alive_tasks()
}

// WebSocket clients only: a polling client that vanishes without posting
// its close packet keeps its Engine.IO session (and one task) until the
// Engine.IO heartbeat times out (25 s + 20 s), as socketioxide does for any
// vanished polling client; the helper's shutdown does not close the
// transports of sockets it already disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_connected_clients_leaves_no_task_behind() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let running = app_with_handlers(None).start().await.unwrap();
    let mut first = Observer::start(running.local_addr(), &[("TOKEN", TOKEN)]);
    let mut second = Observer::start(
        running.local_addr(),
        &[("TOKEN", TOKEN), ("JOIN", "public-a")],
    );
    first.expect("ready").await;
    second.expect("ready").await;
    assert!(
        metrics.num_alive_tasks() > baseline,
        "the server runs tasks"
    );

    running.stop().await.unwrap();
    first.expect("disconnect").await;
    second.expect("disconnect").await;
    let left = settle_tasks(baseline).await;
    assert!(
        left <= baseline,
        "{left} tasks alive after stop, {baseline} before start"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_redis_leaves_no_task_behind() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let url = redis_url().await;
    let running = redis_app(&url, &unique_key()).start().await.unwrap();
    let mut client = Observer::start(
        running.local_addr(),
        &[("TOKEN", TOKEN), ("JOIN", "public-a")],
    );
    client.expect("ready").await;

    running.stop().await.unwrap();
    client.expect("disconnect").await;
    assert_eq!(
        settle_tasks(baseline).await,
        baseline,
        "tasks left after stop"
    );
}

#[tokio::test]
async fn node_redis_emitter_reaches_clients_of_a_component_app() {
    let url = redis_url().await;
    let key = unique_key();
    let running = redis_app(&url, &key).start().await.unwrap();
    let mut client = Observer::start(
        running.local_addr(),
        &[
            ("TOKEN", TOKEN),
            ("JOIN", "public-alerts"),
            ("LISTEN", "alert"),
        ],
    );
    client.expect("ready").await;

    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testing/node/component/emit.mjs");
    let status = tokio::process::Command::new("node")
        .arg(script)
        .args([
            url.as_str(),
            key.as_str(),
            "public-alerts",
            "alert",
            r#"{"level":"high"}"#,
        ])
        .status()
        .await
        .expect("`node` must be on PATH");
    assert!(status.success(), "emit.mjs failed: {status}");
    assert_eq!(
        client.expect("alert").await["data"],
        json!({ "level": "high" })
    );
    running.stop().await.unwrap();
}
