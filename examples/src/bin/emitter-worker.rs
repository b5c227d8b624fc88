//! `emitter-worker`: publishes Socket.IO events through Redis from a process
//! that runs no Socket.IO server, with [`RedisEmitter`] (the
//! `@socket.io/redis-emitter` wire format, so Rust and Node servers on the
//! same Redis and key deliver it alike).
//!
//! ```text
//! cargo run -p ignis-socketio-examples --bin emitter-worker -- \
//!     --redis redis://127.0.0.1:6379 --room io-notification --topic alert --data '{"level":"info"}'
//! ```
//!
//! Without `--room` the event goes to every authenticated client: like the
//! server helper's `Target::all`, the worker excludes the room of clients that
//! have not authenticated yet. Publishes `--count` times, `--interval-ms`
//! apart, prints one summary line on stdout, closes Redis and exits 0; an
//! unreachable Redis, bad JSON or a reserved topic exits 1 with the reason.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ignis_socketio_examples::process::init_logging;
use ignis_socketio_redis::{RedisConfig, RedisEmitter};
use ignis_socketio_server::UNAUTHENTICATED_ROOM;
use serde_json::Value;

/// Command line of the worker.
#[derive(Debug, Parser)]
#[command(
    name = "emitter-worker",
    version,
    about = "Publishes a Socket.IO event to the servers on a Redis, without running a server."
)]
struct WorkerConfig {
    /// Redis URL, or comma-separated Redis Cluster node URLs.
    #[arg(long, env = "REDIS_URL")]
    redis: String,

    /// Channel prefix on Redis (the servers' `--redis-key`).
    #[arg(long, env = "REDIS_KEY", default_value = RedisConfig::DEFAULT_KEY)]
    key: String,

    /// Room to send to (repeatable). Unset: every authenticated client.
    #[arg(long, allow_hyphen_values = true)]
    room: Vec<String>,

    /// Event name the clients receive.
    #[arg(long)]
    topic: String,

    /// Event data, as JSON.
    #[arg(long, default_value = "null", value_parser = parse_json, allow_hyphen_values = true)]
    data: Value,

    /// How many times to publish.
    #[arg(long, default_value_t = 1)]
    count: u64,

    /// Pause between two publications, in milliseconds.
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,

    /// How long to wait for Redis before giving up, in milliseconds.
    #[arg(long, default_value_t = 5_000)]
    connect_timeout_ms: u64,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| format!("not valid JSON: {error}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let _logging = init_logging("warn");
    match run(WorkerConfig::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("emitter-worker: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: WorkerConfig) -> Result<(), Box<dyn std::error::Error>> {
    let redis = config
        .redis
        .parse::<RedisConfig>()?
        .key(config.key.clone())
        .connect_timeout(Duration::from_millis(config.connect_timeout_ms));
    let emitter = RedisEmitter::connect(redis).await?;
    let result = publish(&emitter, &config).await;
    emitter.close();
    let published = result?;
    let destination = if config.room.is_empty() {
        "every authenticated client".to_owned()
    } else {
        format!("room(s) {}", config.room.join(", "))
    };
    // The one stdout line: what was published, for scripts and people.
    writeln!(
        std::io::stdout().lock(),
        "published {:?} {published} time(s) to {destination}",
        config.topic
    )?;
    Ok(())
}

/// Publishes `count` times; returns how many publications succeeded (all, or an error).
async fn publish(
    emitter: &RedisEmitter,
    config: &WorkerConfig,
) -> Result<u64, Box<dyn std::error::Error>> {
    let target = if config.room.is_empty() {
        // The server helper keeps clients that have not authenticated in this
        // room and excludes it from its broadcasts; do the same.
        emitter.except(UNAUTHENTICATED_ROOM)
    } else {
        emitter.to(config.room.clone())
    };
    for n in 0..config.count {
        if n > 0 && config.interval_ms > 0 {
            tokio::time::sleep(Duration::from_millis(config.interval_ms)).await;
        }
        target.emit(&config.topic, &config.data).await?;
        tracing::info!(topic = %config.topic, n = n + 1, "published");
    }
    Ok(config.count)
}
