//! The state one client's handle, driver and session share: settings, the
//! current link (writer, socket id, connected flag, acks in flight) and the
//! way to the dispatcher.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use ignis_socketio_engine::ws::DeflateParams;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::dispatch::{Dispatch, Registry, lock, run_dispatcher};
use crate::event::Outbound;
use crate::transport::Tls;
use crate::{ClientConfig, ClientError, ClientPayload};

/// The running connection task and the token that stops it.
pub(crate) struct DriverHandle {
    pub(crate) cancel: CancellationToken,
    pub(crate) task: JoinHandle<()>,
}

pub(crate) struct Shared {
    pub(crate) config: ClientConfig,
    pub(crate) tls: Tls,
    pub(crate) namespace: Arc<str>,
    pub(crate) registry: Arc<Mutex<Registry>>,
    pub(crate) acks: Mutex<HashMap<u64, oneshot::Sender<ClientPayload>>>,
    pub(crate) next_ack: AtomicU64,
    pub(crate) next_handler: AtomicU64,
    pub(crate) outbound: Mutex<Option<Outbound>>,
    pub(crate) connected: watch::Sender<bool>,
    pub(crate) sid: Mutex<Option<String>>,
    /// permessage-deflate as agreed for the current connection.
    pub(crate) deflate: Mutex<Option<DeflateParams>>,
    pub(crate) driver: Mutex<Option<DriverHandle>>,
    dispatch: mpsc::Sender<Dispatch>,
    pub(crate) shut_down: AtomicBool,
}

#[cfg(feature = "rustls")]
fn tls(config: &ClientConfig) -> Result<crate::transport::Tls, ClientError> {
    crate::tls::connector(config).map_err(ClientError::Tls)
}

#[cfg(not(feature = "rustls"))]
fn tls(_: &ClientConfig) -> Result<crate::transport::Tls, ClientError> {
    Ok(())
}

impl Shared {
    /// Checks `config` and starts the dispatcher; needs a tokio runtime.
    pub(crate) fn new(config: ClientConfig) -> Result<Shared, ClientError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ClientError::NoRuntime)?;
        config.target()?;
        let namespace = Arc::from(config.checked_namespace()?);
        let registry = Arc::new(Mutex::new(Registry::default()));
        let (dispatch, dispatch_rx) = mpsc::channel(1024);
        runtime.spawn(run_dispatcher(registry.clone(), dispatch_rx));
        Ok(Shared {
            tls: tls(&config)?,
            namespace,
            config,
            registry,
            acks: Mutex::new(HashMap::new()),
            next_ack: AtomicU64::new(0),
            next_handler: AtomicU64::new(1),
            outbound: Mutex::new(None),
            connected: watch::channel(false).0,
            sid: Mutex::new(None),
            deflate: Mutex::new(None),
            driver: Mutex::new(None),
            dispatch,
            shut_down: AtomicBool::new(false),
        })
    }

    /// Forgets the current connection: no writer, no id, not connected.
    pub(crate) fn reset_link(&self) {
        *lock(&self.outbound) = None;
        *lock(&self.sid) = None;
        *lock(&self.deflate) = None;
        self.connected.send_replace(false);
        // Dropping the senders wakes every waiting emit_with_ack with `Disconnected`.
        lock(&self.acks).clear();
    }

    /// Records a new connection.
    pub(crate) fn set_link(&self, outbound: Outbound, sid: &str, deflate: Option<DeflateParams>) {
        *lock(&self.outbound) = Some(outbound);
        *lock(&self.sid) = Some(sid.to_owned());
        *lock(&self.deflate) = deflate;
        self.connected.send_replace(true);
    }

    /// Hands `item` to the dispatcher, in order with everything before it.
    pub(crate) async fn dispatch(&self, item: Dispatch) {
        if self.dispatch.send(item).await.is_err() {
            tracing::debug!("dispatcher stopped");
        }
    }

    /// Reports an error to the `on_error` listeners.
    pub(crate) async fn report(&self, error: ClientError) {
        self.dispatch(Dispatch::Error(error)).await;
    }
}
