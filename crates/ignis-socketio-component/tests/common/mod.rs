//! Helpers shared by the integration tests: raw HTTP, the Node observer
//! client, Redis.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};

/// One HTTP/1.1 request with `Connection: close`; returns the raw response.
pub async fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    http_on(&mut stream, method, path, headers).await
}

/// Sends one request on an open stream and reads the response to the end.
pub async fn http_on(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> String {
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str("Host: 127.0.0.1\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("response within 10 s")
    .expect("read");
    response
}

/// The status code of a raw response.
pub fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

/// The value of a header of a raw response (case-insensitive name).
pub fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testing/node")
}

/// A Node `socket.io-client` run by `testing/node/component/observer.mjs`.
pub struct Observer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub seen: Vec<Value>,
}

impl Observer {
    /// Starts the observer against `addr`; `env` as documented in the script.
    pub fn start(addr: SocketAddr, env: &[(&str, &str)]) -> Observer {
        let dir = node_dir();
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

/// `REDIS_URL` or the default; panics loudly when Redis does not answer.
pub async fn redis_url() -> String {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url.as_str())
        .unwrap_or_else(|e| panic!("REDIS_URL={url} is not a Redis URL: {e}"));
    let mut connection = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .unwrap_or_else(|_| panic!("Redis at {url} did not answer within 5 s: these tests need a running Redis (set REDIS_URL)"))
    .unwrap_or_else(|e| panic!("Redis at {url} is unreachable: these tests need a running Redis (set REDIS_URL): {e}"));
    let pong: String = redis::cmd("PING")
        .query_async(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} does not answer PING: {e}"));
    assert_eq!(pong, "PONG");
    url
}

/// Subscribers of `channel` on the Redis at `url`.
pub async fn numsub(url: &str, channel: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let reply: Vec<redis::Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut connection)
        .await
        .unwrap();
    match reply.get(1) {
        Some(redis::Value::Int(n)) => *n,
        other => panic!("unexpected NUMSUB reply {other:?}"),
    }
}

/// A key prefix no other test (or engineer) uses.
pub fn unique_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("component-test-{}-{nanos}", std::process::id())
}
