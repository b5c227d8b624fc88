//! Binary placeholders: JSON from a peer → `Args` → `check_placeholders` must
//! not panic nor overflow the stack, however deep the values nest (deeper than
//! the JSON parser's own limit too: the values are wrapped in more levels
//! here).
//!
//! Input: byte 0 is the attachment count, byte 1 the extra nesting (×16
//! levels, arrays or objects by its low bit), the rest a JSON array of
//! arguments.

#![no_main]

use ignis_socketio_engine::codec::{Args, CodecError, placeholder_index};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let count = usize::from(data[0]);
    let extra = usize::from(data[1] >> 1) * 16;
    let Ok(Value::Array(mut values)) = serde_json::from_slice::<Value>(&data[2..]) else {
        return;
    };
    let args = Args {
        values: values.clone(),
        attachments: vec![bytes::Bytes::new(); count],
    };
    let flat = args.check_placeholders();
    if flat.is_ok() {
        // Every top-level placeholder must then name an attachment.
        for value in &args.values {
            if placeholder_index(value).is_some() {
                assert!(args.attachment(value).is_some());
            }
        }
    }
    if extra > 0 {
        for value in values.iter_mut() {
            let mut nested = value.take();
            for _ in 0..extra {
                nested = if data[1] & 1 == 0 {
                    Value::Array(vec![nested])
                } else {
                    Value::Object(Map::from_iter([("k".to_owned(), nested)]))
                };
            }
            *value = nested;
        }
        let deep = Args {
            values,
            attachments: args.attachments,
        };
        let result = deep.check_placeholders();
        // Wrapping adds levels and never turns an error into success, except
        // that a too-deep value stops the walk before a bad placeholder.
        if flat.is_err() {
            assert!(result.is_err());
        }
        if let Err(e) = &result {
            assert!(matches!(
                e,
                CodecError::TooDeep | CodecError::BadPlaceholder
            ));
        }
    }
});
