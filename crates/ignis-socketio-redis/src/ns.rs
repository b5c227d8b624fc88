//! The adapter-independent part of a namespace on Redis: its channels,
//! publishing, and requests to the other servers with their pending answers.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ignis_socketio_engine::codec::Args;
use rmpv::Value as Mp;
use tokio::sync::mpsc;

use crate::{
    error::RedisAdapterError,
    metrics::Operation,
    state::{Shared, SocketInfo},
    value::{json_to_mp, mp_to_json},
    wire::{
        self, Channels, WireOpts, field, map, request_type as rt, str_field, string_list, to_json,
    },
};

/// Which subscription a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    Broadcast,
    Request,
    Response,
}

/// The type-erased face of a namespace adapter, reached from the subscriber and the
/// state API.
pub(crate) trait NsHandler: Send + Sync + 'static {
    fn on_message(&self, kind: ChannelKind, channel: &str, payload: &[u8]);
    fn local_sockets(&self, rooms: &[String], except: &[String]) -> Vec<SocketInfo>;
    fn local_rooms(&self) -> Vec<String>;
    fn local_ids(&self) -> Vec<String>;
    fn core(&self) -> &Arc<NsCore>;
}

/// What a pending request waits for.
pub(crate) enum Pending {
    /// allRooms, fetchSockets, serverSideEmit acks: the whole response body.
    Collect(mpsc::UnboundedSender<Mp>),
    /// A broadcast with acks: client counts and ack values.
    BroadcastAck(mpsc::UnboundedSender<AckEvent>),
}

/// What a server answers to a broadcast with acknowledgements.
pub(crate) enum AckEvent {
    /// How many of its clients it asked.
    ClientCount(u64),
    /// One client's answer.
    Ack(Args),
}

/// The adapter-independent part of a namespace: channels, publishing, requests.
pub(crate) struct NsCore {
    pub(crate) shared: Arc<Shared>,
    pub(crate) path: String,
    /// This server's id on the wire (Node uses 6 random characters).
    pub(crate) uid: String,
    pub(crate) channels: Channels,
    pub(crate) specific_response: String,
    pub(crate) requests: Mutex<HashMap<String, Pending>>,
}

impl NsCore {
    pub(crate) fn new(shared: Arc<Shared>, path: &str) -> Arc<NsCore> {
        let uid = wire::random_id(6);
        let channels = Channels::new(&shared.config.key, path);
        Arc::new(NsCore {
            specific_response: channels.specific_response(&uid),
            channels,
            shared,
            path: path.to_owned(),
            uid,
            requests: Mutex::new(HashMap::new()),
        })
    }

    /// Drops the routes of the adapter at `me` and the subscriptions (a
    /// namespace re-created with the same path may already own the routes).
    pub(crate) fn close_routes(&self, me: *const ()) {
        use std::sync::Weak;
        let mine = |weak: &Weak<dyn NsHandler>| std::ptr::eq(weak.as_ptr() as *const (), me);
        if let Ok(mut routes) = self.shared.routes.write() {
            routes.channels.retain(|_, (_, w)| !mine(w));
            routes.patterns.retain(|_, (_, w)| !mine(w));
        }
        if let Ok(mut namespaces) = self.shared.namespaces.write() {
            namespaces.retain(|_, w| !mine(w));
        }
        if let Some(subscriber) = self.shared.subscriber.get() {
            subscriber.unsubscribe(
                vec![
                    self.channels.request.clone(),
                    self.channels.response.clone(),
                    self.specific_response.clone(),
                ],
                vec![self.channels.broadcast_pattern.clone()],
            );
        }
    }

    pub(crate) fn requests_timeout(&self) -> Duration {
        self.shared.config.requests_timeout
    }

    /// Publishes; on a channel every server subscribes to (broadcasts,
    /// requests: all but responses), a reply that reached fewer servers than
    /// the namespace was seen to have is counted (`short_publishes`).
    pub(crate) async fn publish(
        &self,
        channel: &str,
        payload: Vec<u8>,
    ) -> Result<(), RedisAdapterError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let conn = &self.shared.conn;
        if channel.starts_with(&self.channels.response) {
            conn.publish(channel, payload).await.map(|_| ())
        } else {
            let fleet = &self.channels.request;
            conn.publish_to_fleet(fleet, channel, payload)
                .await
                .map(|_| ())
        }
    }

    /// Publishes in the background; failures are logged (used for replies).
    pub(crate) fn publish_detached(self: &Arc<Self>, channel: String, payload: Vec<u8>) {
        let core = self.clone();
        tokio::spawn(async move {
            if let Err(e) = core.publish(&channel, payload).await {
                tracing::warn!(nsp = %core.path, channel = %channel, error = %e, "Redis reply not published");
            }
        });
    }

    pub(crate) async fn server_count(&self) -> Result<usize, RedisAdapterError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let request = &self.channels.request;
        self.shared.conn.fleet_size(request, request).await
    }

    /// The channel to answer a request of `requester` on.
    pub(crate) fn reply_channel(&self, requester: Option<&str>) -> String {
        match requester {
            Some(uid) if self.shared.config.publish_on_specific_response_channel => {
                self.channels.specific_response(uid)
            }
            _ => self.channels.response.clone(),
        }
    }

    pub(crate) fn register(&self, pending: Pending) -> String {
        let id = wire::random_id(12);
        if let Ok(mut map) = self.requests.lock() {
            map.insert(id.clone(), pending);
        }
        id
    }

    pub(crate) fn unregister(&self, id: &str) {
        if let Ok(mut map) = self.requests.lock() {
            map.remove(id);
        }
    }

    pub(crate) fn is_own_request(&self, id: Option<&str>) -> bool {
        id.is_some_and(|id| self.requests.lock().is_ok_and(|m| m.contains_key(id)))
    }

    /// Publishes a request built from its id and collects one response per other
    /// server. Returns the responses and how many were expected.
    async fn request(
        &self,
        operation: Operation,
        build: impl FnOnce(&str) -> Vec<u8>,
    ) -> Result<(Vec<Mp>, usize), RedisAdapterError> {
        let _in_flight = self.shared.requests.start(operation);
        let expected = self.server_count().await?.saturating_sub(1);
        if expected == 0 {
            return Ok((Vec::new(), 0));
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let id = self.register(Pending::Collect(tx));
        let published = self.publish(&self.channels.request, build(&id)).await;
        if let Err(e) = published {
            self.unregister(&id);
            return Err(e);
        }
        let deadline = tokio::time::Instant::now() + self.requests_timeout();
        let mut responses = Vec::with_capacity(expected);
        while responses.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(response)) => responses.push(response),
                _ => break,
            }
        }
        self.unregister(&id);
        Ok((responses, expected))
    }

    pub(crate) async fn remote_rooms(&self) -> Result<Vec<String>, RedisAdapterError> {
        let uid = self.uid.clone();
        let (responses, expected) = self
            .request(Operation::AllRooms, |id| {
                to_json(&map([
                    ("uid", Mp::from(uid.as_str())),
                    ("requestId", Mp::from(id)),
                    ("type", Mp::from(rt::ALL_ROOMS)),
                ]))
            })
            .await?;
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: "allRooms",
                received: responses.len(),
                expected,
            });
        }
        Ok(responses
            .iter()
            .flat_map(|r| string_list(field(r, "rooms")))
            .collect())
    }

    pub(crate) async fn remote_fetch(
        &self,
        rooms: Vec<String>,
        except: Vec<String>,
    ) -> Result<Vec<SocketInfo>, RedisAdapterError> {
        let uid = self.uid.clone();
        let opts = WireOpts {
            rooms,
            except,
            ..WireOpts::default()
        };
        let (responses, expected) = self
            .request(Operation::FetchSockets, |id| {
                to_json(&map([
                    ("uid", Mp::from(uid.as_str())),
                    ("requestId", Mp::from(id)),
                    ("type", Mp::from(rt::REMOTE_FETCH)),
                    ("opts", opts.to_target_value()),
                ]))
            })
            .await?;
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: "fetchSockets",
                received: responses.len(),
                expected,
            });
        }
        let mut sockets = Vec::new();
        for response in responses {
            if let Some(Mp::Array(items)) = field(&response, "sockets") {
                for item in items {
                    let Some(id) = str_field(item, "id") else {
                        continue;
                    };
                    sockets.push(SocketInfo {
                        id: id.to_owned(),
                        handshake: field(item, "handshake")
                            .cloned()
                            .map(mp_to_json)
                            .unwrap_or_default(),
                        rooms: string_list(field(item, "rooms")),
                        data: field(item, "data")
                            .cloned()
                            .map(mp_to_json)
                            .unwrap_or_default(),
                    });
                }
            }
        }
        Ok(sockets)
    }

    fn sse_body(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
        request_id: Option<&str>,
    ) -> Vec<u8> {
        let mut data = vec![Mp::from(event)];
        data.extend(args.into_iter().map(json_to_mp));
        let mut entries = vec![(Mp::from("uid"), Mp::from(self.uid.as_str()))];
        if let Some(id) = request_id {
            entries.push((Mp::from("requestId"), Mp::from(id)));
        }
        entries.push((Mp::from("type"), Mp::from(rt::SERVER_SIDE_EMIT)));
        entries.push((Mp::from("data"), Mp::Array(data)));
        to_json(&Mp::Map(entries))
    }

    pub(crate) async fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<(), RedisAdapterError> {
        let body = self.sse_body(event, args, None);
        self.publish(&self.channels.request, body).await
    }

    pub(crate) async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, RedisAdapterError> {
        let (responses, expected) = self
            .request(Operation::ServerSideEmit, |id| {
                self.sse_body(event, args, Some(id))
            })
            .await?;
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: "serverSideEmit",
                received: responses.len(),
                expected,
            });
        }
        Ok(responses
            .into_iter()
            .map(|r| {
                field(&r, "data")
                    .cloned()
                    .map(mp_to_json)
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// Replies once to a server-side emit with ack.
pub(crate) struct AckReply {
    pub(crate) core: Arc<NsCore>,
    pub(crate) request_id: String,
    pub(crate) sent: AtomicBool,
}

impl AckReply {
    pub(crate) async fn send(&self, data: serde_json::Value) -> Result<(), RedisAdapterError> {
        if self.sent.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let body = to_json(&map([
            ("type", Mp::from(rt::SERVER_SIDE_EMIT)),
            ("requestId", Mp::from(self.request_id.as_str())),
            ("data", json_to_mp(data)),
        ]));
        // Node always answers serverSideEmit on the generic channel.
        self.core.publish(&self.core.channels.response, body).await
    }
}
