//! Requests in flight: a namespace's channels and publishing, the requests
//! it sends to the other servers and the answers they are waiting for.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use tokio::sync::mpsc;

use crate::{
    error::RedisAdapterError,
    info::SocketInfo,
    link::Link,
    message::{Request, RequestBody, RequestType, ResponseBody},
    metrics::Operation,
    value::json_to_mp,
    wire::{self, Channels, WireOpts},
};

/// A request waiting for answers: its type (which says how to read a
/// response) and where the decoded responses go.
pub(crate) struct Pending {
    pub(crate) kind: RequestType,
    pub(crate) responses: mpsc::UnboundedSender<ResponseBody>,
}

/// The adapter-independent part of a namespace: channels, publishing, requests.
pub(crate) struct NsCore {
    pub(crate) link: Arc<Link>,
    pub(crate) path: String,
    /// This server's id on the wire (Node uses 6 random characters).
    pub(crate) uid: String,
    pub(crate) channels: Channels,
    pub(crate) specific_response: String,
    pub(crate) requests: Mutex<HashMap<String, Pending>>,
}

impl NsCore {
    pub(crate) fn new(link: Arc<Link>, path: &str) -> Arc<NsCore> {
        let uid = wire::random_id(6);
        let channels = Channels::new(&link.config.key, path);
        Arc::new(NsCore {
            specific_response: channels.specific_response(&uid),
            channels,
            link,
            path: path.to_owned(),
            uid,
            requests: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn requests_timeout(&self) -> Duration {
        self.link.config.requests_timeout
    }

    /// A request of this server: its uid, and `request_id` when it waits for answers.
    pub(crate) fn request_of(&self, request_id: Option<&str>, body: RequestBody) -> Request {
        Request {
            uid: Some(self.uid.clone()),
            request_id: request_id.map(str::to_owned),
            body,
        }
    }

    /// Publishes; on a channel every server subscribes to (broadcasts,
    /// requests: all but responses), a reply that reached fewer servers than
    /// the namespace was seen to have is counted (`short_publishes`).
    pub(crate) async fn publish(
        &self,
        channel: &str,
        payload: Vec<u8>,
    ) -> Result<(), RedisAdapterError> {
        if self.link.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let conn = &self.link.conn;
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
        if self.link.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let request = &self.channels.request;
        self.link.conn.fleet_size(request, request).await
    }

    /// The channel to answer a request of `requester` on.
    pub(crate) fn reply_channel(&self, requester: Option<&str>) -> String {
        match requester {
            Some(uid) if self.link.config.publish_on_specific_response_channel => {
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

    /// Publishes a request with a fresh id and collects one
    /// response per other server. Returns the responses and how many were
    /// expected; fewer than expected is a [`RedisAdapterError::Timeout`] of
    /// `operation`.
    async fn request(
        &self,
        operation: Operation,
        body: RequestBody,
    ) -> Result<Vec<ResponseBody>, RedisAdapterError> {
        let _in_flight = self.link.requests.start(operation);
        let expected = self.server_count().await?.saturating_sub(1);
        if expected == 0 {
            return Ok(Vec::new());
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut request = self.request_of(None, body);
        let id = self.register(Pending {
            kind: request.kind(),
            responses: tx,
        });
        request.request_id = Some(id.clone());
        let published = self.publish(&self.channels.request, request.encode()).await;
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
        if responses.len() < expected {
            return Err(RedisAdapterError::Timeout {
                operation: operation.wire_name(),
                received: responses.len(),
                expected,
            });
        }
        Ok(responses)
    }

    pub(crate) async fn remote_rooms(&self) -> Result<Vec<String>, RedisAdapterError> {
        let responses = self
            .request(Operation::AllRooms, RequestBody::AllRooms)
            .await?;
        Ok(responses
            .into_iter()
            .flat_map(|r| match r {
                ResponseBody::Rooms(rooms) => rooms,
                _ => Vec::new(),
            })
            .collect())
    }

    pub(crate) async fn remote_fetch(
        &self,
        rooms: Vec<String>,
        except: Vec<String>,
    ) -> Result<Vec<SocketInfo>, RedisAdapterError> {
        let opts = WireOpts {
            rooms,
            except,
            ..WireOpts::default()
        };
        let responses = self
            .request(Operation::FetchSockets, RequestBody::RemoteFetch { opts })
            .await?;
        Ok(responses
            .into_iter()
            .flat_map(|r| match r {
                ResponseBody::Sockets(sockets) => sockets,
                _ => Vec::new(),
            })
            .collect())
    }

    fn server_side_emit_body(event: &str, args: Vec<serde_json::Value>) -> RequestBody {
        let mut data = vec![rmpv::Value::from(event)];
        data.extend(args.into_iter().map(json_to_mp));
        RequestBody::ServerSideEmit { data }
    }

    pub(crate) async fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<(), RedisAdapterError> {
        let request = self.request_of(None, Self::server_side_emit_body(event, args));
        self.publish(&self.channels.request, request.encode()).await
    }

    pub(crate) async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, RedisAdapterError> {
        let responses = self
            .request(
                Operation::ServerSideEmit,
                Self::server_side_emit_body(event, args),
            )
            .await?;
        Ok(responses
            .into_iter()
            .map(|r| match r {
                ResponseBody::ServerSideEmitAck(data) => data,
                _ => serde_json::Value::Null,
            })
            .collect())
    }
}
