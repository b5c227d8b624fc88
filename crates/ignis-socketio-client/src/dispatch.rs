//! The listener registry and the dispatcher task that runs handlers one at a
//! time, in the order events arrive, so that a slow or failing handler never
//! blocks the socket or kills the client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use crate::ClientError;
use crate::event::Event;
use crate::handler::{Callback, HandlerId, run_contained};

/// Locks a mutex, recovering the data if a panicking thread poisoned it
/// (handlers run outside these locks, so the data is always consistent).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct Listener<A> {
    pub(crate) id: HandlerId,
    /// The helper's own listener: runs first, never removed by the user.
    pub(crate) system: bool,
    pub(crate) callback: Callback<A>,
}

impl<A> Clone for Listener<A> {
    fn clone(&self) -> Self {
        Listener {
            id: self.id,
            system: self.system,
            callback: self.callback.clone(),
        }
    }
}

/// Handlers by kind. System listeners (the helper's own) come first and are
/// never removed by the user-facing removal methods.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) events: HashMap<String, Vec<Listener<Event>>>,
    pub(crate) any: Vec<Listener<Event>>,
    pub(crate) connect: Vec<Listener<String>>,
    pub(crate) disconnect: Vec<Listener<String>>,
    pub(crate) error: Vec<Listener<ClientError>>,
}

fn ordered<A>(list: &[Listener<A>]) -> Vec<Listener<A>> {
    let mut out: Vec<_> = list.iter().filter(|l| l.system).cloned().collect();
    out.extend(list.iter().filter(|l| !l.system).cloned());
    out
}

impl Registry {
    /// Removes the user listener `id`; returns whether it existed.
    pub(crate) fn remove(&mut self, id: HandlerId) -> bool {
        fn take<A>(list: &mut Vec<Listener<A>>, id: HandlerId) -> bool {
            let before = list.len();
            list.retain(|l| l.system || l.id != id);
            list.len() != before
        }
        let mut removed = self.events.values_mut().any(|list| take(list, id));
        removed |= take(&mut self.any, id);
        removed |= take(&mut self.connect, id);
        removed |= take(&mut self.disconnect, id);
        removed |= take(&mut self.error, id);
        self.events.retain(|_, list| !list.is_empty());
        removed
    }

    /// Removes every user listener of `event`; returns how many.
    pub(crate) fn remove_event(&mut self, event: &str) -> usize {
        let Some(list) = self.events.get_mut(event) else {
            return 0;
        };
        let before = list.len();
        list.retain(|l| l.system);
        let removed = before - list.len();
        if list.is_empty() {
            self.events.remove(event);
        }
        removed
    }

    /// Number of user listeners of `event`.
    pub(crate) fn count(&self, event: &str) -> usize {
        self.events
            .get(event)
            .map_or(0, |list| list.iter().filter(|l| !l.system).count())
    }

    pub(crate) fn clear(&mut self) {
        *self = Registry::default();
    }
}

/// What the dispatcher hands to the listeners.
pub(crate) enum Dispatch {
    Event(Event),
    Connected(String),
    Disconnected(String),
    Error(ClientError),
}

/// Runs the listeners of every dispatched item, one at a time.
pub(crate) async fn run_dispatcher(
    registry: Arc<Mutex<Registry>>,
    mut rx: mpsc::Receiver<Dispatch>,
) {
    while let Some(item) = rx.recv().await {
        match item {
            Dispatch::Event(event) => {
                let (own, any) = {
                    let registry = lock(&registry);
                    let own = registry
                        .events
                        .get(event.name())
                        .map(|l| ordered(l))
                        .unwrap_or_default();
                    (own, ordered(&registry.any))
                };
                if own.is_empty() && any.is_empty() {
                    tracing::debug!(event = %event.name(), "No handler for event");
                }
                for listener in own.iter().chain(any.iter()) {
                    run_contained(&listener.callback, event.clone(), event.name()).await;
                }
            }
            Dispatch::Connected(sid) => run_all(&registry, |r| &r.connect, sid, "connect").await,
            Dispatch::Disconnected(reason) => {
                run_all(&registry, |r| &r.disconnect, reason, "disconnect").await
            }
            Dispatch::Error(error) => run_all(&registry, |r| &r.error, error, "error").await,
        }
    }
}

async fn run_all<A: Clone>(
    registry: &Mutex<Registry>,
    list: impl FnOnce(&Registry) -> &Vec<Listener<A>>,
    arg: A,
    what: &str,
) {
    let listeners = ordered(list(&lock(registry)));
    for listener in listeners {
        run_contained(&listener.callback, arg.clone(), what).await;
    }
}
