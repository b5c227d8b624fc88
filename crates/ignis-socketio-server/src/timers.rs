//! One timer task per helper for every socket's authentication deadline and
//! application `ping`, instead of one or two tokio tasks per socket: an idle
//! task costs about 1 to 2 KiB per connection, and spawning it CPU on every
//! connect.
//!
//! Timers are never cancelled: when one fires, it looks at the client's
//! current state and does nothing if the client authenticated, was refused or
//! is gone. A ping keeps its phase: it is due every `ping_interval` after the
//! authentication, as the reference's per-socket `setInterval`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use std::collections::BinaryHeap;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::types::{ClientRecord, Due, Scheduled, Timers};

/// What the timers call back: the core, which owns them.
pub(crate) trait TimerOwner: Send + Sync + 'static {
    /// Emits the application `ping`; false once the socket is gone for good.
    fn ping(&self, record: &ClientRecord) -> bool;
    /// The authentication deadline of a client that has not authenticated
    /// passed. Refusing may wait for the socket to be connected: not on the
    /// timer task, which serves every socket.
    fn auth_deadline_passed(self: Arc<Self>, record: Weak<ClientRecord>);
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

/// One pending timer: 40 bytes in a binary heap, where a `DelayQueue` slot
/// cost about 90 and grew in larger steps (timers are per connection, so
/// this is per-connection memory).
struct Pending {
    at: Instant,
    due: Due,
    record: Weak<ClientRecord>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// Reversed: the heap's top is the earliest timer.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.at.cmp(&self.at)
    }
}

/// Runs until the owner (the only sender) is dropped.
async fn run<O: TimerOwner>(owner: Weak<O>, mut scheduled: mpsc::UnboundedReceiver<Scheduled>) {
    let mut queue: BinaryHeap<Pending> = BinaryHeap::new();
    loop {
        let next_at = queue.peek().map(|pending| pending.at);
        tokio::select! {
            next = scheduled.recv() => match next {
                Some(s) => queue.push(Pending {
                    at: Instant::now() + s.after,
                    due: s.due,
                    record: s.record,
                }),
                None => return,
            },
            () = sleep_until_some(next_at) => {
                let now = Instant::now();
                while queue.peek().is_some_and(|pending| pending.at <= now) {
                    let Some(Pending { at, due, record: weak }) = queue.pop() else { break };
                    let Some(record) = weak.upgrade() else { continue };
                    let Some(owner) = owner.upgrade() else { return };
                    match due {
                        Due::Ping(interval) => {
                            if owner.ping(&record) {
                                queue.push(Pending { at: at + interval, due, record: weak });
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
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
