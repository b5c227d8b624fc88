//! Sockets as the admin page expects them (the package's `SerializedSocket`:
//! id, clientId, transport, nsp, data, handshake, rooms), and its timestamps.

use ignis_socketio_engine::engine::TransportKind;
use ignis_socketio_engine::io::{HandshakeSource, Socket, SocketSummary};
use serde_json::{Map, Value, json};

use crate::types::Core;

/// A transport's name on the wire.
pub(crate) fn transport_name(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::WebSocket => "websocket",
        TransportKind::Polling => "polling",
    }
}

/// The id of the socket's connection as the page shows it (its first 12
/// characters, as the package does).
fn client_id(socket: &Socket) -> &str {
    let session = socket.session_id();
    session.get(..12).unwrap_or(session)
}

/// What the package keeps in `socket.data._admin` on every socket of an
/// instrumented server, for the pages of other nodes to read through
/// `fetchSockets`.
pub(crate) fn admin_data(socket: &Socket) -> Value {
    json!({
        "clientId": client_id(socket),
        "transport": transport_name(socket.transport()),
    })
}

/// Now, as JavaScript's `Date` serializes to JSON (`2026-01-02T03:04:05.678Z`,
/// always three digits of milliseconds: RFC 3339 formatting would write
/// `.58Z` for 580 ms, and nothing at all for 0).
pub(crate) fn timestamp() -> Value {
    Value::String(ignis_socketio_protocol::now_timestamp())
}

/// The handshake the page shows: the CONNECT `auth` payload left out (it may
/// hold credentials), the address from a proxy's header when there is one.
fn page_handshake(mut handshake: Value) -> Value {
    if let Some(map) = handshake.as_object_mut() {
        map.remove("auth");
        let forwarded = map
            .get("headers")
            .and_then(|h| {
                h.get("cf-connecting-ip")
                    .or_else(|| h.get("x-forwarded-for"))
            })
            .cloned();
        if let Some(address) = forwarded {
            map.insert("address".to_owned(), address);
        }
    }
    handshake
}

/// One of this node's sockets. For the helper's namespace the handshake and
/// identity come from its client record; elsewhere from the request.
pub(crate) fn local(socket: &Socket, core: &Core, helper_nsp: &str) -> Value {
    let record = (socket.nsp() == helper_nsp)
        .then(|| core.record(socket.id()))
        .flatten();
    let (handshake, data) = match &record {
        Some(record) => {
            let identity = record.info().identity;
            let data = identity.map_or_else(|| json!({}), |i| i.to_node_data());
            (record.handshake.to_node_json(), data)
        }
        None => {
            let none = Value::Null;
            let source = HandshakeSource::from_parts(socket.request(), &none);
            (source.to_node_json(), json!({}))
        }
    };
    json!({
        "id": socket.id(),
        "clientId": client_id(socket),
        "transport": transport_name(socket.transport()),
        "nsp": socket.nsp(),
        "data": data,
        "handshake": page_handshake(handshake),
        "rooms": socket.rooms(),
    })
}

/// A socket of another node, from a `fetchSockets` answer. Node servers with
/// the package keep `clientId` and `transport` in `data._admin`.
pub(crate) fn remote(summary: SocketSummary, nsp: &str) -> Value {
    let mut data = match summary.data {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let admin = data.remove("_admin");
    let admin_field = |name: &str| {
        admin
            .as_ref()
            .and_then(|a| a.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({
        "id": summary.id,
        "clientId": admin_field("clientId"),
        "transport": admin_field("transport"),
        "nsp": nsp,
        "data": Value::Object(data),
        "handshake": page_handshake(summary.handshake.unwrap_or_else(|| json!({}))),
        "rooms": summary.rooms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_javascript_dates() {
        let Value::String(text) = timestamp() else {
            panic!("not a string");
        };
        assert_eq!(text.len(), "2026-01-02T03:04:05.678Z".len(), "{text}");
        assert!(text.ends_with('Z'), "{text}");
        // The format used, at milliseconds ending in zeros (the old one was
        // shorter there, one run in ten).
        for millis in [0, 500, 580] {
            let at = std::time::UNIX_EPOCH
                + std::time::Duration::from_millis(1_767_323_045_000 + millis);
            let text = ignis_socketio_protocol::format_timestamp(at);
            assert_eq!(text.len(), "2026-01-02T03:04:05.678Z".len(), "{text}");
        }
    }

    #[test]
    fn remote_sockets_lose_auth_and_keep_admin_fields_apart() {
        let summary = SocketSummary {
            id: "abc".into(),
            rooms: vec!["abc".into(), "r".into()],
            handshake: Some(json!({"auth": {"token": "secret"}, "address": "1.2.3.4",
                "headers": {"x-forwarded-for": "5.6.7.8"}})),
            data: Some(json!({"_admin": {"clientId": "c1", "transport": "polling"}, "user": 1})),
        };
        let page = remote(summary, "/chat");
        assert_eq!(page["clientId"], "c1");
        assert_eq!(page["transport"], "polling");
        assert_eq!(page["data"], json!({"user": 1}));
        assert_eq!(page["handshake"].get("auth"), None);
        assert_eq!(page["handshake"]["address"], "5.6.7.8");
        assert_eq!(page["nsp"], "/chat");
    }
}
