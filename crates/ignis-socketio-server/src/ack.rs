//! Answering a client's acknowledgement request, whatever the engine.

use std::fmt;

use serde::Serialize;

use crate::{Payload, ServerError};

/// Sends one acknowledgement on a socket of any adapter type.
pub(crate) type AckSendFn = Box<dyn FnOnce(&Payload) -> Result<(), ServerError> + Send>;

/// Answers a client's acknowledgement request. Dropping it answers nothing.
pub struct AckResponder {
    pub(crate) send: AckSendFn,
}

impl fmt::Debug for AckResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AckResponder")
    }
}

impl AckResponder {
    /// Sends `data` as the acknowledgement.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), ServerError> {
        let payload = Payload::from_serialize(data)?;
        (self.send)(&payload)
    }

    /// Sends a JSON or binary [`Payload`] as the acknowledgement.
    pub fn send_payload(self, payload: Payload) -> Result<(), ServerError> {
        (self.send)(&payload)
    }
}
