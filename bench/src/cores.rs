//! Which cores the load generator and the servers under test run on.
//!
//! By default they share every core, so the operating system preempts one
//! for the other: a server thread descheduled for a time slice holds the
//! sockets it was serving for that long, and latency tails measure the
//! scheduler rather than the server. Split, the generator runs on the first
//! half of the cores and every process it starts (servers, Redis) on the
//! rest, as on two machines. Pinning uses `taskset` (util-linux).

use std::process::Command;

use crate::BenchResult;

/// The two disjoint core lists of a split run, in `taskset -c` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreSplit {
    /// Cores of the load generator.
    pub generator: String,
    /// Cores of the servers under test and of the Redis they use.
    pub servers: String,
}

impl CoreSplit {
    /// Splits the cores this process may run on: the first half (rounded
    /// down) to the generator, the rest to the servers.
    pub fn halves() -> BenchResult<CoreSplit> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        let allowed = status
            .lines()
            .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
            .ok_or("no Cpus_allowed_list in /proc/self/status")?;
        Self::of(&parse_list(allowed.trim())?)
    }

    fn of(cores: &[usize]) -> BenchResult<CoreSplit> {
        if cores.len() < 2 {
            return Err(format!("cannot split {} core(s) in two", cores.len()).into());
        }
        let (generator, servers) = cores.split_at(cores.len() / 2);
        Ok(CoreSplit {
            generator: join(generator),
            servers: join(servers),
        })
    }

    /// How many cores the two parts hold together.
    pub fn core_count(&self) -> usize {
        [&self.generator, &self.servers]
            .iter()
            .map(|list| list.split(',').count())
            .sum()
    }

    /// Pins this process to the generator's cores. Call it before the
    /// runtime starts: threads inherit the mask of the thread creating them,
    /// and the runtime sizes itself to the cores it may use.
    pub fn pin_generator(&self) -> BenchResult<()> {
        let status = Command::new("taskset")
            .args(["-c", "-p", &self.generator, &std::process::id().to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("taskset: {e}"))?;
        if !status.success() {
            return Err(format!("taskset could not pin the generator: {status}").into());
        }
        Ok(())
    }
}

/// The words that, put before a shell command, run it on `cores` (a
/// `taskset -c` list; empty: anywhere).
pub fn pin_prefix(cores: Option<&str>) -> String {
    cores.map_or_else(String::new, |cores| format!("taskset -c {cores}"))
}

/// A command that runs `program` on `cores` when given.
pub fn pinned_command(program: &str, cores: Option<&str>) -> Command {
    match cores {
        Some(cores) => {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", cores, program]);
            taskset
        }
        None => Command::new(program),
    }
}

/// Parses a kernel CPU list such as `0-3,6,8-9`.
fn parse_list(list: &str) -> BenchResult<Vec<usize>> {
    let mut cores = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let bad = || format!("bad CPU list {list:?}");
        match part.split_once('-') {
            Some((first, last)) => {
                let first: usize = first.parse().map_err(|_| bad())?;
                let last: usize = last.parse().map_err(|_| bad())?;
                cores.extend(first..=last);
            }
            None => cores.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(cores)
}

fn join(cores: &[usize]) -> String {
    cores
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_cpu_lists_are_read_with_ranges() {
        assert_eq!(parse_list("0-1").unwrap(), vec![0, 1]);
        assert_eq!(parse_list("0,2-4,7").unwrap(), vec![0, 2, 3, 4, 7]);
        assert!(parse_list("0-x").is_err());
    }

    #[test]
    fn the_generator_gets_the_smaller_half() {
        let two = CoreSplit::of(&[0, 1]).unwrap();
        assert_eq!((two.generator.as_str(), two.servers.as_str()), ("0", "1"));
        let three = CoreSplit::of(&[0, 2, 5]).unwrap();
        assert_eq!(
            (three.generator.as_str(), three.servers.as_str()),
            ("0", "2,5")
        );
        assert!(CoreSplit::of(&[3]).is_err());
    }
}
