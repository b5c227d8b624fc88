//! One Engine.IO session's shared state: its outgoing queue (bounded in bytes
//! and packets), what polling requests hand to the session's task, and the
//! close request. The session's task owns everything else.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use crate::codec::{EnginePacket, Frame};

pub(crate) use super::io::{WsIo, WsUpgrade};

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed the transport or sent a close packet.
    TransportClose,
    /// The transport failed (a read or write error).
    TransportError(String),
    /// The client answered no ping in time.
    PingTimeout,
    /// The client sent something that breaks the protocol.
    ProtocolError(String),
    /// More was queued for the client than the bound allows.
    SlowConsumer,
    /// The server closed it (application, shutdown, refused connection).
    ServerClose(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::TransportClose => f.write_str("transport close"),
            CloseReason::TransportError(e) => write!(f, "transport error: {e}"),
            CloseReason::PingTimeout => f.write_str("ping timeout"),
            CloseReason::ProtocolError(e) => write!(f, "protocol error: {e}"),
            CloseReason::SlowConsumer => {
                f.write_str("slow consumer: outgoing queue over its bound")
            }
            CloseReason::ServerClose(why) => write!(f, "server close: {why}"),
        }
    }
}

/// Why a packet was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session is closed or closing.
    #[error("the session is closed")]
    Closed,
    /// The client is too slow: the queue bound was reached and the session is
    /// being closed.
    #[error("the client's outgoing queue is full; it is being disconnected")]
    SlowConsumer,
}

/// Which transport carries the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollState {
    /// Polling, no upgrade under way.
    Polling,
    /// A WebSocket answered the probe: pending and next polls get a noop.
    Probed,
    /// On WebSocket: polling requests are refused.
    Upgraded,
}

#[derive(Default)]
pub(crate) struct Queue {
    pub(crate) frames: VecDeque<Frame>,
    pub(crate) bytes: usize,
}

pub(crate) struct Shared {
    pub(crate) queue: Queue,
    pub(crate) close: Option<CloseReason>,
    pub(crate) closed: bool,
    /// A polling request carried the close packet.
    pub(crate) close_sent: bool,
    /// Packets received by polling POSTs, for the session's task, which
    /// takes them only as fast as the application handles them.
    pub(crate) inbox: VecDeque<EnginePacket>,
    /// A POST is being read or waits for its packets to be taken.
    pub(crate) post_pending: bool,
    /// A GET is waiting for packets.
    pub(crate) poll_pending: bool,
    pub(crate) poll: PollState,
    /// An upgraded WebSocket waiting for the session's task.
    pub(crate) upgrade: Option<Box<WsUpgrade>>,
}

/// One Engine.IO session, shared by its task, the HTTP requests of its
/// polling transport and everything that sends to it.
pub struct Session {
    id: Box<str>,
    pub(crate) shared: Mutex<Shared>,
    /// Wakes the session's task.
    pub(crate) task: AtomicWaker,
    /// Wakes a pending polling GET.
    pub(crate) poll_wake: Notify,
    /// Wakes a polling POST waiting for its packets to be taken.
    pub(crate) inbox_wake: Notify,
    websocket: AtomicBool,
    max_bytes: usize,
    max_packets: usize,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        id: String,
        transport: TransportKind,
        max_bytes: usize,
        max_packets: usize,
    ) -> Session {
        let poll = match transport {
            TransportKind::Polling => PollState::Polling,
            TransportKind::WebSocket => PollState::Upgraded,
        };
        Session {
            id: id.into_boxed_str(),
            shared: Mutex::new(Shared {
                queue: Queue::default(),
                close: None,
                closed: false,
                close_sent: false,
                inbox: VecDeque::new(),
                post_pending: false,
                poll_pending: false,
                poll,
                upgrade: None,
            }),
            task: AtomicWaker::new(),
            poll_wake: Notify::new(),
            inbox_wake: Notify::new(),
            websocket: AtomicBool::new(transport == TransportKind::WebSocket),
            max_bytes,
            max_packets,
        }
    }

    /// The session id (`sid` of the Engine.IO handshake).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The transport currently carrying the session.
    pub fn transport(&self) -> TransportKind {
        if self.websocket.load(Ordering::Relaxed) {
            TransportKind::WebSocket
        } else {
            TransportKind::Polling
        }
    }

    pub(crate) fn set_websocket(&self) {
        self.websocket.store(true, Ordering::Relaxed);
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues frames for the client, all or none. Over the bound, the session
    /// is closed as a slow consumer and nothing is queued.
    pub fn send_frames(&self, frames: &[Frame]) -> Result<(), SendError> {
        let size: usize = frames.iter().map(Frame::len).sum();
        {
            let mut shared = self.lock();
            if shared.closed || shared.close.is_some() {
                return Err(SendError::Closed);
            }
            let queue = &mut shared.queue;
            if queue.bytes + size > self.max_bytes
                || queue.frames.len() + frames.len() > self.max_packets
            {
                shared.close = Some(CloseReason::SlowConsumer);
                drop(shared);
                self.wake();
                return Err(SendError::SlowConsumer);
            }
            queue.bytes += size;
            queue.frames.extend(frames.iter().cloned());
        }
        self.wake();
        Ok(())
    }

    /// Queues one frame (see [`Session::send_frames`]).
    pub fn send(&self, frame: Frame) -> Result<(), SendError> {
        self.send_frames(std::slice::from_ref(&frame))
    }

    /// Asks the session to close once what is queued has been written.
    pub fn close(&self, reason: CloseReason) {
        {
            let mut shared = self.lock();
            if shared.closed || shared.close.is_some() {
                return;
            }
            shared.close = Some(reason);
        }
        self.wake();
    }

    /// Whether the session is closed or closing.
    pub fn is_closed(&self) -> bool {
        let shared = self.lock();
        shared.closed || shared.close.is_some()
    }

    pub(crate) fn wake(&self) {
        self.task.wake();
        self.poll_wake.notify_one();
    }
}
