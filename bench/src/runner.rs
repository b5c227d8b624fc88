//! Runs every scenario against every server, alternating the server order
//! from run to run, each on a freshly started server.

use std::time::Duration;

use crate::BenchResult;
use crate::report::Record;
use crate::scenarios::{self, Metrics, Scenario, Settings};
use crate::servers::{self, Paths, ServerKind};

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Scenarios, in order.
    pub scenarios: Vec<Scenario>,
    /// Servers compared.
    pub servers: Vec<ServerKind>,
    /// Repetitions; medians are taken over them.
    pub runs: usize,
    /// Sizes and durations.
    pub settings: Settings,
}

/// Run the plan; one record per (run, scenario, server). Progress goes to stderr.
pub async fn run_all(plan: &Plan, paths: &Paths, redis_url: &str) -> Vec<Record> {
    let mut records = Vec::new();
    for run in 1..=plan.runs {
        for &scenario in &plan.scenarios {
            let mut order: Vec<ServerKind> = plan
                .servers
                .iter()
                .copied()
                .filter(|s| scenario != Scenario::CrossNode || s.is_multi_node())
                .filter(|s| s.runs(scenario))
                .collect();
            if !order.is_empty() {
                // Alternate: each run starts with a different server.
                let shift = (run - 1) % order.len();
                order.rotate_left(shift);
            }
            for server in order {
                eprintln!(
                    "[bench] run {run}/{} {} on {} ...",
                    plan.runs,
                    scenario.label(),
                    server.label()
                );
                let result = run_one(scenario, server, paths, redis_url, &plan.settings)
                    .await
                    .map_err(|e| e.to_string());
                match &result {
                    Ok(m) => eprintln!("[bench]   {}", serde_json::json!(m)),
                    Err(e) => eprintln!("[bench]   FAILED: {e}"),
                }
                records.push(Record {
                    run,
                    scenario,
                    server,
                    result,
                });
            }
        }
    }
    records
}

/// One scenario on fresh server instance(s), stopped afterwards.
pub async fn run_one(
    scenario: Scenario,
    server: ServerKind,
    paths: &Paths,
    redis_url: &str,
    settings: &Settings,
) -> BenchResult<Metrics> {
    let limit =
        settings.hold + settings.duration * 2 + settings.slow_phase * 2 + Duration::from_secs(180);
    match scenario {
        Scenario::CrossNode => {
            let a = servers::start(server, paths, redis_url, 0).await?;
            let b = match servers::start(server, paths, redis_url, 1).await {
                Ok(b) => b,
                Err(e) => {
                    a.stop().await;
                    return Err(e);
                }
            };
            let result = tokio::time::timeout(
                limit,
                scenarios::fanout::run(&[a.pid, b.pid], a.port, b.port, settings),
            )
            .await
            .unwrap_or_else(|_| Err("scenario timed out".into()));
            a.stop().await;
            b.stop().await;
            result
        }
        _ => {
            let s = servers::start(server, paths, redis_url, 0).await?;
            let run = async {
                match scenario {
                    Scenario::Connect => scenarios::connect::run(s.pid, s.port, settings).await,
                    Scenario::Fanout => {
                        scenarios::fanout::run(&[s.pid], s.port, s.port, settings).await
                    }
                    Scenario::Fanout16k => {
                        scenarios::fanout::run_dashboard(s.pid, s.port, settings).await
                    }
                    Scenario::Echo => scenarios::echo::run(s.pid, s.port, settings).await,
                    Scenario::SlowConsumer => {
                        scenarios::slow_consumer::run(s.pid, s.port, settings).await
                    }
                    Scenario::CrossNode => Err("unreachable".into()),
                }
            };
            let result = tokio::time::timeout(limit, run)
                .await
                .unwrap_or_else(|_| Err("scenario timed out".into()));
            s.stop().await;
            result
        }
    }
}
