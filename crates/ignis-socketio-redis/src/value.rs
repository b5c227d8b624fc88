//! Conversions between the three shapes a payload takes on its way through Redis:
//! socketioxide's parser [`Value`], the notepack (msgpack) structure Node puts inside
//! Redis messages ([`rmpv::Value`]), and JSON ([`serde_json::Value`]).
//!
//! Node's adapter carries the socket.io packet *before* encoding: `[event, ...args]`
//! with binaries inline as msgpack `bin`. socketioxide keeps it encoded by the
//! namespace parser, so every message crossing Redis is transcoded here.

use std::collections::VecDeque;

use bytes::Bytes;
use rmpv::Value as Mp;
use serde::ser::{Serialize, SerializeTuple, Serializer};
use socketioxide_core::{Value, parser::Parse};

use crate::error::RedisAdapterError;

/// msgpack extension type that notepack 3 uses for `Date` (the msgpack timestamp).
const EXT_TIMESTAMP: i8 = -1;
/// msgpack extension type that notepack uses for `ArrayBuffer`.
const EXT_ARRAY_BUFFER: i8 = 0;

/// Serializes a list of values as a serde *tuple*, so that the socketioxide parsers
/// expand it into `[v0, v1, ...]` instead of wrapping it in one more array.
pub(crate) struct Args<'a>(pub(crate) &'a [Mp]);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for value in self.0 {
            tuple.serialize_element(value)?;
        }
        tuple.end()
    }
}

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

/// Builds a parser [`Value`] holding `[v0, v1, ...]` from msgpack values (the Node
/// packet's `data` array, or `[ack]` for an acknowledgement).
pub(crate) fn to_parser_value(
    parser: impl Parse,
    items: Vec<Mp>,
) -> Result<Value, RedisAdapterError> {
    let items: Vec<Mp> = items.into_iter().map(normalize).collect();
    parser
        .encode_value(&Args(&items), None)
        .map_err(|e| RedisAdapterError::Payload(e.to_string()))
}

/// Reads a parser [`Value`] holding an array (`[event, ...args]` or an ack's
/// `[...args]`) back into msgpack values, with binaries inline.
pub(crate) fn from_parser_value(value: &Value) -> Result<Vec<Mp>, RedisAdapterError> {
    let decoded = match value {
        Value::Str(text, bins) => {
            let json: serde_json::Value = serde_json::from_str(text.as_str())
                .map_err(|e| RedisAdapterError::Payload(e.to_string()))?;
            let empty = VecDeque::new();
            json_to_mp_with_bins(json, bins.as_ref().unwrap_or(&empty))
        }
        Value::Bytes(bytes) => {
            let mut reader: &[u8] = bytes;
            rmpv::decode::read_value(&mut reader)
                .map_err(|e| RedisAdapterError::Payload(e.to_string()))?
        }
    };
    match decoded {
        Mp::Array(items) => Ok(items),
        other => Ok(vec![other]),
    }
}

/// Converts JSON to msgpack values (integers stay integers, like notepack does).
pub(crate) fn json_to_mp(json: serde_json::Value) -> Mp {
    json_to_mp_with_bins(json, &VecDeque::new())
}

/// Like [`json_to_mp`], and replaces socket.io binary placeholders
/// (`{"_placeholder":true,"num":n}`) with the attachment they stand for.
fn json_to_mp_with_bins(json: serde_json::Value, bins: &VecDeque<Bytes>) -> Mp {
    use serde_json::Value as J;
    match json {
        J::Null => Mp::Nil,
        J::Bool(b) => Mp::Boolean(b),
        J::Number(n) => {
            if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else {
                Mp::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(s) => Mp::String(s.into()),
        J::Array(items) => Mp::Array(
            items
                .into_iter()
                .map(|v| json_to_mp_with_bins(v, bins))
                .collect(),
        ),
        J::Object(map) => {
            if let Some(bin) = placeholder_index(&map).and_then(|n| bins.get(n)) {
                return Mp::Binary(bin.to_vec());
            }
            Mp::Map(
                map.into_iter()
                    .map(|(k, v)| (Mp::String(k.into()), json_to_mp_with_bins(v, bins)))
                    .collect(),
            )
        }
    }
}

fn placeholder_index(map: &serde_json::Map<String, serde_json::Value>) -> Option<usize> {
    if map.len() == 2 && map.get("_placeholder") == Some(&serde_json::Value::Bool(true)) {
        map.get("num")?.as_u64().map(|n| n as usize)
    } else {
        None
    }
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

/// Serializes any serde value to msgpack values with `bin` for bytes, expanding a
/// tuple into several arguments like socketioxide's `emit` does.
pub(crate) fn serialize_args<T: ?Sized + Serialize>(
    data: &T,
) -> Result<Vec<Mp>, RedisAdapterError> {
    let value = rmpv::ext::to_value(data).map_err(|e| RedisAdapterError::Payload(e.to_string()))?;
    if socketioxide_core::parser::is_ser_tuple(data) {
        match value {
            Mp::Array(items) => Ok(items),
            other => Ok(vec![other]),
        }
    } else {
        Ok(vec![value])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketioxide_core::Str;

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
    fn placeholders_become_inline_binaries() {
        let bins: VecDeque<Bytes> = [Bytes::from_static(&[1, 2, 3])].into();
        let value = Value::Str(
            Str::from(r#"["bin",{"_placeholder":true,"num":0}]"#.to_string()),
            Some(bins),
        );
        let items = from_parser_value(&value).unwrap();
        assert_eq!(items, vec![Mp::from("bin"), Mp::Binary(vec![1, 2, 3])]);
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
