//! Event arguments from any serde value, and between event arguments and
//! msgpack values (the shape Node's Redis adapter carries them in).
//!
//! A tuple is several arguments: `emit("e", &(a, b))` sends what Node's
//! `emit("e", a, b)` sends, while a `Vec` is one argument (an array). Bytes
//! (`bytes::Bytes`, `serde_bytes`) become binary attachments.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible, Serializer};

use bytes::Bytes;
use rmpv::Value as Mp;
use serde_json::Value;

use super::{Args, placeholder, placeholder_index};

/// Stops the walk: the answer is known.
#[derive(Debug)]
enum Found {
    Tuple,
    Unit,
    Other,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shape found")
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Found::Other
    }
}

/// Why a value could not be turned into event arguments.
#[derive(Debug, thiserror::Error)]
#[error("cannot serialize the event data: {0}")]
pub struct ArgsError(#[source] rmp_serde::encode::Error);

/// Whether `value` serializes as a tuple at its top level.
pub fn is_tuple<T: ?Sized + Serialize>(value: &T) -> bool {
    matches!(value.serialize(Probe), Err(Found::Tuple))
}

/// The event arguments of `data`: one argument, or one per element of a
/// tuple; bytes become binary attachments.
pub fn to_args<T: ?Sized + Serialize>(data: &T) -> Result<Args, ArgsError> {
    if is_unit(data) {
        return Ok(Args::default());
    }
    // msgpack keeps bytes apart from arrays; structs are written as maps.
    let bytes = rmp_serde::to_vec_named(data).map_err(ArgsError)?;
    let value = rmpv::decode::read_value(&mut bytes.as_slice())
        .map_err(|e| ArgsError(rmp_serde::encode::Error::Syntax(e.to_string())))?;
    let items = match value {
        Mp::Array(items) if is_tuple(data) => items,
        other => vec![other],
    };
    Ok(Args::from_msgpack(items))
}

impl Args {
    /// Arguments from msgpack values: each binary becomes an attachment and a
    /// placeholder where it stood.
    pub fn from_msgpack(items: Vec<Mp>) -> Args {
        let mut attachments = Vec::new();
        let values = items
            .into_iter()
            .map(|item| mp_to_json(item, &mut attachments))
            .collect();
        Args {
            values,
            attachments,
        }
    }

    /// The arguments as msgpack values, attachments inline as binaries.
    pub fn to_msgpack(&self) -> Vec<Mp> {
        self.values
            .iter()
            .map(|v| json_to_mp(v, &self.attachments))
            .collect()
    }
}

fn mp_to_json(value: Mp, attachments: &mut Vec<Bytes>) -> Value {
    match value {
        Mp::Nil => Value::Null,
        Mp::Boolean(b) => Value::Bool(b),
        Mp::Integer(i) => i
            .as_u64()
            .map(Value::from)
            .or_else(|| i.as_i64().map(Value::from))
            .unwrap_or(Value::Null),
        Mp::F32(f) => serde_json::Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number),
        Mp::F64(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Mp::String(s) => Value::String(s.into_str().unwrap_or_default()),
        Mp::Binary(bytes) => {
            attachments.push(Bytes::from(bytes));
            placeholder(attachments.len() - 1)
        }
        Mp::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| mp_to_json(v, attachments))
                .collect(),
        ),
        Mp::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (map_key(k), mp_to_json(v, attachments)))
                .collect(),
        ),
        Mp::Ext(..) => Value::Null,
    }
}

/// JavaScript object keys are strings.
fn map_key(key: Mp) -> String {
    match key {
        Mp::String(s) => s.into_str().unwrap_or_default(),
        other => other.to_string(),
    }
}

fn json_to_mp(value: &Value, attachments: &[Bytes]) -> Mp {
    if let Some(bytes) = placeholder_index(value).and_then(|i| attachments.get(i)) {
        return Mp::Binary(bytes.to_vec());
    }
    match value {
        Value::Null => Mp::Nil,
        Value::Bool(b) => Mp::Boolean(*b),
        Value::Number(n) => n
            .as_u64()
            .map(Mp::from)
            .or_else(|| n.as_i64().map(Mp::from))
            .unwrap_or_else(|| Mp::F64(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Mp::String(s.as_str().into()),
        Value::Array(items) => {
            Mp::Array(items.iter().map(|v| json_to_mp(v, attachments)).collect())
        }
        Value::Object(map) => Mp::Map(
            map.iter()
                .map(|(k, v)| (Mp::String(k.as_str().into()), json_to_mp(v, attachments)))
                .collect(),
        ),
    }
}

fn is_unit<T: ?Sized + Serialize>(value: &T) -> bool {
    matches!(value.serialize(Probe), Err(Found::Unit))
}

struct Probe;

macro_rules! other {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<(), Found> { Err(Found::Other) })*
    };
}

impl Serializer for Probe {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Impossible<(), Found>;
    type SerializeTuple = Impossible<(), Found>;
    type SerializeTupleStruct = Impossible<(), Found>;
    type SerializeTupleVariant = Impossible<(), Found>;
    type SerializeMap = Impossible<(), Found>;
    type SerializeStruct = Impossible<(), Found>;
    type SerializeStructVariant = Impossible<(), Found>;

    other! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_unit(self) -> Result<(), Found> {
        Err(Found::Unit)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), Found> {
        Err(Found::Other)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Found> {
        Err(Found::Other)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Found> {
        Err(Found::Other)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Found> {
        Err(Found::Tuple)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Found> {
        Err(Found::Other)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Found> {
        Err(Found::Other)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Found> {
        Err(Found::Other)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Found> {
        Err(Found::Other)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Found> {
        Err(Found::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::{Args, is_tuple, to_args};

    #[test]
    fn only_tuples_are_tuples() {
        assert!(is_tuple(&(1, "a")));
        assert!(is_tuple(&("only",)));
        assert!(!is_tuple(&vec![1, 2]));
        assert!(!is_tuple(&"text"));
        assert!(!is_tuple(&serde_json::json!([1, 2])));
        assert!(!is_tuple(&()));
        let values = |args: Args| args.values;
        assert_eq!(
            values(to_args(&("hi", 1)).unwrap()),
            vec![serde_json::json!("hi"), serde_json::json!(1)]
        );
        assert_eq!(
            values(to_args(&vec![1, 2]).unwrap()),
            vec![serde_json::json!([1, 2])]
        );
        assert!(
            values(to_args(&()).unwrap()).is_empty(),
            "() is no argument"
        );
    }
}

#[cfg(test)]
mod binary_tests {
    use bytes::Bytes;
    use serde_json::json;

    use super::{Args, to_args};

    #[test]
    fn bytes_become_attachments_wherever_they_sit() {
        #[derive(serde::Serialize)]
        struct Upload {
            name: &'static str,
            data: Bytes,
        }
        let args = to_args(&(
            "hello",
            Upload {
                name: "a.png",
                data: Bytes::from_static(&[4, 5]),
            },
        ))
        .unwrap();
        assert_eq!(
            args.values,
            vec![
                json!("hello"),
                json!({"name": "a.png", "data": {"_placeholder": true, "num": 0}})
            ]
        );
        assert_eq!(args.attachments, vec![Bytes::from_static(&[4, 5])]);
        assert_eq!(Args::from_msgpack(args.to_msgpack()), args);
    }
}
