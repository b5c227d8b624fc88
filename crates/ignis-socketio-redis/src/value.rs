//! Conversions between the three shapes a payload takes on its way through Redis:
//! the engine's event arguments ([`EngineArgs`]: JSON with binary placeholders
//! and attachments), the notepack (msgpack) structure Node puts inside Redis
//! messages ([`rmpv::Value`]), and JSON ([`serde_json::Value`]).
//!
//! Node's adapter carries the socket.io packet *before* encoding: `[event, ...args]`
//! with binaries inline as msgpack `bin`, so binary stays binary both ways.

use ignis_socketio_engine::codec::{Args as EngineArgs, to_args};
use rmpv::Value as Mp;
use serde::Serialize;

use crate::error::RedisAdapterError;

/// msgpack extension type that notepack 3 uses for `Date` (the msgpack timestamp).
const EXT_TIMESTAMP: i8 = -1;
/// msgpack extension type that notepack uses for `ArrayBuffer`.
const EXT_ARRAY_BUFFER: i8 = 0;

/// Rewrites the notepack-only shapes into ones every parser can carry:
/// `Date` (ext -1) becomes the ISO string `JSON.stringify` would produce, an
/// `ArrayBuffer` (ext 0) becomes binary, other extensions become nil, and map keys
/// become strings (JavaScript object keys are always strings).
pub(crate) fn normalize(value: Mp) -> Mp {
    match value {
        Mp::Ext(EXT_TIMESTAMP, data) => match timestamp_to_iso(&data) {
            Some(iso) => Mp::String(iso.into()),
            None => Mp::Nil,
        },
        Mp::Ext(EXT_ARRAY_BUFFER, data) => Mp::Binary(data),
        Mp::Ext(_, _) => Mp::Nil,
        Mp::Array(items) => Mp::Array(items.into_iter().map(normalize).collect()),
        Mp::Map(entries) => Mp::Map(
            entries
                .into_iter()
                .map(|(k, v)| (key_to_string(k), normalize(v)))
                .collect(),
        ),
        other => other,
    }
}

fn key_to_string(key: Mp) -> Mp {
    match key {
        Mp::String(_) => key,
        Mp::Integer(i) => Mp::String(i.to_string().into()),
        Mp::Boolean(b) => Mp::String(b.to_string().into()),
        Mp::F64(f) => Mp::String(f.to_string().into()),
        Mp::F32(f) => Mp::String(f.to_string().into()),
        Mp::Nil => Mp::String("null".into()),
        other => Mp::String(other.to_string().into()),
    }
}

/// Decodes the msgpack timestamp extension (4, 8 or 12 bytes) to an ISO-8601 string
/// with milliseconds, like JavaScript's `Date.prototype.toISOString`.
fn timestamp_to_iso(data: &[u8]) -> Option<String> {
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0),
        8 => {
            let raw = u64::from_be_bytes(data.try_into().ok()?);
            ((raw & 0x3_ffff_ffff) as i64, (raw >> 34) as u32)
        }
        12 => {
            let nanos = u32::from_be_bytes(data[..4].try_into().ok()?);
            let secs = i64::from_be_bytes(data[4..].try_into().ok()?);
            (secs, nanos)
        }
        _ => return None,
    };
    let when = time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .replace_nanosecond(nanos)
        .ok()?;
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    when.format(&format).ok()
}

/// The engine's arguments as msgpack values, binaries inline.
pub(crate) fn args_to_mp(args: &EngineArgs) -> Vec<Mp> {
    args.to_msgpack()
}

/// msgpack values (Node's `[event, ...args]` minus the event, or an ack's
/// arguments) as the engine's arguments, notepack's shapes normalized first:
/// each binary becomes an attachment and a placeholder where it stood.
pub(crate) fn mp_to_args(items: Vec<Mp>) -> EngineArgs {
    EngineArgs::from_msgpack(items.into_iter().map(normalize).collect())
}

/// Converts JSON to msgpack values (integers stay integers, like notepack does).
pub(crate) fn json_to_mp(json: serde_json::Value) -> Mp {
    EngineArgs::json(vec![json])
        .to_msgpack()
        .pop()
        .unwrap_or(Mp::Nil)
}

/// Converts msgpack values to JSON the way `JSON.stringify` would see the decoded
/// object: binaries become `{"type":"Buffer","data":[...]}`, dates ISO strings.
pub(crate) fn mp_to_json(value: Mp) -> serde_json::Value {
    use serde_json::Value as J;
    match normalize(value) {
        Mp::Nil => J::Null,
        Mp::Boolean(b) => J::Bool(b),
        Mp::Integer(i) => {
            if let Some(u) = i.as_u64() {
                J::from(u)
            } else if let Some(s) = i.as_i64() {
                J::from(s)
            } else {
                J::Null
            }
        }
        Mp::F32(f) => serde_json::Number::from_f64(f64::from(f)).map_or(J::Null, J::Number),
        Mp::F64(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        Mp::String(s) => J::String(s.into_str().unwrap_or_default()),
        Mp::Binary(b) => serde_json::json!({ "type": "Buffer", "data": b }),
        Mp::Array(items) => J::Array(items.into_iter().map(mp_to_json).collect()),
        Mp::Map(entries) => J::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), mp_to_json(v)))
                .collect(),
        ),
        Mp::Ext(_, _) => J::Null,
    }
}

/// Serializes any serde value to msgpack values with `bin` for bytes, a
/// tuple spread into several arguments (the engine's [`to_args`]).
pub(crate) fn serialize_args<T: ?Sized + Serialize>(
    data: &T,
) -> Result<Vec<Mp>, RedisAdapterError> {
    to_args(data)
        .map(|args| args.to_msgpack())
        .map_err(RedisAdapterError::Payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn timestamp32_is_iso_with_millis() {
        assert_eq!(
            timestamp_to_iso(&[0, 0, 0, 0]).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn timestamp64_keeps_milliseconds() {
        // 1.5 s: nanos 500_000_000 in the upper 30 bits, seconds 1.
        let raw: u64 = (500_000_000u64 << 34) | 1;
        assert_eq!(
            timestamp_to_iso(&raw.to_be_bytes()).as_deref(),
            Some("1970-01-01T00:00:01.500Z")
        );
    }

    #[test]
    fn binaries_cross_both_ways() {
        let args = EngineArgs {
            values: vec![serde_json::json!({"tag": "t", "bin": {"_placeholder": true, "num": 0}})],
            attachments: vec![Bytes::from_static(&[0, 1, 2, 250, 255])],
        };
        let mp = args_to_mp(&args);
        let bin = Mp::Binary(vec![0, 1, 2, 250, 255]);
        assert_eq!(
            mp,
            vec![Mp::Map(vec![
                (Mp::from("bin"), bin.clone()),
                (Mp::from("tag"), Mp::from("t")),
            ])]
        );
        assert_eq!(mp_to_args(mp), args);
    }

    #[test]
    fn tuples_expand_into_several_arguments() {
        assert_eq!(
            serialize_args(&(1, "a")).unwrap(),
            vec![Mp::from(1), Mp::from("a")]
        );
        assert_eq!(
            serialize_args(&vec![1, 2]).unwrap(),
            vec![Mp::Array(vec![Mp::from(1), Mp::from(2)])]
        );
    }
}
