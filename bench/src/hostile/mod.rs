//! Hostile clients against the demo server (`ignis-hostile`): each scenario
//! attacks one freshly started server while its resident memory is sampled
//! every 100 ms, and prints one `RESULT` line per figure.
//!
//! The figures say whether the server's bounds hold: how fast it closes
//! sockets that never authenticate, whether one flooding client hurts the
//! others, how much memory oversized frames, parked attachments and
//! connection storms cost, and when trickled request bodies are cut.

pub mod flood;
pub mod frames;
pub mod never_auth;
pub mod raw;
pub mod rss;
pub mod slow_bodies;
pub mod storm;

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use crate::BenchResult;
use crate::client::Target;
use crate::servers::{self, Launch, Paths, ServerKind, Spawned, TOKEN};
use rss::RssSampler;

/// Which attack to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Clients that join the namespace but never `authenticate`.
    NeverAuth,
    /// One client floods `echo` while a bystander measures its round trips.
    EchoFlood,
    /// 16 MiB WebSocket frames before CONNECT, whole or stalled at 15 MiB.
    BigFrames,
    /// Binary events whose attachments never all arrive.
    AttachmentHoard,
    /// REST and polling POST bodies trickled one byte every 5 s.
    SlowBodies,
    /// Connect/disconnect cycles at a high rate, one client staying.
    ReconnectStorm,
}

impl Scenario {
    /// Name on result lines.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::NeverAuth => "never-auth",
            Scenario::EchoFlood => "echo-flood",
            Scenario::BigFrames => "big-frames",
            Scenario::AttachmentHoard => "attachment-hoard",
            Scenario::SlowBodies => "slow-bodies",
            Scenario::ReconnectStorm => "reconnect-storm",
        }
    }
}

/// What the command line set.
#[derive(Debug, Clone)]
pub struct Options {
    /// The attack.
    pub scenario: Scenario,
    /// The demo server binary.
    pub server_bin: PathBuf,
    /// Port the server listens on (0: a free one).
    pub port: u16,
    /// Redis URL of the adapter, if the server runs on Redis.
    pub redis: Option<String>,
    /// The server's `--auth-timeout-ms`.
    pub auth_timeout_ms: u64,
    /// Clients (never-auth) or cycles (reconnect-storm); the scenario's default if unset.
    pub count: Option<usize>,
    /// The server's `RUST_LOG`.
    pub server_log: String,
    /// Workspace root (server logs go to `target/hostile/` under it).
    pub root: PathBuf,
    /// After the last memory figure, make the server call glibc's
    /// `malloc_trim(0)` through gdb and report its memory again (what a
    /// server on the system allocator would keep if it trimmed after an attack).
    pub gdb_malloc_trim: bool,
}

/// A started server, its memory sampler and the target clients connect to.
pub struct Ctx {
    /// The options of the run.
    pub opts: Options,
    /// The server process.
    pub server: Spawned,
    /// Its resident memory over time.
    pub rss: RssSampler,
    /// Where clients connect.
    pub target: Target,
    /// Resident memory before the attack, KiB.
    pub start_kib: u64,
}

impl Ctx {
    /// Print one figure: `RESULT <scenario> <name> <value>`.
    pub fn figure(&self, name: &str, value: impl Display) {
        figure(self.opts.scenario, name, value);
    }

    /// The time on the sampler's clock.
    pub fn now(&self) -> Duration {
        self.rss.elapsed()
    }

    /// Lines the server wrote to stdout and stderr so far.
    pub fn log_lines(&self) -> usize {
        std::fs::read(&self.server.log_path)
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    }

    /// Memory figures after an attack that ended at `end`: peak since
    /// `from`, and the memory `after` seconds past `end` (waits for it).
    pub async fn memory_after(&self, from: Duration, end: Duration, after: &[u64]) {
        let peak = self.rss.peak_since(from);
        self.figure("rss_start", rss::mb(self.start_kib));
        self.figure(
            "rss_peak",
            format!(
                "{} ({} above start)",
                rss::mb(peak),
                rss::mb_delta(peak, self.start_kib)
            ),
        );
        for secs in after {
            let at = end + Duration::from_secs(*secs);
            self.rss.sleep_until(at + rss::PERIOD).await;
            let kib = self.rss.at(at);
            self.figure(
                &format!("rss_{secs}s_after"),
                format!(
                    "{} ({} above start, {:.2}x start)",
                    rss::mb(kib),
                    rss::mb_delta(kib, self.start_kib),
                    kib as f64 / self.start_kib.max(1) as f64
                ),
            );
        }
        if self.opts.gdb_malloc_trim {
            self.malloc_trim().await;
        }
    }

    /// Call `malloc_trim(0)` in the server through gdb; report its memory after.
    async fn malloc_trim(&self) {
        let called = tokio::process::Command::new("gdb")
            .args(["-p", &self.server.pid.to_string(), "-batch", "-ex"])
            .arg("call (int) malloc_trim(0)")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let kib = crate::procfs::rss_kib(self.server.pid).unwrap_or(0);
        self.figure(
            "rss_after_malloc_trim",
            match called {
                Ok(status) if status.success() => format!(
                    "{} ({} above start)",
                    rss::mb(kib),
                    rss::mb_delta(kib, self.start_kib)
                ),
                Ok(status) => format!("gdb failed: {status}"),
                Err(e) => format!("gdb not run: {e}"),
            },
        );
    }
}

/// Print one figure line.
#[allow(clippy::print_stdout)]
pub fn figure(scenario: Scenario, name: &str, value: impl Display) {
    println!("RESULT {} {name} {value}", scenario.label());
}

/// Start the server, sample it, run the scenario, stop the server.
pub async fn run(opts: Options) -> BenchResult<()> {
    let kind = if opts.redis.is_some() {
        ServerKind::DemoRedis
    } else {
        ServerKind::Demo
    };
    let paths = Paths {
        root: opts.root.clone(),
        bin_dir: opts.root.join("target/release"),
        out_dir: opts.root.join("target/hostile"),
        server_cores: None,
    };
    std::fs::create_dir_all(&paths.out_dir)?;
    let mut extra_args = vec![
        "--port".to_owned(),
        opts.port.to_string(),
        "--auth-timeout-ms".to_owned(),
        opts.auth_timeout_ms.to_string(),
    ];
    if opts.redis.is_some() {
        // Channels of its own on a Redis others may share.
        extra_args.extend([
            "--redis-key".to_owned(),
            format!("hostile-{}", std::process::id()),
        ]);
    }
    let launch = Launch {
        program: Some(opts.server_bin.clone()),
        extra_args,
        rust_log: Some(opts.server_log.clone()),
    };
    let redis_url = opts.redis.clone().unwrap_or_default();
    let instance = std::process::id() as usize;
    let server = servers::start_with(kind, &paths, &redis_url, instance, &launch).await?;
    let rss = RssSampler::start(server.pid);
    // Let the freshly started server settle before the baseline.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start_kib = rss.latest();
    let target = Target {
        port: server.port,
        path: "/io".to_owned(),
        token: TOKEN.to_owned(),
        deflate: false,
    };
    figure(opts.scenario, "server_log", server.log_path.display());
    let ctx = Ctx {
        opts,
        server,
        rss,
        target,
        start_kib,
    };
    let outcome = match ctx.opts.scenario {
        Scenario::NeverAuth => never_auth::run(&ctx).await,
        Scenario::EchoFlood => flood::run(&ctx).await,
        Scenario::BigFrames => frames::big_frames(&ctx).await,
        Scenario::AttachmentHoard => frames::attachment_hoard(&ctx).await,
        Scenario::SlowBodies => slow_bodies::run(&ctx).await,
        Scenario::ReconnectStorm => storm::run(&ctx).await,
    };
    let Ctx { server, rss, .. } = ctx;
    drop(rss);
    server.stop().await;
    outcome
}
