//! Event arguments: JSON values plus binary attachments.

use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ClientError;
use ignis_socketio_engine::codec::{placeholder, placeholder_index};

/// The arguments of an event or an acknowledgement (named apart from the
/// server crate's `Payload`, which is one value to send).
///
/// Socket.IO carries a list of arguments; each is JSON, and binary data
/// travels as separate attachments that the JSON refers to with a placeholder
/// object `{"_placeholder":true,"num":N}`. A received payload keeps those
/// placeholders in its arguments; [`ClientPayload::binary`] resolves one.
///
/// ```
/// use bytes::Bytes;
/// use ignis_socketio_client::ClientPayload;
/// use serde_json::json;
///
/// let p = ClientPayload::from(json!({"name": "a.png"})).with_binary(Bytes::from_static(b"\x89PNG"));
/// assert_eq!(p.args().len(), 2);
/// assert_eq!(p.binary(&p.args()[1]).unwrap().as_ref(), b"\x89PNG");
/// assert_eq!(p.to_string(), r#"[{"name":"a.png"}, <binary: 4 bytes>]"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientPayload {
    args: Vec<Value>,
    binaries: Vec<Bytes>,
}

impl ClientPayload {
    /// No arguments at all (`emit("event")`).
    pub fn empty() -> Self {
        ClientPayload::default()
    }

    /// Several JSON arguments.
    pub fn from_args(args: Vec<Value>) -> Self {
        ClientPayload {
            args,
            binaries: Vec::new(),
        }
    }

    /// One argument serialized from any serde value.
    pub fn json<T: Serialize + ?Sized>(data: &T) -> Result<Self, ClientError> {
        let value = serde_json::to_value(data).map_err(ClientError::serialize)?;
        Ok(ClientPayload::from(value))
    }

    pub(crate) fn from_parts(args: Vec<Value>, binaries: Vec<Bytes>) -> Self {
        ClientPayload { args, binaries }
    }

    /// Appends a JSON argument.
    pub fn with_arg(mut self, arg: Value) -> Self {
        self.args.push(arg);
        self
    }

    /// Appends a binary argument (sent as an attachment).
    pub fn with_binary(mut self, data: Bytes) -> Self {
        let marker = self.attach(data);
        self.args.push(marker);
        self
    }

    /// Registers `data` as an attachment and returns the placeholder to put
    /// anywhere inside a JSON argument (e.g. `{"file": <placeholder>}`).
    pub fn attach(&mut self, data: Bytes) -> Value {
        self.binaries.push(data);
        placeholder(self.binaries.len() - 1)
    }

    /// The arguments, with binary placeholders left in place.
    pub fn args(&self) -> &[Value] {
        &self.args
    }

    /// The first argument, the one the reference's handlers receive.
    pub fn first(&self) -> Option<&Value> {
        self.args.first()
    }

    /// The binary attachments, in order.
    pub fn binaries(&self) -> &[Bytes] {
        &self.binaries
    }

    /// The attachment `value` stands for, when it is a placeholder.
    pub fn binary(&self, value: &Value) -> Option<&Bytes> {
        self.binaries.get(placeholder_index(value)?)
    }

    /// Deserializes the first argument (`null` when there is none) into `T`.
    pub fn decode_first<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        let value = self.args.first().cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(ClientError::deserialize)
    }

    /// Splits the payload into its arguments and attachments.
    pub fn into_parts(self) -> (Vec<Value>, Vec<Bytes>) {
        (self.args, self.binaries)
    }
}

/// The former name of [`ClientPayload`], kept for one release.
#[deprecated(
    note = "renamed `ClientPayload` (apart from the server crate's `Payload`); this alias goes in the next release"
)]
pub type Payload = ClientPayload;

/// The argument list as JSON, `[arg, arg, ..]`; an argument that is a binary
/// placeholder shows as `<binary: N bytes>` (placeholders nested inside an
/// argument are shown as they are). For logs: it is not the wire format.
impl fmt::Display for ClientPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match self.binary(arg) {
                Some(data) => write!(f, "<binary: {} bytes>", data.len())?,
                None => write!(f, "{arg}")?,
            }
        }
        f.write_str("]")
    }
}

impl From<Value> for ClientPayload {
    /// One JSON argument (`null` included: it is sent, not dropped).
    fn from(value: Value) -> Self {
        ClientPayload::from_args(vec![value])
    }
}

impl From<Bytes> for ClientPayload {
    /// One binary argument.
    fn from(data: Bytes) -> Self {
        ClientPayload::empty().with_binary(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_lists_the_arguments_and_sizes_binaries() {
        assert_eq!(ClientPayload::empty().to_string(), "[]");
        let mut p = ClientPayload::from_args(vec![json!("hi"), json!(0), json!(null)])
            .with_binary(Bytes::from_static(b"abc"));
        let nested = p.attach(Bytes::from_static(b"x"));
        let p = p.with_arg(json!({ "file": nested }));
        assert_eq!(
            p.to_string(),
            r#"["hi", 0, null, <binary: 3 bytes>, {"file":{"_placeholder":true,"num":1}}]"#
        );
    }

    #[test]
    #[allow(deprecated)]
    fn the_former_name_still_works() {
        let p: Payload = Payload::from(json!(1));
        assert_eq!(p, ClientPayload::from(json!(1)));
    }
}
