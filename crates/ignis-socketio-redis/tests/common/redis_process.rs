//! Private redis-server processes on free ports (never the shared 6379), which a
//! test can kill and restart.

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ignis-redis-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A redis-server child, killed on drop.
pub struct RedisProcess {
    pub child: Child,
}

impl RedisProcess {
    /// Kills the server and waits until it is gone (its port refuses connections).
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
        let _ = self.child.wait().await;
    }
}

pub async fn start_redis(port: u16, dir: &std::path::Path, cluster: bool) -> RedisProcess {
    start_redis_with(port, dir, cluster, &[]).await
}

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
