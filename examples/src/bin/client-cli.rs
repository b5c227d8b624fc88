//! `client-cli`: connect to an Ignis Socket.IO server, authenticate, join
//! rooms, emit events, and print every event received as one JSON line.
//!
//! ```text
//! client-cli --url URL [--path /io] [--token T] [--token-via auth|header]
//!            [--join ROOM]... [--emit TOPIC=JSON]... [--wait-ms N]
//! ```
//!
//! Output (stdout, one line per event, in arrival order):
//! `{"event":"<name>","data":<first argument>}`, including `authenticated`,
//! `unauthenticated` and `ping`. The answer to the room request is printed as
//! event `join` with the server's `{joined, rejected}` (or `null` when the
//! server does not answer, as reference servers never do). Logs go to stderr
//! (`RUST_LOG` filters them; default `warn`).
//!
//! Exit codes: 0 authenticated; 3 the server refused the client
//! (`unauthenticated`, or a disconnect before authentication); 2 the client
//! could not connect; 64 bad arguments.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ignis_socketio_client::{ClientState, Event, ReconnectConfig, SocketIOClientHelper};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenVia {
    /// Handshake `auth: {token}`.
    Auth,
    /// HTTP header `authorization: Bearer <token>`.
    Header,
}

/// Connects, authenticates, joins rooms, emits events, prints what arrives.
#[derive(Debug, Parser)]
#[command(name = "client-cli", version)]
struct Cli {
    /// Server URL, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    url: String,
    /// Socket.IO path on the server.
    #[arg(long, default_value = "/io")]
    path: String,
    /// Token to authenticate with.
    #[arg(long)]
    token: Option<String>,
    /// How the token travels.
    #[arg(long, value_enum, default_value = "auth")]
    token_via: TokenVia,
    /// Room to join after authentication (repeatable).
    #[arg(long = "join")]
    join: Vec<String>,
    /// Event to emit after joining, as TOPIC=JSON (repeatable, sent in order).
    #[arg(long = "emit")]
    emit: Vec<String>,
    /// How long to keep printing events after the last emit, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    wait_ms: u64,
    /// Give up connecting after this many milliseconds.
    #[arg(long, default_value_t = 5000)]
    connect_timeout_ms: u64,
    /// Give up waiting for the authentication answer after this many milliseconds.
    #[arg(long, default_value_t = 10_000)]
    auth_timeout_ms: u64,
}

const EXIT_REFUSED: u8 = 3;
const EXIT_NO_CONNECTION: u8 = 2;
const EXIT_USAGE: u8 = 64;

/// Why the client stopped waiting for authentication.
#[derive(Debug)]
enum Outcome {
    Refused,
    ConnectFailed(String),
}

fn print_event(name: &str, data: &Value) {
    // Written by hand so that `event` comes first, as documented.
    let name = Value::String(name.to_owned());
    let line = format!(r#"{{"event":{name},"data":{data}}}"#);
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) must not crash the client.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn parse_emits(specs: &[String]) -> Result<Vec<(String, Value)>, String> {
    specs
        .iter()
        .map(|spec| {
            let (topic, data) = spec
                .split_once('=')
                .ok_or_else(|| format!("--emit {spec:?}: expected TOPIC=JSON"))?;
            if topic.is_empty() {
                return Err(format!("--emit {spec:?}: empty topic"));
            }
            let data = serde_json::from_str(data)
                .map_err(|e| format!("--emit {spec:?}: invalid JSON: {e}"))?;
            Ok((topic.to_owned(), data))
        })
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let emits = match parse_emits(&cli.emit) {
        Ok(emits) => emits,
        Err(message) => {
            eprintln!("client-cli: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    run(cli, emits).await
}

async fn run(cli: Cli, emits: Vec<(String, Value)>) -> ExitCode {
    let (outcome_tx, mut outcome_rx) = mpsc::unbounded_channel::<Outcome>();
    let mut builder = SocketIOClientHelper::builder()
        .identifier("client-cli")
        .url(&cli.url)
        .path(&cli.path)
        .reconnection(ReconnectConfig::disabled())
        .connect_timeout(Duration::from_millis(cli.connect_timeout_ms))
        .auth_timeout(Some(Duration::from_millis(cli.auth_timeout_ms)))
        .auto_authenticate(true)
        .auto_connect(false);
    if let Some(token) = &cli.token {
        builder = match cli.token_via {
            TokenVia::Auth => builder.auth(json!({ "token": token })),
            TokenVia::Header => builder.header("authorization", format!("Bearer {token}")),
        };
    }
    let tx = outcome_tx.clone();
    builder = builder.on_error(move |error| {
        let _ = tx.send(Outcome::ConnectFailed(error.to_string()));
        async {}
    });
    let helper = match builder.build() {
        Ok(helper) => helper,
        Err(e) => {
            eprintln!("client-cli: {e}");
            return ExitCode::from(EXIT_NO_CONNECTION);
        }
    };

    // Printing and refusal detection share one handler, so a refusal is
    // printed before the process exits.
    let tx = outcome_tx.clone();
    helper.client().on_any(move |event: Event| {
        print_event(event.name(), event.data());
        if event.name() == "unauthenticated" {
            let _ = tx.send(Outcome::Refused);
        }
        async {}
    });
    let tx = outcome_tx;
    helper.client().on_disconnect(move |_reason| {
        let _ = tx.send(Outcome::Refused);
        async {}
    });

    if let Err(e) = helper.connect() {
        eprintln!("client-cli: {e}");
        return ExitCode::from(EXIT_NO_CONNECTION);
    }

    let mut state = helper.state_changes();
    let mut connected_now = helper.client().connected_changes();
    let wait_auth = tokio::time::sleep(Duration::from_millis(
        cli.connect_timeout_ms + cli.auth_timeout_ms,
    ));
    tokio::pin!(wait_auth);
    loop {
        tokio::select! {
            changed = state.wait_for(|s| *s == ClientState::Authenticated) => {
                if changed.is_ok() { break; }
            }
            Some(outcome) = outcome_rx.recv() => match outcome {
                Outcome::ConnectFailed(message) if !*connected_now.borrow_and_update() => {
                    eprintln!("client-cli: could not connect: {message}");
                    helper.shutdown().await;
                    return ExitCode::from(EXIT_NO_CONNECTION);
                }
                Outcome::ConnectFailed(message) => {
                    eprintln!("client-cli: {message}");
                    if helper.state() != ClientState::Authenticating {
                        helper.shutdown().await;
                        return ExitCode::from(EXIT_REFUSED);
                    }
                }
                Outcome::Refused => {
                    if helper.state() == ClientState::Authenticated { break; }
                    eprintln!("client-cli: the server refused the client");
                    helper.shutdown().await;
                    return ExitCode::from(EXIT_REFUSED);
                }
            },
            _ = &mut wait_auth => {
                eprintln!("client-cli: no authentication answer");
                let connected = helper.is_connected();
                helper.shutdown().await;
                return ExitCode::from(if connected { EXIT_REFUSED } else { EXIT_NO_CONNECTION });
            }
        }
    }

    if !cli.join.is_empty() {
        match helper.join_rooms(cli.join.clone()).await {
            Ok(answer) => print_event(
                "join",
                &answer.map_or(Value::Null, |a| {
                    serde_json::to_value(a).unwrap_or(Value::Null)
                }),
            ),
            Err(e) => eprintln!("client-cli: join failed: {e}"),
        }
    }
    for (topic, data) in &emits {
        if let Err(e) = helper.emit(topic, data) {
            eprintln!("client-cli: emit {topic:?} failed: {e}");
        }
    }
    tokio::time::sleep(Duration::from_millis(cli.wait_ms)).await;
    helper.shutdown().await;
    ExitCode::SUCCESS
}
