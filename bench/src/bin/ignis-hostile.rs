//! `ignis-hostile`: start the demo server, attack it with one hostile-client
//! scenario while sampling its memory every 100 ms, print one `RESULT` line
//! per figure (see `ignis_socketio_bench::hostile`).

use std::path::{Path, PathBuf};

use clap::Parser;
use ignis_socketio_bench::hostile::{self, Options, Scenario};

/// Hostile clients against the demo server.
#[derive(Debug, Parser)]
#[command(name = "ignis-hostile")]
struct Args {
    /// The attack.
    #[arg(value_enum)]
    scenario: Scenario,
    /// Demo server binary (default: `demo-server` next to this program).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Port of the server on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Run the server on the Redis adapter (default URL redis://127.0.0.1:6379).
    #[arg(long, num_args = 0..=1, default_missing_value = "redis://127.0.0.1:6379")]
    redis: Option<String>,
    /// The server's authentication window, ms.
    #[arg(long, default_value_t = 10_000)]
    auth_timeout_ms: u64,
    /// Clients (never-auth, default 5000) or cycles (reconnect-storm, default 40000).
    #[arg(long)]
    count: Option<usize>,
    /// The server's RUST_LOG (the demo's own default level is info).
    #[arg(long, default_value = "info")]
    server_log: String,
    /// After the attack, make the server call glibc's malloc_trim(0) through
    /// gdb and report its memory again (system allocator only; needs gdb).
    #[arg(long)]
    gdb_malloc_trim: bool,
}

fn main() {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ignis-hostile: cannot start tokio: {e}");
            std::process::exit(2);
        }
    };
    std::process::exit(runtime.block_on(run(args)));
}

async fn run(args: Args) -> i32 {
    if let Err(e) = rlimit::increase_nofile_limit(65_535) {
        eprintln!("ignis-hostile: cannot raise the open file limit: {e}");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let server_bin = args.server_bin.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("demo-server")))
            .unwrap_or_else(|| root.join("target/release/demo-server"))
    });
    let opts = Options {
        scenario: args.scenario,
        server_bin,
        port: args.port,
        redis: args.redis,
        auth_timeout_ms: args.auth_timeout_ms,
        count: args.count,
        server_log: args.server_log,
        root,
        gdb_malloc_trim: args.gdb_malloc_trim,
    };
    match hostile::run(opts).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ignis-hostile: {e}");
            1
        }
    }
}
