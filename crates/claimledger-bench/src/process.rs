//! Running the real `claims` binary, and its SQLite counterpart, as whole processes, each
//! under `/usr/bin/time`.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// GNU time, which reports the elapsed seconds and the peak resident set of the command.
pub const TIME: &str = "/usr/bin/time";

/// Where a command's standard output goes.
#[derive(Debug)]
pub enum Stdout<'a> {
    /// Kept in memory and returned (for small outputs).
    Capture,
    /// Written to this file (created or truncated).
    File(&'a Path),
    /// Thrown away (`> /dev/null`).
    Null,
}

/// One finished process.
#[derive(Debug)]
pub struct Measured {
    /// Wall clock from just before spawning `/usr/bin/time` to its exit, measured here (finer
    /// than `%e`; includes the wrapper's own fork and exec, well under a millisecond).
    pub wall: Duration,
    /// `%e`: elapsed seconds as GNU time reports them (10 ms resolution).
    pub time_elapsed: f64,
    /// `%M`: the command's peak resident set size, KiB.
    pub peak_rss_kib: u64,
    /// Standard output, when captured.
    pub stdout: Vec<u8>,
}

impl Measured {
    /// Wall-clock milliseconds.
    pub fn ms(&self) -> f64 {
        self.wall.as_secs_f64() * 1e3
    }

    /// Wall-clock seconds.
    pub fn secs(&self) -> f64 {
        self.wall.as_secs_f64()
    }
}

/// Runs `claims` against one ledger with the benchmark's fixed options.
#[derive(Debug)]
pub struct Claims {
    /// The `claims` binary.
    pub binary: PathBuf,
    /// The ledger directory, passed as `--ledger`.
    pub ledger: PathBuf,
}

impl Claims {
    /// Runs `claims --ledger DIR --wait 60 ARGS...` with `CLAIMS_AUTHOR=bench` under
    /// `/usr/bin/time -f "%e %M"`, and fails unless it exits 0.
    pub fn run(&self, args: &[&str], stdout: Stdout<'_>) -> Result<Measured> {
        let mut command = Command::new(TIME);
        command
            .arg("-f")
            .arg("%e %M")
            .arg(&self.binary)
            .arg("--ledger")
            .arg(&self.ledger)
            .arg("--wait")
            .arg("60")
            .args(args)
            .env_remove("CLAIMS_LEDGER")
            .env_remove("CLAIMS_NOW");
        measure(command, &format!("claims {}", args.join(" ")), stdout)
    }
}

/// Runs `claimledger-sqlite` (src/bin/sqlite.rs) against one database, as [`Claims`] runs
/// `claims`.
#[derive(Debug)]
pub struct Sqlite {
    /// The `claimledger-sqlite` binary.
    pub binary: PathBuf,
    /// The database file, passed as `--db`.
    pub db: PathBuf,
}

impl Sqlite {
    /// Runs `claimledger-sqlite --db FILE ARGS...` with `CLAIMS_AUTHOR=bench` under
    /// `/usr/bin/time -f "%e %M"`, and fails unless it exits 0.
    pub fn run(&self, args: &[&str], stdout: Stdout<'_>) -> Result<Measured> {
        let mut command = Command::new(TIME);
        command
            .arg("-f")
            .arg("%e %M")
            .arg(&self.binary)
            .arg("--db")
            .arg(&self.db)
            .args(args);
        measure(
            command,
            &format!("claimledger-sqlite {}", args.join(" ")),
            stdout,
        )
    }
}

/// Runs a command built on `/usr/bin/time` with `CLAIMS_AUTHOR=bench`, timing it from spawn to
/// exit, and fails unless it exits 0.
fn measure(mut command: Command, shown: &str, stdout: Stdout<'_>) -> Result<Measured> {
    command
        .env("CLAIMS_AUTHOR", "bench")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let capture = matches!(stdout, Stdout::Capture);
    match stdout {
        Stdout::Capture => command.stdout(Stdio::piped()),
        Stdout::File(path) => command
            .stdout(File::create(path).with_context(|| format!("creating {}", path.display()))?),
        Stdout::Null => command.stdout(Stdio::null()),
    };
    let start = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("starting {TIME} for `{shown}`"))?;
    let output = child
        .wait_with_output()
        .with_context(|| format!("waiting for `{shown}`"))?;
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "`{shown}` failed ({}):\n{}",
            output.status,
            stderr.trim_end()
        );
    }
    let (time_elapsed, peak_rss_kib) = parse_time_line(&stderr)
        .with_context(|| format!("reading {TIME}'s report for `{shown}`"))?;
    Ok(Measured {
        wall,
        time_elapsed,
        peak_rss_kib,
        stdout: if capture { output.stdout } else { Vec::new() },
    })
}

/// Parses the last non-empty line of standard error, written by `/usr/bin/time -f "%e %M"`.
pub fn parse_time_line(stderr: &str) -> Result<(f64, u64)> {
    let line = stderr
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .context("no output on standard error")?;
    let mut parts = line.split_whitespace();
    let (Some(elapsed), Some(rss), None) = (parts.next(), parts.next(), parts.next()) else {
        bail!("unexpected last line {line:?}");
    };
    let elapsed: f64 = elapsed
        .parse()
        .with_context(|| format!("elapsed seconds in {line:?}"))?;
    let rss: u64 = rss
        .parse()
        .with_context(|| format!("peak RSS in {line:?}"))?;
    Ok((elapsed, rss))
}

/// The median of some samples (the mean of the middle two for an even count).
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The smallest and largest sample.
pub fn min_max(samples: &[f64]) -> (f64, f64) {
    samples
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn time_line() {
        assert_eq!(parse_time_line("0.52 12345\n").unwrap(), (0.52, 12345));
        assert_eq!(
            parse_time_line("remark\nrecorded claim\n1.02 8000\n\n").unwrap(),
            (1.02, 8000)
        );
        assert!(parse_time_line("Command exited with non-zero status 2").is_err());
        assert!(parse_time_line("").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(min_max(&[4.0, 1.0, 2.0]), (1.0, 4.0));
    }
}
