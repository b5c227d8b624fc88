//! The engine adapter speaking the `@socket.io/redis-adapter` 8.3 classic
//! protocol: what this node sends to the fleet. What it receives from the
//! fleet is in `receive.rs`; the requests it waits on in `requests.rs`.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::io::{
    Adapter, AdapterError, AdapterFuture, BroadcastOptions, Namespace, SocketSummary,
};
use rmpv::Value as Mp;
use tokio::sync::mpsc;

use crate::error::RedisAdapterError;
use crate::info::SocketInfo;
use crate::message::{Membership, MembershipTarget, RequestBody, ResponseBody};
use crate::requests::{NsCore, Pending};
use crate::shared::{ChannelKind, NsHandler, Shared};
use crate::value::{args_to_mp, mp_to_args};
use crate::wire::{BroadcastMessage, WireOpts};

/// The Redis adapter of one namespace. Get it from
/// [`RedisAdapterState::adapter`](crate::RedisAdapterState::adapter) and hand it to the server helper
/// (`build_with_adapter`) or to the engine (`SocketIo::ns_with_adapter`).
pub struct RedisAdapter {
    pub(crate) core: Arc<NsCore>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) ns: OnceLock<Weak<Namespace>>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("nsp", &self.core.path)
            .field("uid", &self.core.uid)
            .finish()
    }
}

fn adapter_err(e: RedisAdapterError) -> AdapterError {
    AdapterError::new("Redis", e)
}

/// The wire's `{rooms, except}` of engine options.
fn wire_opts(options: &BroadcastOptions) -> WireOpts {
    let mut except: Vec<String> = Vec::new();
    for room in &options.except {
        if !except.contains(room) {
            except.push(room.clone());
        }
    }
    WireOpts {
        rooms: options.rooms.clone(),
        targets_nothing: false,
        except,
        flags: Vec::new(),
    }
}

impl RedisAdapter {
    /// The adapter of namespace `nsp` on a server's connections.
    pub(crate) fn new(shared: Arc<Shared>, nsp: &str) -> Arc<RedisAdapter> {
        let adapter = Arc::new(RedisAdapter {
            core: NsCore::new(shared.link.clone(), nsp),
            shared,
            ns: OnceLock::new(),
        });
        adapter.register_routes();
        adapter
    }

    pub(crate) fn namespace(&self) -> Option<Arc<Namespace>> {
        self.ns.get().and_then(Weak::upgrade)
    }

    /// Publishes a join/leave/disconnect request (applied locally by the caller).
    async fn publish_membership(
        &self,
        action: Membership,
        options: &BroadcastOptions,
        rooms: &[String],
    ) -> Result<(), AdapterError> {
        let target = MembershipTarget::Sockets {
            opts: wire_opts(options),
            rooms: rooms.to_vec(),
        };
        let request = self
            .core
            .request_of(None, RequestBody::Membership { action, target });
        self.core
            .publish(&self.core.channels.request, request.encode())
            .await
            .map_err(adapter_err)
    }

    /// Drops the routes of this adapter and the subscriptions (a namespace
    /// re-created with the same path may already own the routes).
    fn close_routes(&self) {
        let me = self as *const Self as *const ();
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
                self.channels(),
                vec![self.core.channels.broadcast_pattern.clone()],
            );
        }
    }

    /// The channels the namespace SUBSCRIBEs to.
    fn channels(&self) -> Vec<String> {
        let core = &self.core;
        vec![
            core.channels.request.clone(),
            core.channels.response.clone(),
            core.specific_response.clone(),
        ]
    }

    /// Routes the namespace's channels to this adapter (at creation, so
    /// that the subscriber's messages find it as soon as it subscribes).
    fn register_routes(self: &Arc<Self>) {
        let core = &self.core;
        let handler: Arc<dyn NsHandler> = self.clone();
        let weak: Weak<dyn NsHandler> = Arc::downgrade(&handler);
        if let Ok(mut routes) = self.shared.routes.write() {
            routes.channels.insert(
                core.channels.request.clone(),
                (ChannelKind::Request, weak.clone()),
            );
            for channel in [&core.channels.response, &core.specific_response] {
                routes
                    .channels
                    .insert(channel.clone(), (ChannelKind::Response, weak.clone()));
            }
            routes.patterns.insert(
                core.channels.broadcast_pattern.clone(),
                (ChannelKind::Broadcast, weak.clone()),
            );
        }
        if let Ok(mut namespaces) = self.shared.namespaces.write() {
            namespaces.insert(core.path.clone(), weak);
        }
    }

    /// This node's sockets matching `rooms`/`except`, with their details.
    pub(crate) fn local_socket_infos(
        &self,
        rooms: &[String],
        except: &[String],
    ) -> Vec<SocketInfo> {
        let Some(ns) = self.namespace() else {
            return Vec::new();
        };
        let options = BroadcastOptions {
            rooms: rooms.to_vec(),
            except: except.to_vec(),
            local: true,
        };
        ns.local_targets(&options)
            .into_iter()
            .map(|socket| {
                let id = socket.id().to_owned();
                let details = self.shared.socket_details(&self.core.path, &id);
                let mut rooms = socket.rooms();
                rooms.sort();
                SocketInfo {
                    id,
                    rooms,
                    handshake: details.handshake,
                    data: ns.fleet_data(&socket, details.data),
                }
            })
            .collect()
    }
}

impl Adapter for RedisAdapter {
    fn init(&self, ns: Weak<Namespace>) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async move {
            let _ = self.ns.set(ns);
            let channels = self.channels();
            let patterns = vec![self.core.channels.broadcast_pattern.clone()];
            let Some(subscriber) = self.shared.subscriber.get() else {
                return Err(AdapterError::msg("the Redis subscriber is not running"));
            };
            match subscriber.subscribe(channels, patterns).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(adapter_err(e)),
                Err(_) => Err(AdapterError::msg("the Redis subscriber stopped")),
            }
        })
    }

    fn broadcast<'a>(
        &'a self,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        Box::pin(async move {
            let mut data = vec![Mp::from(event)];
            data.extend(args_to_mp(args));
            let msg = BroadcastMessage {
                uid: self.core.uid.clone(),
                data,
                nsp: self.core.path.clone(),
                opts: wire_opts(options),
            };
            let channel = self.core.channels.broadcast_channel(&msg.opts.rooms);
            self.core
                .publish(&channel, msg.encode(false))
                .await
                .map_err(adapter_err)
        })
    }

    fn broadcast_with_ack<'a>(
        &'a self,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
        timeout: Duration,
    ) -> AdapterFuture<'a, Result<Vec<Args>, AdapterError>> {
        Box::pin(async move {
            let remote_servers = self
                .core
                .server_count()
                .await
                .map_err(adapter_err)?
                .saturating_sub(1);
            if remote_servers == 0 {
                return Ok(Vec::new());
            }
            let mut wire = wire_opts(options);
            let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            wire.flags.push(("timeout".to_owned(), Mp::from(millis)));
            let mut data = vec![Mp::from(event)];
            data.extend(args_to_mp(args));
            let (events_tx, events_rx) = mpsc::unbounded_channel();
            let mut request = self.core.request_of(
                None,
                RequestBody::Broadcast {
                    data,
                    nsp: self.core.path.clone(),
                    opts: wire,
                },
            );
            let id = self.core.register(Pending {
                kind: request.kind(),
                responses: events_tx,
            });
            request.request_id = Some(id.clone());
            let body = request.encode();
            if let Err(e) = self.core.publish(&self.core.channels.request, body).await {
                self.core.unregister(&id);
                return Err(adapter_err(e));
            }
            let deadline = tokio::time::Instant::now() + timeout + self.core.requests_timeout();
            Ok(collect_remote_acks(&self.core, &id, remote_servers, events_rx, deadline).await)
        })
    }

    fn add_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
        rooms: &'a [String],
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        Box::pin(self.publish_membership(Membership::Join, options, rooms))
    }

    fn del_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
        rooms: &'a [String],
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        Box::pin(self.publish_membership(Membership::Leave, options, rooms))
    }

    fn disconnect_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        Box::pin(self.publish_membership(Membership::Disconnect { close: false }, options, &[]))
    }

    fn fetch_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<Vec<SocketSummary>, AdapterError>> {
        Box::pin(async move {
            let wire = wire_opts(options);
            let sockets = self
                .core
                .remote_fetch(wire.rooms, wire.except)
                .await
                .map_err(adapter_err)?;
            Ok(sockets
                .into_iter()
                .map(|s| SocketSummary {
                    id: s.id,
                    rooms: s.rooms,
                    handshake: Some(s.handshake),
                    data: Some(s.data),
                })
                .collect())
        })
    }

    fn rooms(&self) -> AdapterFuture<'_, Result<Vec<String>, AdapterError>> {
        Box::pin(async move { self.core.remote_rooms().await.map_err(adapter_err) })
    }

    fn close(&self) -> AdapterFuture<'_, ()> {
        Box::pin(async move { self.close_routes() })
    }
}

/// Collects the other servers' acknowledgements: every server first says how
/// many clients it asked, then each answer arrives; until all are in or the
/// deadline passes.
async fn collect_remote_acks(
    core: &NsCore,
    id: &str,
    servers: usize,
    mut events: mpsc::UnboundedReceiver<ResponseBody>,
    deadline: tokio::time::Instant,
) -> Vec<Args> {
    let (mut answered, mut expected) = (0usize, 0u64);
    let mut acks = Vec::new();
    while answered < servers || (acks.len() as u64) < expected {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ResponseBody::BroadcastClientCount(n))) => {
                answered += 1;
                expected += n;
            }
            Ok(Some(ResponseBody::BroadcastAck(packet))) => acks.push(mp_to_args(vec![packet])),
            // A response to a broadcast decodes to one of the two above.
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    core.unregister(id);
    acks
}
