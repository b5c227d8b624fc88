//! `ignis-bench`: run the load scenarios against the demo server (in-memory
//! and on Redis), bare socketioxide and the Node reference, and print
//! medians and ratios. JSON lands in `target/bench/`.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::Parser;
use ignis_socketio_bench::cores::CoreSplit;
use ignis_socketio_bench::redis::PrivateRedis;
use ignis_socketio_bench::report;
use ignis_socketio_bench::runner::{self, Plan};
use ignis_socketio_bench::scenarios::{Scenario, Settings};
use ignis_socketio_bench::servers::{Paths, ServerKind};

/// Load generator: Socket.IO servers side by side, same machine, same run.
#[derive(Debug, Parser)]
#[command(name = "ignis-bench")]
struct Args {
    /// Small sizes and short holds (the slow consumer keeps its two 15 s
    /// phases, about 31 s per server): the whole run takes three to four minutes.
    #[arg(long)]
    quick: bool,
    /// Scenarios to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',', num_args = 1..)]
    scenario: Vec<Scenario>,
    /// Servers to compare (default: demo, demo-redis, bare, node, demo-deflate,
    /// node-deflate; bare-tuned and demo-metrics on request). node-deflate
    /// runs the connect and fanout-16k scenarios only.
    #[arg(long, value_enum, value_delimiter = ',', num_args = 1..)]
    servers: Vec<ServerKind>,
    /// Repetitions (default 1 with --quick, 3 otherwise).
    #[arg(long)]
    runs: Option<usize>,
    /// Clients of the connect scenario (default 300 quick, 10000 full).
    #[arg(long)]
    clients: Option<usize>,
    /// Clients in the fan-out room (default 200 quick, 1000 full).
    #[arg(long)]
    fanout_clients: Option<usize>,
    /// Clients of the echo loop (default 50 quick, 200 full).
    #[arg(long)]
    echo_clients: Option<usize>,
    /// Seconds connections are held before memory is read (default 3 quick, 20 full).
    #[arg(long)]
    hold_secs: Option<u64>,
    /// Seconds of the fan-out and echo phases (default 4 quick, 10 full).
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Reading members of the slow-consumer room, besides the slow one.
    #[arg(long, default_value_t = 50)]
    slow_readers: usize,
    /// Seconds of each of the two slow-consumer phases (default 15).
    #[arg(long, default_value_t = 15)]
    slow_phase_secs: u64,
    /// Messages per second (about 1 KiB each) sent to the slow-consumer room.
    #[arg(long, default_value_t = 1000)]
    slow_rate: u32,
    /// Fan-out messages in flight.
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// Connection attempts in flight.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// Echo at this many events per second in total, open loop (each client
    /// sends on a fixed schedule, latency counted from the scheduled time),
    /// instead of the closed loop: latency at a given load rather than at
    /// saturation, where it only restates throughput.
    #[arg(long)]
    echo_rate: Option<u32>,
    /// Worker threads of the load generator (default: one per core). With
    /// fewer, the generator competes less with the server for the cores it
    /// shares with it, so latencies say more about the server.
    #[arg(long)]
    generator_threads: Option<usize>,
    /// Run the generator on the first half of the cores and the servers
    /// (and the private Redis) on the rest, as on two machines: sharing
    /// cores, each preempts the other for whole time slices, which then
    /// dominate latency tails. Each side sizes its runtime to its cores.
    #[arg(long)]
    split_cores: bool,
    /// Use this Redis instead of a private `redis-server` started for the run.
    /// The reference helper always uses the `socket.io` channel prefix, so a
    /// shared Redis mixes its traffic with anyone else's.
    #[arg(long)]
    redis_url: Option<String>,
    /// Do not build the servers (expect release binaries next to this one).
    #[arg(long)]
    no_build: bool,
}

fn main() {
    let args = Args::parse();
    let split = if args.split_cores {
        match CoreSplit::halves().and_then(|split| split.pin_generator().map(|()| split)) {
            Ok(split) => Some(split),
            Err(e) => {
                eprintln!("ignis-bench: --split-cores: {e}");
                std::process::exit(2);
            }
        }
    } else {
        None
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.generator_threads {
        builder.worker_threads(threads.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ignis-bench: cannot start tokio: {e}");
            std::process::exit(2);
        }
    };
    std::process::exit(runtime.block_on(run(args, split)));
}

async fn run(args: Args, split: Option<CoreSplit>) -> i32 {
    match rlimit::increase_nofile_limit(65_535) {
        Ok(n) => eprintln!("[bench] open file limit {n}"),
        Err(e) => eprintln!("[bench] cannot raise the open file limit: {e}"),
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| root.join("target/release"));
    let paths = Paths {
        out_dir: root.join("target/bench"),
        root: root.clone(),
        bin_dir,
        server_cores: split.as_ref().map(|split| split.servers.clone()),
    };
    if let Err(e) = std::fs::create_dir_all(&paths.out_dir) {
        eprintln!(
            "ignis-bench: cannot create {}: {e}",
            paths.out_dir.display()
        );
        return 2;
    }

    let quick = args.quick;
    let pick = |v: Option<usize>, q: usize, f: usize| v.unwrap_or(if quick { q } else { f });
    let settings = Settings {
        connect_clients: pick(args.clients, 300, 10_000),
        hold: Duration::from_secs(args.hold_secs.unwrap_or(if quick { 3 } else { 20 })),
        fanout_clients: pick(args.fanout_clients, 200, 1_000),
        echo_clients: pick(args.echo_clients, 50, 200),
        duration: Duration::from_secs(args.duration_secs.unwrap_or(if quick { 4 } else { 10 })),
        window: args.window,
        concurrency: args.concurrency,
        slow_readers: args.slow_readers,
        slow_phase: Duration::from_secs(args.slow_phase_secs),
        slow_rate: args.slow_rate,
        echo_rate: args.echo_rate.filter(|rate| *rate > 0),
    };
    let plan = Plan {
        scenarios: if args.scenario.is_empty() {
            vec![
                Scenario::Connect,
                Scenario::Fanout,
                Scenario::Echo,
                Scenario::CrossNode,
                Scenario::Fanout16k,
                Scenario::SlowConsumer,
            ]
        } else {
            args.scenario.clone()
        },
        servers: if args.servers.is_empty() {
            vec![
                ServerKind::Demo,
                ServerKind::DemoRedis,
                ServerKind::Bare,
                ServerKind::Node,
                ServerKind::DemoDeflate,
                ServerKind::NodeDeflate,
            ]
        } else {
            args.servers.clone()
        },
        runs: args.runs.unwrap_or(if quick { 1 } else { 3 }),
        settings,
    };

    if !args.no_build {
        build(&plan.servers, &paths);
    }
    if plan.servers.iter().any(|s| s.is_node()) {
        ensure_node_modules(&root);
    }
    let mut private_redis = None;
    let redis_url = match (&args.redis_url, plan.servers.iter().any(|s| s.uses_redis())) {
        (Some(url), _) => url.clone(),
        (None, false) => String::new(),
        (None, true) => match PrivateRedis::start(paths.server_cores.as_deref()).await {
            Ok(r) => {
                let url = r.url.clone();
                eprintln!("[bench] private Redis at {url}");
                private_redis = Some(r);
                url
            }
            Err(e) => {
                eprintln!("[bench] {e}; Redis servers will fail");
                "redis://127.0.0.1:1".to_owned()
            }
        },
    };

    let machine = machine(split.as_ref());
    eprintln!("[bench] machine {machine}; plan {plan:?}");
    let records = runner::run_all(&plan, &paths, &redis_url).await;
    drop(private_redis);

    println!("\nmachine: {machine}");
    let summaries: Vec<_> = plan
        .scenarios
        .iter()
        .map(|s| report::print_scenario(&records, *s))
        .collect();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let doc = serde_json::json!({
        "machine": machine,
        "quick": quick,
        "plan": format!("{plan:?}"),
        "records": records.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        "summaries": summaries,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    for name in [format!("bench-{stamp}.json"), "latest.json".to_owned()] {
        let path = paths.out_dir.join(name);
        if let Err(e) = std::fs::write(&path, &text) {
            eprintln!("ignis-bench: cannot write {}: {e}", path.display());
        }
    }
    println!(
        "\nJSON: {}",
        paths.out_dir.join(format!("bench-{stamp}.json")).display()
    );
    0
}

/// Build the release binaries the plan needs, into the target directory this
/// binary runs from. A failed build is reported; the server then shows as
/// not built in the table.
fn build(servers: &[ServerKind], paths: &Paths) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = paths.bin_dir.parent().map(Path::to_path_buf);
    let mut wanted = Vec::new();
    if servers
        .iter()
        .any(|s| matches!(s, ServerKind::Bare | ServerKind::BareTuned))
    {
        wanted.push(("ignis-socketio-bench", "bare-server"));
    }
    if servers.iter().any(|s| {
        matches!(
            s,
            ServerKind::Demo
                | ServerKind::DemoRedis
                | ServerKind::DemoDeflate
                | ServerKind::DemoMetrics
        )
    }) {
        wanted.push(("ignis-socketio-examples", "demo-server"));
    }
    for (package, bin) in wanted {
        eprintln!("[bench] cargo build --release -p {package} --bin {bin}");
        let mut cmd = Command::new(&cargo);
        cmd.args(["build", "--release", "-p", package, "--bin", bin])
            .current_dir(&paths.root);
        if let Some(dir) = &target_dir {
            cmd.arg("--target-dir").arg(dir);
        }
        match cmd.status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("[bench] building {bin} failed ({s}); it will be reported as not built")
            }
            Err(e) => eprintln!("[bench] cannot run cargo: {e}"),
        }
    }
}

fn ensure_node_modules(root: &Path) {
    let node_dir = root.join("testing/node");
    if node_dir
        .join("node_modules/@venizia/ignis-helpers")
        .exists()
    {
        return;
    }
    eprintln!("[bench] npm ci --prefix testing/node");
    match Command::new("npm")
        .arg("ci")
        .arg("--prefix")
        .arg(&node_dir)
        .status()
    {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("[bench] npm ci failed ({other:?}); the Node reference will fail to start")
        }
    }
}

fn machine(split: Option<&CoreSplit>) -> String {
    // Once split, this process sees only the generator's part.
    let cores = match split {
        Some(split) => split.core_count(),
        None => std::thread::available_parallelism().map_or(0, |n| n.get()),
    };
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<f64>().ok())
                })
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let split = split.map_or_else(String::new, |split| {
        format!(
            ", generator on core(s) {}, servers on {}",
            split.generator, split.servers
        )
    });
    format!(
        "{cores} cores, {mem_gib:.1} GiB, Linux {}{split}",
        kernel.trim()
    )
}
