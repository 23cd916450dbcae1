//! The SQLite alternative of the benchmark does the work it is measured for: it imports the
//! generated claims all or nothing, verifies them, and its verify finds what was altered.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../src/generate.rs"]
mod generate;

use rusqlite::Connection;
use std::path::Path;
use std::process::{Command, Output};

fn sqlite(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claimledger-sqlite"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("CLAIMS_AUTHOR", "bench")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn verify(db: &Path) -> (Option<i32>, String) {
    let output = sqlite(db, &["verify"]);
    (output.status.code(), stdout(&output))
}

fn execute(db: &Path, sql: &str) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn import_verify_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.jsonl");
    let cfg = generate::GenConfig {
        records: 300,
        revisions: 60,
        seed: 9,
    };
    let file = std::fs::File::create(&input).unwrap();
    let stats = generate::write_claims(&cfg, std::io::BufWriter::new(file)).unwrap();
    assert_eq!(stats.lines, 360);
    let input_arg = input.to_str().unwrap();

    let db = dir.path().join("ledger.db");
    assert!(sqlite(&db, &["init"]).status.success());
    let imported = sqlite(&db, &["import", input_arg]);
    assert!(imported.status.success(), "{imported:?}");
    assert!(
        stdout(&imported).starts_with("imported 360 entries (300 recorded, 60 revised); head 360:"),
        "{}",
        stdout(&imported)
    );
    let (code, out) = verify(&db);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("OK: 360 entries, 300 claims; head 360:"),
        "{out}"
    );

    // Reads and an add.
    let probe = generate::probe_key(cfg.records);
    let history = sqlite(&db, &["history", &probe, "--json"]);
    let revisions: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(
        revisions.as_array().unwrap().len() as u64,
        1 + generate::probe_revisions(&cfg)
    );
    assert!(stdout(&sqlite(&db, &["show", &probe])).contains("subject    bench/hot"));
    let compare = sqlite(&db, &["compare", generate::HOT_SUBJECT]);
    assert_eq!(stdout(&compare).lines().count(), 1 + 30);
    let added = sqlite(
        &db,
        &[
            "add",
            "--key",
            "extra",
            "--subject",
            "a/b",
            "--claimant",
            "C",
            "--statement",
            "s",
        ],
    );
    assert!(added.status.success(), "{added:?}");
    let again = sqlite(
        &db,
        &[
            "add",
            "--key",
            "extra",
            "--subject",
            "a/b",
            "--claimant",
            "C",
            "--statement",
            "s",
        ],
    );
    assert_eq!(again.status.code(), Some(2), "a key is used once");
    assert_eq!(verify(&db).0, Some(0));

    // An import with a bad last line writes nothing.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"key\":\"ok1\",\"subject\":\"a\",\"claimant\":\"c\",\"statement\":\"s\"}\n\
         {\"op\":\"revise\",\"claim\":\"nosuch\",\"reason\":\"r\",\"statement\":\"t\"}\n",
    )
    .unwrap();
    let refused = sqlite(&db, &["import", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 2"));
    let (code, out) = verify(&db);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("OK: 361 entries, 301 claims"), "{out}");

    // One entry's bytes changed: it no longer reads as a valid entry (and its hash no longer
    // matches).
    let copy = |name: &str| {
        let path = dir.path().join(name);
        let conn = Connection::open(&db).unwrap();
        conn.execute("VACUUM INTO ?1", [path.to_str().unwrap()])
            .unwrap();
        path
    };
    let altered = copy("altered.db");
    execute(
        &altered,
        "UPDATE entries SET bytes = CAST(replace(CAST(bytes AS TEXT), 'bench', 'bencH') AS BLOB) \
         WHERE seq = 123",
    );
    let (code, out) = verify(&altered);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.starts_with("FAILED: entry 123: entry's claim is invalid: field `claim.subject`"),
        "{out}"
    );

    // The bytes changed and the hash column with them: the next entry's prev gives it away,
    // and the one after it shows that the next entry is intact, so the first was altered (what
    // `claims verify` says, by the same checker).
    let rehashed = copy("rehashed.db");
    {
        let conn = Connection::open(&rehashed).unwrap();
        let bytes: Vec<u8> = conn
            .query_row("SELECT bytes FROM entries WHERE seq = 200", [], |r| {
                r.get(0)
            })
            .unwrap();
        let text = String::from_utf8(bytes)
            .unwrap()
            .replacen("bench", "bencH", 1);
        let hash = blake3::hash(text.as_bytes());
        conn.execute(
            "UPDATE entries SET bytes = ?1, hash = ?2 WHERE seq = 200",
            rusqlite::params![text.as_bytes(), &hash.as_bytes()[..]],
        )
        .unwrap();
    }
    let (code, out) = verify(&rehashed);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.starts_with(
            "FAILED: entry 200: its hash is not the prev recorded by entry 201: its bytes were altered"
        ),
        "{out}"
    );

    // A claim's row names an entry that is not its latest revision's.
    let misplaced = copy("misplaced.db");
    execute(
        &misplaced,
        "UPDATE claims SET latest_seq = 1 WHERE key = 'c5'",
    );
    let (code, out) = verify(&misplaced);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the claims table gives claim")
            && out.contains("entries its revisions do not"),
        "{out}"
    );

    // The index says something the log does not.
    let moved = copy("moved.db");
    execute(
        &moved,
        "UPDATE claims SET subject = 'bench/elsewhere' WHERE key = 'c5'",
    );
    let (code, out) = verify(&moved);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the indexes do not agree with the log"),
        "{out}"
    );

    // A revision's location dropped.
    let dropped = copy("dropped.db");
    execute(&dropped, "DELETE FROM revisions WHERE seq = 310");
    let (code, out) = verify(&dropped);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the indexes do not agree with the log"),
        "{out}"
    );
}
