//! The helper works with any engine adapter, without the adapter type in
//! application signatures, and sends go through the adapter's broadcast.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use common::{Driver, TestServer};
use ignis_socketio_engine::codec::Args;
use ignis_socketio_engine::io::{
    Adapter, AdapterError, AdapterFuture, BroadcastOptions, Namespace,
};
use ignis_socketio_server::{SocketIOServerHelper, Target};
use serde_json::json;

/// An adapter with no other node that counts the broadcasts it is asked to
/// carry, and whether it was initialised.
#[derive(Default)]
struct CountingAdapter {
    broadcasts: AtomicUsize,
    inits: AtomicUsize,
}

impl Adapter for CountingAdapter {
    fn init(&self, _: Weak<Namespace>) -> AdapterFuture<'_, Result<(), AdapterError>> {
        self.inits.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }

    fn broadcast<'a>(
        &'a self,
        _event: &'a str,
        _args: &'a Args,
        _options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        self.broadcasts.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

/// Application code that only knows the non-generic handle.
async fn announce(io: &SocketIOServerHelper) {
    io.send(Target::all(), "announce", &"through the adapter")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_runs_on_a_custom_adapter_and_sends_through_its_broadcast() {
    let adapter = Arc::new(CountingAdapter::default());
    let io = common::builder()
        .build_with_adapter(adapter.clone())
        .await
        .unwrap();
    assert_eq!(
        adapter.inits.load(Ordering::SeqCst),
        1,
        "initialised once, before serving"
    );
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
        adapter.broadcasts.load(Ordering::SeqCst),
        0,
        "ping/authenticated go directly on the socket"
    );

    announce(&io).await;
    assert_eq!(
        d.wait_event("a", "announce").await["data"],
        "through the adapter"
    );
    assert_eq!(adapter.broadcasts.load(Ordering::SeqCst), 1);
    io.shutdown().await;
}
