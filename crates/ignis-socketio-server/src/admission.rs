//! Admission at the Engine.IO handshake, before a session exists: the
//! `Origin` check and the caps on unauthenticated connections.
//!
//! A handshake over a cap is answered with an HTTP error (no session, no
//! upgrade, no task) and counted. An admitted handshake carries a [`Slot`]
//! in its request head, which the engine keeps for the connection's
//! lifetime; the slot is given back when the socket authenticates, when it
//! disconnects, or at the latest when the last copy of the head is dropped
//! (a handshake whose WebSocket upgrade fails, a session that never sends
//! its CONNECT).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, StatusCode, header};

use crate::{CorsOrigins, ServerOptions};

/// What the helper checks before the engine sees a request.
pub(crate) struct Admission {
    /// The endpoint's path, without a trailing slash.
    path: String,
    origins: Option<CorsOrigins>,
    caps: Option<Arc<Caps>>,
    /// Requests refused for their `Origin`.
    pub(crate) origins_refused: AtomicU64,
}

/// The caps on unauthenticated connections and what they hold.
struct Caps {
    total: Option<usize>,
    per_address: Option<usize>,
    trusted_header: Option<HeaderName>,
    held: Mutex<Held>,
    refused: AtomicU64,
}

#[derive(Default)]
struct Held {
    total: usize,
    per_address: HashMap<Option<IpAddr>, usize>,
}

/// Why a handshake was refused.
enum Over {
    Total,
    PerAddress,
}

impl Admission {
    pub(crate) fn new(options: &ServerOptions) -> Self {
        let caps = (options.max_unauthenticated_connections.is_some()
            || options.max_unauthenticated_per_address.is_some())
        .then(|| {
            Arc::new(Caps {
                total: options.max_unauthenticated_connections,
                per_address: options.max_unauthenticated_per_address,
                trusted_header: options.trusted_proxy_header.clone(),
                held: Mutex::new(Held::default()),
                refused: AtomicU64::new(0),
            })
        });
        Admission {
            path: options.path.trim_end_matches('/').to_owned(),
            origins: options.allowed_origins.clone(),
            caps,
            origins_refused: AtomicU64::new(0),
        }
    }

    /// Whether nothing is checked (the middleware is then not installed).
    pub(crate) fn is_open(&self) -> bool {
        self.caps.is_none() && matches!(self.origins, None | Some(CorsOrigins::Any))
    }

    /// Handshakes refused for being over a cap.
    pub(crate) fn connections_refused(&self) -> u64 {
        self.caps
            .as_ref()
            .map_or(0, |caps| caps.refused.load(Ordering::Relaxed))
    }

    /// Unauthenticated connections holding a slot now.
    pub(crate) fn unauthenticated_held(&self) -> usize {
        self.caps.as_ref().map_or(0, |caps| caps.lock().total)
    }

    fn serves(&self, path: &str) -> bool {
        path.strip_prefix(self.path.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// The middleware: refuses a foreign origin (403) and a handshake over a
/// cap (503 over the total, 429 over the address's), else passes the
/// request on with its slot.
pub(crate) async fn admit(
    State(admission): State<Arc<Admission>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !admission.serves(request.uri().path()) {
        return next.run(request).await;
    }
    if let Some(origins) = &admission.origins
        && !origins.allows(request.headers())
    {
        admission.origins_refused.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(origin = ?request.headers().get(header::ORIGIN), "Socket.IO request from a foreign origin refused");
        return refusal(StatusCode::FORBIDDEN, "Forbidden");
    }
    if let Some(caps) = &admission.caps
        && is_handshake(request.uri().query())
    {
        let address = client_address(
            request.headers(),
            request.extensions().get::<ConnectInfo<SocketAddr>>(),
            caps.trusted_header.as_ref(),
        );
        match Caps::take(caps, address) {
            Ok(slot) => {
                request.extensions_mut().insert(slot);
            }
            Err(over) => {
                caps.refused.fetch_add(1, Ordering::Relaxed);
                let (status, message) = match over {
                    Over::Total => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Too many unauthenticated connections",
                    ),
                    Over::PerAddress => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Too many unauthenticated connections from this address",
                    ),
                };
                tracing::debug!(?address, message, "Socket.IO handshake refused");
                return refusal(status, message);
            }
        }
    }
    next.run(request).await
}

/// Engine.IO's error shape (`{"code","message"}`), so clients report it.
fn refusal(status: StatusCode, message: &'static str) -> Response {
    let body = serde_json::json!({"code": 4, "message": message}).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An Engine.IO request that opens a session: one without a `sid`.
fn is_handshake(query: Option<&str>) -> bool {
    !query
        .unwrap_or_default()
        .split('&')
        .any(|pair| pair.split('=').next() == Some("sid"))
}

/// The client's address: the right-most address of the trusted proxy
/// header (the one the proxy itself added) when it is set and holds one,
/// else the peer address of the TCP connection.
fn client_address(
    headers: &HeaderMap,
    peer: Option<&ConnectInfo<SocketAddr>>,
    trusted: Option<&HeaderName>,
) -> Option<IpAddr> {
    let forwarded = trusted.and_then(|name| {
        let last = headers.get_all(name).iter().next_back()?;
        let item = last.to_str().ok()?.rsplit(',').next()?.trim();
        parse_address(item)
    });
    forwarded.or_else(|| peer.map(|info| info.0.ip()))
}

/// `1.2.3.4`, `1.2.3.4:5`, `::1`, `[::1]` or `[::1]:5`.
fn parse_address(item: &str) -> Option<IpAddr> {
    if let Ok(ip) = item.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = item.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    item.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

impl Caps {
    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(caps: &Arc<Caps>, address: Option<IpAddr>) -> Result<Slot, Over> {
        let mut held = caps.lock();
        if caps.total.is_some_and(|cap| held.total >= cap) {
            return Err(Over::Total);
        }
        if let Some(cap) = caps.per_address {
            let count = held.per_address.entry(address).or_default();
            if *count >= cap {
                if *count == 0 {
                    held.per_address.remove(&address);
                }
                return Err(Over::PerAddress);
            }
            *count += 1;
        }
        held.total += 1;
        Ok(Slot(Arc::new(SlotInner {
            caps: caps.clone(),
            address,
            released: AtomicBool::new(false),
        })))
    }

    fn give_back(&self, address: Option<IpAddr>) {
        let mut held = self.lock();
        held.total = held.total.saturating_sub(1);
        if self.per_address.is_some()
            && let Some(count) = held.per_address.get_mut(&address)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.per_address.remove(&address);
            }
        }
    }
}

/// One unauthenticated connection's place under the caps, kept in its
/// request head; given back once.
#[derive(Clone)]
pub(crate) struct Slot(Arc<SlotInner>);

struct SlotInner {
    caps: Arc<Caps>,
    address: Option<IpAddr>,
    released: AtomicBool,
}

impl SlotInner {
    fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            self.caps.give_back(self.address);
        }
    }
}

impl Drop for SlotInner {
    fn drop(&mut self) {
        self.release();
    }
}

/// Gives back the slot of the connection opened with `head`, if it holds one.
pub(crate) fn release(head: &http::request::Parts) {
    if let Some(slot) = head.extensions.get::<Slot>() {
        slot.0.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_trusted_header_s_right_most_address_wins() {
        let name = HeaderName::from_static("x-forwarded-for");
        let peer = ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 40000)));
        let mut headers = HeaderMap::new();
        headers.append(&name, HeaderValue::from_static("6.6.6.6, 1.2.3.4"));
        headers.append(&name, HeaderValue::from_static("9.9.9.9, [::1]:80"));
        let ip = |h: &HeaderMap, t: Option<&HeaderName>| client_address(h, Some(&peer), t);
        assert_eq!(ip(&headers, Some(&name)), "::1".parse().ok());
        assert_eq!(ip(&headers, None), "10.0.0.1".parse().ok());
        let mut junk = HeaderMap::new();
        junk.insert(&name, HeaderValue::from_static("1.2.3.4, unknown"));
        assert_eq!(ip(&junk, Some(&name)), "10.0.0.1".parse().ok());
        assert_eq!(ip(&HeaderMap::new(), Some(&name)), "10.0.0.1".parse().ok());
    }

    #[test]
    fn only_requests_without_sid_open_a_session() {
        assert!(is_handshake(Some("EIO=4&transport=polling")));
        assert!(is_handshake(None));
        assert!(!is_handshake(Some("EIO=4&transport=websocket&sid=abc")));
        assert!(is_handshake(Some("EIO=4&sidx=1")));
    }
}
