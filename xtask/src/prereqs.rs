//! What the pipelines need besides Rust, checked before they start, so that a
//! missing piece is named with the way to get it at once rather than after a
//! long build.

use std::path::PathBuf;
use std::process::Command;

/// How to get everything at once on Debian.
const EVERYTHING: &str = "`bash .ci/run` installs and starts all of them (on Debian, as root)";

/// Oldest Node major version with what the suites use (built-in test runner, fetch); CI uses 20.
pub(crate) const MIN_NODE_MAJOR: u32 = 18;

/// One thing a pipeline needs from the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prereq {
    /// Redis answering PING at `REDIS_URL` (default 127.0.0.1:6379), through `redis-cli`.
    Redis,
    /// Node (at least [`MIN_NODE_MAJOR`]) and npm on `PATH`.
    Node,
    /// Chromium at `CHROMIUM_PATH`, or `/usr/bin/chromium`, for the browser chat test.
    Chromium,
}

/// What `cargo xtask ci` needs: everything.
pub(crate) const ALL: [Prereq; 3] = [Prereq::Redis, Prereq::Node, Prereq::Chromium];

/// The outcome of one check: what was found, or what is missing and how to get it.
struct Finding {
    name: &'static str,
    missing: Option<(String, &'static str)>,
    found: String,
}

/// Checks `needed` and prints one line each. Returns the names of the missing
/// ones (empty when everything is there).
pub(crate) fn report(needed: &[Prereq]) -> Vec<&'static str> {
    eprintln!("\n==> [prerequisites]");
    let mut missing = Vec::new();
    for prereq in needed {
        let finding = check(*prereq);
        match &finding.missing {
            None => eprintln!("    ok       {:<9} {}", finding.name, finding.found),
            Some((what, how)) => {
                eprintln!("    MISSING  {:<9} {what}", finding.name);
                eprintln!("             {:<9} get it: {how}", "");
                missing.push(finding.name);
            }
        }
    }
    if !missing.is_empty() {
        eprintln!("    {EVERYTHING}.");
    }
    missing
}

fn check(prereq: Prereq) -> Finding {
    match prereq {
        Prereq::Redis => redis(),
        Prereq::Node => node(),
        Prereq::Chromium => chromium(),
    }
}

fn redis() -> Finding {
    let mut cmd = Command::new("redis-cli");
    let target = match std::env::var("REDIS_URL") {
        Ok(url) => {
            cmd.args(["-u", &url]);
            format!("REDIS_URL={url}")
        }
        Err(_) => "127.0.0.1:6379 (REDIS_URL unset)".to_owned(),
    };
    cmd.arg("ping");
    let start = "start one: `redis-server --daemonize yes --port 6379 --save ''`, or set REDIS_URL";
    let (missing, how) = match cmd.output() {
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "PONG" => {
            return Finding {
                name: "Redis",
                missing: None,
                found: format!("{target} answers PING"),
            };
        }
        Ok(out) => {
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            (
                format!("no Redis answers PING at {target} (redis-cli said: {said})"),
                start,
            )
        }
        Err(_) => (
            format!("redis-cli is not on PATH, so Redis at {target} cannot be checked"),
            "`apt-get install redis-server redis-tools`, then \
             `redis-server --daemonize yes --port 6379 --save ''`",
        ),
    };
    Finding {
        name: "Redis",
        missing: Some((missing, how)),
        found: String::new(),
    }
}

fn node() -> Finding {
    let how = "`apt-get install nodejs npm` (Node 20 is what CI uses)";
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    let npm = Command::new("npm")
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    let missing = match (&version, &npm) {
        (None, _) => Some("node is not on PATH".to_owned()),
        (Some(v), _) if node_major(v).is_none_or(|m| m < MIN_NODE_MAJOR) => Some(format!(
            "Node {MIN_NODE_MAJOR} or later is needed, found `{v}`"
        )),
        (Some(_), None) => Some("npm is not on PATH".to_owned()),
        _ => None,
    };
    Finding {
        name: "Node/npm",
        missing: missing.map(|m| (m, how)),
        found: format!(
            "node {}, npm {}",
            version.unwrap_or_default(),
            npm.unwrap_or_default()
        ),
    }
}

/// The major version of `node --version` output (`v20.11.1` → 20).
pub(crate) fn node_major(version: &str) -> Option<u32> {
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
}

fn chromium() -> Finding {
    let (path, from_env) = match std::env::var_os("CHROMIUM_PATH") {
        Some(path) => (PathBuf::from(path), true),
        None => (PathBuf::from("/usr/bin/chromium"), false),
    };
    let missing = (!path.is_file()).then(|| {
        let at = if from_env {
            format!("CHROMIUM_PATH={} does not exist", path.display())
        } else {
            "no Chromium at /usr/bin/chromium (CHROMIUM_PATH unset)".to_owned()
        };
        (
            at,
            "`apt-get install chromium`, or set CHROMIUM_PATH to a Chromium binary",
        )
    });
    Finding {
        name: "Chromium",
        missing,
        found: path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions_are_read_by_major() {
        assert_eq!(node_major("v20.11.1\n"), Some(20));
        assert_eq!(node_major("v18.0.0"), Some(18));
        assert_eq!(node_major(""), None);
        assert_eq!(node_major("not a version"), None);
    }
}
