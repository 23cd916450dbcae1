//! `claims demo`: a tour on a temporary ledger that it removes afterwards.

use crate::support::{succeeded, Ledger};

#[test]
fn demo_runs_on_a_temporary_ledger() {
    let place = Ledger::uninitialised();
    let tmp = place.root().join("tmp");
    std::fs::create_dir(&tmp).expect("a directory for temporary files");
    let out = place
        .cmd(&["demo"])
        .env_remove("CLAIMS_LEDGER")
        .env("TMPDIR", &tmp)
        .output()
        .expect("claims runs");
    let stdout = succeeded(&out, &["demo"]);
    assert!(stdout.contains("verify: OK"), "{stdout}");
    assert!(
        stdout.contains("verify of the copy:     FAILED: entry ")
            && stdout.contains("verify of the original: OK"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mediazona-named-dead: 2 revisions"),
        "{stdout}"
    );
    // The saved report is archived, hashed by verify, and caught altered in a copy.
    let saved = include_bytes!("../../examples/evidence/casualties-report-2025-08-13.txt");
    let hash: String = {
        use sha2::Digest;
        sha2::Sha256::digest(saved)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert!(
        stdout.contains(&format!("as snapshot\n  {hash}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains("verify: OK, 32 entries, and 1 snapshot hashed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "FAILED: snapshot {hash} of source 1 of claim mediazona-named-dead was altered"
        )),
        "{stdout}"
    );
    assert!(
        !place.root().join(".claims").exists(),
        "the demo leaves the working directory alone"
    );
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("the temporary directory is there")
        .collect();
    assert!(left.is_empty(), "the temporary ledger is removed: {left:?}");
}
