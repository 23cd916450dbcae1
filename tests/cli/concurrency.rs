//! Several `claims` processes writing one ledger at once: each waits its turn, none is lost.

use crate::support::{text, Ledger};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

const WORKERS: usize = 8;
const CLAIMS_PER_WORKER: usize = 25;

/// Runs `WORKERS` threads at once, each running `work(worker)`; gives what each gave.
fn in_parallel<T: Send>(work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let work = &work;
                scope.spawn(move || work(worker))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker thread finished"))
            .collect()
    })
}

/// Checks the ledger holds exactly the claims added, by id and statement.
fn check_all_present(ledger: &Ledger, added: &HashMap<String, String>) {
    assert_eq!(added.len(), WORKERS * CLAIMS_PER_WORKER, "every id is new");
    assert_eq!(ledger.head_count(), (WORKERS * CLAIMS_PER_WORKER) as u64);
    assert_eq!(
        ledger.assert_verifies(),
        format!(
            "OK: {0} entries, {0} claims; head {1}",
            WORKERS * CLAIMS_PER_WORKER,
            ledger.head()
        )
    );
    let listed = ledger.json(&["list", "--json"]);
    let listed: HashMap<String, String> = listed
        .as_array()
        .expect("list --json is an array")
        .iter()
        .map(|c| {
            let field = |pointer: &str| {
                c.pointer(pointer)
                    .and_then(Json::as_str)
                    .expect("id and statement")
                    .to_owned()
            };
            (field("/id"), field("/claim/statement"))
        })
        .collect();
    assert_eq!(&listed, added);
}

#[test]
fn parallel_adds() {
    let ledger = Ledger::new();
    let per_worker = in_parallel(|worker| {
        let mut added = Vec::new();
        for i in 0..CLAIMS_PER_WORKER {
            let statement = format!("worker {worker} claim {i}");
            let out = ledger
                .std_cmd(&[
                    "--wait",
                    "60",
                    "add",
                    "--subject",
                    "test/parallel",
                    "--claimant",
                    &format!("worker {worker}"),
                    "--statement",
                    &statement,
                ])
                .output()
                .expect("claims runs");
            assert!(
                out.status.success(),
                "worker {worker} claim {i}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            added.push((text(&out.stdout).trim_end().to_owned(), statement));
        }
        added
    });
    let added: HashMap<String, String> = per_worker.into_iter().flatten().collect();
    check_all_present(&ledger, &added);
    for id in added.keys() {
        let shown = ledger.ok(&["show", id]);
        assert!(shown.starts_with(&format!("claim      {id}\n")), "{shown}");
    }
}

#[test]
fn parallel_imports() {
    let ledger = Ledger::new();
    let per_worker = in_parallel(|worker| {
        let mut lines = String::new();
        for i in 0..CLAIMS_PER_WORKER {
            lines.push_str(&format!(
                r#"{{"key":"w{worker}-c{i}","subject":"test/parallel","claimant":"worker {worker}","statement":"worker {worker} claim {i}"}}"#
            ));
            lines.push('\n');
        }
        let name = ledger.write(&format!("worker{worker}.jsonl"), lines);
        let out = ledger
            .std_cmd(&["--wait", "60", "import", &name])
            .output()
            .expect("claims runs");
        assert!(
            out.status.success(),
            "worker {worker}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        text(&out.stdout)
    });
    let mut counts = HashSet::new();
    for report in &per_worker {
        assert!(
            report.starts_with(&format!(
                "imported {CLAIMS_PER_WORKER} entries ({CLAIMS_PER_WORKER} recorded, 0 revised); head "
            )),
            "{report}"
        );
        let count = report
            .trim_end()
            .rsplit_once("head ")
            .and_then(|(_, head)| head.split_once(':'))
            .map(|(count, _)| count.to_owned())
            .expect("the report names the head");
        counts.insert(count);
    }
    let expected: HashSet<String> = (1..=WORKERS)
        .map(|n| (n * CLAIMS_PER_WORKER).to_string())
        .collect();
    assert_eq!(
        counts, expected,
        "each import lands whole, one after another"
    );

    let mut added = HashMap::new();
    for worker in 0..WORKERS {
        for i in 0..CLAIMS_PER_WORKER {
            let shown = ledger.show(&format!("w{worker}-c{i}"));
            let id = shown["id"].as_str().expect("an id").to_owned();
            added.insert(id, format!("worker {worker} claim {i}"));
        }
    }
    check_all_present(&ledger, &added);
}

/// Writers that revise one claim with `--expect-revision` of what they read: some lose the
/// race and are refused with exit 2; every accepted revision is kept, numbered without gaps.
#[test]
fn racing_revisions() {
    let ledger = Ledger::new();
    ledger.import(r#"{"key":"shared","subject":"test/race","claimant":"C","statement":"start"}"#);
    let accepted: usize = in_parallel(|worker| {
        let mut accepted = 0;
        for i in 0..5 {
            let shown = ledger.show("shared");
            let revision = shown["revision"].as_u64().expect("a revision").to_string();
            let out = ledger
                .std_cmd(&[
                    "--wait",
                    "60",
                    "revise",
                    "shared",
                    "--reason",
                    "race",
                    "--expect-revision",
                    &revision,
                    "--statement",
                    &format!("worker {worker} try {i}"),
                ])
                .output()
                .expect("claims runs");
            match out.status.code() {
                Some(0) => accepted += 1,
                Some(2) => assert!(
                    String::from_utf8_lossy(&out.stderr)
                        .contains("field `expected_revision`: the claim is at revision"),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                ),
                other => panic!("exit {other:?}: {}", String::from_utf8_lossy(&out.stderr)),
            }
        }
        accepted
    })
    .into_iter()
    .sum();
    assert!(accepted >= 1);
    let shown = ledger.show("shared");
    assert_eq!(shown["revision"], accepted as u64 + 1);
    assert_eq!(ledger.head_count(), accepted as u64 + 1);
    ledger.assert_verifies();
}

/// Several `claims init` at once on one directory: exactly one makes the ledger.
#[test]
fn parallel_inits() {
    let ledger = Ledger::uninitialised();
    let outs = in_parallel(|_| ledger.std_cmd(&["init"]).output().expect("claims runs"));
    let made = outs.iter().filter(|out| out.status.success()).count();
    assert_eq!(made, 1, "exactly one init succeeds");
    for out in outs.iter().filter(|out| !out.status.success()) {
        crate::support::assert_error(out, crate::support::EXIT_INPUT, "already holds a ledger");
    }
    assert_eq!(ledger.head_count(), 0);
    ledger.assert_verifies();
}
