//! What every example program does around its work: logging to stderr,
//! the `READY <port>` line the test drivers wait for, and the stop signals.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Log lines waiting for stderr; past this, new lines are dropped (and
/// counted) rather than making the server wait for a slow log sink.
const LOG_QUEUE_LINES: usize = 16_384;
/// How often dropped log lines are reported.
const DROP_REPORT_EVERY: Duration = Duration::from_secs(10);

/// Keeps the log writer running; dropping it flushes what is queued (waiting
/// at most a second for a stuck sink). Hold it until `main` returns.
#[must_use = "logging stops when the guard is dropped"]
pub struct LogGuard {
    _worker: WorkerGuard,
}

/// Logs to stderr (colours only on a terminal), filtered by `RUST_LOG`, or
/// `default_filter` when it is unset or invalid.
///
/// Lines are written by a thread of their own: a full pipe or a stuck log
/// shipper never stalls serving. When the sink falls behind by
/// [`LOG_QUEUE_LINES`] lines, new lines are dropped, and a warning every ten
/// seconds says how many.
pub fn init_logging(default_filter: &str) -> LogGuard {
    let (writer, worker) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("log-writer")
        .finish(std::io::stderr());
    let dropped = writer.error_counter();
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .init();
    report_dropped_lines(dropped);
    LogGuard { _worker: worker }
}

/// Warns, at most every [`DROP_REPORT_EVERY`] and only when the count grew,
/// of the lines dropped since start (a total, so that a warning dropped
/// while the sink is stuck loses nothing: the next one written has it).
fn report_dropped_lines(counter: ErrorCounter) {
    let spawned = std::thread::Builder::new()
        .name("log-drops".into())
        .spawn(move || {
            let mut reported = 0;
            loop {
                std::thread::sleep(DROP_REPORT_EVERY);
                let dropped = counter.dropped_lines();
                if dropped > reported {
                    tracing::warn!(
                        dropped_total = dropped,
                        "log sink too slow: log lines dropped"
                    );
                    reported = dropped;
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the dropped-log-lines reporter");
    }
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
