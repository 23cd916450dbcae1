//! Snapshots of sources: `claims archive --file` and `--fetch` (against a hostile server of the
//! test's own, on 127.0.0.1), `claims evidence`, and `verify` catching a snapshot altered, cut
//! short or missing; bundles with their snapshots; fetched WARC files read back by `warcio`.

use crate::support::{assert_error, text, Ledger, EXIT_INPUT, EXIT_INTEGRITY};
use serde_json::Value as Json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A claim with three sources: the second has a URL (set per test), the third none.
fn ledger_with_claim(url: &str) -> Ledger {
    let ledger = Ledger::new();
    ledger.import(&format!(
        r#"{{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named dead","sources":[{{"publisher":"AFP"}},{{"publisher":"BBC","url":"{url}"}},{{"publisher":"Meduza"}}]}}"#
    ));
    ledger
}

/// Every file under the ledger's evidence directory, with its bytes: what a refusal must leave
/// as it was.
fn evidence_files(ledger: &Ledger) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(&ledger.dir().join("evidence"), &mut files);
    files.sort();
    files
}

/// SHA-256 as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stored_path(ledger: &Ledger, hash: &str) -> PathBuf {
    ledger
        .dir()
        .join("evidence/sha256")
        .join(&hash[..2])
        .join(hash)
}

#[test]
fn a_saved_file_is_kept_listed_shown_and_checked() {
    let ledger = ledger_with_claim("https://example.org/report");
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    ledger.write("report.pdf", &pdf);
    let head = ledger.head();
    let out = ledger.json(&[
        "archive",
        "mz",
        "--source",
        "2",
        "--file",
        "report.pdf",
        "--captured-at",
        "2025-08-12",
        "--json",
    ]);
    let hash = sha256_hex(&pdf);
    assert_eq!(out["archived"]["sha256"], hash.as_str());
    assert_eq!(out["archived"]["size"], pdf.len());
    assert_eq!(
        out["archived"]["media_type"], "application/pdf",
        "guessed from the content"
    );
    assert_eq!(out["archived"]["captured_at"], "2025-08-12");
    assert_eq!(
        (out["revision"].as_u64(), out["source"].as_u64()),
        (Some(2), Some(2))
    );
    assert_ne!(ledger.head(), head);
    assert_eq!(std::fs::read(stored_path(&ledger, &hash)).unwrap(), pdf);

    // The entry is an evidence revision whose source lists the snapshot.
    let history = ledger.json(&["history", "mz", "--json"]);
    assert_eq!(history[1]["kind"], "evidence");
    let shown = ledger.show("mz");
    assert_eq!(
        shown["claim"]["sources"][1]["archived"][0]["sha256"],
        hash.as_str()
    );
    assert!(ledger
        .ok(&["show", "mz"])
        .contains(&format!("snapshot {hash} (application/pdf")));
    assert!(ledger
        .ok(&["history", "mz"])
        .contains(&format!("sources[1].archived: added snapshot {hash}")));
    let listed = ledger.json(&["evidence", "list", "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["source"], 2);
    assert!(ledger.ok(&["evidence", "list", "mz"]).contains(&hash));

    // Read back, byte for byte, to a file or standard output.
    ledger.ok(&["evidence", "get", &hash, "--out", "copy.pdf"]);
    assert_eq!(std::fs::read(ledger.root().join("copy.pdf")).unwrap(), pdf);
    let out = ledger.run(&["evidence", "get", &hash]);
    assert_eq!(out.stdout, pdf);
    let report = ledger.assert_verifies();
    let expected = format!("1 snapshot ({} B) hashed and intact", pdf.len());
    assert!(report.contains(&expected), "{report}");

    // A second file for another source; a media type given; the same file again is refused.
    ledger.write("page.html", "<!doctype html><title>x</title>");
    ledger.ok(&["archive", "mz", "--source", "1", "--file", "page.html"]);
    assert_eq!(
        ledger.show("mz")["claim"]["sources"][0]["archived"][0]["media_type"],
        "text/html"
    );
    ledger.write("notes.bin", [0u8, 159, 146, 150]);
    ledger.ok(&[
        "archive",
        "mz",
        "--source",
        "3",
        "--file",
        "notes.bin",
        "--media-type",
        "Application/Octet-Stream",
    ]);
    assert_eq!(
        ledger.show("mz")["claim"]["sources"][2]["archived"][0]["media_type"],
        "application/octet-stream"
    );
    let head = ledger.head();
    let files = evidence_files(&ledger);
    for (args, code, fragment) in [
        (
            &["--source", "2", "--file", "report.pdf"][..],
            EXIT_INPUT,
            "is already archived for source 2 of claim mz",
        ),
        (
            &["--source", "4", "--file", "report.pdf"],
            EXIT_INPUT,
            "--source 4: claim mz has 3 sources",
        ),
        (
            &["--source", "0", "--file", "report.pdf"],
            EXIT_INPUT,
            "sources are counted from 1",
        ),
        (
            &["--source", "1", "--file", "missing.pdf"],
            EXIT_INPUT,
            "missing.pdf",
        ),
        (
            &[
                "--source",
                "1",
                "--file",
                "report.pdf",
                "--media-type",
                "pdf",
            ],
            EXIT_INPUT,
            "--media-type: \"pdf\" is not a media type",
        ),
        (
            &[
                "--source",
                "1",
                "--file",
                "report.pdf",
                "--captured-at",
                "yesterday",
            ],
            EXIT_INPUT,
            "--captured-at",
        ),
        (
            &["--source", "3", "--fetch"],
            EXIT_INPUT,
            "source 3 of claim mz has no url to fetch",
        ),
    ] {
        let mut all = vec!["archive", "mz"];
        all.extend_from_slice(args);
        assert_error(&ledger.run(&all), code, fragment);
    }
    ledger.write("empty.pdf", "");
    assert_error(
        &ledger.run(&["archive", "mz", "--source", "1", "--file", "empty.pdf"]),
        EXIT_INPUT,
        "the file is empty",
    );
    ledger.write("big.bin", vec![1u8; 1_000_001]);
    assert_error(
        &ledger.run(&[
            "archive",
            "mz",
            "--source",
            "1",
            "--file",
            "big.bin",
            "--max-size",
            "1",
        ]),
        EXIT_INPUT,
        "larger than --max-size 1 MB (1000000 bytes)",
    );
    assert_error(
        &ledger.run(&["archive", "nobody", "--source", "1", "--file", "report.pdf"]),
        EXIT_INPUT,
        "no claim has the id or key",
    );
    // Every refusal left the ledger and its evidence store as they were.
    assert_eq!(ledger.head(), head);
    assert_eq!(evidence_files(&ledger), files);
    ledger.assert_verifies();
}

#[test]
fn verify_names_the_claim_source_and_hash_of_a_damaged_snapshot() {
    let ledger = ledger_with_claim("https://example.org/report");
    let bytes = b"%PDF-1.4 a report of 121,507 named dead".to_vec();
    ledger.write("report.pdf", &bytes);
    ledger.ok(&["archive", "mz", "--source", "2", "--file", "report.pdf"]);
    let hash = sha256_hex(&bytes);
    let path = stored_path(&ledger, &hash);
    let named = format!("snapshot {hash} of source 2 of claim mz (named by entry 2)");
    let check = |fragment: &str| {
        let out = ledger.run(&["verify"]);
        assert_eq!(
            out.status.code(),
            Some(EXIT_INTEGRITY),
            "{}",
            text(&out.stdout)
        );
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with(&format!("FAILED: {named} {fragment}")),
            "{stdout}"
        );
        let json = ledger.run(&["verify", "--json"]);
        let json: Json = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(json["ok"], false);
        assert!(json["problem"]["what"].as_str().unwrap().contains(&hash));
    };
    let mut altered = bytes.clone();
    altered[10] ^= 0x20;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &altered).unwrap();
    check(&format!(
        "was altered: its bytes hash to {}",
        sha256_hex(&altered)
    ));
    assert_error(
        &ledger.run(&["evidence", "get", &hash]),
        EXIT_INTEGRITY,
        "was altered in the evidence store",
    );
    assert_error(
        &ledger.run(&["evidence", "get", &hash, "--out", "x.pdf"]),
        EXIT_INTEGRITY,
        "was altered",
    );
    assert!(
        !ledger.root().join("x.pdf").exists(),
        "no altered copy is written"
    );
    std::fs::write(&path, &bytes[..7]).unwrap();
    check("is 7 bytes, not the size the ledger records: it was cut short or altered");
    std::fs::remove_file(&path).unwrap();
    check("is missing, in the evidence store");
    // The same bytes archived again put the file back, with no new entry.
    let head = ledger.head();
    ledger.ok(&["archive", "mz", "--source", "2", "--file", "report.pdf"]);
    assert_eq!(ledger.head(), head);
    ledger.assert_verifies();
    // A file no entry names (an archive interrupted before its entry) is not damage.
    let stray = stored_path(&ledger, &"ab".repeat(32));
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, "stray").unwrap();
    let out = ledger.run(&["verify"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("1 snapshot file that no entry names"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bundles_carry_their_snapshots() {
    let ledger = ledger_with_claim("https://example.org/report");
    let bytes = b"<html>saved page</html>".to_vec();
    ledger.write("page.html", &bytes);
    ledger.ok(&["archive", "mz", "--source", "2", "--file", "page.html"]);
    let hash = sha256_hex(&bytes);
    let bundle = ledger.ok(&["export", "--evidence", "ev"]);
    ledger.write("bundle.jsonl", &bundle);
    assert_eq!(
        std::fs::read(ledger.root().join("ev").join(&hash)).unwrap(),
        bytes
    );
    // The independent verifier, written from FORMAT.md alone, reads the archived list.
    independent_verifier::verify(bundle.as_bytes(), None).expect("the independent verifier");

    let report = ledger.ok(&["verify", "--bundle", "bundle.jsonl"]);
    assert!(
        report.contains("1 snapshot (23 B) named, not checked (give --evidence DIR)"),
        "{report}"
    );
    let report = ledger.ok(&["verify", "--bundle", "bundle.jsonl", "--evidence", "ev"]);
    assert!(
        report.contains("1 snapshot (23 B) hashed and intact"),
        "{report}"
    );

    // Restored with its snapshots; without them, refused.
    let restored = Ledger::uninitialised();
    let bundle_path = ledger.root().join("bundle.jsonl");
    let bundle_path = bundle_path.to_str().unwrap();
    assert_error(
        &restored.run(&["init", "--from-bundle", bundle_path]),
        EXIT_INPUT,
        "its entries name 1 snapshot; give the directory",
    );
    assert!(!restored.dir().exists());
    let ev = ledger.root().join("ev");
    restored.ok(&[
        "init",
        "--from-bundle",
        bundle_path,
        "--evidence",
        ev.to_str().unwrap(),
    ]);
    assert!(restored
        .assert_verifies()
        .contains("1 snapshot (23 B) hashed and intact"));
    assert_eq!(restored.head(), ledger.head());

    // An altered copy in the directory is named.
    let copy = ev.join(&hash);
    std::fs::remove_file(&copy).unwrap();
    std::fs::write(&copy, b"<html>SAVED page</html>").unwrap();
    let out = ledger.run(&["verify", "--bundle", "bundle.jsonl", "--evidence", "ev"]);
    assert_eq!(out.status.code(), Some(EXIT_INTEGRITY));
    assert!(
        text(&out.stdout).contains(&format!("snapshot {hash} of source 2")),
        "{}",
        text(&out.stdout)
    );
    let again = Ledger::uninitialised();
    assert_error(
        &again.run(&[
            "init",
            "--from-bundle",
            bundle_path,
            "--evidence",
            ev.to_str().unwrap(),
        ]),
        EXIT_INPUT,
        "its bytes hash to",
    );
    assert!(!again.dir().exists());
}

#[test]
fn imports_take_snapshots_from_a_directory() {
    let ledger = Ledger::new();
    let bytes = b"a saved copy of the report".to_vec();
    let hash = sha256_hex(&bytes);
    std::fs::create_dir(ledger.root().join("dir")).unwrap();
    std::fs::write(ledger.root().join("dir").join(&hash), &bytes).unwrap();
    let item = format!(
        r#"{{"sha256":"{hash}","size":{},"media_type":"text/plain","captured_at":"2025-08-12"}}"#,
        bytes.len()
    );
    let lines = format!(
        "{}\n{}\n",
        r#"{"key":"a","subject":"s","claimant":"c","statement":"x","sources":[{"publisher":"P"}]}"#,
        format_args!(
            r#"{{"op":"revise","claim":"a","kind":"evidence","reason":"saved","sources":[{{"publisher":"P","archived":[{item}]}}]}}"#
        )
    );
    ledger.write("in.jsonl", &lines);
    assert_error(
        &ledger.run(&["import", "in.jsonl"]),
        EXIT_INPUT,
        "in.jsonl: line 2: field `sources[0].archived[0].sha256`: the ledger keeps no snapshot",
    );
    // A wrong size, or other bytes under the name: refused, nothing written or left behind.
    let wrong = lines.replace(&format!(r#""size":{}"#, bytes.len()), r#""size":5"#);
    ledger.write("wrong.jsonl", &wrong);
    assert_error(
        &ledger.run(&["import", "wrong.jsonl", "--evidence-dir", "dir"]),
        EXIT_INPUT,
        "is not the snapshot the ledger records: it is larger than the 5 bytes recorded",
    );
    let bad_kind = lines.replace(
        r#""kind":"evidence""#,
        r#""kind":"evidence","statement":"y""#,
    );
    ledger.write("bad.jsonl", &bad_kind);
    assert_error(
        &ledger.run(&["import", "bad.jsonl", "--evidence-dir", "dir"]),
        EXIT_INPUT,
        "line 2: field `kind`: an evidence revision changes only the sources' snapshots",
    );
    assert_eq!(ledger.head_count(), 0);
    assert_eq!(
        evidence_files(&ledger),
        vec![],
        "a refused import leaves no snapshot"
    );
    let out = ledger.ok(&["import", "in.jsonl", "--evidence-dir", "dir"]);
    assert!(out.starts_with("imported 2 entries"), "{out}");
    assert!(ledger
        .assert_verifies()
        .contains("1 snapshot (26 B) hashed and intact"));
}

// ---------------------------------------------------------------------------------------------
// Fetching, against a server of the test's own

/// An HTTP server on 127.0.0.1 with hostile routes, serving each connection on its own thread.
/// Dropping it (also when a test fails) stops it and waits for its threads.
struct TestServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            // Bounded: a test server lives a minute at most, whatever the test does.
            let started = Instant::now();
            while !stopping.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let stopping = stopping.clone();
                        workers.push(std::thread::spawn(move || serve(stream, port, &stopping)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            for worker in workers {
                let _ = worker.join();
            }
        });
        TestServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The page the well-behaved routes serve.
const PAGE: &[u8] =
    b"<!doctype html><title>Named dead</title><p>121,507 named Russian military dead</p>";

fn serve(mut stream: TcpStream, port: u16, stop: &AtomicBool) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    stream.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let ok = |kind: &str, body: &[u8]| {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nX-Test: kept as sent\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        response
    };
    let redirect = |to: &str| {
        format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into_bytes()
    };
    let response: Vec<u8> = match path.as_str() {
        "/page" => ok("text/html", PAGE),
        "/moved" => redirect("/hop"),
        "/hop" => redirect(&format!("http://127.0.0.1:{port}/page")),
        "/loop-a" => redirect("/loop-b"),
        "/loop-b" => redirect("/loop-a"),
        "/chain" => redirect("/chain?1"),
        p if p.starts_with("/chain?") => {
            let n: u32 = p["/chain?".len()..].parse().unwrap_or(0);
            redirect(&format!("/chain?{}", n + 1))
        }
        "/gone" => b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 19\r\nConnection: close\r\n\r\n<h1>Not Found</h1>\n".to_vec(),
        "/latin1" => ok("text/html; charset=iso-8859-1", b"<p>Caf\xe9 cr\xe8me \xff\xfe</p>"),
        "/chunked" => b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n".to_vec(),
        "/bomb" => {
            // 50 MB of zeros, gzipped to some 50 KB, sent as what it is.
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..50 {
                gz.write_all(&zeros).unwrap();
            }
            let body = gz.finish().unwrap();
            let mut response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            response.extend_from_slice(&body);
            response
        }
        "/long" => b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello, and bytes past the announced length".to_vec(),
        "/short" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly this much");
            return;
        }
        "/big" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 3000000\r\nConnection: close\r\n\r\n");
            let block = vec![7u8; 65_536];
            let mut sent = 0;
            while sent < 3_000_000 && !stop.load(Ordering::Relaxed) {
                if stream.write_all(&block).is_err() {
                    return;
                }
                sent += block.len();
            }
            return;
        }
        "/slow" => {
            // A byte every 200 ms: each read is quick, the whole never ends (bounded here).
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n");
            for _ in 0..150 {
                if stop.load(Ordering::Relaxed) || stream.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            return;
        }
        "/stall" => {
            // Headers, then nothing at all.
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
            for _ in 0..150 {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            return;
        }
        _ => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}

/// Archives source 2, fetched, with `extra` flags; gives the command's output.
fn fetch(ledger: &Ledger, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["archive", "mz", "--source", "2", "--fetch", "--json"];
    args.extend_from_slice(extra);
    ledger.run(&args)
}

/// Checks a WARC file with `warcio` (Python): its own checker (`warcio check`, which verifies
/// every digest), then its reader, which gives back each record's type, target, HTTP status
/// and payload as a JSON line.
fn warcio_records(warc: &Path) -> Vec<Json> {
    ensure_warcio();
    let check = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys; from warcio.cli import main; main(['check', '-v', sys.argv[1]])",
        ])
        .arg(warc)
        .output()
        .expect("python3 runs (CI installs it, with warcio: .ci/run)");
    assert!(
        check.status.success(),
        "warcio check failed: {}{}",
        text(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let script = r#"
import json, sys, hashlib
from warcio.archiveiterator import ArchiveIterator
with open(sys.argv[1], 'rb') as stream:
    for record in ArchiveIterator(stream):
        http = record.http_headers
        body = record.content_stream().read()
        print(json.dumps({
            "type": record.rec_type,
            "uri": record.rec_headers.get_header('WARC-Target-URI'),
            "status": int(http.get_statuscode()) if http and record.rec_type == 'response' else None,
            "test_header": http.get_header('X-Test') if http else None,
            "payload": body.decode('latin-1'),
            "payload_sha256": hashlib.sha256(body).hexdigest(),
        }))
"#;
    let read = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(warc)
        .output()
        .expect("python3 runs");
    assert!(
        read.status.success(),
        "warcio could not read it: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    text(&read.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Installs `warcio` with pip where it is missing (as .ci/run does), once per test run, so
/// that `cargo test --workspace` works on a fresh machine with Python.
fn ensure_warcio() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let present = |_: ()| {
            std::process::Command::new("python3")
                .args(["-c", "import warcio"])
                .output()
                .is_ok_and(|out| out.status.success())
        };
        if present(()) {
            return;
        }
        for extra in [&[][..], &["--break-system-packages"]] {
            let _ = std::process::Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "warcio"])
                .args(extra)
                .status();
            if present(()) {
                return;
            }
        }
        panic!("python3 with warcio is needed to read WARC files back: pip install warcio");
    });
}

#[test]
fn a_fetch_is_kept_as_a_warc_file_that_warcio_reads() {
    let server = TestServer::start();
    let ledger = ledger_with_claim(&server.url("/moved"));
    let out = fetch(&ledger, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    let archived = &json["archived"];
    assert_eq!(archived["media_type"], "application/warc");
    assert_eq!(
        archived["url"],
        server.url("/page").as_str(),
        "the URL after redirects"
    );
    assert_eq!(archived["status"], 200);
    assert_eq!(archived["captured_at"], "2025-08-13T12:00:00Z");
    let hash = archived["sha256"].as_str().unwrap().to_owned();
    ledger.ok(&["evidence", "get", &hash, "--out", "capture.warc"]);
    let warc = ledger.root().join("capture.warc");
    let bytes = std::fs::read(&warc).unwrap();
    assert_eq!(
        sha256_hex(&bytes),
        hash,
        "the hash is what sha256sum prints for the file"
    );
    assert_eq!(archived["size"], bytes.len());
    assert!(bytes.starts_with(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n"));

    let records = warcio_records(&warc);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["warcinfo", "request", "response", "request", "response", "request", "response"],
        "every hop of the redirects is a request and a response"
    );
    let uris: Vec<&str> = records[1..]
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            server.url("/moved"),
            server.url("/moved"),
            server.url("/hop"),
            server.url("/hop"),
            server.url("/page"),
            server.url("/page"),
        ]
    );
    let statuses: Vec<Json> = records.iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses[2], 302);
    assert_eq!(statuses[6], 200);
    assert_eq!(
        records[6]["payload"],
        String::from_utf8_lossy(PAGE).as_ref()
    );
    assert_eq!(records[6]["test_header"], "kept as sent");
    assert!(
        records[1]["payload"].as_str().unwrap().is_empty(),
        "a GET has no body"
    );
    ledger.assert_verifies();

    // A chunked response: the record holds the chunks as sent; warcio decodes them.
    let chunked = ledger_with_claim(&server.url("/chunked"));
    let out = fetch(&chunked, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = serde_json::from_slice::<Json>(&out.stdout).unwrap()["archived"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    chunked.ok(&["evidence", "get", &hash, "--out", "chunked.warc"]);
    let records = warcio_records(&chunked.root().join("chunked.warc"));
    assert_eq!(records[2]["payload"], "hello, world");
}

#[test]
fn hostile_servers_end_in_a_capture_or_a_one_line_error() {
    let server = TestServer::start();
    // Captures: the answer as the server gave it.
    for (path, status, payload_check) in [
        ("/gone", 404, None),
        (
            "/latin1",
            200,
            Some(&b"<p>Caf\xe9 cr\xe8me \xff\xfe</p>"[..]),
        ),
        ("/long", 200, Some(&b"hello"[..])),
        ("/bomb", 200, None),
    ] {
        let ledger = ledger_with_claim(&server.url(path));
        let started = Instant::now();
        let out = fetch(&ledger, &[]);
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} took {:?}",
            started.elapsed()
        );
        let json: Json = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["archived"]["status"], status, "{path}");
        let size = json["archived"]["size"].as_u64().unwrap();
        if path == "/bomb" {
            assert!(
                size < 1_000_000,
                "the compressed bytes are kept, not 50 MB: {size}"
            );
        }
        if path == "/gone" {
            assert!(String::from_utf8_lossy(&out.stderr).contains("answered with status 404"));
        }
        let hash = json["archived"]["sha256"].as_str().unwrap().to_owned();
        ledger.ok(&["evidence", "get", &hash, "--out", "c.warc"]);
        let records = warcio_records(&ledger.root().join("c.warc"));
        if let Some(expected) = payload_check {
            let expected: String = expected.iter().map(|&b| char::from(b)).collect();
            assert_eq!(records[2]["payload"], expected.as_str(), "{path}");
        }
        ledger.assert_verifies();
    }
    // Refusals: one line, exit 2, and nothing written to the ledger or its evidence store.
    for (path, extra, fragment) in [
        ("/loop-a", &[][..], "redirect loop: "),
        ("/chain", &[], "redirects more than 10 times"),
        (
            "/big",
            &["--max-size", "1"][..],
            "the response is larger than 1000000 bytes (--max-size)",
        ),
        (
            "/slow",
            &["--timeout", "2"],
            "the fetch took longer than 2 s (--timeout)",
        ),
        ("/stall", &["--timeout", "2"], " 2 s ("),
        (
            "/short",
            &[],
            "closed the connection before the end of the response",
        ),
    ] {
        let ledger = ledger_with_claim(&server.url(path));
        let head = ledger.head();
        let files = evidence_files(&ledger);
        let started = Instant::now();
        let out = fetch(&ledger, extra);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} took {:?}",
            started.elapsed()
        );
        assert_error(&out, EXIT_INPUT, fragment);
        assert!(out.stdout.is_empty(), "{path}");
        assert_eq!(ledger.head(), head, "{path}");
        assert_eq!(
            evidence_files(&ledger),
            files,
            "{path}: the evidence store is unchanged"
        );
        ledger.assert_verifies();
    }
}

/// `archive`, `evidence list|get`, `export --evidence`, `import --evidence-dir` and `verify`
/// beside `claims serve`, which runs them: each prints the same bytes and exits with the same
/// code as on a copy of the ledger with no server, refusals included. A fetch is made by the
/// server (a WARC file's record ids differ from one capture to the next, so its snapshot is
/// checked rather than compared).
#[test]
fn evidence_commands_beside_a_server_say_what_they_say_alone() {
    let web = TestServer::start();
    let alone = ledger_with_claim(&web.url("/page"));
    alone.import(&format!(
        r#"{{"key":"loop","subject":"s","claimant":"c","statement":"x","sources":[{{"publisher":"P","url":"{}"}}]}}"#,
        web.url("/loop-a")
    ));
    let saved = b"a saved copy of the report".to_vec();
    let saved_hash = sha256_hex(&saved);
    alone.write("saved.txt", &saved);
    let incoming = b"a copy brought from elsewhere".to_vec();
    let incoming_hash = sha256_hex(&incoming);
    std::fs::create_dir(alone.root().join("incoming")).unwrap();
    std::fs::write(
        alone.root().join("incoming").join(&incoming_hash),
        &incoming,
    )
    .unwrap();
    alone.write(
        "in.jsonl",
        format!(
            r#"{{"key":"brought","subject":"s","claimant":"c","statement":"y","sources":[{{"publisher":"P","archived":[{{"sha256":"{incoming_hash}","size":{},"media_type":"text/plain","captured_at":"2025-08-12"}}]}}]}}"#,
            incoming.len()
        ) + "\n",
    );
    let beside = Ledger::uninitialised();
    crate::support::copy_dir(alone.root(), beside.root()).unwrap();
    let server = crate::serve::serve(&beside, &[]);
    let socket = beside.dir().join("serve.sock");
    let commands: &[&[&str]] = &[
        &[
            "archive",
            "mz",
            "--source",
            "1",
            "--file",
            "saved.txt",
            "--captured-at",
            "2025-08-13",
        ],
        &["archive", "mz", "--source", "1", "--file", "saved.txt"],
        &["archive", "mz", "--source", "1", "--file", "absent.txt"],
        &["archive", "mz", "--source", "9", "--file", "saved.txt"],
        &["archive", "mz", "--source", "3", "--fetch"],
        &["archive", "loop", "--source", "1", "--fetch"],
        &["import", "in.jsonl"],
        &["import", "in.jsonl", "--evidence-dir", "incoming"],
        &["evidence", "list"],
        &["evidence", "list", "mz", "--json"],
        &["evidence", "get", &saved_hash],
        &["evidence", "get", &incoming_hash, "--out", "got.txt"],
        &["evidence", "get", &incoming_hash, "--out", "got.txt"],
        &["evidence", "get", &"0".repeat(64)],
        &["show", "brought"],
        &["export", "--evidence", "snapshots"],
        &["verify"],
    ];
    for args in commands {
        assert!(socket.exists(), "the server's socket, before {args:?}");
        let a = alone.run(args);
        let b = beside.run(args);
        assert_eq!(
            a.status.code(),
            b.status.code(),
            "{args:?}: {}",
            text(&b.stderr)
        );
        assert_eq!(
            text(&a.stdout),
            text(&b.stdout),
            "{args:?}: standard output"
        );
        assert_eq!(text(&a.stderr), text(&b.stderr), "{args:?}: standard error");
    }
    for name in ["got.txt", &format!("snapshots/{saved_hash}")] {
        assert_eq!(
            std::fs::read(alone.root().join(name)).unwrap(),
            std::fs::read(beside.root().join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read(beside.root().join("got.txt")).unwrap(),
        incoming
    );

    // A fetch, made by the server: a WARC file of the page, kept and verified.
    let out = beside.run(&["archive", "mz", "--source", "2", "--fetch", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    let hash = json["archived"]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(json["archived"]["url"], web.url("/page").as_str());
    let warc = beside.run(&["evidence", "get", &hash]);
    assert!(warc.status.success(), "{}", text(&warc.stderr));
    assert_eq!(sha256_hex(&warc.stdout), hash);
    assert!(warc.stdout.starts_with(b"WARC/1.1\r\n"));
    assert!(String::from_utf8_lossy(&warc.stdout).contains("121,507 named Russian military dead"));
    let verified = beside.assert_verifies();
    assert!(verified.contains("3 snapshots ("), "{verified}");
    drop(server);
}
