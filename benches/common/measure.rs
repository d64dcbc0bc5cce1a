//! Shared by the load benchmarks (`make bench`, `make scale`): wrk runs and what they
//! printed, the machine the figures come from, and how figures are written.

// Each benchmark uses some of these.
#![allow(dead_code)]

use std::{path::Path, process::Stdio};

use serde::{Deserialize, Serialize};
use tokio::process::Command;

pub type Failure = Box<dyn std::error::Error>;

/// One wrk run: its script (in benches/wrk), the script's settings, extra headers, and
/// how many connections for how long.
pub struct Load<'a> {
    pub script: &'a str,
    pub env: &'a [(&'a str, &'a str)],
    pub headers: &'a [String],
    pub connections: u32,
    pub seconds: u64,
}

/// Runs wrk with one thread (the server needs the other core) against `base` + `path`.
pub async fn wrk(root: &Path, base: &str, path: &str, load: &Load<'_>) -> Result<Wrk, Failure> {
    let scripts = root.join("benches/wrk");
    let mut command = Command::new("wrk");
    command
        .args(["--threads", "1", "--latency", "--timeout", "10s"])
        .arg(format!("--connections={}", load.connections))
        .arg(format!("--duration={}s", load.seconds))
        .arg("--script")
        .arg(scripts.join(load.script))
        .env("QB_BENCH_WRK_DIR", &scripts)
        .env("QB_BENCH_RUN", format!("{}", unix_nanos()))
        .envs(load.env.iter().copied());
    for header in load.headers {
        command.arg("--header").arg(header);
    }
    command.arg(format!("{base}{path}"));
    let output = command.stderr(Stdio::inherit()).output().await?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("wrk failed: {text}").into());
    }
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("QB_RESULT "))
        .ok_or_else(|| format!("wrk printed no result: {text}"))?;
    let result: Wrk = serde_json::from_str(line)?;
    eprintln!(
        "   {path}: {:.0} requests/s, p99 {}, {} unexpected, {} socket errors",
        result.rate(),
        millis(result.p99_us),
        result.unexpected,
        result.socket_errors
    );
    Ok(result)
}

/// What wrk's script printed (microseconds).
#[derive(Debug, Deserialize, Serialize)]
pub struct Wrk {
    pub requests: u64,
    pub duration_us: u64,
    pub socket_errors: u64,
    pub unexpected: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: u64,
}

impl Wrk {
    /// Requests a second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }

    /// Every answer was the expected one.
    pub fn clean(&self) -> bool {
        self.socket_errors == 0 && self.unexpected == 0
    }
}

/// The machine the figures come from.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: u64,
}

impl Machine {
    pub fn read() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let memory_kb: u64 = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("MemTotal:"))
                    .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            memory_gib: (memory_kb as f64 / 1024.0 / 1024.0).round() as u64,
        }
    }
}

/// One line of a benchmark's table.
#[derive(Debug, Serialize)]
pub struct Row {
    pub benchmark: String,
    pub backend: String,
    pub result: String,
    pub goal: String,
    pub met: Option<bool>,
    /// The measurements behind `result`.
    pub figures: serde_json::Value,
}

/// Runs a benchmark's `main` on a multi-threaded runtime (`cargo bench` passes `--bench`;
/// the harnesses take no arguments).
pub fn block_on(
    run: impl std::future::Future<Output = Result<(), Failure>>,
) -> Result<(), Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run)
}

/// Prints the table of `command` (`make bench`) with the machine, the date and how long it
/// took, then writes `results` to `path`.
pub fn publish(
    command: &str,
    took: std::time::Duration,
    rows: &[Row],
    path: &Path,
    results: &serde_json::Value,
) -> Result<(), Failure> {
    let machine = Machine::read();
    let date = chrono::Utc::now().format("%Y-%m-%d");
    println!(
        "\nquotaboard {command}, {date}, {} ({} cores, {} GiB), took {} s\n",
        machine.cpu,
        machine.cores,
        machine.memory_gib,
        took.as_secs()
    );
    println!("| benchmark | backend | result | goal | met |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        println!(
            "| {} | {} | {} | {} | {met} |",
            row.benchmark, row.backend, row.result, row.goal
        );
    }
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(results)? + "\n")?;
    println!("\nwritten to {}", path.display());
    Ok(())
}

/// The commit measured, with `-dirty` when the working tree had changes not committed.
pub fn git_commit(root: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(root)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

pub fn env_number(name: &str, default: u64) -> Result<u64, Failure> {
    match std::env::var(name) {
        Ok(value) => Ok(value
            .parse()
            .map_err(|_| format!("{name} must be a number"))?),
        Err(_) => Ok(default),
    }
}

pub fn unix_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// `1234567.8` as `1 234 568`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(digit);
    }
    grouped
}

/// Microseconds as milliseconds with two decimals.
pub fn millis(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

pub fn mebibytes(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}
