//! The project's pipelines, run as `cargo xtask <command>`.
//!
//! Every step prints the command it runs; the first failing step fails the
//! whole command (non-zero exit) and a summary of the steps is printed at the
//! end either way. Standard library only, so the pipelines build in seconds.

mod fuzz;
mod prereqs;
mod steps;

use std::process::ExitCode;

use prereqs::Prereq;
use steps::Pipeline;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci        prerequisites check, fmt check, clippy -D warnings, build, cargo test
            --workspace (doc tests included), then the Node-driven suites; stops at
            the first failure unless given --keep-going (which still exits non-zero)
  lint      fmt check and clippy -D warnings
  test      cargo test --workspace (checks Redis and Node first)
  interop   the Node-driven suites only: conformance, interop, emitter worker, browser
  e2e       the reference example's end-to-end scenario against a release demo server
  bench     cargo run --release -p ignis-socketio-bench --bin ignis-bench -- <args>
  fuzz      [--seconds N] [target...]: each cargo-fuzz target of the engine's parsers for
            N seconds (default 60) with cargo +nightly fuzz run; fails if any crashes.
            Needs nightly and cargo-fuzz; not part of ci

prerequisites (checked first, each missing one named with how to get it; ci
stops there unless given --keep-going, the other commands run what they can):
  Redis answering PING at REDIS_URL (default 127.0.0.1:6379) via redis-cli,
  Node 18+ and npm, Chromium at /usr/bin/chromium or CHROMIUM_PATH (browser test).
  `bash .ci/run` installs and starts them all on Debian.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<String> = args.collect();
    let mut pipeline = Pipeline::new(&command);
    let outcome = match command.as_str() {
        "ci" => {
            let keep_going = rest.iter().any(|a| a == "--keep-going");
            // Said before anything starts: without them the run would fail late.
            let mut outcome = steps::prerequisites(&mut pipeline, &prereqs::ALL);
            if outcome.is_err() && !keep_going {
                return pipeline.summary(outcome);
            }
            let stages: [steps::Stage; 5] = [
                steps::fmt_check,
                steps::clippy,
                steps::build,
                steps::rust_tests,
                steps::node_suites,
            ];
            for stage in stages {
                if let Err(failed) = stage(&mut pipeline) {
                    let first = outcome.is_ok();
                    if first {
                        outcome = Err(failed);
                    }
                    if !keep_going {
                        break;
                    }
                }
            }
            outcome
        }
        "lint" => steps::lint(&mut pipeline),
        // These name what is missing first, then run what can run (a suite
        // that lacks something still fails on its own).
        "test" => {
            let ready = steps::prerequisites(&mut pipeline, &[Prereq::Redis, Prereq::Node]);
            ready.and(steps::rust_tests(&mut pipeline))
        }
        "interop" => {
            let ready = steps::prerequisites(&mut pipeline, &prereqs::ALL);
            ready.and(steps::node_suites(&mut pipeline))
        }
        "e2e" => {
            let ready = steps::prerequisites(&mut pipeline, &[Prereq::Node]);
            ready.and(steps::e2e(&mut pipeline))
        }
        // `cargo xtask bench -- --quick` and `cargo xtask bench --quick` mean the same.
        "bench" => steps::bench(
            &mut pipeline,
            rest.strip_prefix(&["--".to_owned()]).unwrap_or(&rest),
        ),
        "fuzz" => return fuzz::run(&rest),
        "help" | "-h" | "--help" => {
            eprint!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("xtask: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    pipeline.summary(outcome)
}
