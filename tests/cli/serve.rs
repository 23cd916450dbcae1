//! `claims serve` as a process: it serves the ledger, `claims token` makes the tokens it reads,
//! and SIGTERM stops it cleanly with every acknowledged write in the ledger.

use crate::support::{Ledger, EXIT_INPUT};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A `claims serve` process, killed if the test fails before it stops.
pub struct Serving {
    pub child: Child,
    pub base: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(ledger: &Ledger, args: &[&str]) -> Serving {
    let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    start(ledger.std_cmd(&all))
}

/// Starts `command`, a `claims serve` on a loopback port of its choosing, and waits until it
/// serves (it says where on its first line).
pub fn start(mut command: std::process::Command) -> Serving {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    // Keep reading what it says, so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    Serving { child, base }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

#[test]
fn sigterm_stops_the_server_losing_no_acknowledged_write() {
    let ledger = Ledger::new();
    let token = ledger.ok(&["token", "--for", "Ana Díaz", "--tokens", "tokens.txt"]);
    let token = token.trim().to_owned();
    assert!(token.starts_with("clt_"), "{token}");
    let mut server = serve(&ledger, &["--tokens", "tokens.txt"]);
    let started = Instant::now();
    let acknowledged: Vec<String> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (base, token) = (&server.base, &token);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..400 {
                        let body = format!(
                            r#"{{"key":"w{w}-{i}","subject":"load","claimant":"c","statement":"s"}}"#
                        );
                        let answer = agent()
                            .post(format!("{base}/api/v1/add"))
                            .header("authorization", format!("Bearer {token}"))
                            .header("content-type", "application/json")
                            .send(&body);
                        match answer {
                            Ok(response) if response.status() == 201 => mine.push(format!("w{w}-{i}")),
                            // Refused while stopping, or the connection closed: not acknowledged.
                            _ => break,
                        }
                    }
                    mine
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        let pid = server.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(
        !acknowledged.is_empty(),
        "some writes were acknowledged before SIGTERM"
    );
    assert!(ledger.head_count() >= acknowledged.len() as u64);
    let listed = ledger.json(&["list", "--json"]);
    let keys: std::collections::BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    for key in &acknowledged {
        assert!(
            keys.contains(key.as_str()),
            "{key} was acknowledged but is not in the ledger"
        );
    }
    ledger.assert_verifies();
}

#[test]
fn serve_refuses_what_it_cannot_use() {
    let ledger = Ledger::new();
    ledger.write("bad-tokens.txt", "sha256:00 writer ana\n");
    let out = ledger.run(&["serve", "--tokens", "bad-tokens.txt"]);
    crate::support::assert_error(
        &out,
        EXIT_INPUT,
        "bad-tokens.txt: line 1: the hash must be 64 hex digits",
    );
    let out = ledger.run(&[
        "token", "--for", "ana", "--role", "admin", "--tokens", "t.txt",
    ]);
    crate::support::assert_error(
        &out,
        EXIT_INPUT,
        "--role: \"admin\" is not a role; use reader or writer",
    );
    let out = ledger.run(&["serve", "--private"]);
    assert_eq!(
        out.status.code(),
        Some(EXIT_INPUT),
        "--private needs --tokens"
    );
}

#[test]
fn a_read_only_server_answers_as_the_cli_does() {
    let ledger = Ledger::new();
    ledger.import(
        "{\"key\":\"a\",\"subject\":\"s/t\",\"claimant\":\"c\",\"statement\":\"x\",\"value\":{\"amount\":5}}\n",
    );
    let server = serve(&ledger, &[]);
    let mut response = agent()
        .get(format!("{}/api/v1/show/a", server.base))
        .call()
        .unwrap();
    let served: serde_json::Value = response.body_mut().read_json().unwrap();
    drop(server);
    let started = Instant::now();
    // The ledger is free again once the server has stopped.
    let printed = loop {
        let out = ledger.run(&["show", "a", "--json", "--wait", "5"]);
        if out.status.success() {
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    };
    assert_eq!(served, printed);
}
