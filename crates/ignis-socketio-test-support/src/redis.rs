//! The shared Redis (`REDIS_URL`, by default 127.0.0.1:6379) and private
//! `redis-server` processes on free ports, which a test can kill and restart.

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

/// `REDIS_URL` or `redis://127.0.0.1:6379`.
pub fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `REDIS_URL` or the default; panics loudly when Redis does not answer.
pub async fn checked_url() -> String {
    let url = url();
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

/// A key prefix no other test (or engineer) uses, starting with `prefix`.
pub fn unique_key(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A fresh directory under the system temp dir.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ignis-redis-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A redis-server child, killed on drop.
pub struct RedisProcess {
    /// The `redis-server` process.
    pub child: Child,
}

impl RedisProcess {
    /// Kills the server and waits until it is gone (its port refuses connections).
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
        let _ = self.child.wait().await;
    }
}

/// Starts `redis-server` on `port` (a cluster node when `cluster`), data in `dir`.
pub async fn start_redis(port: u16, dir: &std::path::Path, cluster: bool) -> RedisProcess {
    start_redis_with(port, dir, cluster, &[]).await
}

/// [`start_redis`] with extra `redis-server` arguments first.
pub async fn start_redis_with(
    port: u16,
    dir: &std::path::Path,
    cluster: bool,
    extra: &[&str],
) -> RedisProcess {
    let mut cmd = Command::new("redis-server");
    cmd.args(extra);
    cmd.arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--save")
        .arg("")
        .arg("--appendonly")
        .arg("no")
        .arg("--daemonize")
        .arg("no")
        .arg("--dir")
        .arg(dir);
    if cluster {
        cmd.arg("--cluster-enabled")
            .arg("yes")
            .arg("--cluster-config-file")
            .arg(dir.join(format!("nodes-{port}.conf")));
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server on PATH");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return RedisProcess { child };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("redis-server on port {port} did not start");
}

/// `calls` of one command in `INFO commandstats` of the Redis at `port`.
pub async fn command_calls(port: u16, command: &str) -> u64 {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}
