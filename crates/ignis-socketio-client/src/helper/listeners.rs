//! The helper's own listeners on its client: lifecycle, `authenticated`,
//! `unauthenticated` and `ping`. They hold the helper weakly (the client's
//! registry must not keep the helper alive) and are never removed by the
//! user's unsubscribe calls.

use std::future::Future;
use std::sync::{Arc, Weak};

use ignis_socketio_protocol::{ClientState, events};
use serde_json::Value;

use super::core::HelperInner;
use crate::dispatch::lock;
use crate::handler::{Callback, callback, run_contained};
use crate::{ClientError, Event};

/// Wraps a listener of the helper so that it holds the helper weakly.
fn system<A, F, Fut>(weak: &Weak<HelperInner>, f: F) -> Callback<A>
where
    A: Send + 'static,
    F: Fn(Arc<HelperInner>, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let weak = weak.clone();
    let f = Arc::new(f);
    callback(move |arg: A| {
        let helper = weak.upgrade();
        let f = f.clone();
        async move {
            if let Some(helper) = helper {
                f(helper, arg).await;
            }
        }
    })
}

/// Registers the helper's listeners on its client.
pub(crate) fn install(this: &Arc<HelperInner>) {
    let weak = Arc::downgrade(this);
    let client = &this.client;

    client.on_connect_system(system(&weak, |helper, sid: String| async move {
        tracing::info!(id = %helper.identifier, sid = %sid, "Connected");
        if let Some(cb) = helper.callbacks.connected.clone() {
            run_contained(&cb, (), "on_connected").await;
        }
        if helper.settings.auto_authenticate {
            let credentials = helper.settings.credentials.clone();
            if let Err(error) = helper.request_authentication(credentials) {
                tracing::warn!(id = %helper.identifier, %error, "Automatic authentication not sent");
            }
        }
    }));

    client.on_disconnect_system(system(&weak, |helper, reason: String| async move {
        tracing::info!(id = %helper.identifier, %reason, "Disconnected");
        helper.end_authentication(ClientState::Unauthorized);
        if let Some(cb) = helper.callbacks.disconnected.clone() {
            run_contained(&cb, reason, "on_disconnected").await;
        }
    }));

    client.on_error_system(system(&weak, |helper, error: ClientError| async move {
        tracing::error!(id = %helper.identifier, %error, "Connection error");
        helper.report_error(error).await;
    }));

    client.on_system(
        events::AUTHENTICATED,
        system(&weak, |helper, event: Event| async move {
            if helper.state() != ClientState::Authenticating {
                // FIX: the reference accepts an unrequested `authenticated`.
                tracing::warn!(id = %helper.identifier, state = %helper.state(),
                    "Ignoring an authenticated event this client did not ask for");
                return;
            }
            tracing::info!(id = %helper.identifier, data = %event.data(), "Authenticated");
            helper.end_authentication(ClientState::Authenticated);
            if let Some(cb) = helper.callbacks.authenticated.clone() {
                run_contained(&cb, event.data().clone(), "on_authenticated").await;
            }
            let rooms: Vec<String> = lock(&helper.rooms).iter().cloned().collect();
            if helper.settings.rejoin_rooms && !rooms.is_empty() {
                // Not awaited here: the answer is read by the dispatcher we are running on.
                tokio::spawn(async move {
                    if let Err(error) = helper.join_rooms(rooms).await {
                        tracing::warn!(%error, "Re-joining rooms failed");
                    }
                });
            }
        }),
    );

    client.on_system(
        events::UNAUTHENTICATE,
        system(&weak, |helper, event: Event| async move {
            tracing::warn!(id = %helper.identifier, data = %event.data(), "Unauthenticated");
            helper.end_authentication(ClientState::Unauthorized);
            let message = event
                .data()
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(cb) = helper.callbacks.unauthenticated.clone() {
                run_contained(&cb, message, "on_unauthenticated").await;
            }
        }),
    );

    client.on_system(
        events::PING,
        system(&weak, |helper, _event: Event| async move {
            tracing::debug!(id = %helper.identifier, "Ping received");
        }),
    );
}
