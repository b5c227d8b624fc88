#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ignis_socketio_protocol::RoomLimits;

use super::*;

#[test]
fn unset_options_resolve_to_reference_defaults() {
    let resolved = ServerOptions::default().resolve().unwrap();
    assert_eq!(resolved.server.identifier, "SOCKET_IO_SERVER");
    assert_eq!(resolved.server.path, "/io");
    assert_eq!(resolved.cors.methods, ["GET", "POST"]);
    assert_eq!(resolved.cors.options_success_status, 204);
    assert!(resolved.cors.credentials);
    assert_eq!(resolved.cors.origins, CorsOrigins::SameOrigin);
    assert!(resolved.cors.enforce_origin);
    assert_eq!(resolved.per_message_deflate.threshold, 4096);
    assert!(
        resolved.per_message_deflate.enabled,
        "on, as in the reference"
    );
    assert_eq!(resolved.server.auth_timeout, Duration::from_secs(10));
    assert_eq!(resolved.server.ping_interval, Duration::from_secs(30));
    assert_eq!(
        resolved.server.default_rooms,
        ["io-default", "io-notification"]
    );
    assert_eq!(resolved.server.room_limits, RoomLimits::default());
    assert_eq!(resolved.server.max_payload, 100_000);
    assert_eq!(resolved.server.ack_timeout, Duration::from_secs(5));
    assert_eq!(
        resolved.server.event_rate_limit,
        Some(RateLimit::new(5_000, 2_500))
    );
    assert_eq!(
        resolved.server.room_rate_limit,
        Some(RateLimit::new(100, 20))
    );
    assert_eq!(resolved.server.auth_rate_limit, Some(RateLimit::new(10, 1)));
    assert_eq!(
        resolved.server.rate_limit_disconnect_after,
        Some(Duration::from_secs(5))
    );
}

#[test]
fn rate_limits_are_set_one_by_one_and_can_be_switched_off() {
    let base = ServerOptions::default()
        .event_rate_limit(RateLimit::new(50, 10))
        .auth_rate_limit(None);
    let merged = base.merge(
        ServerOptions::default()
            .room_rate_limit(RateLimit::new(7, 2))
            .rate_limit_disconnect_after(None),
    );
    let server = merged.resolve().unwrap().server;
    assert_eq!(server.event_rate_limit, Some(RateLimit::new(50, 10)));
    assert_eq!(server.room_rate_limit, Some(RateLimit::new(7, 2)));
    assert_eq!(server.auth_rate_limit, None, "switched off");
    assert_eq!(server.rate_limit_disconnect_after, None);
    // A later value that leaves the field unset keeps the switch.
    let again = merged.merge(ServerOptions::default().identifier("x"));
    assert_eq!(again.resolve().unwrap().server.auth_rate_limit, None);
}

#[test]
fn nested_cors_field_keeps_the_other_cors_defaults() {
    let options = ServerOptions {
        cors: CorsOptions {
            origins: Some(CorsOrigins::List(vec!["https://a.example".into()])),
            ..CorsOptions::default()
        },
        ..ServerOptions::default()
    };
    let resolved = options.resolve().unwrap();
    assert_eq!(
        resolved.cors.origins,
        CorsOrigins::List(vec!["https://a.example".into()])
    );
    assert_eq!(resolved.cors.methods, ["GET", "POST"]);
    assert!(resolved.cors.credentials);
    assert_eq!(resolved.cors.options_success_status, 204);
}

#[test]
fn merge_prefers_set_fields_of_the_later_value() {
    let base = ServerOptions::default()
        .identifier("a")
        .auth_timeout(Duration::from_secs(1))
        .room_limits(RoomLimitsOptions {
            max_rooms_per_request: Some(5),
            ..Default::default()
        });
    let over = ServerOptions::default()
        .identifier("b")
        .room_limits(RoomLimitsOptions {
            max_room_name_len: Some(90),
            ..Default::default()
        });
    let merged = base.merge(over);
    assert_eq!(merged.identifier.as_deref(), Some("b"));
    assert_eq!(merged.auth_timeout, Some(Duration::from_secs(1)));
    assert_eq!(merged.room_limits.max_rooms_per_request, Some(5));
    assert_eq!(merged.room_limits.max_room_name_len, Some(90));
    let resolved = merged.resolve().unwrap();
    assert_eq!(
        resolved.server.room_limits.max_rooms_per_socket,
        RoomLimits::default().max_rooms_per_socket
    );
}

#[test]
fn every_helper_option_is_reachable() {
    let resolved = ServerOptions::default()
        .auth_timeout(Duration::from_millis(500))
        .ping_interval(Duration::from_millis(700))
        .default_rooms(Vec::<String>::new())
        .max_payload(2048)
        .room_limits(RoomLimitsOptions {
            max_room_name_len: Some(10),
            max_rooms_per_request: Some(2),
            max_rooms_per_socket: Some(3),
        })
        .resolve()
        .unwrap();
    assert_eq!(resolved.server.auth_timeout, Duration::from_millis(500));
    assert_eq!(resolved.server.ping_interval, Duration::from_millis(700));
    assert!(resolved.server.default_rooms.is_empty());
    assert_eq!(resolved.server.max_payload, 2048);
    assert_eq!(
        resolved.server.room_limits,
        RoomLimits {
            max_room_name_len: 10,
            max_rooms_per_request: 2,
            max_rooms_per_socket: 3
        }
    );
}

#[test]
fn any_origin_with_credentials_is_refused_without_development_switch() {
    let error = ServerOptions::default()
        .cors(CorsOptions::default().allow_any_origin())
        .resolve()
        .unwrap_err();
    assert_eq!(error.field, "cors.origins");
    assert!(error.reason.contains("development"), "{error}");
}

#[test]
fn any_origin_with_credentials_mirrors_in_development() {
    let resolved = ServerOptions::default()
        .cors(
            CorsOptions::default()
                .allow_any_origin()
                .allow_any_origin_with_credentials_in_development(true),
        )
        .resolve()
        .unwrap();
    assert!(resolved.cors.mirror_any_origin);
}

#[test]
fn any_origin_without_credentials_is_plain_wildcard() {
    let resolved = ServerOptions::default()
        .cors(CorsOptions::default().allow_any_origin().credentials(false))
        .resolve()
        .unwrap();
    assert!(!resolved.cors.mirror_any_origin);
    assert_eq!(resolved.cors.origins, CorsOrigins::Any);
}

#[test]
fn path_is_normalized_and_checked() {
    let ok = |p: &str| {
        ServerOptions::default()
            .path(p)
            .resolve()
            .map(|r| r.server.path)
    };
    assert_eq!(ok("/socket.io/").unwrap(), "/socket.io");
    assert_eq!(ok("/io").unwrap(), "/io");
    assert_eq!(ok("io").unwrap_err().field, "path");
    assert_eq!(ok("/").unwrap_err().field, "path");
    assert_eq!(ok("/io?x").unwrap_err().field, "path");
}

#[test]
fn invalid_values_name_their_field() {
    let field = |o: ServerOptions| o.resolve().unwrap_err().field;
    assert_eq!(
        field(ServerOptions::default().identifier(" ")),
        "identifier"
    );
    assert_eq!(
        field(ServerOptions::default().auth_timeout(Duration::ZERO)),
        "auth_timeout"
    );
    assert_eq!(
        field(ServerOptions::default().ping_interval(Duration::ZERO)),
        "ping_interval"
    );
    assert_eq!(
        field(ServerOptions::default().default_rooms([""])),
        "default_rooms"
    );
    assert_eq!(
        field(ServerOptions::default().max_payload(0)),
        "max_payload"
    );
    assert_eq!(
        field(ServerOptions::default().ws_read_buffer_size(0)),
        "ws_read_buffer_size"
    );
    assert_eq!(
        field(ServerOptions::default().room_limits(RoomLimitsOptions {
            max_rooms_per_socket: Some(0),
            ..Default::default()
        })),
        "room_limits.max_rooms_per_socket"
    );
    assert_eq!(
        field(ServerOptions::default().event_rate_limit(RateLimit::new(10, 0))),
        "event_rate_limit"
    );
    assert_eq!(
        field(ServerOptions::default().rate_limit_disconnect_after(Duration::ZERO)),
        "rate_limit_disconnect_after"
    );
    assert_eq!(
        field(ServerOptions::default().cors(CorsOptions::default().allow_origins(["*"]))),
        "cors.origins"
    );
    assert_eq!(
        field(ServerOptions::default().cors(CorsOptions::default().methods(["GE T"]))),
        "cors.methods"
    );
    assert_eq!(
        field(ServerOptions::default().cors(CorsOptions::default().options_success_status(404))),
        "cors.options_success_status"
    );
}
