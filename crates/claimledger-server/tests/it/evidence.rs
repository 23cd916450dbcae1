//! Snapshots of sources (`claims archive`) on the pages: linked from their claim's page, and
//! served as downloads that cannot run script in the ledger's origin; a damaged one is not
//! served whole; a write may not name a snapshot the ledger lacks.

use crate::support::{client, get, ledger_with, post, seed_lines, start_in};
use claimledger_core::input::parse_command;
use claimledger_core::{SnapshotHash, Timestamp};
use claimledger_store::{EvidenceStore, IdBits, Ledger, SledStorage, SubmitContext};
use std::time::Duration;

/// An archived page whose script would read the ledger's API if it ran in its origin.
const PAGE: &[u8] =
    b"<!doctype html><script>fetch('/api/v1/claims').then(r => r.text())</script><p>saved</p>";

/// The seed ledger, with `PAGE` kept as a snapshot of the second source of
/// `mediazona-named-dead` (an evidence revision, as `claims archive` makes).
fn ledger_with_snapshot() -> (tempfile::TempDir, SnapshotHash) {
    let dir = ledger_with(&seed_lines());
    let ledger_dir = dir.path().join("ledger");
    let store = EvidenceStore::of_ledger(&ledger_dir);
    let staged = store.stage(&mut &PAGE[..], 1 << 20).unwrap();
    let hash = staged.sha256;
    store.put(staged).unwrap();
    let storage = SledStorage::open(&ledger_dir, Duration::from_secs(5)).unwrap();
    let mut ledger = Ledger::open(storage).unwrap();
    let id = ledger.resolve("mediazona-named-dead").unwrap().unwrap();
    let current = ledger.claim(id).unwrap().unwrap();
    let mut sources = serde_json::to_value(&current.claim.sources).unwrap();
    sources[1]["archived"] = serde_json::json!([{
        "sha256": hash.to_hex(),
        "size": PAGE.len(),
        "media_type": "text/html",
        "captured_at": "2025-08-12",
        "url": "https://200.zona.media/",
        "status": 200,
    }]);
    let revise = serde_json::json!({
        "op": "revise", "claim": "mediazona-named-dead", "kind": "evidence",
        "reason": "a saved copy of the list", "sources": sources,
    });
    let context = SubmitContext {
        now: Timestamp::parse("2025-08-13T13:00:00.000000Z").unwrap(),
        default_author: "ana".into(),
        id_bits: IdBits::Derived,
    };
    ledger
        .submit(&[parse_command(&revise.to_string()).unwrap()], &context)
        .unwrap();
    drop(ledger);
    (dir, hash)
}

#[test]
fn claim_pages_link_snapshots_served_so_that_they_cannot_act_in_the_origin() {
    let (dir, hash) = ledger_with_snapshot();
    let stored = EvidenceStore::of_ledger(&dir.path().join("ledger")).path_of(&hash);
    let server = start_in(dir, |_| {});
    let (status, page) = get(&server.url("/claims/mediazona-named-dead"));
    assert_eq!(status, 200);
    let id = server_claim_id(&server);
    let link = format!("/claims/{id}/evidence/{hash}");
    assert!(page.contains(&format!("href=\"{link}\"")), "{page}");
    assert!(page.contains("fetched from"));

    let mut response = client().get(&server.url(&link)).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"{hash}.html\"")
    );
    let policy = header("content-security-policy");
    assert!(policy.starts_with("sandbox;"), "{policy}");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(!policy.contains("allow-scripts"), "{policy}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("content-type"), "text/html");
    assert_eq!(header("content-length"), PAGE.len().to_string());
    assert_eq!(response.body_mut().read_to_vec().unwrap(), PAGE);

    // Only a snapshot the claim lists, by a well-formed hash.
    let other = "0".repeat(64);
    for path in [
        format!("/claims/{id}/evidence/{other}"),
        format!("/claims/{id}/evidence/not-a-hash"),
        format!("/claims/mediazona-named-dead-2024/evidence/{hash}"),
        format!("/claims/no-such-claim/evidence/{hash}"),
    ] {
        let (status, body) = get(&server.url(&path));
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("<script>fetch"), "{path}");
    }

    // Altered in the store after the size check could see it (same length): the last bytes
    // are withheld and the connection ends, so the client never holds a whole altered copy.
    let mut altered = PAGE.to_vec();
    *altered.last_mut().unwrap() ^= 1;
    std::fs::write(&stored, &altered).unwrap();
    // The connection may end before the headers or after them; either way not with the bytes.
    if let Ok(mut response) = client().get(&server.url(&link)).call() {
        let received = response.body_mut().read_to_vec();
        assert!(
            received
                .as_ref()
                .map_or(true, |bytes| bytes.len() < PAGE.len()),
            "an altered snapshot was served whole: {received:?}"
        );
    }

    // Cut short or missing: an error page naming it, nothing of it.
    std::fs::write(&stored, &PAGE[..10]).unwrap();
    let (status, body) = get(&server.url(&link));
    assert_eq!(status, 500);
    assert!(
        body.contains(&format!("snapshot {hash} is 10 bytes")),
        "{body}"
    );
    std::fs::remove_file(&stored).unwrap();
    let (status, body) = get(&server.url(&link));
    assert_eq!(status, 500);
    assert!(body.contains("is missing"), "{body}");
}

/// The id of `mediazona-named-dead`, as the API gives it.
fn server_claim_id(server: &crate::support::TestServer) -> String {
    let claim = crate::support::get_json(&server.url("/api/v1/show/mediazona-named-dead"));
    claim["id"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn writes_may_not_name_snapshots_the_ledger_lacks() {
    let (dir, hash) = ledger_with_snapshot();
    let server = start_in(dir, |_| {});
    let head = crate::support::get_json(&server.url("/api/v1/head"));
    let missing = "ab".repeat(32);
    let item = |sha: &str| {
        format!(
            r#"{{"sha256":"{sha}","size":5,"media_type":"application/pdf","captured_at":"2025-08-12"}}"#
        )
    };
    let add = format!(
        r#"{{"subject":"s","claimant":"c","statement":"x","sources":[{{"publisher":"P","archived":[{}]}}]}}"#,
        item(&missing)
    );
    let (status, body) = post(
        &server.url("/api/v1/add"),
        Some(&server.writer),
        "application/json",
        &add,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!(
                "field `sources[0].archived[0].sha256`: the ledger keeps no snapshot {missing}"
            )),
        "{body}"
    );
    let import = format!("{add}\n");
    let (status, body) = post(
        &server.url("/api/v1/import"),
        Some(&server.writer),
        "application/x-ndjson",
        &import,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("line 1"),
        "{body}"
    );
    assert_eq!(crate::support::get_json(&server.url("/api/v1/head")), head);

    // A snapshot the store holds may be named.
    let held = add
        .replace(&missing, &hash.to_hex())
        .replace(r#""size":5"#, &format!(r#""size":{}"#, PAGE.len()));
    let (status, body) = post(
        &server.url("/api/v1/add"),
        Some(&server.writer),
        "application/json",
        &held,
    );
    assert_eq!(status, 201, "{body}");
}
