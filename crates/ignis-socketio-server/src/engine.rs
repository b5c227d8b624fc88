//! What the helper needs from the engine underneath, behind an object-safe
//! trait so that applications never name an adapter type.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;

use crate::core::Core;
use crate::{AckReply, Payload, ServerError, Target};

/// What the non-generic handle needs from the generic implementation.
#[async_trait]
pub(crate) trait Engine: Send + Sync + 'static {
    fn core(&self) -> &Arc<Core>;
    fn attach(&self, router: Router) -> Router;
    async fn send(&self, target: Target, event: &str, payload: Payload) -> Result<(), ServerError>;
    async fn send_with_ack(
        &self,
        target: Target,
        event: &str,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Vec<AckReply>, ServerError>;
    async fn fetch_socket_ids(&self, target: Target) -> Result<Vec<String>, ServerError>;
    async fn fetch_rooms(&self) -> Result<Vec<String>, ServerError>;
    fn engine_counters(&self) -> ignis_socketio_engine::engine::CountersSnapshot;
    async fn shutdown(&self);
}
