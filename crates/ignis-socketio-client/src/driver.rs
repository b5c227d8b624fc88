//! The connection task: connects, runs a session, and reconnects with
//! backoff and jitter until told to stop, refused, or out of attempts.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::ClientError;
use crate::session::{self, reasons};
use crate::shared::Shared;

/// Runs until the client disconnects, the server refuses or disconnects it,
/// or reconnection gives up.
pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut attempt: u32 = 0;
    loop {
        let timeout = shared.config.connect_timeout;
        let outcome = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(timeout, session::establish(&shared)) => r,
        };
        match outcome {
            Ok(Ok(established)) => {
                attempt = 0;
                let reason = session::run(&shared, established, &cancel).await;
                if reason == reasons::CLIENT_DISCONNECT || reason == reasons::SERVER_DISCONNECT {
                    return;
                }
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, url = %shared.config.url, "Connection error");
                let refused = matches!(error, ClientError::ConnectRefused(_));
                shared.report(error).await;
                // socket.io-client does not retry a namespace the server refused.
                if refused {
                    return;
                }
            }
            Err(_) => {
                tracing::warn!(url = %shared.config.url, "Connection timed out");
                shared.report(ClientError::ConnectTimeout(timeout)).await;
            }
        }
        let policy = &shared.config.reconnection;
        if !policy.allows(attempt) {
            if policy.enabled {
                tracing::warn!(attempts = attempt, "Reconnection gave up");
                shared.report(ClientError::ReconnectGaveUp(attempt)).await;
            }
            return;
        }
        let delay = policy.delay_for(attempt, rand::random::<f64>());
        attempt = attempt.saturating_add(1);
        tracing::info!(attempt, ?delay, "Reconnecting");
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}
