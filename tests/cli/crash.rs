//! The crash loop: `claims` writing (single adds, revisions, small imports and imports large
//! enough for the staged commit) is killed with SIGKILL at a random moment, and the ledger is
//! reopened and checked after every kill:
//!
//! - `claims verify` passes;
//! - the stored entries are exactly the earlier ones, byte for byte, followed by the entries
//!   of some of the writes attempted since, in order: each attempt contributes all of its
//!   entries or none (no partial import, no gap, no stray entry), and every write that reported
//!   success is there, with the id it printed and the right revision;
//! - `claims list --json` and `claims show` agree with a model of what landed (no index entry
//!   pointing nowhere);
//! - writing continues: after every kill that landed mid-write, a write runs to completion and
//!   must succeed, sometimes before the checks (so that a write is the first to open the ledger
//!   after the crash), sometimes after them.
//!
//! `CRASH_ITERATIONS` sets the number of kills (default 100); `CRASH_SEED` repeats a run's
//! sequence of writes and delays (the seed is printed at the start and in every failure);
//! `CRASH_KEEP=1` keeps a copy of the ledger as each kill left it, for a failure's post-mortem.
//! `just crash ITERATIONS` runs a longer loop on a release build.

#![cfg(unix)]

use crate::support::{copy_dir, export_entries, text, Ledger, Rng, AUTHOR};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const ITERATIONS_DEFAULT: u64 = 100;
/// One attempt in this many is a large import, and at most one iteration in
/// `LARGE_IMPORTS_PER` gets one. Each adds some 4,100 entries that every later check reads
/// again, so they are kept rare and capped: the default loop takes well under a minute in a
/// debug build however the dice fall.
const LARGE_IMPORT_ONE_IN: u64 = 20;
const LARGE_IMPORTS_PER: u64 = 25;
/// The staged large-commit path starts above this many entries (the store's
/// `LARGE_COMMIT_ENTRIES`).
const LARGE_COMMIT_ENTRIES: usize = 4_096;
const SMALL_IMPORT_LINES_MAX: u64 = 50;
/// Subjects: the per-iteration `list` compares every claim of `SMALL`; the claims of large
/// imports are compared in full once, at the end.
const SMALL: &str = "crash/small";
const LARGE: &str = "crash/large";
/// How many claims the final check shows one by one, spread over the ledger.
const FINAL_SHOWS: usize = 100;
const SIGKILL: i32 = 9;

/// An entry an attempted write makes, if it lands.
#[derive(Clone, Debug)]
enum Expected {
    Recorded { key: String, statement: String },
    Revised { key: String, statement: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Add,
    Revise,
    SmallImport,
    LargeImport,
}

/// One write: the command, the entries it makes if it lands, and how it ended.
#[derive(Debug)]
struct Attempt {
    label: String,
    kind: Kind,
    args: Vec<String>,
    expected: Vec<Expected>,
    /// It exited 0: it reported success, so it must be in the ledger.
    acknowledged: bool,
    /// What it printed on standard output.
    stdout: String,
}

/// A claim as the model knows it.
#[derive(Clone, Debug)]
struct ModelClaim {
    id: String,
    revision: u64,
    statement: String,
    subject: &'static str,
}

/// What the ledger holds, as far as the writes that landed say.
#[derive(Debug, Default)]
struct Model {
    claims: HashMap<String, ModelClaim>,
    /// Every key, in the order claims were recorded, for picking one at random.
    keys: Vec<String>,
    entries: u64,
    /// `claims export` as last seen: every later export starts with these bytes.
    export: Vec<u8>,
}

#[derive(Debug, Default)]
struct Totals {
    iterations: u64,
    killed_mid_write: u64,
    killed_mid_write_landed: u64,
    completed_before_kill: u64,
    follow_ups: u64,
    acknowledged: u64,
    large_imports: u64,
    large_imports_landed: u64,
}

/// The loop's state: the ledger, the model, the random source, what it tells on failure.
struct Harness {
    ledger: Ledger,
    model: Model,
    rng: Rng,
    seed: u64,
    iterations: u64,
    iteration: u64,
    totals: Totals,
    /// Typical run time of a write that was not killed, small and large, in µs: kills are
    /// drawn from 0 to 1.25 times it, so that most land mid-write and some after completion.
    typical_us: [u64; 2],
    /// The writes since the last check, and how each ended, for failure reports.
    last_writes: Vec<String>,
    /// `CRASH_KEEP=1`: copy the ledger after every kill, before it is reopened, so that a
    /// failure can be examined as the kill left it.
    keep_as_killed: bool,
}

impl Harness {
    fn context(&self) -> String {
        format!(
            "crash loop seed {} (CRASH_SEED={} repeats it), iteration {}",
            self.seed, self.seed, self.iteration
        )
    }

    /// Fails the test, keeping a copy of the ledger for a post-mortem.
    fn fail(&self, what: impl std::fmt::Display) -> ! {
        let kept = std::env::temp_dir().join(format!(
            "claimledger-crash-{}-{}",
            self.seed, self.iteration
        ));
        let copied = copy_dir(self.ledger.dir(), &kept.join("now"));
        let as_killed = self.ledger.root().join("as-killed");
        if as_killed.is_dir() {
            copy_dir(&as_killed, &kept.join("as-killed")).expect("the copy is made");
        }
        panic!(
            "{}: {what}\nlast writes: {}\nthe ledger is kept in {} ({copied:?}; with \
             CRASH_KEEP=1, also as the last kill left it)",
            self.context(),
            self.last_writes.join("; "),
            kept.display()
        )
    }

    /// `claims ARGS` on the ledger with the real clock, so that claim ids are random.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.ledger.std_cmd(args);
        cmd.env_remove("CLAIMS_NOW");
        cmd
    }

    /// Runs a reading command that must succeed; gives its standard output.
    fn read(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("claims runs");
        if !out.status.success() {
            self.fail(format_args!(
                "claims {args:?} failed after recovery with {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        text(&out.stdout)
    }

    fn new_attempt(&mut self) -> Attempt {
        let n = self.iteration;
        let large_allowed =
            self.totals.large_imports < (self.iterations / LARGE_IMPORTS_PER).max(1);
        let kind = if self.rng.one_in(LARGE_IMPORT_ONE_IN) && large_allowed {
            Kind::LargeImport
        } else {
            match self.rng.below(3) {
                0 => Kind::Add,
                1 if !self.model.keys.is_empty() => Kind::Revise,
                _ => Kind::SmallImport,
            }
        };
        match kind {
            Kind::Add => add(&format!("a{n}"), &format!("attempt {n}")),
            Kind::Revise => {
                let key = self.rng.pick(&self.model.keys).clone();
                let statement = format!("attempt {n} revises {key}");
                let mut args = vec![
                    "revise".to_owned(),
                    key.clone(),
                    "--reason".to_owned(),
                    format!("attempt {n}"),
                    "--statement".to_owned(),
                    statement.clone(),
                ];
                if self.rng.one_in(2) {
                    args.extend(["--amount".to_owned(), n.to_string()]);
                }
                Attempt {
                    label: format!("attempt {n}: revise {key}"),
                    kind,
                    args,
                    expected: vec![Expected::Revised { key, statement }],
                    acknowledged: false,
                    stdout: String::new(),
                }
            }
            Kind::SmallImport | Kind::LargeImport => {
                let (lines, subject) = if kind == Kind::LargeImport {
                    let lines = LARGE_COMMIT_ENTRIES as u64 + 1 + self.rng.below(100);
                    (lines, LARGE)
                } else {
                    (1 + self.rng.below(SMALL_IMPORT_LINES_MAX), SMALL)
                };
                self.import_attempt(kind, lines as usize, subject)
            }
        }
    }

    /// An import of `lines` lines: records, and now and then a revision of a claim in the
    /// ledger or recorded earlier in the same file.
    fn import_attempt(&mut self, kind: Kind, lines: usize, subject: &'static str) -> Attempt {
        let n = self.iteration;
        let revise_one_in = if kind == Kind::LargeImport { 100 } else { 4 };
        let mut file_keys: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut expected = Vec::new();
        for j in 0..lines {
            let revisable = self.model.keys.len() + file_keys.len();
            if revisable > 0 && self.rng.one_in(revise_one_in) {
                let pick = self.rng.below(revisable as u64) as usize;
                let key = if pick < file_keys.len() {
                    file_keys[pick].clone()
                } else {
                    self.model.keys[pick - file_keys.len()].clone()
                };
                let statement = format!("attempt {n} line {j} revises {key}");
                text.push_str(
                    &serde_json::json!({
                        "op": "revise", "claim": key, "reason": format!("attempt {n}"),
                        "statement": statement,
                    })
                    .to_string(),
                );
                expected.push(Expected::Revised { key, statement });
            } else {
                let key = format!("i{n}-{j}");
                let statement = format!("attempt {n} line {j}");
                text.push_str(
                    &serde_json::json!({
                        "key": key, "subject": subject, "claimant": "crash loop",
                        "statement": statement, "value": {"amount": j},
                    })
                    .to_string(),
                );
                file_keys.push(key.clone());
                expected.push(Expected::Recorded { key, statement });
            }
            text.push('\n');
        }
        let name = self.ledger.write("attempt.jsonl", text);
        Attempt {
            label: format!("attempt {n}: import of {lines} lines"),
            kind,
            args: vec!["import".to_owned(), name],
            expected,
            acknowledged: false,
            stdout: String::new(),
        }
    }

    /// Runs `attempt`, killing it `kill_after` after it starts unless it has ended by then;
    /// gives whether the kill landed mid-write.
    fn run(&mut self, attempt: &mut Attempt, kill_after: Option<Duration>) -> bool {
        let args: Vec<&str> = attempt.args.iter().map(String::as_str).collect();
        let started = Instant::now();
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("claims starts");
        if let Some(delay) = kill_after {
            loop {
                if child
                    .try_wait()
                    .expect("the child can be waited on")
                    .is_some()
                {
                    break;
                }
                if started.elapsed() >= delay {
                    // SIGKILL; harmless if it has just exited.
                    child.kill().expect("the child can be killed");
                    break;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        let out: Output = child.wait_with_output().expect("claims ends");
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("panicked") {
            self.fail(format_args!("{} panicked: {stderr}", attempt.label));
        }
        let killed = out.status.signal() == Some(SIGKILL);
        if !killed {
            if !out.status.success() {
                self.fail(format_args!(
                    "{} failed with {:?} (not killed): {stderr}",
                    attempt.label,
                    out.status.code()
                ));
            }
            let class = usize::from(attempt.kind == Kind::LargeImport);
            let micros = elapsed.as_micros() as u64;
            self.typical_us[class] = (self.typical_us[class] * 3 + micros) / 4;
            attempt.acknowledged = true;
            self.totals.acknowledged += 1;
        }
        attempt.stdout = text(&out.stdout);
        self.last_writes.push(format!(
            "{} ({}, {} µs{})",
            attempt.label,
            if killed { "killed" } else { "completed" },
            elapsed.as_micros(),
            kill_after.map_or(String::new(), |d| format!(", kill at {} µs", d.as_micros()))
        ));
        killed
    }

    /// Recovery checks after `pending` were attempted, in order: see the module's doc.
    fn check(&mut self, pending: &[Attempt]) -> Vec<bool> {
        let verify = self.read(&["verify"]);
        let export = self.command(&["export"]).output().expect("claims runs");
        if !export.status.success() {
            self.fail(format_args!(
                "export failed: {}",
                String::from_utf8_lossy(&export.stderr)
            ));
        }
        let export = export_entries(&export.stdout);
        if !export.starts_with(&self.model.export) {
            self.fail("the entries stored before the attempts changed");
        }
        let tail: Vec<Json> = export[self.model.export.len()..]
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).expect("an exported entry is JSON"))
            .collect();
        let landed = self.absorb(&tail, pending);
        self.model.export = export;
        self.last_writes.clear();

        let head = self.read(&["head"]);
        let noun =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let expected_verify = format!(
            "OK: {}, {}; head {head}",
            noun(self.model.entries as usize, "entry", "entries"),
            noun(self.model.claims.len(), "claim", "claims")
        );
        if verify != expected_verify {
            self.fail(format_args!(
                "verify said {verify:?}, the model {expected_verify:?}"
            ));
        }
        self.check_list(&["list", "--subject", SMALL, "--json"], Some(SMALL));
        // `show` for the claims the attempts wrote (a sample of a large import's) and one
        // more at random.
        let mut keys: Vec<String> = Vec::new();
        for (attempt, landed) in pending.iter().zip(&landed) {
            if *landed {
                let touched: Vec<&str> = attempt
                    .expected
                    .iter()
                    .map(|e| match e {
                        Expected::Recorded { key, .. } | Expected::Revised { key, .. } => {
                            key.as_str()
                        }
                    })
                    .collect();
                for _ in 0..touched.len().min(3) {
                    keys.push((*self.rng.pick(&touched)).to_owned());
                }
                keys.push((*touched.last().expect("an attempt writes")).to_owned());
            }
        }
        if !self.model.keys.is_empty() {
            keys.push(self.rng.pick(&self.model.keys).clone());
        }
        for key in keys {
            self.check_show(&key);
        }
        landed
    }

    /// Matches the new entries against the attempts, in order, moving what landed into the
    /// model; gives which attempts landed.
    fn absorb(&mut self, tail: &[Json], pending: &[Attempt]) -> Vec<bool> {
        let mut cursor = 0;
        let mut landed = Vec::new();
        for attempt in pending {
            // Claims this attempt recorded or revised so far, over the model.
            let mut overlay: HashMap<String, ModelClaim> = HashMap::new();
            let mut matched = 0;
            for expected in &attempt.expected {
                let Some(entry) = tail.get(cursor + matched) else {
                    break;
                };
                let seq = self.model.entries + 1 + (cursor + matched) as u64;
                match self.matches(entry, expected, &overlay, seq) {
                    Some((key, claim)) => {
                        overlay.insert(key, claim);
                        matched += 1;
                    }
                    None => break,
                }
            }
            if matched == 0 {
                if attempt.acknowledged {
                    self.fail(format_args!(
                        "{} reported success ({:?}) but none of its entries is stored; next \
                         entry: {:?}",
                        attempt.label,
                        attempt.stdout.trim_end(),
                        tail.get(cursor)
                    ));
                }
                landed.push(false);
                continue;
            }
            if matched < attempt.expected.len() {
                self.fail(format_args!(
                    "{} is stored in part: {matched} of its {} entries",
                    attempt.label,
                    attempt.expected.len()
                ));
            }
            if attempt.acknowledged {
                self.check_report(attempt, &overlay);
            }
            for (key, claim) in overlay {
                if !self.model.claims.contains_key(&key) {
                    self.model.keys.push(key.clone());
                }
                self.model.claims.insert(key, claim);
            }
            cursor += matched;
            landed.push(true);
        }
        if cursor < tail.len() {
            self.fail(format_args!(
                "entry {} matches no attempted write: {}",
                self.model.entries + 1 + cursor as u64,
                tail[cursor]
            ));
        }
        self.model.entries += tail.len() as u64;
        landed
    }

    /// Whether `entry` is the entry `expected` describes, given the claims so far; if so, the
    /// claim as it now stands.
    fn matches(
        &self,
        entry: &Json,
        expected: &Expected,
        overlay: &HashMap<String, ModelClaim>,
        seq: u64,
    ) -> Option<(String, ModelClaim)> {
        let field = |name: &str| entry.get(name).and_then(Json::as_str);
        let statement = entry.pointer("/claim/statement").and_then(Json::as_str);
        if entry["seq"] != seq || field("author") != Some(AUTHOR) {
            return None;
        }
        let current = |key: &str| overlay.get(key).or_else(|| self.model.claims.get(key));
        match expected {
            Expected::Recorded {
                key,
                statement: want,
            } => {
                let ok = field("type") == Some("claim_recorded")
                    && field("key") == Some(key)
                    && statement == Some(want)
                    && current(key).is_none();
                let subject = if entry["claim"]["subject"] == LARGE {
                    LARGE
                } else {
                    SMALL
                };
                ok.then(|| {
                    let claim = ModelClaim {
                        id: field("claim_id").unwrap_or_default().to_owned(),
                        revision: 1,
                        statement: want.clone(),
                        subject,
                    };
                    (key.clone(), claim)
                })
            }
            Expected::Revised {
                key,
                statement: want,
            } => {
                let before = current(key)?;
                let ok = field("type") == Some("claim_revised")
                    && field("claim_id") == Some(before.id.as_str())
                    && entry["revision"] == before.revision + 1
                    && statement == Some(want);
                ok.then(|| {
                    let claim = ModelClaim {
                        revision: before.revision + 1,
                        statement: want.clone(),
                        ..before.clone()
                    };
                    (key.clone(), claim)
                })
            }
        }
    }

    /// A write that reported success printed what it wrote: the claim's id, or the import's
    /// count.
    fn check_report(&self, attempt: &Attempt, written: &HashMap<String, ModelClaim>) {
        let printed = attempt.stdout.trim_end();
        match attempt.kind {
            Kind::Add | Kind::Revise => {
                let (Expected::Recorded { key, .. } | Expected::Revised { key, .. }) =
                    &attempt.expected[0];
                if printed != written[key].id {
                    self.fail(format_args!(
                        "{} printed {printed:?}, but stored claim {}",
                        attempt.label, written[key].id
                    ));
                }
            }
            Kind::SmallImport | Kind::LargeImport => {
                let count = attempt.expected.len();
                let want = format!(
                    "imported {count} {} (",
                    if count == 1 { "entry" } else { "entries" }
                );
                if !printed.starts_with(&want) {
                    self.fail(format_args!(
                        "{} printed {printed:?}, expected {want:?}…",
                        attempt.label
                    ));
                }
            }
        }
    }

    /// `claims list ARGS` gives exactly the model's claims (of `subject`, or all).
    fn check_list(&self, args: &[&str], subject: Option<&str>) -> Vec<String> {
        let listed: Json = serde_json::from_str(&self.read(args)).expect("list --json is JSON");
        let mut listed: Vec<(String, String, u64, String)> = listed
            .as_array()
            .expect("list --json is an array")
            .iter()
            .map(|c| {
                (
                    c["key"].as_str().expect("every claim has a key").to_owned(),
                    c["id"].as_str().expect("an id").to_owned(),
                    c["revision"].as_u64().expect("a revision"),
                    c["claim"]["statement"]
                        .as_str()
                        .expect("a statement")
                        .to_owned(),
                )
            })
            .collect();
        let mut model: Vec<(String, String, u64, String)> = self
            .model
            .claims
            .iter()
            .filter(|(_, c)| subject.is_none_or(|s| c.subject == s))
            .map(|(k, c)| (k.clone(), c.id.clone(), c.revision, c.statement.clone()))
            .collect();
        listed.sort();
        model.sort();
        if listed != model {
            let missing: Vec<_> = model.iter().filter(|c| !listed.contains(c)).collect();
            let extra: Vec<_> = listed.iter().filter(|c| !model.contains(c)).collect();
            self.fail(format_args!(
                "claims {args:?} differs from the model: missing {missing:?}, unexpected {extra:?}"
            ));
        }
        listed.into_iter().map(|(key, ..)| key).collect()
    }

    /// `claims show KEY --json` gives the model's claim.
    fn check_show(&self, key: &str) {
        let shown: Json =
            serde_json::from_str(&self.read(&["show", key, "--json"])).expect("show --json");
        let want = &self.model.claims[key];
        if shown["id"] != want.id.as_str()
            || shown["revision"] != want.revision
            || shown["claim"]["statement"] != want.statement.as_str()
        {
            self.fail(format_args!(
                "claims show {key} gave {shown}, the model {want:?}"
            ));
        }
    }

    /// A write after a crash, which must succeed.
    fn follow_up(&mut self) -> Attempt {
        let n = self.iteration;
        let mut attempt = add(&format!("f{n}"), &format!("follow-up {n}"));
        attempt.label = format!("follow-up {n}");
        self.run(&mut attempt, None);
        self.totals.follow_ups += 1;
        attempt
    }

    /// One iteration: an attempt killed at a random moment, recovery, checks.
    fn iterate(&mut self, pending: &mut Vec<Attempt>) {
        let mut attempt = self.new_attempt();
        let class = usize::from(attempt.kind == Kind::LargeImport);
        // Half the kills fall anywhere from the start to a little past the typical end, half
        // in its second half, where the commit is.
        let typical_us = self.typical_us[class];
        let delay_us = if self.rng.one_in(2) {
            self.rng.below(typical_us * 5 / 4 + 1)
        } else {
            typical_us / 2 + self.rng.below(typical_us * 3 / 4 + 1)
        };
        let killed = self.run(&mut attempt, Some(Duration::from_micros(delay_us)));
        let large = attempt.kind == Kind::LargeImport;
        pending.push(attempt);
        if killed && self.keep_as_killed {
            let as_killed = self.ledger.root().join("as-killed");
            if as_killed.exists() {
                std::fs::remove_dir_all(&as_killed).expect("the old copy is removed");
            }
            copy_dir(self.ledger.dir(), &as_killed).expect("the copy is made");
        }
        let follow_up_first = killed && self.rng.one_in(2);
        if follow_up_first {
            let follow_up = self.follow_up();
            pending.push(follow_up);
        }
        let landed = self.check(pending);
        // This iteration's attempt: the last pending one but a follow-up.
        let attempt_landed = landed[landed.len() - 1 - usize::from(follow_up_first)];
        pending.clear();
        if killed {
            self.totals.killed_mid_write += 1;
            self.totals.killed_mid_write_landed += u64::from(attempt_landed);
            if !follow_up_first {
                // Checked with the next iteration's writes.
                let follow_up = self.follow_up();
                pending.push(follow_up);
            }
        } else {
            self.totals.completed_before_kill += 1;
        }
        if large {
            self.totals.large_imports += 1;
            self.totals.large_imports_landed += u64::from(attempt_landed);
        }
        self.totals.iterations += 1;
    }
}

/// `claims add` of a claim with `key` and `statement`.
fn add(key: &str, statement: &str) -> Attempt {
    Attempt {
        label: format!("add {key}"),
        kind: Kind::Add,
        args: [
            "add",
            "--key",
            key,
            "--subject",
            SMALL,
            "--claimant",
            "crash loop",
            "--statement",
            statement,
        ]
        .map(str::to_owned)
        .to_vec(),
        expected: vec![Expected::Recorded {
            key: key.to_owned(),
            statement: statement.to_owned(),
        }],
        acknowledged: false,
        stdout: String::new(),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
    )
}

#[test]
fn crash_loop() {
    let iterations = env_u64("CRASH_ITERATIONS").unwrap_or(ITERATIONS_DEFAULT);
    let seed = env_u64("CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_nanos() as u64
    });
    eprintln!("crash loop: {iterations} iterations, seed {seed} (CRASH_SEED={seed} repeats it)");
    let started = Instant::now();
    let mut harness = Harness {
        ledger: Ledger::new(),
        model: Model::default(),
        rng: Rng(seed),
        seed,
        iterations,
        iteration: 0,
        totals: Totals::default(),
        typical_us: [15_000, 600_000],
        last_writes: Vec::new(),
        keep_as_killed: std::env::var_os("CRASH_KEEP").is_some(),
    };
    let mut pending = Vec::new();
    for iteration in 1..=iterations {
        harness.iteration = iteration;
        harness.iterate(&mut pending);
    }
    // The last follow-up, and a final check of every claim.
    harness.iteration += 1;
    harness.check(&pending);
    let keys = harness.check_list(&["list", "--json"], None);
    for key in keys.iter().step_by(keys.len().div_ceil(FINAL_SHOWS).max(1)) {
        harness.check_show(key);
    }

    let totals = &harness.totals;
    assert_eq!(totals.iterations, iterations);
    assert_eq!(
        totals.killed_mid_write + totals.completed_before_kill,
        iterations
    );
    // The delays adapt to how long writes take, so that both kinds of kill happen; a loop
    // whose kills all came too late would test nothing.
    if iterations >= 20 {
        assert!(
            totals.killed_mid_write >= iterations / 4,
            "{}: only {} of {iterations} kills landed mid-write",
            harness.context(),
            totals.killed_mid_write
        );
    }
    eprintln!(
        "crash loop: {} iterations in {:.1} s (seed {seed}): {} kills landed mid-write ({} of \
         those writes had landed, {} had not), {} writes completed before the kill; {} \
         follow-up writes after recovery; {} large imports ({} landed); {} writes acknowledged, \
         every one present; {} entries, {} claims; verify OK",
        totals.iterations,
        started.elapsed().as_secs_f64(),
        totals.killed_mid_write,
        totals.killed_mid_write_landed,
        totals.killed_mid_write - totals.killed_mid_write_landed,
        totals.completed_before_kill,
        totals.follow_ups,
        totals.large_imports,
        totals.large_imports_landed,
        totals.acknowledged,
        harness.model.entries,
        harness.model.claims.len(),
    );
}

/// sled 0.34 writes a snapshot file when it opens a database that has grown, as
/// `snap.LSN.generating`, renamed to `snap.LSN` once complete; but when it opens, it reads the
/// greatest `snap.*` name, `.generating` ones included. A `claims` process killed between
/// creating that file and writing it (the crash loop hits this now and then) leaves an empty
/// one, and the ledger no longer opens: "storage corrupted", exit 1, though every entry is
/// intact. The store must open a ledger whatever such a kill leaves.
#[test]
fn a_snapshot_cut_short_by_a_kill() {
    let ledger = Ledger::new();
    ledger.import(r#"{"key":"k","subject":"s","claimant":"C","statement":"S"}"#);
    let head = ledger.head();
    let db = ledger.dir().join("db");
    let snapshot = std::fs::read_dir(&db)
        .expect("the database directory lists")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|name| u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok())
        .max()
        .expect("sled has written a snapshot");
    // What the kill leaves: the next snapshot's file, created and still empty.
    std::fs::write(
        db.join(format!("snap.{:016X}.generating", snapshot + 1)),
        b"",
    )
    .expect("the file is made");
    let out = ledger.run(&["verify"]);
    assert!(
        out.status.success(),
        "the ledger no longer opens: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ledger.head(), head);
    ledger.ok(&[
        "add",
        "--subject",
        "s",
        "--claimant",
        "C",
        "--statement",
        "T",
    ]);
    ledger.assert_verifies();
}
