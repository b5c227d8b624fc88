//! The Engine.IO server: the session table and the HTTP side (handshake,
//! polling requests, WebSocket upgrades).

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};

use super::config::EngineConfig;
use super::counters::CountersSnapshot;
use super::driver::Driver;
use super::handler::EngineHandler;
use super::request::own_request_head;
use super::session::{CloseReason, PollState, Session, TransportKind, WsIo, WsUpgrade};
use super::shared::EngineShared;
use crate::codec::{Frame, decode_payload, encode_payload};
use crate::sid::new_sid;
use crate::ws::{accept_key, is_upgrade_request, negotiate};

/// An Engine.IO v4 server: give it every request under its path.
pub struct Engine<H: EngineHandler> {
    shared: Arc<EngineShared>,
    handler: Arc<H>,
}

impl<H: EngineHandler> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Engine {
            shared: self.shared.clone(),
            handler: self.handler.clone(),
        }
    }
}

/// Engine.IO's error codes, answered as `{"code","message"}` with status 400.
#[derive(Debug, Clone, Copy)]
enum EngineError {
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    UnsupportedVersion = 5,
}

impl EngineError {
    fn message(self) -> &'static str {
        match self {
            EngineError::UnknownTransport => "Transport unknown",
            EngineError::UnknownSid => "Session ID unknown",
            EngineError::BadHandshakeMethod => "Bad handshake method",
            EngineError::BadRequest => "Bad request",
            EngineError::UnsupportedVersion => "Unsupported protocol version",
        }
    }

    fn response(self) -> Response<Body> {
        let body = serde_json::json!({"code": self as u8, "message": self.message()}).to_string();
        respond(StatusCode::BAD_REQUEST, "application/json", body)
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response<Body> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The query parameters the engine reads.
#[derive(Default)]
struct Query<'a> {
    eio: Option<&'a str>,
    transport: Option<&'a str>,
    sid: Option<&'a str>,
}

fn parse_query(query: Option<&str>) -> Query<'_> {
    let mut out = Query::default();
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "EIO" => out.eio = Some(value),
            "transport" => out.transport = Some(value),
            "sid" => out.sid = Some(value),
            _ => {}
        }
    }
    out
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with `config`, opening a connection of `handler` per session.
    pub fn new(config: EngineConfig, handler: H) -> Engine<H> {
        Engine {
            shared: Arc::new(EngineShared::new(config)),
            handler: Arc::new(handler),
        }
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// The handler given at creation.
    pub fn handler(&self) -> &Arc<H> {
        &self.handler
    }

    /// What the engine counted since start (slow consumers, heartbeat
    /// timeouts, protocol errors, messages).
    pub fn counters(&self) -> CountersSnapshot {
        self.shared.counters.snapshot()
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.shared.sessions().len()
    }

    /// Closes every session (what is queued is written first).
    pub fn close_all(&self, why: &str) {
        let sessions: Vec<Arc<Session>> = self.shared.sessions().values().cloned().collect();
        for session in sessions {
            session.close(CloseReason::ServerClose(why.to_owned()));
        }
    }

    /// Serves one request under the engine's path.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let query = parse_query(req.uri().query());
        if query.eio != Some("4") {
            return EngineError::UnsupportedVersion.response();
        }
        let websocket = match query.transport {
            Some("polling") => false,
            Some("websocket") => true,
            _ => return EngineError::UnknownTransport.response(),
        };
        let sid = query.sid.map(str::to_owned);
        if websocket {
            return self.websocket(req, sid);
        }
        match sid {
            None if req.method() == Method::GET => self.open_polling(req),
            None => EngineError::BadHandshakeMethod.response(),
            Some(sid) => {
                let Some(session) = self.shared.sessions().get(sid.as_str()).cloned() else {
                    return EngineError::UnknownSid.response();
                };
                match *req.method() {
                    Method::GET => poll(session).await,
                    Method::POST => self.post(session, req.into_body()).await,
                    _ => EngineError::BadRequest.response(),
                }
            }
        }
    }

    /// The handshake, keys in Node's order (some clients match on `0{"sid":`).
    fn open_packet(&self, sid: &str, upgrades: &[&str]) -> String {
        let config = &self.shared.config;
        let upgrades = serde_json::Value::from(upgrades.to_vec());
        let sid = serde_json::Value::from(sid);
        format!(
            "0{{\"sid\":{sid},\"upgrades\":{upgrades},\"pingInterval\":{},\"pingTimeout\":{},\"maxPayload\":{}}}",
            config.ping_interval.as_millis(),
            config.ping_timeout.as_millis(),
            config.max_payload,
        )
    }

    fn new_session(&self, transport: TransportKind) -> Arc<Session> {
        let config = &self.shared.config;
        let session = Arc::new(Session::new(
            new_sid(),
            transport,
            config.max_buffered_bytes,
            config.max_buffered_packets,
        ));
        self.shared
            .sessions()
            .insert(session.id().into(), session.clone());
        self.shared.counters.opened();
        session
    }

    fn open_polling<B>(&self, req: Request<B>) -> Response<Body> {
        let session = self.new_session(TransportKind::Polling);
        let (mut parts, _) = req.into_parts();
        own_request_head(&mut parts);
        let conn = self.handler.on_open(&session, parts);
        let open = self.open_packet(session.id(), &["websocket"]);
        let driver = Driver::new(session, conn, self.shared.clone(), None);
        tokio::spawn(driver.run());
        respond(StatusCode::OK, "text/plain; charset=UTF-8", open)
    }

    fn websocket<B>(&self, mut req: Request<B>, sid: Option<String>) -> Response<Body> {
        if !is_upgrade_request(req.headers()) {
            return EngineError::BadRequest.response();
        }
        let accept = match accept_key(req.method(), req.headers()) {
            Ok(accept) => accept,
            Err(error) => {
                tracing::debug!(%error, "refused WebSocket handshake");
                return EngineError::BadRequest.response();
            }
        };
        let existing = match sid {
            None => None,
            Some(sid) => {
                let Some(session) = self.shared.sessions().get(sid.as_str()).cloned() else {
                    return EngineError::UnknownSid.response();
                };
                let shared = session.lock();
                let eligible = shared.poll == PollState::Polling
                    && shared.upgrade.is_none()
                    && shared.close.is_none();
                drop(shared);
                // Like Node, a second WebSocket for a session is accepted and
                // closed at once (a WebSocket client sees a close, not an error).
                Some(eligible.then_some(session))
            }
        };
        let deflate = self.shared.deflate.as_ref().and_then(|pool| {
            let offers = req
                .headers()
                .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
                .iter()
                .filter_map(|v| v.to_str().ok());
            negotiate(offers, pool.config())
        });
        let on_upgrade = hyper::upgrade::on(&mut req);
        let engine = self.clone();
        let (mut parts, _) = req.into_parts();
        own_request_head(&mut parts);
        tokio::spawn(async move {
            let io = match on_upgrade.await {
                Ok(upgraded) => WsUpgrade {
                    io: WsIo::new(upgraded),
                    deflate,
                },
                Err(error) => return tracing::debug!(%error, "WebSocket upgrade failed"),
            };
            match existing {
                Some(Some(session)) => {
                    session.lock().upgrade = Some(Box::new(io));
                    session.wake();
                }
                Some(None) => {
                    let mut io = io.io;
                    let frame = crate::ws::close_frame(
                        crate::ws::close_code::POLICY,
                        "session already upgraded",
                    );
                    let _ = tokio::io::AsyncWriteExt::write_all(&mut io, &frame).await;
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut io).await;
                }
                None => {
                    let session = engine.new_session(TransportKind::WebSocket);
                    let open = engine.open_packet(session.id(), &[]);
                    let _ = session.send(Frame::text(open));
                    let conn = engine.handler.on_open(&session, parts);
                    let driver = Driver::new(session, conn, engine.shared.clone(), Some(io));
                    // Its own task: this one (with the upgrade's state) ends
                    // here, so an idle connection holds only the driver.
                    tokio::spawn(driver.run());
                }
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(value) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, value);
        }
        if let Some(params) = deflate
            && let Ok(value) = HeaderValue::from_str(&params.response())
        {
            headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, value);
        }
        response
    }

    async fn post<B>(&self, session: Arc<Session>, body: B) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        {
            let mut shared = session.lock();
            if shared.poll == PollState::Upgraded {
                return EngineError::BadRequest.response();
            }
            if shared.post_pending {
                // One POST at a time, as Node's engine: a client sending more
                // at once would get past the bound on what waits unhandled.
                shared
                    .close
                    .get_or_insert(CloseReason::ProtocolError("overlapping POSTs".into()));
                drop(shared);
                session.wake();
                return EngineError::BadRequest.response();
            }
            shared.post_pending = true;
        }
        let _pending = PendingPost(&session);
        let config = &self.shared.config;
        let body =
            crate::body_deadline::DeadlineBody::new(Box::pin(body), config.body_read_timeout);
        let bytes = match Limited::new(body, config.max_payload).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                let too_large = error
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some();
                session.close(CloseReason::ProtocolError(format!("polling body: {error}")));
                return if too_large {
                    respond(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "text/plain",
                        "payload too large",
                    )
                } else {
                    EngineError::BadRequest.response()
                };
            }
        };
        match decode_payload(&bytes) {
            Ok(packets) => {
                session.lock().inbox.extend(packets);
                session.task.wake();
                // Answered once the session's task took every packet: what
                // waits unhandled is bounded by one POST's body.
                loop {
                    let taken = session.inbox_wake.notified();
                    {
                        let shared = session.lock();
                        if shared.inbox.is_empty() || shared.closed {
                            break;
                        }
                    }
                    taken.await;
                }
                respond(StatusCode::OK, "text/html", "ok")
            }
            Err(error) => {
                session.close(CloseReason::ProtocolError(error.to_string()));
                EngineError::BadRequest.response()
            }
        }
    }
}

/// Resets the "a POST is pending" mark however the request ends.
struct PendingPost<'a>(&'a Session);

impl Drop for PendingPost<'_> {
    fn drop(&mut self) {
        self.0.lock().post_pending = false;
    }
}

/// Resets the "a GET is pending" mark however the request ends.
struct PendingPoll<'a>(&'a Session);

impl Drop for PendingPoll<'_> {
    fn drop(&mut self) {
        self.0.lock().poll_pending = false;
    }
}

/// A long-polling GET: answers with what is queued, waiting for something.
async fn poll(session: Arc<Session>) -> Response<Body> {
    let mut pending = None;
    loop {
        let notified = session.poll_wake.notified();
        {
            let mut shared = session.lock();
            if pending.is_none() {
                if shared.poll_pending {
                    shared
                        .close
                        .get_or_insert(CloseReason::ProtocolError("overlapping polls".into()));
                    drop(shared);
                    session.wake();
                    return EngineError::BadRequest.response();
                }
                // A session whose last packet was taken is over for the
                // client, though its task may not have ended yet.
                if shared.poll == PollState::Upgraded || shared.closed || shared.close_sent {
                    return EngineError::BadRequest.response();
                }
                shared.poll_pending = true;
                pending = Some(PendingPoll(&session));
            }
            let frames = std::mem::take(&mut shared.queue.frames);
            shared.queue.bytes = 0;
            let closing = shared.closed || shared.close.is_some();
            let client_closed = matches!(shared.close, Some(CloseReason::TransportClose));
            let upgrading = shared.poll != PollState::Polling;
            // What is queued goes first, the close packet with the next poll
            // (as Node does): a client handles the packets of one response a
            // tick later, after a close in the same response. Marked before
            // the wake below: the task ends once it sees the mark.
            if closing && frames.is_empty() {
                shared.close_sent = true;
            }
            drop(shared);
            if closing {
                session.task.wake();
                if !frames.is_empty() {
                    return payload(frames.iter());
                }
                let last = if client_closed { "6" } else { "1" };
                return payload(&[Frame::text(last)]);
            }
            if !frames.is_empty() {
                session.task.wake();
                return payload(frames.iter());
            }
            if upgrading {
                return payload(&[Frame::text("6")]);
            }
        }
        notified.await;
    }
}

fn payload<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Response<Body> {
    respond(
        StatusCode::OK,
        "text/plain; charset=UTF-8",
        encode_payload(frames),
    )
}
