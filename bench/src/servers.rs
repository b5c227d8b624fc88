//! The servers under test: anything that follows `docs/demo-server.md`, started
//! as a child process with a raised descriptor limit, ready when it prints
//! `READY <port>`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::BenchResult;

/// The token every server is started with and every client presents.
pub const TOKEN: &str = "bench-token";

/// Which server a run targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum ServerKind {
    /// The project's demo server, in-memory adapter.
    Demo,
    /// The project's demo server on Redis (`--redis`).
    DemoRedis,
    /// The demo server with `--metrics` (in-memory adapter): against `demo`,
    /// what counting for Prometheus costs. Not run unless asked for.
    DemoMetrics,
    /// A bare socketioxide + axum server of the same contract.
    Bare,
    /// The bare server with the memory tuning this benchmark suggests
    /// (hyper HTTP/1 accept loop, request head copied out of hyper's read
    /// buffer, 1 KiB WebSocket read buffer). Not run
    /// unless asked for: it shows what the demo server could adopt.
    BareTuned,
    /// The Node reference (`@venizia/ignis-helpers` on Redis).
    Node,
    /// The demo server with `--per-message-deflate` (the reference's settings).
    DemoDeflate,
    /// The Node reference with the reference component's `perMessageDeflate`.
    NodeDeflate,
}

impl ServerKind {
    /// Name used in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            ServerKind::Demo => "demo",
            ServerKind::DemoRedis => "demo-redis",
            ServerKind::DemoMetrics => "demo-metrics",
            ServerKind::Bare => "bare",
            ServerKind::BareTuned => "bare-tuned",
            ServerKind::Node => "node",
            ServerKind::DemoDeflate => "demo-deflate",
            ServerKind::NodeDeflate => "node-deflate",
        }
    }

    /// Whether the server needs a Redis URL.
    pub fn uses_redis(self) -> bool {
        matches!(
            self,
            ServerKind::DemoRedis | ServerKind::Node | ServerKind::NodeDeflate
        )
    }

    /// Whether it is the Node reference.
    pub fn is_node(self) -> bool {
        matches!(self, ServerKind::Node | ServerKind::NodeDeflate)
    }

    /// Whether it compresses (permessage-deflate).
    pub fn deflates(self) -> bool {
        matches!(self, ServerKind::DemoDeflate | ServerKind::NodeDeflate)
    }

    /// Whether it takes part in `scenario`: the 16 KiB fan-out runs on the
    /// demo and Node, with and without compression. The compressing demo runs
    /// everything else (against `demo`, compression must not cost the small
    /// messages of echo and fan-out, which stay under its threshold) but the
    /// slow consumer; Node with compression runs the connect scenario and the
    /// 16 KiB fan-out. The slow consumer runs on the demo (in memory and on
    /// Redis) and Node.
    pub fn runs(self, scenario: crate::scenarios::Scenario) -> bool {
        use crate::scenarios::Scenario;
        match scenario {
            Scenario::Fanout16k => matches!(
                self,
                ServerKind::Demo
                    | ServerKind::DemoDeflate
                    | ServerKind::Node
                    | ServerKind::NodeDeflate
            ),
            Scenario::Connect => true,
            Scenario::SlowConsumer => matches!(
                self,
                ServerKind::Demo | ServerKind::DemoRedis | ServerKind::Node
            ),
            _ => self != ServerKind::NodeDeflate,
        }
    }

    /// Whether two instances share state through Redis (cross-node runs).
    pub fn is_multi_node(self) -> bool {
        self.uses_redis()
    }
}

/// Where programs and outputs live, and the cores servers run on.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Workspace root.
    pub root: PathBuf,
    /// Directory of the release binaries (`demo-server`, `bare-server`).
    pub bin_dir: PathBuf,
    /// `target/bench` under the workspace root: JSON and server logs.
    pub out_dir: PathBuf,
    /// Cores (a `taskset -c` list) every server is pinned to; `None`: any.
    pub server_cores: Option<String>,
}

/// A running server process.
pub struct Spawned {
    child: Child,
    /// Process id of the server itself (the shell `exec`s it).
    pub pid: u32,
    /// Port it listens on.
    pub port: u16,
    /// Where its stdout and stderr go.
    pub log_path: PathBuf,
    temp_dir: Option<PathBuf>,
}

/// How long a server may take to print `READY`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How a server is started beyond its kind (the bench uses the defaults).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Run this program instead of the one `kind` names in `bin_dir`.
    pub program: Option<PathBuf>,
    /// Flags appended to the standard ones.
    pub extra_args: Vec<String>,
    /// `RUST_LOG` of the server (default: `BENCH_SERVER_LOG`, else `warn`).
    pub rust_log: Option<String>,
}

/// Start one instance of `kind`.
pub async fn start(
    kind: ServerKind,
    paths: &Paths,
    redis_url: &str,
    instance: usize,
) -> BenchResult<Spawned> {
    start_with(kind, paths, redis_url, instance, &Launch::default()).await
}

/// Start one instance of `kind` as `launch` says.
pub async fn start_with(
    kind: ServerKind,
    paths: &Paths,
    redis_url: &str,
    instance: usize,
    launch: &Launch,
) -> BenchResult<Spawned> {
    let mut args: Vec<String> = Vec::new();
    let mut temp_dir = None;
    let program: PathBuf = match kind {
        ServerKind::DemoMetrics => {
            args.push("--metrics".to_owned());
            paths.bin_dir.join("demo-server")
        }
        ServerKind::Demo | ServerKind::DemoRedis | ServerKind::DemoDeflate => {
            paths.bin_dir.join("demo-server")
        }
        ServerKind::Bare => paths.bin_dir.join("bare-server"),
        ServerKind::BareTuned => {
            args.extend(
                ["--http1-loop", "--compact-head", "--ws-read-buffer", "1024"].map(String::from),
            );
            paths.bin_dir.join("bare-server")
        }
        ServerKind::Node | ServerKind::NodeDeflate => {
            args.push(
                paths
                    .root
                    .join("testing/node/bench/reference-server.mjs")
                    .to_string_lossy()
                    .into_owned(),
            );
            PathBuf::from("node")
        }
    };
    let program = launch.program.clone().unwrap_or(program);
    if !kind.is_node() && !program.exists() {
        return Err(format!("{} is not built", program.display()).into());
    }
    args.extend(["--port", "0", "--auth-token", TOKEN].map(String::from));
    if kind.uses_redis() {
        args.extend(["--redis".to_owned(), redis_url.to_owned()]);
    }
    if kind.deflates() {
        args.push("--per-message-deflate".to_owned());
    }
    args.extend(launch.extra_args.iter().cloned());
    let mut command = Command::new("bash");
    command
        .arg("-c")
        // BENCH_WRAP (e.g. `heaptrack -o /tmp/ht`) wraps the server for profiling;
        // the figures read from /proc then describe the wrapper's process.
        .arg("ulimit -n 65535 2>/dev/null || ulimit -n 20000 2>/dev/null; exec $BENCH_PIN $BENCH_WRAP \"$@\"")
        .arg("bash")
        .arg(&program)
        .args(&args)
        .env("BENCH_PIN", crate::cores::pin_prefix(paths.server_cores.as_deref()))
        .env(
            "RUST_LOG",
            launch.rust_log.clone().unwrap_or_else(|| {
                std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into())
            }),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if kind.is_node() {
        // The reference helper's logger writes files to its working directory.
        let dir = std::env::temp_dir().join(format!(
            "ignis-bench-node-{}-{instance}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        command.current_dir(&dir);
        temp_dir = Some(dir);
    } else {
        command.current_dir(&paths.root);
    }
    let log_dir = paths.out_dir.join("logs");
    std::fs::create_dir_all(&log_dir)?;
    let log_path = log_dir.join(format!("{}-{instance}.log", kind.label()));
    let log = std::fs::File::create(&log_path)?;
    command.stderr(Stdio::from(log.try_clone()?));
    let mut child = command.spawn()?;
    let pid = child.id().ok_or("server exited at once")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<u16>();
    // Forward stdout to the log and watch for READY; keep draining so that a
    // chatty server never blocks on a full pipe.
    tokio::spawn(async move {
        let mut log = tokio::fs::File::from_std(log);
        let mut lines = BufReader::new(stdout).lines();
        let mut ready_tx = Some(ready_tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(port) = line
                .trim()
                .strip_prefix("READY ")
                .and_then(|p| p.parse().ok())
                && let Some(tx) = ready_tx.take()
            {
                let _ = tx.send(port);
            }
            let _ = log.write_all(line.as_bytes()).await;
            let _ = log.write_all(b"\n").await;
        }
    });
    let port = match tokio::time::timeout(READY_TIMEOUT, ready_rx).await {
        Ok(Ok(port)) => port,
        other => {
            let _ = child.kill().await;
            let tail = tail_of(&log_path, 600);
            let why = if other.is_err() {
                "no READY line in time"
            } else {
                "exited before READY"
            };
            return Err(
                format!("{} {why}; log {}: {tail}", kind.label(), log_path.display()).into(),
            );
        }
    };
    Ok(Spawned {
        child,
        pid,
        port,
        log_path,
        temp_dir,
    })
}

impl Spawned {
    /// SIGTERM, then SIGKILL after 5 s; removes the temp working directory.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        if let Some(dir) = self.temp_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn tail_of(path: &Path, max: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    text[start..].replace('\n', " | ")
}
