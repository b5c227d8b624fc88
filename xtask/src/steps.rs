//! The steps the pipelines are made of, and the bookkeeping that reports them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use crate::prereqs::{self, MIN_NODE_MAJOR, Prereq};

/// Where the Node peers live, relative to the workspace root.
const NODE_DIR: &str = "testing/node";
/// The Node-driven suites (label, folder relative to the workspace root).
const NODE_SUITES: [(&str, &str); 4] = [
    ("node conformance suite", "testing/node/conformance"),
    ("node interop suite", "testing/node/interop"),
    ("node emitter-worker suite", "testing/node/worker"),
    ("browser chat suite (Chromium)", "testing/node/browser"),
];
/// The reference example's end-to-end scenario, relative to the workspace root.
const E2E_SCRIPT: &str = "testing/node/conformance/e2e-scenario.mjs";

/// A step that failed; the message says which and why.
#[derive(Debug)]
pub(crate) struct StepFailed(String);

impl fmt::Display for StepFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type StepResult = Result<(), StepFailed>;

/// One stage of a pipeline (several steps).
pub(crate) type Stage = fn(&mut Pipeline) -> StepResult;

/// One pipeline run: the steps done so far, for the final summary.
pub(crate) struct Pipeline {
    name: String,
    started: Instant,
    done: Vec<(String, bool, Duration)>,
}

impl Pipeline {
    pub(crate) fn new(name: &str) -> Self {
        Pipeline {
            name: name.to_owned(),
            started: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Runs `cmd` (from the workspace root) as the step `label`; fails when it exits non-zero.
    fn run(&mut self, label: &str, mut cmd: Command) -> StepResult {
        cmd.current_dir(workspace_root());
        eprintln!("\n==> [{label}] {}", describe(&cmd));
        let started = Instant::now();
        let status = cmd.status();
        let ok = matches!(&status, Ok(s) if s.success());
        self.done.push((label.to_owned(), ok, started.elapsed()));
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(StepFailed(format!("step `{label}` failed ({s})"))),
            Err(e) => Err(StepFailed(format!(
                "step `{label}` could not start `{}`: {e}",
                describe(&cmd)
            ))),
        }
    }

    /// Records a check done in-process (no command), so that it shows in the summary.
    fn check(&mut self, label: &str, outcome: StepResult) -> StepResult {
        eprintln!("\n==> [{label}]");
        self.done
            .push((label.to_owned(), outcome.is_ok(), Duration::ZERO));
        outcome
    }

    /// Prints what ran and how it ended; the exit code of the whole command.
    pub(crate) fn summary(self, outcome: StepResult) -> ExitCode {
        eprintln!("\n==== cargo xtask {} summary ====", self.name);
        for (label, ok, took) in &self.done {
            let mark = if *ok { "ok    " } else { "FAILED" };
            eprintln!("  {mark} {label:<28} {:>7.1}s", took.as_secs_f64());
        }
        let total = self.started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => {
                eprintln!(
                    "==== PASSED: {} step(s) in {total:.1}s ====",
                    self.done.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                let failed = self.done.iter().filter(|(_, ok, _)| !ok).count();
                eprintln!(
                    "==== FAILED after {total:.1}s ({failed} failed step(s)); first: {e} ===="
                );
                ExitCode::FAILURE
            }
        }
    }
}

/// Says which of `needed` the machine lacks, with how to get each (see
/// [`prereqs`]); fails when anything is missing.
pub(crate) fn prerequisites(p: &mut Pipeline, needed: &[Prereq]) -> StepResult {
    let missing = prereqs::report(needed);
    let outcome = if missing.is_empty() {
        Ok(())
    } else {
        Err(StepFailed(format!(
            "missing prerequisites: {} (how to get each is printed above; \
             `bash .ci/run` installs them all)",
            missing.join(", ")
        )))
    };
    p.done
        .push(("prerequisites".to_owned(), outcome.is_ok(), Duration::ZERO));
    outcome
}

/// `cargo fmt --check` and clippy with warnings as errors.
pub(crate) fn lint(p: &mut Pipeline) -> StepResult {
    fmt_check(p)?;
    clippy(p)
}

/// `cargo fmt --check` over the whole workspace.
pub(crate) fn fmt_check(p: &mut Pipeline) -> StepResult {
    p.run("fmt --check", cargo(&["fmt", "--all", "--", "--check"]))
}

/// Clippy on every crate and target, warnings as errors.
pub(crate) fn clippy(p: &mut Pipeline) -> StepResult {
    p.run(
        "clippy -D warnings",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )
}

/// Builds every crate and target of the workspace.
pub(crate) fn build(p: &mut Pipeline) -> StepResult {
    p.run("build", cargo(&["build", "--workspace", "--all-targets"]))
}

/// The Rust tests (unit, integration and doc tests); they need Redis and the Node peers.
pub(crate) fn rust_tests(p: &mut Pipeline) -> StepResult {
    redis_check(p)?;
    node_modules(p)?;
    p.run(
        "cargo test",
        cargo(&["test", "--workspace", "--no-fail-fast"]),
    )
}

/// The Node-driven suites, each a folder of `*.test.mjs` run by `node --test`
/// against the debug demo server and client-cli: the demo server's conformance
/// suite (both transports, two servers on one Redis, client-cli against it and
/// the Node reference server) and the mixed Rust/Node fleet on Redis.
/// Every suite runs; the first failure is reported.
pub(crate) fn node_suites(p: &mut Pipeline) -> StepResult {
    redis_check(p)?;
    node_modules(p)?;
    p.run(
        "build demo-server, client-cli, chat-server, emitter-worker",
        cargo(&[
            "build",
            "-p",
            "ignis-socketio-examples",
            "--bin",
            "demo-server",
            "--bin",
            "client-cli",
            "--bin",
            "chat-server",
            "--bin",
            "emitter-worker",
        ]),
    )?;
    let mut outcome = Ok(());
    for (label, dir) in NODE_SUITES {
        let mut node = Command::new("node");
        node.args(["--test", "--test-reporter=spec", dir])
            .env("DEMO_SERVER_BIN", example_bin("debug", "demo-server"))
            .env("CLIENT_CLI_BIN", example_bin("debug", "client-cli"))
            .env("CHAT_SERVER_BIN", example_bin("debug", "chat-server"))
            .env("EMITTER_WORKER_BIN", example_bin("debug", "emitter-worker"));
        // A missing suite is a failure of the pipeline, never a silent skip.
        if !workspace_root().join(dir).is_dir() {
            node = Command::new("false");
        }
        let result = p.run(label, node);
        if outcome.is_ok() {
            outcome = result;
        }
    }
    outcome
}

/// The reference example's client scenario against a release build of the demo server.
pub(crate) fn e2e(p: &mut Pipeline) -> StepResult {
    node_modules(p)?;
    p.run(
        "build demo-server (release)",
        cargo(&[
            "build",
            "--release",
            "-p",
            "ignis-socketio-examples",
            "--bin",
            "demo-server",
        ]),
    )?;
    let mut node = Command::new("node");
    node.arg(E2E_SCRIPT)
        .env("DEMO_SERVER_BIN", example_bin("release", "demo-server"));
    p.run("node e2e scenario", node)
}

/// Delegates to the load generator, passing the arguments through.
pub(crate) fn bench(p: &mut Pipeline, args: &[String]) -> StepResult {
    let mut cmd = cargo(&[
        "run",
        "--release",
        "-p",
        "ignis-socketio-bench",
        "--bin",
        "ignis-bench",
        "--",
    ]);
    cmd.args(args);
    p.run("ignis-bench", cmd)
}

/// Checks Redis once per pipeline.
fn redis_check(p: &mut Pipeline) -> StepResult {
    if p.done
        .iter()
        .any(|(label, ok, _)| label == "redis reachable" && *ok)
    {
        return Ok(());
    }
    p.check("redis reachable", redis_reachable())
}

/// Makes sure Node is recent enough and `testing/node/node_modules` matches the lock file.
fn node_modules(p: &mut Pipeline) -> StepResult {
    if p.done
        .iter()
        .any(|(label, ok, _)| label == "node ready" && *ok)
    {
        return Ok(());
    }
    p.check("node ready", node_version_ok())?;
    let root = workspace_root();
    let lock = root.join(NODE_DIR).join("package-lock.json");
    let installed = root.join(NODE_DIR).join("node_modules/.package-lock.json");
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if fresh {
        eprintln!("    {NODE_DIR}/node_modules is up to date with its lock file");
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--prefix", NODE_DIR]);
    p.run("npm ci", npm)
}

fn node_version_ok() -> StepResult {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| StepFailed(format!("Node.js is required on PATH (node --version: {e})")))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match prereqs::node_major(&version) {
        Some(m) if m >= MIN_NODE_MAJOR => {
            eprintln!("    node {version}");
            Ok(())
        }
        _ => Err(StepFailed(format!(
            "Node.js {MIN_NODE_MAJOR} or later is required, found `{version}`"
        ))),
    }
}

/// Redis at `REDIS_URL` (default 127.0.0.1:6379) must answer PING: Redis tests never skip.
fn redis_reachable() -> StepResult {
    let mut cmd = Command::new("redis-cli");
    if let Ok(url) = std::env::var("REDIS_URL") {
        cmd.args(["-u", &url]);
    }
    cmd.arg("ping");
    let hint = "start one (`bash .ci/run` installs and starts it, or run \
                `redis-server --daemonize yes --port 6379 --save ''`) or set REDIS_URL";
    match cmd.output() {
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "PONG" => {
            eprintln!("    {} -> PONG", describe(&cmd));
            Ok(())
        }
        Ok(out) => Err(StepFailed(format!(
            "Redis did not answer PING ({}: {}{}); {hint}",
            describe(&cmd),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Err(e) => Err(StepFailed(format!(
            "redis-cli is not available ({e}); the tests need a running Redis: {hint}"
        ))),
    }
}

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.args(args);
    cmd
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Where cargo puts the example binary `name` for `profile` (honours `CARGO_TARGET_DIR`).
fn example_bin(profile: &str, name: &str) -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    target
        .join(profile)
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
