//! The body of the Engine.IO open packet (`0{...}`), as a client reads it.

use serde::Deserialize;

/// What the server announces in its open packet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPacket {
    /// The Engine.IO session id.
    pub sid: String,
    /// Transports the session may upgrade to.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// Milliseconds between two server pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong.
    pub ping_timeout: u64,
    /// Largest payload the server accepts, when announced.
    #[serde(default)]
    pub max_payload: Option<u64>,
}

impl OpenPacket {
    /// Parses the JSON body of an open packet (what follows the `0`).
    pub fn decode(body: &str) -> Result<OpenPacket, serde_json::Error> {
        serde_json::from_str(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_a_server_announces() {
        let open = OpenPacket::decode(
            r#"{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert_eq!(open.sid, "abc");
        assert_eq!((open.ping_interval, open.ping_timeout), (25000, 20000));
        assert_eq!(open.max_payload, Some(1_000_000));
        assert!(OpenPacket::decode(r#"{"sid":"a"}"#).is_err());
    }
}
