//! A client's lifecycle as one state: every transition is a method that
//! says whether it applied, so a combination such as "authenticated and
//! refused" or "closed but ready" cannot be represented.
//!
//! ```text
//! Unauthorized ──begin_authenticating──▶ Authenticating ──accept──▶ Authenticated ──mark_ready──▶ (ready)
//!      │                                   │    ▲ begin/end_announcing (observers told, no lock held)
//!      └──refuse_at_deadline──▶ Refused ◀──┘ refuse (authenticator said no, or the deadline passed)
//! any ──close──▶ Closed (final; keeps the last state for snapshots)
//! ```

use std::sync::Arc;
use std::time::SystemTime;

use ignis_socketio_protocol::ClientState;

use crate::Identity;

/// What an authenticated client carries.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    /// Shared with every `AuthenticatedClient` handed to handlers (no copy per event).
    pub(crate) identity: Arc<Identity>,
    pub(crate) at: SystemTime,
}

/// The state of one client of this node.
#[derive(Debug, Default)]
pub(crate) enum Lifecycle {
    /// Connected, waiting for `authenticate`; the deadline applies.
    #[default]
    Unauthorized,
    /// The authenticator is running; `announcing` while the observers are
    /// told of its acceptance (no lock is held meanwhile).
    Authenticating { announcing: bool },
    /// Accepted; `ready` once the client-connected handler returned, from
    /// when application events are dispatched.
    Authenticated { accepted: Accepted, ready: bool },
    /// Refused (authenticator or deadline): being disconnected, may not retry.
    Refused,
    /// Torn down: nothing may touch the socket's rooms any more.
    Closed {
        /// The state when it closed, for snapshots.
        last: ClientState,
        accepted: Option<Accepted>,
        /// Closed while the observers were being told of the authentication:
        /// the authenticating task tells them of the disconnect once they returned.
        disconnect_deferred: bool,
    },
}

/// What `begin_authenticating` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Now authenticating.
    Started,
    /// Refused or closed: ignore the request silently.
    Gone,
    /// Already authenticating or authenticated: answer with this state.
    Already(ClientState),
}

impl Lifecycle {
    /// The state as the protocol names it.
    pub(crate) fn state(&self) -> ClientState {
        match self {
            Lifecycle::Unauthorized | Lifecycle::Refused => ClientState::Unauthorized,
            Lifecycle::Authenticating { .. } => ClientState::Authenticating,
            Lifecycle::Authenticated { .. } => ClientState::Authenticated,
            Lifecycle::Closed { last, .. } => *last,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self, Lifecycle::Closed { .. })
    }

    /// The identity and time of the authentication, also after closing.
    pub(crate) fn accepted(&self) -> Option<&Accepted> {
        match self {
            Lifecycle::Authenticated { accepted, .. } => Some(accepted),
            Lifecycle::Closed { accepted, .. } => accepted.as_ref(),
            _ => None,
        }
    }

    /// The identity while authenticated and open.
    pub(crate) fn identity(&self) -> Option<Arc<Identity>> {
        match self {
            Lifecycle::Authenticated { accepted, .. } => Some(accepted.identity.clone()),
            _ => None,
        }
    }

    /// Whether the authentication deadline still applies.
    pub(crate) fn awaits_authentication(&self) -> bool {
        matches!(
            self,
            Lifecycle::Unauthorized | Lifecycle::Authenticating { .. }
        )
    }

    /// `Some(true)` once events may be dispatched, `Some(false)` once they
    /// never will (closed), `None` while pending.
    pub(crate) fn readiness(&self) -> Option<bool> {
        match self {
            Lifecycle::Authenticated { ready: true, .. } => Some(true),
            Lifecycle::Closed { .. } => Some(false),
            _ => None,
        }
    }

    /// Unauthorized → Authenticating.
    pub(crate) fn begin_authenticating(&mut self) -> Begin {
        match self {
            Lifecycle::Unauthorized => {
                *self = Lifecycle::Authenticating { announcing: false };
                Begin::Started
            }
            Lifecycle::Refused | Lifecycle::Closed { .. } => Begin::Gone,
            other => Begin::Already(other.state()),
        }
    }

    /// Authenticating → Refused (the authenticator said no). False when the
    /// client is gone or was refused meanwhile.
    pub(crate) fn refuse(&mut self) -> bool {
        if matches!(self, Lifecycle::Authenticating { .. }) {
            *self = Lifecycle::Refused;
            return true;
        }
        false
    }

    /// Unauthorized or Authenticating (observers not yet told) → Refused, at
    /// the authentication deadline. False when it no longer applies.
    pub(crate) fn refuse_at_deadline(&mut self) -> bool {
        if matches!(
            self,
            Lifecycle::Unauthorized | Lifecycle::Authenticating { announcing: false }
        ) {
            *self = Lifecycle::Refused;
            return true;
        }
        false
    }

    /// Authenticating → announcing to the observers. False when the client is
    /// gone or was refused meanwhile.
    pub(crate) fn begin_announcing(&mut self) -> bool {
        match self {
            Lifecycle::Authenticating { announcing } => {
                *announcing = true;
                true
            }
            _ => false,
        }
    }

    /// The observers returned. True when the client closed meanwhile and
    /// the caller now tells the observers of the disconnect.
    pub(crate) fn end_announcing(&mut self) -> bool {
        match self {
            Lifecycle::Authenticating { announcing } => {
                *announcing = false;
                false
            }
            Lifecycle::Closed {
                disconnect_deferred,
                ..
            } => std::mem::take(disconnect_deferred),
            _ => false,
        }
    }

    /// Authenticating → Authenticated (not ready yet). False when the
    /// client is gone or was refused meanwhile.
    pub(crate) fn accept(&mut self, identity: Arc<Identity>) -> bool {
        if !matches!(self, Lifecycle::Authenticating { .. }) {
            return false;
        }
        *self = Lifecycle::Authenticated {
            accepted: Accepted {
                identity,
                at: SystemTime::now(),
            },
            ready: false,
        };
        true
    }

    /// Authenticated → ready: application events are dispatched.
    pub(crate) fn mark_ready(&mut self) {
        if let Lifecycle::Authenticated { ready, .. } = self {
            *ready = true;
        }
    }

    /// Any → Closed. `None` when it was closed already; otherwise whether
    /// the caller tells the observers of the disconnect now (false: the
    /// authenticating task does, once the observers returned).
    pub(crate) fn close(&mut self) -> Option<bool> {
        if self.is_closed() {
            return None;
        }
        let announcing = matches!(self, Lifecycle::Authenticating { announcing: true });
        *self = Lifecycle::Closed {
            last: self.state(),
            accepted: self.accepted().cloned(),
            disconnect_deferred: announcing,
        };
        Some(!announcing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Arc<Identity> {
        Arc::new(Identity::new("u"))
    }

    #[test]
    fn the_happy_path_ends_ready_and_closes_once() {
        let mut life = Lifecycle::default();
        assert!(life.awaits_authentication());
        assert_eq!(life.begin_authenticating(), Begin::Started);
        assert!(life.begin_announcing());
        assert!(!life.end_announcing());
        assert!(life.accept(identity()));
        assert_eq!(life.readiness(), None);
        assert!(!life.awaits_authentication());
        assert!(!life.refuse_at_deadline());
        life.mark_ready();
        assert_eq!(life.readiness(), Some(true));
        assert_eq!(life.close(), Some(true));
        assert_eq!(life.close(), None);
        assert_eq!(life.state(), ClientState::Authenticated);
        assert!(life.accepted().is_some());
        assert!(life.identity().is_none());
        assert_eq!(life.readiness(), Some(false));
    }

    #[test]
    fn a_refused_client_cannot_authenticate_again() {
        let mut life = Lifecycle::default();
        assert_eq!(life.begin_authenticating(), Begin::Started);
        assert!(life.refuse());
        assert_eq!(life.state(), ClientState::Unauthorized);
        assert_eq!(life.begin_authenticating(), Begin::Gone);
        assert!(!life.refuse_at_deadline());
        assert!(!life.accept(identity()));
    }

    #[test]
    fn the_deadline_does_not_refuse_once_observers_are_told() {
        let mut life = Lifecycle::default();
        life.begin_authenticating();
        assert_eq!(
            life.begin_authenticating(),
            Begin::Already(ClientState::Authenticating)
        );
        assert!(life.begin_announcing());
        assert!(!life.refuse_at_deadline());
        // Closed while the observers run: the notice is deferred, once.
        assert_eq!(life.close(), Some(false));
        assert!(life.end_announcing());
        assert!(!life.end_announcing());
        assert!(!life.accept(identity()));
    }
}
