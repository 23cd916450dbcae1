//! `claimledger-serve-bench`: the load benchmark of `claims serve` (docs/PERFORMANCE.md).
//!
//! Builds a ledger (the seed claims and synthetic ones), starts the real release
//! `claims serve` on loopback, and drives its API with CLIENTS concurrent clients (one thread
//! each, over keep-alive connections) for a bounded time in three phases: adds only, reads
//! only (`/api/v1/show` of random claims), then both. Then it times the seed subject's page
//! (the server's own time, from its Server-Timing header), stops the server with SIGTERM,
//! and checks that every acknowledged add is in the ledger and that `claims verify` passes.
//! Prints a Markdown table.

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(name = "claimledger-serve-bench")]
struct Args {
    /// Concurrent clients
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each phase runs (at most 120)
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Synthetic claims in the ledger before the run, besides the seed claims
    #[arg(long, default_value_t = 100_000)]
    claims: u64,
    /// The `claims` binary [default: target/release/claims of this workspace]
    #[arg(long, value_name = "PATH")]
    claims_binary: Option<PathBuf>,
}

/// The `claims serve` process, stopped when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .max_idle_connections_per_host(4)
        .build()
        .into()
}

#[derive(Default)]
struct Tally {
    adds: Vec<Duration>,
    reads: Vec<Duration>,
    added: Vec<String>,
    failures: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// A splitmix64 step: the clients' choices, reproducible.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn run_phase(
    base: &str,
    token: &str,
    clients: usize,
    seconds: u64,
    add_share: u64,
    existing: u64,
    phase: &str,
) -> Result<(Tally, Duration)> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            let (base, token, stop, phase) = (
                base.to_owned(),
                token.to_owned(),
                Arc::clone(&stop),
                phase.to_owned(),
            );
            std::thread::spawn(move || -> Result<Tally> {
                let agent = agent();
                let mut tally = Tally::default();
                let mut state = client as u64 * 7919 + 1;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if next(&mut state) % 100 < add_share {
                        let key = format!("{phase}-{client}-{n}");
                        n += 1;
                        let body = format!(
                            r#"{{"key":"{key}","subject":"bench/load/{}","claimant":"client {client}","statement":"load claim {n}","value":{{"amount":{n},"bound":"at_least"}},"stated_on":"2025-08"}}"#,
                            client % 16
                        );
                        let at = Instant::now();
                        let response = agent
                            .post(format!("{base}/api/v1/add"))
                            .header("authorization", format!("Bearer {token}"))
                            .header("content-type", "application/json")
                            .send(&body);
                        let elapsed = at.elapsed();
                        match response {
                            Ok(mut r) if r.status() == 201 => {
                                let _ = r.body_mut().read_to_vec();
                                tally.adds.push(elapsed);
                                tally.added.push(key);
                            }
                            _ => tally.failures += 1,
                        }
                    } else {
                        let key = format!("synthetic-{}", next(&mut state) % existing.max(1));
                        let at = Instant::now();
                        let response = agent.get(format!("{base}/api/v1/show/{key}")).call();
                        let elapsed = at.elapsed();
                        match response {
                            Ok(mut r) if r.status() == 200 => {
                                let _ = r.body_mut().read_to_vec();
                                tally.reads.push(elapsed);
                            }
                            _ => tally.failures += 1,
                        }
                    }
                }
                Ok(tally)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    for handle in handles {
        let tally = handle
            .join()
            .map_err(|_| anyhow::anyhow!("a client panicked"))??;
        total.adds.extend(tally.adds);
        total.reads.extend(tally.reads);
        total.added.extend(tally.added);
        total.failures += tally.failures;
    }
    let elapsed = started.elapsed();
    total.adds.sort_unstable();
    total.reads.sort_unstable();
    Ok((total, elapsed))
}

fn claims(binary: &Path, ledger: &Path) -> Command {
    let mut command = Command::new(binary);
    command.arg("--ledger").arg(ledger).arg("--quiet");
    command
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(
        args.seconds >= 1 && args.seconds <= 120,
        "--seconds: from 1 to 120"
    );
    ensure!(
        args.clients >= 1 && args.clients <= 1024,
        "--clients: from 1 to 1024"
    );
    let binary = match args.claims_binary {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("no directory")?
            .join("claims"),
    };
    let work = tempfile::tempdir()?;
    let ledger = work.path().join("ledger");
    let status = claims(&binary, &ledger)
        .args(["init", "--origin", "bench.example/claims"])
        .status()?;
    ensure!(status.success(), "claims init failed");
    let input = work.path().join("input.jsonl");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&input)?);
        let seed = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/seed-claims.jsonl"
        );
        file.write_all(&std::fs::read(seed)?)?;
        for i in 0..args.claims {
            writeln!(
                file,
                r#"{{"key":"synthetic-{i}","subject":"bench/s{}","claimant":"claimant {}","statement":"synthetic claim {i}","value":{{"amount":{i}}},"stated_on":"2025-0{}"}}"#,
                i % 500,
                i % 97,
                1 + i % 9
            )?;
        }
    }
    eprintln!("importing {} claims", args.claims);
    let status = claims(&binary, &ledger)
        .arg("import")
        .arg(&input)
        .status()?;
    ensure!(status.success(), "claims import failed");
    let tokens = work.path().join("tokens.txt");
    let token = claims(&binary, &ledger)
        .args(["token", "--for", "bench", "--tokens"])
        .arg(&tokens)
        .output()?;
    ensure!(token.status.success(), "claims token failed");
    let token = String::from_utf8(token.stdout)?.trim().to_owned();

    let mut child = Command::new(&binary)
        .arg("--ledger")
        .arg(&ledger)
        .args(["serve", "--listen", "127.0.0.1:0", "--tokens"])
        .arg(&tokens)
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = BufReader::new(child.stderr.take().context("no stderr")?);
    let serving = Serving(child);
    let mut line = String::new();
    stderr.read_line(&mut line)?;
    let base = match line.split_whitespace().find(|w| w.starts_with("http://")) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => bail!("claims serve said {line:?}"),
    };
    std::thread::spawn(move || for _ in stderr.lines() {});

    let existing = args.claims;
    let mut report = String::new();
    report.push_str(&format!(
        "{} clients, {} s a phase, a ledger of {} claims at the start; loopback, client and server on the same machine\n\n",
        args.clients, args.seconds, existing + 30
    ));
    report.push_str("| phase | adds/s | add p50 ms | add p99 ms | reads/s | read p50 ms | read p99 ms | failed |\n|---|---|---|---|---|---|---|---|\n");
    let mut acknowledged = Vec::new();
    for (phase, share) in [("adds", 100), ("reads", 0), ("mixed", 50)] {
        eprintln!("phase {phase}: {} s", args.seconds);
        let (tally, elapsed) = run_phase(
            &base,
            &token,
            args.clients,
            args.seconds,
            share,
            existing,
            phase,
        )?;
        let per_s = |n: usize| format!("{:.0}", n as f64 / elapsed.as_secs_f64());
        report.push_str(&format!(
            "| {phase} | {} | {} | {} | {} | {} | {} | {} |\n",
            per_s(tally.adds.len()),
            ms(percentile(&tally.adds, 0.5)),
            ms(percentile(&tally.adds, 0.99)),
            per_s(tally.reads.len()),
            ms(percentile(&tally.reads, 0.5)),
            ms(percentile(&tally.reads, 0.99)),
            tally.failures
        ));
        acknowledged.extend(tally.added);
    }

    // The seed subject's page, one request at a time: the server's own time.
    let agent = agent();
    let mut page_ms = Vec::new();
    for _ in 0..200 {
        let response = agent
            .get(format!("{base}/subjects/russia/military-deaths"))
            .call()?;
        ensure!(
            response.status() == 200,
            "the subject page answered {}",
            response.status()
        );
        let timing = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("app;dur="))
            .and_then(|v| v.parse::<f64>().ok())
            .context("no Server-Timing header")?;
        page_ms.push(timing);
    }
    page_ms.sort_by(f64::total_cmp);
    report.push_str(&format!(
        "\nThe seed subject's page (russia/military-deaths, chart included), 200 requests one at a time, time at the server: median {:.2} ms, p99 {:.2} ms\n",
        page_ms[page_ms.len() / 2],
        page_ms[(page_ms.len() * 99).div_ceil(100) - 1]
    ));

    // Stop with SIGTERM; everything acknowledged must be in the ledger, and verify pass.
    let mut serving = serving;
    let pid = serving.0.id().to_string();
    ensure!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success(),
        "kill failed"
    );
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = serving.0.try_wait()? {
            break status;
        }
        ensure!(
            stopped.elapsed() < Duration::from_secs(60),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    ensure!(status.success(), "claims serve exited with {status}");
    let export = claims(&binary, &ledger).arg("export").output()?;
    ensure!(export.status.success(), "claims export failed");
    let mut keys: HashSet<String> = HashSet::new();
    for line in export
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
    {
        let entry: serde_json::Value = serde_json::from_slice(line)?;
        if let Some(key) = entry["key"].as_str() {
            keys.insert(key.to_owned());
        }
    }
    let missing = acknowledged.iter().filter(|k| !keys.contains(*k)).count();
    ensure!(
        missing == 0,
        "{missing} acknowledged adds are not in the ledger"
    );
    let verify = claims(&binary, &ledger).arg("verify").output()?;
    ensure!(
        verify.status.success(),
        "claims verify failed: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
    report.push_str(&format!(
        "\nAfter SIGTERM (stopped in {:.2} s): all {} acknowledged adds are in the ledger; `claims verify`: {}",
        stopped.elapsed().as_secs_f64(),
        acknowledged.len(),
        String::from_utf8_lossy(&verify.stdout).trim()
    ));
    println!("{report}");
    Ok(())
}
