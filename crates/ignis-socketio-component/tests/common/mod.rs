//! Helpers shared by the integration tests: raw HTTP, the Node observer
//! client, Redis.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};

pub use ignis_socketio_test_support::http::{header, http, http_on, status};
pub use ignis_socketio_test_support::redis::{checked_url as redis_url, numsub};

/// A Node `socket.io-client` run by `testing/node/component/observer.mjs`.
pub struct Observer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub seen: Vec<Value>,
}

impl Observer {
    /// Starts the observer against `addr`; `env` as documented in the script.
    pub fn start(addr: SocketAddr, env: &[(&str, &str)]) -> Observer {
        let dir = ignis_socketio_test_support::paths::node_dir();
        assert!(
            dir.join("node_modules/socket.io-client").is_dir(),
            "socket.io-client is missing: run `npm ci --prefix testing/node`"
        );
        let mut command = Command::new("node");
        command
            .arg(dir.join("component/observer.mjs"))
            .arg(format!("http://{addr}"))
            .current_dir(dir.join("component"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .expect("`node` must be on PATH (Node 20) to run the Socket.IO client tests");
        let stdout = child.stdout.take().expect("piped stdout");
        Observer {
            child,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
        }
    }

    /// Waits for the next line whose `event` is `name`, keeping the others in `seen`.
    pub async fn expect(&mut self, name: &str) -> Value {
        let deadline = Duration::from_secs(15);
        loop {
            let line = tokio::time::timeout(deadline, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no {name:?} within {deadline:?}; seen {:?}", self.seen))
                .expect("read observer output")
                .unwrap_or_else(|| panic!("observer exited before {name:?}; seen {:?}", self.seen));
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("observer printed {line:?}: {e}"));
            self.seen.push(value.clone());
            if value["event"] == name {
                return value;
            }
            assert_ne!(
                value["event"], "connect_error",
                "client could not connect: {value}"
            );
        }
    }

    /// Waits for the process to exit; returns its exit code.
    pub async fn exit_code(mut self) -> Option<i32> {
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("observer exits within 15 s")
            .expect("wait")
            .code()
    }
}

/// A key prefix no other test (or engineer) uses.
pub fn unique_key() -> String {
    ignis_socketio_test_support::redis::unique_key("component-test")
}
