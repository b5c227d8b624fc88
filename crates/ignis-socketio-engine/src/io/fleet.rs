//! A namespace's operations across the fleet: this node's sockets are served
//! first, then the adapter carries the operation to the other nodes (unless
//! the options say `local`).

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::adapter::{AdapterError, BroadcastOptions, SocketSummary};
use super::frames;
use super::socket::AckError;
use super::types::Namespace;
use super::types::Socket;
use crate::codec::Args;

/// One answer to a broadcast with acknowledgements: the socket's id (`None`
/// for answers from other nodes, which do not say) and its arguments or why
/// none came.
pub type AckAnswer = (Option<String>, Result<Args, AckError>);

/// One local socket's acknowledgement: its id and the answer.
pub type LocalAck =
    std::pin::Pin<Box<dyn Future<Output = (String, Result<Args, AckError>)> + Send + 'static>>;

/// This node's acknowledgements, each as it arrives.
pub type LocalAcks = FuturesUnordered<LocalAck>;

impl Namespace {
    /// Sends an event to every matching socket of the fleet. The adapter
    /// carries it to the other nodes first: when that fails, nobody got it
    /// (this node's sockets neither), so a retry delivers once. Then this
    /// node's sockets are served (the packet is encoded once and shared); a
    /// client too slow to take it is disconnected (the engine's queue bound),
    /// which does not fail the broadcast.
    pub async fn broadcast(
        &self,
        options: &BroadcastOptions,
        event: &str,
        args: &Args,
    ) -> Result<(), AdapterError> {
        if !options.local {
            self.adapter.broadcast(event, args, options).await?;
        }
        self.local_broadcast(options, event, args);
        Ok(())
    }

    /// Sends an event to this node's matching sockets only, at once (what an
    /// adapter calls for a broadcast that came from another node: calling it
    /// in arrival order keeps that order).
    pub fn local_broadcast(&self, options: &BroadcastOptions, event: &str, args: &Args) {
        let frames = frames::shared(frames::event(self.name(), event, args, None));
        for socket in self.local_targets(options) {
            if let Err(error) = socket.send_frames(&frames) {
                tracing::debug!(socket_id = %socket.id(), %error, "broadcast not queued");
            }
        }
    }

    /// Sends an event to this node's matching sockets; returns how many and
    /// the stream of their acknowledgements, each as it arrives.
    pub fn local_broadcast_with_ack(
        &self,
        options: &BroadcastOptions,
        event: &str,
        args: &Args,
        timeout: Duration,
    ) -> (usize, LocalAcks) {
        let id = self.next_ack_id();
        let frames = frames::shared(frames::event(self.name(), event, args, Some(id)));
        let waits: LocalAcks = self
            .local_targets(options)
            .into_iter()
            .map(|socket: Socket| {
                let frames = frames.clone();
                let wait: LocalAck = Box::pin(async move {
                    let rx = socket.register_ack(id);
                    let result = match socket.send_frames(&frames) {
                        Ok(()) => socket.wait_ack(id, rx, timeout).await,
                        Err(error) => Err(AckError::Send(error)),
                    };
                    (socket.id().to_owned(), result)
                });
                wait
            })
            .collect();
        (waits.len(), waits)
    }

    /// Sends an event to the fleet's matching sockets and collects their
    /// acknowledgements (or why each local one is missing).
    pub async fn broadcast_with_ack(
        &self,
        options: &BroadcastOptions,
        event: &str,
        args: &Args,
        timeout: Duration,
    ) -> Result<Vec<AckAnswer>, AdapterError> {
        let (_, local) = self.local_broadcast_with_ack(options, event, args, timeout);
        let local = local
            .map(|(id, result)| (Some(id), result))
            .collect::<Vec<_>>();
        if options.local {
            return Ok(local.await);
        }
        let remote = self
            .adapter
            .broadcast_with_ack(event, args, options, timeout);
        let (mut answers, remote) = futures_util::join!(local, remote);
        answers.extend(remote?.into_iter().map(|args| (None, Ok(args))));
        Ok(answers)
    }

    /// Makes the fleet's matching sockets join `rooms`.
    pub async fn add_sockets(
        &self,
        options: &BroadcastOptions,
        rooms: &[String],
    ) -> Result<(), AdapterError> {
        for socket in self.local_targets(options) {
            socket.join(rooms);
        }
        if options.local {
            return Ok(());
        }
        self.adapter.add_sockets(options, rooms).await
    }

    /// Makes the fleet's matching sockets leave `rooms`.
    pub async fn del_sockets(
        &self,
        options: &BroadcastOptions,
        rooms: &[String],
    ) -> Result<(), AdapterError> {
        for socket in self.local_targets(options) {
            socket.leave(rooms);
        }
        if options.local {
            return Ok(());
        }
        self.adapter.del_sockets(options, rooms).await
    }

    /// Disconnects the fleet's matching sockets.
    pub async fn disconnect_sockets(&self, options: &BroadcastOptions) -> Result<(), AdapterError> {
        for socket in self.local_targets(options) {
            socket.disconnect();
        }
        if options.local {
            return Ok(());
        }
        self.adapter.disconnect_sockets(options).await
    }

    /// The fleet's matching sockets.
    pub async fn fetch_sockets(
        &self,
        options: &BroadcastOptions,
    ) -> Result<Vec<SocketSummary>, AdapterError> {
        let mut sockets: Vec<SocketSummary> = self
            .local_targets(options)
            .iter()
            .map(|s| SocketSummary {
                id: s.id().to_owned(),
                rooms: s.rooms(),
                handshake: None,
                data: None,
            })
            .collect();
        if !options.local {
            sockets.extend(self.adapter.fetch_sockets(options).await?);
        }
        Ok(sockets)
    }

    /// The fleet's rooms, own-id rooms included (as Node's adapter lists
    /// them), sorted.
    pub async fn all_rooms(&self) -> Result<Vec<String>, AdapterError> {
        let mut rooms: BTreeSet<String> = self.rooms().into_iter().collect();
        rooms.extend(self.sockets().iter().map(|s| s.id().to_owned()));
        rooms.extend(self.adapter.rooms().await?);
        Ok(rooms.into_iter().collect())
    }
}
