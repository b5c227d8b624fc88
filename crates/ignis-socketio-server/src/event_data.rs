//! Event data that keeps binary data binary: JSON in which each binary
//! attachment stands as `{"_placeholder":true,"num":N}`, and the attachments.

use bytes::Bytes;
use ignis_socketio_engine::codec::{Args, placeholder_index};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why event data could not be read into (or written from) a type.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The data does not have the shape of the type asked for.
    #[error("event data does not fit the expected type: {0}")]
    Shape(#[source] rmp_serde::decode::Error),
    /// A value could not be serialized.
    #[error("data cannot be serialized: {0}")]
    Serialize(#[source] rmp_serde::encode::Error),
}

/// The data of an event as the client sent it: JSON, binary attachments
/// kept as bytes wherever they sit.
///
/// ```
/// use bytes::Bytes;
/// use ignis_socketio_server::EventData;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Upload { name: String, bytes: Bytes }
///
/// let sent = Upload { name: "a.png".into(), bytes: Bytes::from_static(b"\x89PNG") };
/// let data = EventData::from_serialize(&sent).unwrap();
/// assert_eq!(data.attachments().len(), 1, "the bytes travel as an attachment");
/// assert_eq!(data.deserialize::<Upload>().unwrap(), sent);
/// assert_eq!(data.json()["bytes"], serde_json::json!([0x89, 0x50, 0x4e, 0x47]));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventData {
    value: Value,
    attachments: Vec<Bytes>,
}

impl EventData {
    /// Data from a JSON value with placeholders and the attachments they name.
    pub fn new(value: Value, attachments: Vec<Bytes>) -> Self {
        EventData { value, attachments }
    }

    /// Data from any serde value: bytes (`bytes::Bytes`, `serde_bytes`)
    /// become attachments, structs objects.
    pub fn from_serialize<T: Serialize + ?Sized>(data: &T) -> Result<Self, DataError> {
        let encoded = rmp_serde::to_vec_named(data).map_err(DataError::Serialize)?;
        let value = rmpv::decode::read_value(&mut encoded.as_slice())
            .map_err(|e| DataError::Serialize(rmp_serde::encode::Error::Syntax(e.to_string())))?;
        let mut args = Args::from_msgpack(vec![value]);
        Ok(EventData {
            value: args.values.pop().unwrap_or(Value::Null),
            attachments: args.attachments,
        })
    }

    /// The first argument of `args` (every attachment kept, so placeholders
    /// keep their numbers).
    pub(crate) fn first_of(args: Args) -> Self {
        let Args {
            values,
            attachments,
        } = args;
        EventData {
            value: values.into_iter().next().unwrap_or(Value::Null),
            attachments,
        }
    }

    /// As one event argument for the engine.
    pub(crate) fn to_args(&self) -> Args {
        Args {
            values: vec![self.value.clone()],
            attachments: self.attachments.clone(),
        }
    }

    /// The JSON with placeholders where binary data stands.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The bytes a placeholder inside [`EventData::value`] stands for.
    pub fn binary(&self, placeholder: &Value) -> Option<&Bytes> {
        placeholder_index(placeholder).and_then(|i| self.attachments.get(i))
    }

    /// Whether there is no data (`null`, or no argument at all).
    pub fn is_null(&self) -> bool {
        self.value.is_null()
    }

    /// Plain JSON, each binary attachment as an array of byte values (what
    /// handlers taking a `serde_json::Value` receive).
    pub fn json(&self) -> Value {
        resolve_as_numbers(&self.value, &self.attachments)
    }

    /// Reads the data into `T`; bytes fields (`bytes::Bytes`, `serde_bytes`)
    /// receive the attachments.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, DataError> {
        let mut encoded = Vec::new();
        for value in self.to_args().to_msgpack() {
            // Writing into a Vec cannot fail.
            let _ = rmpv::encode::write_value(&mut encoded, &value);
        }
        rmp_serde::from_slice(&encoded).map_err(DataError::Shape)
    }

    /// The same attachments with another JSON value around them (e.g. to
    /// answer with the client's data inside a reply object).
    pub fn map(self, f: impl FnOnce(Value) -> Value) -> Self {
        EventData {
            value: f(self.value),
            attachments: self.attachments,
        }
    }
}

impl From<Value> for EventData {
    fn from(value: Value) -> Self {
        EventData::new(value, Vec::new())
    }
}

fn resolve_as_numbers(value: &Value, attachments: &[Bytes]) -> Value {
    if let Some(bytes) = placeholder_index(value).and_then(|i| attachments.get(i)) {
        return Value::Array(bytes.iter().map(|b| Value::from(*b)).collect());
    }
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve_as_numbers(v, attachments))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve_as_numbers(v, attachments)))
                .collect(),
        ),
        other => other.clone(),
    }
}
