//! Snapshots of sources in a published log: `claims publish` writes each as `evidence/<sha256>`
//! before the checkpoint that covers the entries naming it (and publishes no checkpoint when a
//! snapshot is damaged in the store); `claims monitor` fetches and hashes them, bounded, and
//! names one missing, altered or cut short.

use crate::support::{assert_error, Ledger, EXIT_INPUT, EXIT_INTEGRITY};
use crate::tlog_support::{claims, Log, Served};
use std::path::{Path, PathBuf};

/// SHA-256 as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stored(log: &Log, hash: &str) -> PathBuf {
    log.ledger
        .dir()
        .join("evidence/sha256")
        .join(&hash[..2])
        .join(hash)
}

fn archive(log: &Log, name: &str, bytes: &[u8]) -> String {
    log.ledger.write(name, bytes);
    log.ledger.ok(&[
        "archive",
        "src",
        "--source",
        "1",
        "--file",
        name,
        "--media-type",
        "text/html",
        "--captured-at",
        "2025-08-12",
    ]);
    sha256_hex(bytes)
}

fn monitor(log: &Log, source: &str, state: &Path, extra: &[&str]) -> std::process::Output {
    let state = state.display().to_string();
    let mut args = vec![
        "monitor",
        source,
        "--key",
        &log.verifier,
        "--state",
        &state,
        "--json",
    ];
    args.extend_from_slice(extra);
    claims(log.ledger.root(), &args)
}

fn monitored(log: &Log, source: &str, state: &Path, extra: &[&str]) -> serde_json::Value {
    let out = monitor(log, source, state, extra);
    assert!(
        out.status.success(),
        "monitor failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn snapshots_are_published_before_their_checkpoint_and_monitored() {
    let mut log = Log::new();
    log.grow(20, "a");
    log.ledger.import(
        r#"{"key":"src","subject":"s","claimant":"c","statement":"x","sources":[{"publisher":"AFP"}]}"#,
    );
    let page = b"<html><script>alert(document.cookie)</script>saved report</html>".to_vec();
    let first = archive(&log, "report.html", &page);
    let out = log.ledger.root().join("published");

    let report = log.publish(&out);
    assert_eq!(report["other_objects_written"], 1);
    assert_eq!(
        std::fs::read(out.join("evidence").join(&first)).unwrap(),
        page
    );

    // A second snapshot, damaged in the store before it is published: neither it nor the
    // checkpoint covering its entry is published, and the refusal names it.
    let published = std::fs::read(out.join("checkpoint")).unwrap();
    let second_bytes = b"<html>a later copy of the report</html>".to_vec();
    let second = archive(&log, "later.html", &second_bytes);
    let mut altered = second_bytes.clone();
    altered[7] ^= 1;
    std::fs::write(stored(&log, &second), &altered).unwrap();
    let dest = out.display().to_string();
    let refused = log
        .ledger
        .run(&["publish", &dest, "--sign", &log.key_file()]);
    assert_error(&refused, EXIT_INTEGRITY, &format!("snapshot {second}"));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("was altered"));
    assert_eq!(std::fs::read(out.join("checkpoint")).unwrap(), published);
    assert!(!out.join("evidence").join(&second).exists());

    // Repaired (archiving the same bytes again restores the file), it is published.
    std::fs::write(stored(&log, &second), &second_bytes).unwrap();
    let report = log.publish(&out);
    assert_eq!(report["other_objects_written"], 1, "{report}");
    assert_eq!(
        std::fs::read(out.join("evidence").join(&second)).unwrap(),
        second_bytes
    );

    // The monitor hashes both.
    let served = Served::dir(&out);
    let state = log.ledger.root().join("monitor.state");
    let checked = monitored(&log, &served.url(), &state, &[]);
    assert_eq!(checked["snapshots_checked"], 2, "{checked}");
    assert_eq!(
        checked["snapshot_bytes_fetched"],
        (page.len() + second_bytes.len()) as u64
    );

    // Bounded: over --evidence-max-size, a snapshot is reported unchecked, not fetched.
    let fresh = log.ledger.root().join("bounded.state");
    let bounded = monitored(&log, &served.url(), &fresh, &["--evidence-max-size", "0"]);
    assert_eq!(bounded["snapshots_checked"], 0);
    assert_eq!(bounded["snapshots_unchecked"], 2);

    // A published snapshot altered, cut short, or missing: exit 1, naming it; no state kept.
    let published_first = out.join("evidence").join(&first);
    let mut tampered = page.clone();
    tampered[0] = b'X';
    for (case, bytes, expected) in [
        ("altered", Some(tampered), "was altered: its bytes hash to"),
        ("cut short", Some(page[..10].to_vec()), "is 10 bytes"),
        ("missing", None, "the log does not publish"),
    ] {
        match &bytes {
            Some(bytes) => std::fs::write(&published_first, bytes).unwrap(),
            None => std::fs::remove_file(&published_first).unwrap(),
        }
        let state = log
            .ledger
            .root()
            .join(format!("{}.state", case.replace(' ', "-")));
        let failed = monitor(&log, &served.url(), &state, &[]);
        assert_error(&failed, EXIT_INTEGRITY, expected);
        assert!(
            String::from_utf8_lossy(&failed.stderr).contains(&format!("evidence/{first}")),
            "{case}: {}",
            String::from_utf8_lossy(&failed.stderr)
        );
        assert!(!state.exists(), "{case}: no state is kept");
    }
}

#[test]
fn add_and_revise_refuse_snapshots_the_ledger_lacks() {
    let ledger = Ledger::new();
    ledger.import(
        r#"{"key":"src","subject":"s","claimant":"c","statement":"x","sources":[{"publisher":"AFP"}]}"#,
    );
    let head = ledger.head();
    let missing = "ab".repeat(32);
    let sources = format!(
        r#"[{{"publisher":"AFP","archived":[{{"sha256":"{missing}","size":5,"media_type":"application/pdf","captured_at":"2025-08-12"}}]}}]"#
    );
    ledger.write(
        "add.json",
        format!(r#"{{"subject":"s","claimant":"c","statement":"y","sources":{sources}}}"#),
    );
    ledger.write(
        "revise.json",
        format!(
            r#"{{"op":"revise","claim":"src","kind":"evidence","reason":"r","sources":{sources}}}"#
        ),
    );
    let expected =
        format!("field `sources[0].archived[0].sha256`: the ledger keeps no snapshot {missing}");
    assert_error(
        &ledger.run(&["add", "--json", "add.json"]),
        EXIT_INPUT,
        &expected,
    );
    assert_error(
        &ledger.run(&["revise", "--json", "revise.json"]),
        EXIT_INPUT,
        &expected,
    );
    assert_eq!(ledger.head(), head);
}
