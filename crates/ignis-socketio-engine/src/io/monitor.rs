//! What a namespace tells an observer of its sockets (an admin page's feed):
//! sockets coming and going, rooms joined and left, events both ways.
//! Calls happen on the engine's tasks with no namespace lock held; an
//! implementation must return quickly (queue the news, never block).

use super::handler::{DisconnectReason, Event};
use super::socket::Socket;
use crate::codec::Args;

/// Observes one namespace's sockets. Every method has an empty default.
pub trait NamespaceMonitor: Send + Sync + 'static {
    /// The socket entered the namespace (its CONNECT was answered).
    fn socket_connected(&self, socket: &Socket) {
        let _ = socket;
    }

    /// The socket left the namespace (its rooms are still listed).
    fn socket_disconnected(&self, socket: &Socket, reason: &DisconnectReason) {
        let _ = (socket, reason);
    }

    /// A connected socket joined `room` (it was not in it before).
    fn room_joined(&self, socket: &Socket, room: &str) {
        let _ = (socket, room);
    }

    /// A connected socket left `room` (not called when it leaves the namespace).
    fn room_left(&self, socket: &Socket, room: &str) {
        let _ = (socket, room);
    }

    /// The client emitted `event`, before the namespace's handler gets it.
    fn event_received(&self, socket: &Socket, event: &Event) {
        let _ = (socket, event);
    }

    /// An event was sent to this one socket (not broadcasts).
    fn event_sent(&self, socket: &Socket, event: &str, args: &Args) {
        let _ = (socket, event, args);
    }
}
