//! `cargo xtask fuzz --seconds N`: every cargo-fuzz target (the parsers of
//! peer-controlled input in every crate, in the workspace's `fuzz/` folder),
//! one after another, N seconds each.
//!
//! Not part of `cargo xtask ci`: it needs the nightly toolchain and
//! cargo-fuzz (`cargo install cargo-fuzz`); `.ci/run` installs both and runs
//! each target briefly. Targets build without a sanitizer (`-s none`): the
//! code is safe Rust, so what the fuzzer hunts is panics, and builds and runs
//! are several times faster.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The folder, relative to the workspace root, whose `fuzz/` folder holds
/// the targets.
const FUZZ_CRATE: &str = ".";
/// The targets, in the order they run.
const TARGETS: [&str; 9] = [
    "engine_payload",
    "socket_packet",
    "frame_reader",
    "placeholders",
    "event_data",
    "room_request",
    "handshake",
    "redis_frames",
    "client_codec",
];
/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

/// Runs `cargo xtask fuzz [--seconds N] [target...]`; the exit code of the command.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let (seconds, only) = match parse_args(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("xtask fuzz: {e}\nusage: cargo xtask fuzz [--seconds N] [target...]");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = tools_present() {
        eprintln!("xtask fuzz: {e}");
        return ExitCode::FAILURE;
    }
    let crate_dir = workspace_root().join(FUZZ_CRATE);
    let started = Instant::now();
    let mut done: Vec<(&str, bool, Duration)> = Vec::new();
    for target in TARGETS {
        if !only.is_empty() && !only.iter().any(|t| t == target) {
            continue;
        }
        // The first folder is the working corpus libFuzzer grows (ignored by
        // git); the second holds the committed seeds.
        let corpus = format!("fuzz/corpus/{target}");
        if let Err(e) = std::fs::create_dir_all(crate_dir.join(&corpus)) {
            eprintln!("xtask fuzz: cannot create {FUZZ_CRATE}/{corpus}: {e}");
            return ExitCode::FAILURE;
        }
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&crate_dir).args([
            "+nightly".to_owned(),
            "fuzz".to_owned(),
            "run".to_owned(),
            "--sanitizer=none".to_owned(),
            target.to_owned(),
            corpus,
            format!("fuzz/seeds/{target}"),
            "--".to_owned(),
            format!("-max_total_time={seconds}"),
        ]);
        eprintln!("\n==> [fuzz {target}] (in {FUZZ_CRATE}) {}", describe(&cmd));
        let t0 = Instant::now();
        let ok = match cmd.status() {
            Ok(status) => status.success(),
            Err(e) => {
                eprintln!("    could not start cargo: {e}");
                false
            }
        };
        done.push((target, ok, t0.elapsed()));
    }
    eprintln!("\n==== cargo xtask fuzz summary ====");
    for (target, ok, took) in &done {
        let mark = if *ok { "ok    " } else { "FAILED" };
        eprintln!("  {mark} fuzz {target:<23} {:>7.1}s", took.as_secs_f64());
    }
    let total = started.elapsed().as_secs_f64();
    let failed = done.iter().filter(|(_, ok, _)| !ok).count();
    if done.is_empty() {
        eprintln!(
            "==== FAILED: no target matched; targets: {} ====",
            TARGETS.join(", ")
        );
        ExitCode::FAILURE
    } else if failed == 0 {
        eprintln!("==== PASSED: {} target(s) in {total:.1}s ====", done.len());
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "==== FAILED after {total:.1}s: {failed} target(s) crashed or failed to build; \
             the inputs are in {FUZZ_CRATE}/fuzz/artifacts/<target>/ ===="
        );
        ExitCode::FAILURE
    }
}

/// `--seconds N` (or `--seconds=N`) and optional target names.
fn parse_args(args: &[String]) -> Result<(u64, Vec<String>), String> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = if arg == "--seconds" {
            Some(args.next().ok_or("--seconds needs a value")?.as_str())
        } else {
            arg.strip_prefix("--seconds=")
        };
        if let Some(value) = value {
            seconds = value
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("--seconds wants a positive whole number, not `{value}`"))?;
        } else if TARGETS.contains(&arg.as_str()) {
            only.push(arg.clone());
        } else {
            return Err(format!(
                "unknown argument `{arg}` (targets: {})",
                TARGETS.join(", ")
            ));
        }
    }
    Ok((seconds, only))
}

/// The nightly toolchain and cargo-fuzz must both be installed; says which is missing.
fn tools_present() -> Result<(), String> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output();
    match nightly {
        Ok(out) if out.status.success() => {
            eprintln!("    {}", String::from_utf8_lossy(&out.stdout).trim());
        }
        Ok(_) => {
            return Err("the nightly toolchain is missing (cargo-fuzz needs it): \
                        run `rustup toolchain install nightly`"
                .to_owned());
        }
        Err(e) => {
            return Err(format!(
                "rustup is not available ({e}); cargo-fuzz needs a nightly toolchain \
                 selected with `cargo +nightly`"
            ));
        }
    }
    let fuzz = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output();
    match fuzz {
        Ok(out) if out.status.success() => {
            eprintln!("    {}", String::from_utf8_lossy(&out.stdout).trim());
            Ok(())
        }
        _ => Err("cargo-fuzz is missing: run `cargo install cargo-fuzz`".to_owned()),
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
