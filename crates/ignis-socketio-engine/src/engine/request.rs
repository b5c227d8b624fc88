//! Keeping a request head without keeping the connection's read buffer.
//!
//! hyper parses the URI and header values as views into its 8 KiB read
//! buffer; a head kept for a session's lifetime would keep that buffer too.

use http::request::Parts;
use http::{HeaderMap, HeaderValue};

/// Replaces the URI and header values with owned copies, so that the
/// connection's read buffer is not kept alive by the request head.
pub fn own_request_head(head: &mut Parts) {
    if let Ok(uri) = head.uri.to_string().parse() {
        head.uri = uri;
    }
    let mut headers = HeaderMap::with_capacity(head.headers.len());
    for (name, value) in &head.headers {
        if let Ok(mut owned) = HeaderValue::from_bytes(value.as_bytes()) {
            owned.set_sensitive(value.is_sensitive());
            headers.append(name.clone(), owned);
        }
    }
    head.headers = headers;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owned_head_has_the_same_uri_and_headers() {
        let request = http::Request::builder()
            .uri("/io/?EIO=4&transport=websocket&x=%20y")
            .header("authorization", "Bearer t")
            .header("x-many", "a")
            .header("x-many", "b")
            .body(())
            .unwrap_or_default();
        let (mut head, ()) = request.into_parts();
        let before = (head.uri.clone(), head.headers.clone());
        own_request_head(&mut head);
        assert_eq!(head.uri, before.0);
        assert_eq!(head.headers, before.1);
        assert_eq!(head.headers.get_all("x-many").iter().count(), 2);
    }
}
