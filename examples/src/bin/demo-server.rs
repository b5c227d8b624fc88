//! `demo-server`: the demo server of `docs/demo-server.md`, an application with
//! `SocketIOComponent` (see [`ignis_socketio_examples::demo`]).
//!
//! Listens on 127.0.0.1:`--port`, prints `READY <port>` on stdout once it
//! accepts connections (the only stdout line; logs go to stderr), and on
//! SIGTERM or SIGINT stops the application (clients disconnected, Redis
//! closed, HTTP connections drained) and exits 0. A start-up failure (bad
//! option, Redis unreachable, port taken) exits 1 with the reason on stderr.

use std::process::ExitCode;

use clap::Parser;
use ignis_socketio_component::ComponentError;
use ignis_socketio_examples::demo::{self, DemoConfig};
use ignis_socketio_examples::process::{announce_ready, init_logging, shutdown_signal};

#[tokio::main]
async fn main() -> ExitCode {
    let _logging = init_logging("info");
    let config = DemoConfig::parse();
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: DemoConfig) -> Result<(), Box<dyn std::error::Error>> {
    let app = demo::application(&config)?;
    // Installed before READY (a driver may signal right after it) and kept
    // until stop: RunningApplication::stop_on_signal would only install its
    // handlers once awaited, after READY, and miss such a signal.
    let shutdown = shutdown_signal()?;
    let running = app.start().await?;
    let port = running.local_addr().port();
    announce_ready(port)?;
    tracing::info!(port, path = %config.path, "demo-server ready");
    let stopped = running
        .stop_on(async move {
            let signal = shutdown.await;
            tracing::info!(signal, "shutting down");
        })
        .await;
    match stopped {
        Ok(()) => {}
        // Clients were disconnected and Redis closed before the drain; HTTP
        // connections still open after it are cut, and that is still a clean
        // stop (exit 0), as the contract asks.
        Err(ComponentError::StopTimeout(after)) => {
            tracing::warn!("HTTP connections still open after {after:?}; exiting anyway");
        }
        Err(error) => return Err(error.into()),
    }
    tracing::info!("demo-server stopped");
    Ok(())
}
