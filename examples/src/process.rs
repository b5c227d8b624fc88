//! What every example program does around its work: logging to stderr,
//! the `READY <port>` line the test drivers wait for, and the stop signals.

use std::future::Future;
use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;

/// Logs to stderr (colours only on a terminal), filtered by `RUST_LOG`, or
/// `default_filter` when it is unset or invalid.
pub fn init_logging(default_filter: &str) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .init();
}

/// Prints the one line the test drivers wait for, and flushes it at once.
pub fn announce_ready(port: u16) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "READY {port}")?;
    stdout.flush()
}

/// Resolves with the name of the first SIGTERM or SIGINT after this call.
/// The handlers are installed by the call itself, not when the future is
/// first awaited: call it before `READY`, since a driver may signal right
/// after reading it.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = &'static str>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        }
    })
}
