//! `demo-server`: the demo server of DEMO-SERVER.md.
//!
//! Binds 127.0.0.1:`--port`, prints `READY <port>` on stdout once it accepts
//! connections (the only stdout line; logs go to stderr), and on SIGTERM or
//! SIGINT disconnects every client, drains the HTTP connections and exits 0.

use std::future::IntoFuture;
use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ignis_socketio_examples::demo::{self, DemoConfig};
use tracing_subscriber::EnvFilter;

/// How long open HTTP connections may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
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
    let demo_server = demo::DemoServer::start(&config).await?;
    let app = demo::app(&demo_server, &config)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
    let listener = ignis_socketio_server::bind_listener(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let port = listener.local_addr()?.port();

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serve = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let mut server = tokio::spawn(serve.into_future());

    // Install the signal handlers before READY: a driver may signal right after it.
    let mut signals = ShutdownSignals::install()?;
    announce_ready(port)?;
    tracing::info!(port, path = %config.path, "demo-server ready");

    tokio::select! {
        ended = &mut server => {
            // The server stopped on its own: that is a failure.
            ended??;
            return Err("the HTTP server stopped unexpectedly".into());
        }
        signal = signals.next() => {
            tracing::info!(signal, "shutting down");
        }
    }
    demo_server.shutdown().await;
    let _ = stop_tx.send(());
    match tokio::time::timeout(DRAIN_TIMEOUT, &mut server).await {
        Ok(ended) => ended??,
        Err(_) => {
            tracing::warn!("HTTP connections still open after {DRAIN_TIMEOUT:?}; exiting anyway");
            server.abort();
        }
    }
    tracing::info!("demo-server stopped");
    Ok(())
}

/// Prints the one line the test drivers wait for, and flushes it at once.
fn announce_ready(port: u16) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "READY {port}")?;
    stdout.flush()
}

/// SIGTERM and SIGINT, caught from the moment they are installed.
struct ShutdownSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves with the name of the next signal.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
