//! The admin page's login: a user name and a bcrypt-checked password, or a
//! session id this server handed out after such a login.

use std::collections::HashSet;
use std::sync::Mutex;

use ignis_socketio_engine::io::ConnectRefusal;
use serde_json::Value;

use super::options::AdminAuth;

/// The refusal the page shows (the Node package's message).
const INVALID: &str = "invalid credentials";

/// Session ids kept at most.
const MAX_SESSIONS: usize = 4096;

/// Checks logins; keeps the session ids it handed out (in memory, this server only).
pub(crate) struct Login {
    auth: AdminAuth,
    sessions: Mutex<HashSet<String>>,
}

/// A login that went through.
pub(crate) enum Admitted {
    /// No login needed, or a known session id.
    Known,
    /// Right credentials: the page is sent this new session id.
    NewSession(String),
}

fn field<'a>(auth: &'a Option<Value>, name: &str) -> Option<&'a str> {
    auth.as_ref()?.get(name)?.as_str()
}

impl Login {
    pub(crate) fn new(auth: AdminAuth) -> Self {
        Login {
            auth,
            sessions: Mutex::new(HashSet::new()),
        }
    }

    fn known_session(&self, id: &str) -> bool {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(id)
    }

    /// Admits the CONNECT payload `auth`, or says why not. The bcrypt check
    /// runs on the blocking pool (it takes tens of milliseconds on purpose).
    pub(crate) async fn admit(&self, auth: Option<Value>) -> Result<Admitted, ConnectRefusal> {
        let AdminAuth::Basic {
            username,
            password_hash,
        } = &self.auth
        else {
            return Ok(Admitted::Known);
        };
        if field(&auth, "sessionId").is_some_and(|id| self.known_session(id)) {
            return Ok(Admitted::Known);
        }
        let given_user = field(&auth, "username").unwrap_or_default();
        let password = field(&auth, "password").unwrap_or_default().to_owned();
        let hash = password_hash.clone();
        // Checked even for a wrong user name, so that timing does not tell
        // user names apart.
        let matches = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "admin login check did not finish");
                ConnectRefusal::new(INVALID)
            })?
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "admin login check failed");
                false
            });
        if !(matches && given_user == username) {
            tracing::info!("admin page login refused");
            return Err(ConnectRefusal::new(INVALID));
        }
        let session = ignis_socketio_engine::new_sid();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: past the cap, earlier pages log in again.
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        sessions.insert(session.clone());
        Ok(Admitted::NewSession(session))
    }
}
