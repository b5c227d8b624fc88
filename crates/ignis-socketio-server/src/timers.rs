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
use tracing::Instrument;

use crate::core::Core;
use crate::record::ClientRecord;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Refuse the client if it has not authenticated by now.
    AuthDeadline,
    /// Emit the application `ping`, then again one interval later.
    Ping,
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
    /// Refuses `record` after the core's `auth_timeout` unless it authenticated.
    pub(crate) fn auth_deadline(&self, core: &Arc<Core>, record: &Arc<ClientRecord>) {
        self.schedule(core, Due::AuthDeadline, record, core.options.auth_timeout);
    }

    /// Pings `record` every `ping_interval` from now on, while it is open.
    pub(crate) fn start_ping(&self, core: &Arc<Core>, record: &Arc<ClientRecord>) {
        self.schedule(core, Due::Ping, record, core.options.ping_interval);
    }

    fn schedule(&self, core: &Arc<Core>, due: Due, record: &Arc<ClientRecord>, after: Duration) {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(Arc::downgrade(core), rx, core.options.ping_interval));
            tx
        });
        // Fails only once the task is gone, which happens with the core.
        let _ = tx.send(Scheduled {
            due,
            record: Arc::downgrade(record),
            after,
        });
    }
}

/// Runs until the core (the only sender) is dropped.
async fn run(
    core: Weak<Core>,
    mut scheduled: mpsc::UnboundedReceiver<Scheduled>,
    ping_interval: Duration,
) {
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
                match due {
                    Due::Ping => {
                        if Core::send_ping(&record) {
                            queue.insert_at((due, weak), deadline + ping_interval);
                        }
                    }
                    Due::AuthDeadline => {
                        if record.awaits_authentication() {
                            // Refusing may wait for the socket to be connected:
                            // not on this task, which serves every socket.
                            let span = record.span.clone();
                            tokio::spawn(Core::auth_timer_fired(core.clone(), weak).instrument(span));
                        }
                    }
                }
            }
        }
    }
}
