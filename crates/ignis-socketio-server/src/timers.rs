//! One timer task per helper for every socket's authentication deadline and
//! application `ping`, instead of one or two tokio tasks per socket: an idle
//! task costs about 1 to 2 KiB per connection, and spawning it CPU on every
//! connect.
//!
//! Timers are never cancelled: when one fires, it looks at the client's
//! current state and does nothing if the client authenticated, was refused or
//! is gone. A ping keeps its phase: it is due every `ping_interval` after the
//! authentication, as the reference's per-socket `setInterval`.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::time::DelayQueue;

use crate::record::ClientRecord;

/// What the timers call back: the core, which owns them.
pub(crate) trait TimerOwner: Send + Sync + 'static {
    /// Emits the application `ping`; false once the socket is gone for good.
    fn ping(&self, record: &ClientRecord) -> bool;
    /// The authentication deadline of a client that has not authenticated
    /// passed. Refusing may wait for the socket to be connected: not on the
    /// timer task, which serves every socket.
    fn auth_deadline_passed(self: Arc<Self>, record: Weak<ClientRecord>);
}

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Refuse the client if it has not authenticated by now.
    AuthDeadline,
    /// Emit the application `ping`, then again one interval later.
    Ping(Duration),
}

struct Scheduled {
    due: Due,
    record: Weak<ClientRecord>,
    after: Duration,
}

/// The handle the core keeps; the task starts with the first timer, inside
/// the runtime that serves the sockets.
#[derive(Default)]
pub(crate) struct Timers {
    tx: OnceLock<mpsc::UnboundedSender<Scheduled>>,
}

impl Timers {
    /// Refuses `record` after `timeout` unless it authenticated.
    pub(crate) fn auth_deadline<O: TimerOwner>(
        &self,
        owner: &Arc<O>,
        record: &Arc<ClientRecord>,
        timeout: Duration,
    ) {
        self.schedule(owner, Due::AuthDeadline, record, timeout);
    }

    /// Pings `record` every `interval` from now on, while it is open.
    pub(crate) fn start_ping<O: TimerOwner>(
        &self,
        owner: &Arc<O>,
        record: &Arc<ClientRecord>,
        interval: Duration,
    ) {
        self.schedule(owner, Due::Ping(interval), record, interval);
    }

    fn schedule<O: TimerOwner>(
        &self,
        owner: &Arc<O>,
        due: Due,
        record: &Arc<ClientRecord>,
        after: Duration,
    ) {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(Arc::downgrade(owner), rx));
            tx
        });
        // Fails only once the task is gone, which happens with the owner.
        let _ = tx.send(Scheduled {
            due,
            record: Arc::downgrade(record),
            after,
        });
    }
}

/// Runs until the owner (the only sender) is dropped.
async fn run<O: TimerOwner>(owner: Weak<O>, mut scheduled: mpsc::UnboundedReceiver<Scheduled>) {
    let mut queue: DelayQueue<(Due, Weak<ClientRecord>)> = DelayQueue::new();
    loop {
        tokio::select! {
            next = scheduled.recv() => match next {
                Some(s) => {
                    queue.insert((s.due, s.record), s.after);
                }
                None => return,
            },
            Some(expired) = queue.next(), if !queue.is_empty() => {
                let deadline = expired.deadline();
                let (due, weak) = expired.into_inner();
                let Some(record) = weak.upgrade() else { continue };
                let Some(owner) = owner.upgrade() else { return };
                match due {
                    Due::Ping(interval) => {
                        if owner.ping(&record) {
                            queue.insert_at((due, weak), deadline + interval);
                        }
                    }
                    Due::AuthDeadline => {
                        if record.lock().awaits_authentication() {
                            owner.auth_deadline_passed(weak);
                        }
                    }
                }
            }
        }
    }
}
