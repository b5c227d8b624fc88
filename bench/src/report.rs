//! Tables, medians, ratios and JSON output.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::scenarios::{Metrics, Scenario};
use crate::servers::ServerKind;
use crate::stats::median;

/// One scenario run against one server.
#[derive(Debug, Clone)]
pub struct Record {
    /// Run number, from 1.
    pub run: usize,
    /// What was measured.
    pub scenario: Scenario,
    /// Against which server.
    pub server: ServerKind,
    /// The figures, or why there are none (e.g. the server did not start).
    pub result: Result<Metrics, String>,
}

impl Record {
    /// The record as one JSON object.
    pub fn to_json(&self) -> Value {
        match &self.result {
            Ok(m) => json!({
                "run": self.run, "scenario": self.scenario.label(), "server": self.server.label(),
                "ok": true, "metrics": m,
            }),
            Err(e) => json!({
                "run": self.run, "scenario": self.scenario.label(), "server": self.server.label(),
                "ok": false, "error": e,
            }),
        }
    }
}

/// Columns shown for a scenario, in order.
pub fn columns(scenario: Scenario) -> &'static [&'static str] {
    match scenario {
        Scenario::Connect => &[
            "connected",
            "failed",
            "rate_per_s",
            "p50_ms",
            "p99_ms",
            "cpu_us_per_conn",
            "rss_kib_per_conn",
            "rss_total_kib_per_conn",
            "rss_base_mib",
        ],
        Scenario::Fanout | Scenario::CrossNode => &[
            "members",
            "messages",
            "deliveries_per_s",
            "loss_pct",
            "p50_ms",
            "p99_ms",
            "server_cpu_pct",
        ],
        Scenario::Fanout16k => &[
            "members",
            "messages",
            "json_bytes",
            "wire_bytes_per_msg",
            "deliveries_per_s",
            "loss_pct",
            "p99_ms",
            "server_cpu_pct",
            "cpu_us_per_delivery",
        ],
        Scenario::SlowConsumer => &[
            "rate_b_per_s",
            "p50_a_ms",
            "p99_a_ms",
            "p50_b_ms",
            "p99_b_ms",
            "rss_start_mib",
            "rss_max_a_mib",
            "rss_max_b_mib",
            "rss_end_mib",
            "slow_dropped_after_s",
            "missing",
            "out_of_order",
        ],
        Scenario::Echo => &[
            "clients",
            "offered_per_s",
            "round_trips_per_s",
            "p50_ms",
            "p99_ms",
            "errors",
            "server_cpu_pct",
        ],
    }
}

/// Figures compared between servers as ratios.
pub fn ratio_metrics(scenario: Scenario) -> &'static [&'static str] {
    match scenario {
        Scenario::Connect => &[
            "rate_per_s",
            "p99_ms",
            "cpu_us_per_conn",
            "rss_kib_per_conn",
            "rss_total_kib_per_conn",
        ],
        Scenario::Fanout | Scenario::CrossNode => &["deliveries_per_s", "p99_ms"],
        Scenario::Fanout16k => &[
            "deliveries_per_s",
            "wire_bytes_per_msg",
            "cpu_us_per_delivery",
        ],
        Scenario::Echo => &["round_trips_per_s", "p99_ms"],
        Scenario::SlowConsumer => &["p99_b_ms", "rss_max_b_mib"],
    }
}

/// Per server: the median of every metric over successful runs, or the
/// last error when no run succeeded.
pub fn medians(
    records: &[Record],
    scenario: Scenario,
) -> BTreeMap<ServerKind, Result<Metrics, String>> {
    let mut by_server: BTreeMap<ServerKind, (Vec<&Metrics>, Option<String>)> = BTreeMap::new();
    for r in records.iter().filter(|r| r.scenario == scenario) {
        let entry = by_server.entry(r.server).or_default();
        match &r.result {
            Ok(m) => entry.0.push(m),
            Err(e) => entry.1 = Some(e.clone()),
        }
    }
    by_server
        .into_iter()
        .map(|(server, (runs, error))| {
            if runs.is_empty() {
                return (server, Err(error.unwrap_or_default()));
            }
            let mut out = Metrics::new();
            let keys: Vec<&String> = runs.iter().flat_map(|m| m.keys()).collect();
            for key in keys {
                let values: Vec<f64> = runs.iter().filter_map(|m| m.get(key).copied()).collect();
                if let Some(v) = median(&values) {
                    out.insert(key.clone(), v);
                }
            }
            out.insert("runs".into(), runs.len() as f64);
            (server, Ok(out))
        })
        .collect()
}

/// Compared pairs: (ours, baseline).
const PAIRS: [(ServerKind, ServerKind); 9] = [
    (ServerKind::Demo, ServerKind::Node),
    (ServerKind::Demo, ServerKind::Bare),
    (ServerKind::DemoRedis, ServerKind::Node),
    (ServerKind::DemoRedis, ServerKind::Bare),
    (ServerKind::BareTuned, ServerKind::Bare),
    (ServerKind::DemoDeflate, ServerKind::Demo),
    (ServerKind::DemoDeflate, ServerKind::NodeDeflate),
    (ServerKind::NodeDeflate, ServerKind::Node),
    (ServerKind::DemoMetrics, ServerKind::Demo),
];

/// The median over runs of `ours / base` taken within each run: robust to
/// load that drifts between runs on a shared machine.
pub fn run_ratios(records: &[Record], scenario: Scenario) -> BTreeMap<String, f64> {
    let mut per_key: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let find = |run: usize, server: ServerKind| {
        records
            .iter()
            .find(|r| r.run == run && r.scenario == scenario && r.server == server)
            .and_then(|r| r.result.as_ref().ok())
    };
    let runs = records.iter().map(|r| r.run).max().unwrap_or(0);
    for run in 1..=runs {
        for (ours, base) in PAIRS {
            let (Some(a), Some(b)) = (find(run, ours), find(run, base)) else {
                continue;
            };
            for metric in ratio_metrics(scenario) {
                if let (Some(x), Some(y)) = (a.get(*metric), b.get(*metric))
                    && *y != 0.0
                {
                    per_key
                        .entry(format!("{}/{}:{}", ours.label(), base.label(), metric))
                        .or_default()
                        .push(x / y);
                }
            }
        }
    }
    per_key
        .into_iter()
        .filter_map(|(k, v)| median(&v).map(|m| (k, m)))
        .collect()
}

/// `ours / base` for every ratio metric where both medians exist.
pub fn ratios(
    scenario: Scenario,
    medians: &BTreeMap<ServerKind, Result<Metrics, String>>,
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (ours, base) in PAIRS {
        let (Some(Ok(a)), Some(Ok(b))) = (medians.get(&ours), medians.get(&base)) else {
            continue;
        };
        for metric in ratio_metrics(scenario) {
            if let (Some(x), Some(y)) = (a.get(*metric), b.get(*metric))
                && *y != 0.0
            {
                out.insert(
                    format!("{}/{}:{}", ours.label(), base.label(), metric),
                    x / y,
                );
            }
        }
    }
    out
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Print the table of medians, the ratios, and one JSON summary line.
/// Returns the JSON summary.
pub fn print_scenario(records: &[Record], scenario: Scenario) -> Value {
    let meds = medians(records, scenario);
    let cols = columns(scenario);
    let mut table = String::new();
    let _ = writeln!(table, "\n== {} (medians) ==", scenario.label());
    let _ = write!(table, "{:<12}", "server");
    for c in cols {
        let _ = write!(table, " {:>16}", c);
    }
    let _ = writeln!(table);
    for (server, result) in &meds {
        let _ = write!(table, "{:<12}", server.label());
        match result {
            Ok(m) => {
                for c in cols {
                    let cell = m.get(*c).map(|v| fmt(*v)).unwrap_or_else(|| "-".into());
                    let _ = write!(table, " {:>16}", cell);
                }
            }
            Err(e) => {
                let short: String = e.chars().take(150).collect();
                let _ = write!(table, " FAILED: {short}");
            }
        }
        let _ = writeln!(table);
    }
    let rs = ratios(scenario, &meds);
    let per_run = run_ratios(records, scenario);
    if !rs.is_empty() {
        let _ = writeln!(
            table,
            "ratios:{:<34} {:>10} {:>18}",
            "", "of medians", "median of runs"
        );
        for (k, v) in &rs {
            let run = per_run
                .get(k)
                .map(|r| fmt(*r))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(table, "  {k:<40} {:>10} {:>18}", fmt(*v), run);
        }
    }
    print!("{table}");
    let medians_json: BTreeMap<&str, Value> = meds
        .iter()
        .map(|(s, r)| {
            let v = match r {
                Ok(m) => json!(m),
                Err(e) => json!({ "error": e }),
            };
            (s.label(), v)
        })
        .collect();
    let summary = json!({
        "scenario": scenario.label(),
        "medians": medians_json,
        "ratios": rs,
        "run_ratios": per_run,
    });
    println!("{summary}");
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(server: ServerKind, rate: f64) -> Record {
        let mut m = Metrics::new();
        m.insert("round_trips_per_s".into(), rate);
        Record {
            run: 1,
            scenario: Scenario::Echo,
            server,
            result: Ok(m),
        }
    }

    #[test]
    fn ratios_compare_medians_of_ours_to_each_baseline() {
        let records = vec![
            rec(ServerKind::Demo, 900.0),
            rec(ServerKind::Demo, 1100.0),
            rec(ServerKind::Demo, 1000.0),
            rec(ServerKind::Node, 250.0),
            rec(ServerKind::Bare, 1000.0),
        ];
        let meds = medians(&records, Scenario::Echo);
        let r = ratios(Scenario::Echo, &meds);
        assert_eq!(r.get("demo/node:round_trips_per_s"), Some(&4.0));
        assert_eq!(r.get("demo/bare:round_trips_per_s"), Some(&1.0));
    }

    #[test]
    fn a_server_without_successful_runs_keeps_its_error() {
        let records = vec![Record {
            run: 1,
            scenario: Scenario::Echo,
            server: ServerKind::Demo,
            result: Err("did not start".into()),
        }];
        let meds = medians(&records, Scenario::Echo);
        assert!(matches!(meds.get(&ServerKind::Demo), Some(Err(e)) if e == "did not start"));
        assert!(ratios(Scenario::Echo, &meds).is_empty());
    }
}
