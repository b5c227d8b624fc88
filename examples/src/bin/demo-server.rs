//! `demo-server`: the demo server of DEMO-SERVER.md, an application with
//! `SocketIOComponent` (see [`ignis_socketio_examples::demo`]).
//!
//! Listens on 127.0.0.1:`--port`, prints `READY <port>` on stdout once it
//! accepts connections (the only stdout line; logs go to stderr), and on
//! SIGTERM or SIGINT stops the application (clients disconnected, Redis
//! closed, HTTP connections drained) and exits 0. A start-up failure (bad
//! option, Redis unreachable, port taken) exits 1 with the reason on stderr.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use ignis_socketio_component::ComponentError;
use ignis_socketio_examples::demo::{self, DemoConfig};
use tracing_subscriber::EnvFilter;

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
    let app = demo::application(&config)?;
    // Installed before READY (a driver may signal right after it) and kept
    // until stop: RunningApplication::stop_on_signal would only install its
    // handlers once awaited, after READY, and miss such a signal.
    let mut signals = ShutdownSignals::install()?;
    let running = app.start().await?;
    let port = running.local_addr().port();
    announce_ready(port)?;
    tracing::info!(port, path = %config.path, "demo-server ready");
    let stopped = running
        .stop_on(async move {
            let signal = signals.next().await;
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
