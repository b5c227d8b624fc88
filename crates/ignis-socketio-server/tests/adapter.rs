//! The helper works with any socketioxide adapter, without the adapter type in
//! application signatures, and sends go through the adapter's broadcast.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::convert::Infallible;
use std::future::{IntoFuture, Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Driver, TestServer};
use ignis_socketio_server::{SocketIOServerHelper, Target};
use serde_json::json;
use socketioxide::adapter::Emitter;
use socketioxide_core::adapter::errors::BroadcastError;
use socketioxide_core::adapter::{
    BroadcastOptions, CoreAdapter, CoreLocalAdapter, DefinedAdapter, SocketEmitter, Spawnable,
};
use socketioxide_core::packet::Packet;

/// An in-memory adapter that counts the broadcasts it is asked to deliver.
struct CountingAdapter {
    local: CoreLocalAdapter<Emitter>,
    broadcasts: Arc<AtomicUsize>,
}

/// An init result that is ready at once, awaitable like a remote adapter's.
struct ReadyInit;

impl Spawnable for ReadyInit {
    fn spawn(self) {}
}

impl IntoFuture for ReadyInit {
    type Output = Result<(), Infallible>;
    type IntoFuture = Ready<Result<(), Infallible>>;
    fn into_future(self) -> Self::IntoFuture {
        ready(Ok(()))
    }
}

impl CoreAdapter<Emitter> for CountingAdapter {
    type Error = Infallible;
    type State = Arc<AtomicUsize>;
    type AckStream = <Emitter as SocketEmitter>::AckStream;
    type InitRes = ReadyInit;

    fn new(state: &Self::State, local: CoreLocalAdapter<Emitter>) -> Self {
        CountingAdapter {
            local,
            broadcasts: state.clone(),
        }
    }

    fn init(self: Arc<Self>, on_success: impl FnOnce() + Send + 'static) -> ReadyInit {
        on_success();
        ReadyInit
    }

    async fn broadcast(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
    ) -> Result<(), BroadcastError> {
        self.broadcasts.fetch_add(1, Ordering::SeqCst);
        self.local
            .broadcast(packet, opts)
            .map_err(BroadcastError::from)
    }

    async fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Option<Duration>,
    ) -> Result<Self::AckStream, Self::Error> {
        Ok(self.local.broadcast_with_ack(packet, opts, timeout).0)
    }

    fn get_local(&self) -> &CoreLocalAdapter<Emitter> {
        &self.local
    }
}

impl DefinedAdapter for CountingAdapter {}

/// Application code that only knows the non-generic handle.
async fn announce(io: &SocketIOServerHelper) {
    io.send(Target::all(), "announce", &"through the adapter")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_runs_on_a_custom_adapter_and_sends_through_its_broadcast() {
    let broadcasts = Arc::new(AtomicUsize::new(0));
    let io = common::builder()
        .build_with_adapter_ready::<CountingAdapter, _>(broadcasts.clone())
        .await
        .unwrap();
    let server = TestServer::serve(io.clone()).await;

    let mut d = Driver::spawn().await;
    d.connect(
        "a",
        &server,
        json!({"auth": {"token": "good"}, "authenticate": true}),
    )
    .await;
    d.wait_event("a", "authenticated").await;
    assert_eq!(
        broadcasts.load(Ordering::SeqCst),
        0,
        "ping/authenticated go directly on the socket"
    );

    announce(&io).await;
    assert_eq!(
        d.wait_event("a", "announce").await["data"],
        "through the adapter"
    );
    assert_eq!(broadcasts.load(Ordering::SeqCst), 1);

    // The spawned-init variant builds too.
    let other = common::builder()
        .build_with_adapter::<CountingAdapter>(broadcasts.clone())
        .unwrap();
    assert_eq!(other.path(), "/io");
    io.shutdown().await;
}
