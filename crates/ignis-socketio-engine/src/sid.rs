//! Session and socket ids: 20 characters of URL-safe base64 from 15 random
//! bytes, like Node's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A new random id.
pub fn new_sid() -> String {
    let bytes: [u8; 15] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}
