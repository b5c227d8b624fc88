//! Keeping a request head for a session's lifetime at the smallest cost.
//!
//! hyper parses the URI and header values as views into its 8 KiB read
//! buffer; a head kept for a session's lifetime would keep that buffer too.
//! Routing adds extensions that mean nothing once the request is a
//! connection (axum's original URI and matched path), and leaves the
//! extension map sized for them.

use std::ops::Range;

use axum::extract::{MatchedPath, NestedPath, OriginalUri};
use bytes::Bytes;
use http::request::Parts;
use http::{Extensions, HeaderMap, HeaderValue};

/// Replaces the URI and header values with owned copies, so that the
/// connection's read buffer is not kept alive by the request head, and drops
/// routing's extensions (the application's own stay, in a map of their size).
///
/// The header values share one buffer: one allocation instead of one per
/// header.
pub fn own_request_head(head: &mut Parts) {
    // Behind the engine's `serve`, the URI and values are copies already;
    // only what routing added since is left to drop.
    if head.extensions.remove::<HeadOwned>().is_none() {
        if let Ok(uri) = head.uri.to_string().parse() {
            head.uri = uri;
        }
        head.headers = owned_headers(&head.headers);
    }
    head.extensions = compact_extensions(std::mem::take(&mut head.extensions));
}

/// Marks a head whose URI and header values are owned copies, for the
/// engine's `serve`, which owns every request's head before routing it.
#[derive(Clone, Copy, Debug)]
struct HeadOwned;

/// [`own_request_head`], and the mark that spares the engine a second copy.
pub(crate) fn own_and_mark_request_head(head: &mut Parts) {
    own_request_head(head);
    head.extensions.insert(HeadOwned);
}

fn owned_headers(headers: &HeaderMap) -> HeaderMap {
    let total = headers.values().map(|value| value.len()).sum();
    let mut text = Vec::with_capacity(total);
    let mut ranges: Vec<Range<usize>> = Vec::with_capacity(headers.len());
    for value in headers.values() {
        let start = text.len();
        text.extend_from_slice(value.as_bytes());
        ranges.push(start..text.len());
    }
    let text = Bytes::from(text);
    let mut owned = HeaderMap::with_capacity(headers.len());
    for ((name, value), range) in headers.iter().zip(ranges) {
        // The bytes came from a valid value, so this cannot fail; a value
        // that did would be left out rather than kept as a view.
        if let Ok(mut copy) = HeaderValue::from_maybe_shared(text.slice(range)) {
            copy.set_sensitive(value.is_sensitive());
            owned.append(name.clone(), copy);
        }
    }
    owned
}

fn compact_extensions(mut extensions: Extensions) -> Extensions {
    extensions.remove::<OriginalUri>();
    extensions.remove::<MatchedPath>();
    extensions.remove::<NestedPath>();
    // Moved into a fresh map: sized for what is left, not for what routing
    // inserted on the way.
    let mut compact = Extensions::new();
    compact.extend(extensions);
    compact
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
            .header("x-empty", "")
            .body(())
            .unwrap_or_default();
        let (mut head, ()) = request.into_parts();
        let before = (head.uri.clone(), head.headers.clone());
        own_request_head(&mut head);
        assert_eq!(head.uri, before.0);
        assert_eq!(head.headers, before.1);
        assert_eq!(head.headers.get_all("x-many").iter().count(), 2);
    }

    #[test]
    fn a_sensitive_value_stays_sensitive() {
        let mut secret = HeaderValue::from_static("Bearer t");
        secret.set_sensitive(true);
        let request = http::Request::builder()
            .header("authorization", secret)
            .body(())
            .unwrap_or_default();
        let (mut head, ()) = request.into_parts();
        own_request_head(&mut head);
        let kept = head
            .headers
            .get("authorization")
            .map(HeaderValue::is_sensitive);
        assert_eq!(kept, Some(true));
    }

    #[test]
    fn a_head_served_by_serve_is_copied_once() {
        let request = http::Request::builder()
            .header("authorization", "Bearer t")
            .body(())
            .unwrap_or_default();
        let (mut head, ()) = request.into_parts();
        let value_at = |head: &Parts| {
            head.headers
                .get("authorization")
                .map(|v| v.as_bytes().as_ptr())
        };
        own_and_mark_request_head(&mut head);
        let copied = value_at(&head);
        own_request_head(&mut head);
        assert_eq!(value_at(&head), copied, "the engine copied the head again");
        assert!(head.extensions.is_empty(), "the mark is gone");
        // Unmarked (behind another server), the engine copies it.
        own_request_head(&mut head);
        assert_ne!(value_at(&head), copied);
    }

    #[derive(Clone, Debug, PartialEq)]
    struct Claims(&'static str);

    #[test]
    fn routing_extensions_go_and_the_application_s_stay() {
        let request = http::Request::builder()
            .uri("/socket.io/?EIO=4")
            .extension(OriginalUri(
                "/api/socket.io/?EIO=4".parse().unwrap_or_default(),
            ))
            .extension(Claims("alice"))
            .body(())
            .unwrap_or_default();
        let (mut head, ()) = request.into_parts();
        own_request_head(&mut head);
        assert!(head.extensions.get::<OriginalUri>().is_none());
        assert_eq!(head.extensions.get::<Claims>(), Some(&Claims("alice")));
        assert_eq!(head.extensions.len(), 1);
    }
}
