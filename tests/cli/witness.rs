//! Witnesses: `claims key generate --witness`, `claims witness serve`, `claims publish
//! --witness` with a quorum, and the cosignature checks of `monitor` and `verify-proof`; a
//! witness killed with SIGKILL keeps what it cosigned.

use crate::support::{assert_error, text, EXIT_INPUT, EXIT_INTEGRITY, EXIT_IO};
use crate::tlog_support::{claims, Log, WitnessProcess, ORIGIN};
use claimledger_core::checkpoint::{self, Checkpoint};
use std::io::{Read, Write};
use std::time::Duration;

/// POSTs `body` to the witness's add-checkpoint: (status, content type, body).
fn post(port: u16, body: &[u8]) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST /add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // A witness may answer an oversized body before reading it all.
    let _ = stream.write_all(body);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

/// A checkpoint of `size` entries with another root, signed with the log's key: what a log
/// showing someone a different history would send.
fn forged(log: &Log, size: u64) -> String {
    let key = std::fs::read_to_string(log.key_file()).unwrap();
    checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: [0x42; 32],
            extensions: vec![],
        },
        key.trim_end(),
    )
    .unwrap()
}

fn published_size(dir: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    text.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_checkpoint_cosigned_by_two_witnesses_verifies_with_a_quorum_of_two() {
    let mut log = Log::new();
    log.grow(50, "a");
    let root = log.ledger.root().to_owned();
    let w1 = WitnessProcess::start(&root, "w1.example/witness", &log.verifier);
    let mut w2 = WitnessProcess::start(&root, "w2.example/witness", &log.verifier);
    assert!(w1.verifier.starts_with("w1.example/witness+"));

    let out = root.join("published");
    let dest = out.display().to_string();
    let key = log.key_file();
    let (a1, a2) = (w1.arg(), w2.arg());
    let report = log.ledger.json(&[
        "publish",
        &dest,
        "--sign",
        &key,
        "--witness",
        &a1,
        "--witness",
        &a2,
        "--witness-quorum",
        "2",
        "--json",
    ]);
    assert_eq!(report["cosigned_by"].as_array().unwrap().len(), 2);
    let published = std::fs::read_to_string(out.join("checkpoint")).unwrap();
    assert_eq!(published.matches("\n— ").count(), 3, "{published}");
    assert!(
        published.contains("\n— w1.example/witness ")
            && published.contains("\n— w2.example/witness ")
    );

    // The monitor checks the cosignatures, with a quorum.
    let (k1, k2) = (w1.verifier.clone(), w2.verifier.clone());
    let monitor = |extra: &[&str]| {
        let mut args = vec![
            "monitor",
            dest.as_str(),
            "--key",
            log.verifier.as_str(),
            "--json",
        ];
        args.extend_from_slice(extra);
        claims(&root, &args)
    };
    let checked = monitor(&[
        "--witness-key",
        &k1,
        "--witness-key",
        &k2,
        "--witness-quorum",
        "2",
    ]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    let json: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(json["cosigned_by"].as_array().unwrap().len(), 2);

    // A proof led to the published checkpoint carries the cosignatures to verify-proof.
    let checkpoint_file = root.join("published-checkpoint");
    std::fs::copy(out.join("checkpoint"), &checkpoint_file).unwrap();
    let cp = checkpoint_file.display().to_string();
    log.ledger.ok(&[
        "prove",
        "--seq",
        "3",
        "--checkpoint",
        &cp,
        "--out",
        "proof.json",
    ]);
    let verified = log.ledger.ok(&[
        "verify-proof",
        "proof.json",
        "--key",
        &log.verifier,
        "--witness-key",
        &k1,
        "--witness-key",
        &k2,
        "--witness-quorum",
        "2",
    ]);
    assert!(
        verified.contains("cosigned by w1.example/witness+"),
        "{verified}"
    );

    // A third witness that never cosigned: the quorum of 3 is not met.
    let (_, w3) =
        claimledger_tlog::cosignature::generate_key("w3.example/witness", [3; 32]).unwrap();
    assert_error(
        &monitor(&[
            "--witness-key",
            &k1,
            "--witness-key",
            &k2,
            "--witness-key",
            &w3,
        ]),
        EXIT_INTEGRITY,
        "no cosignature by w3.example/witness",
    );
    assert_error(
        &log.ledger.run(&[
            "verify-proof",
            "proof.json",
            "--key",
            &log.verifier,
            "--witness-key",
            &w3,
        ]),
        EXIT_INTEGRITY,
        "fewer than the quorum of 1",
    );
    assert_error(
        &monitor(&["--witness-key", &k1, "--witness-quorum", "2"]),
        EXIT_INPUT,
        "--witness-quorum 2",
    );

    // A witness down: with a quorum of 2, nothing new is published, and the failure is named.
    log.grow(30, "b");
    w2.kill();
    let size_before = published_size(&out);
    let refused = log.ledger.run(&[
        "publish",
        &dest,
        "--sign",
        &key,
        "--witness",
        &a1,
        "--witness",
        &a2,
    ]);
    assert_error(&refused, EXIT_IO, "w2.example/witness");
    assert_eq!(published_size(&out), size_before);
    // With a quorum of 1, w1's cosignature is enough; w1 is asked from the size it holds.
    let report = log.ledger.json(&[
        "publish",
        &dest,
        "--sign",
        &key,
        "--witness",
        &a1,
        "--witness",
        &a2,
        "--witness-quorum",
        "1",
        "--json",
    ]);
    assert_eq!(report["cosigned_by"].as_array().unwrap().len(), 1);
    assert_eq!(published_size(&out), log.size());

    // A fresh destination: the log offers size 0, w1 answers 409 with the size it holds, and
    // the log proves from there.
    let fresh = root.join("fresh").display().to_string();
    let report = log.ledger.json(&[
        "publish",
        &fresh,
        "--sign",
        &key,
        "--witness",
        &a1,
        "--json",
    ]);
    assert_eq!(report["cosigned_by"].as_array().unwrap().len(), 1);
}

#[test]
fn a_witness_refuses_forks_and_keeps_its_word_across_sigkill() {
    let mut log = Log::new();
    log.grow(40, "a");
    let root = log.ledger.root().to_owned();
    let mut witness = WitnessProcess::start(&root, "w.example/witness", &log.verifier);
    let out = root.join("published");
    let dest = out.display().to_string();
    let key = log.key_file();
    let mut rng = crate::support::Rng(0xdead_beef);
    for round in 0..4 {
        log.grow(20, &format!("r{round}"));
        let arg = witness.arg();
        // A publish asking the witness, and the witness killed at a random moment.
        let mut publish = crate::tlog_support::Running(
            log.ledger
                .std_cmd(&["publish", &dest, "--sign", &key, "--witness", &arg])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_millis(rng.below(200)));
        witness.kill();
        let _ = publish.0.wait();
        witness.restart();
        // Whatever it cosigned before dying, it holds: a checkpoint of that size with another
        // root is refused with 409 and the size.
        let state: Vec<_> = std::fs::read_dir(&witness.state)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .collect();
        if let Some(file) = state.first() {
            let held: serde_json::Value =
                serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
            let size = held["size"].as_u64().unwrap();
            let body = format!("old {size}\n\n{}", forged(&log, size));
            let (status, content_type, answer) = post(witness.port, body.as_bytes());
            assert_eq!(status, 409, "round {round}: {answer}");
            assert_eq!(content_type, "text/x.tlog.size");
            assert_eq!(answer, format!("{size}\n"));
        }
        // And the log, asking again, gets its cosignature.
        let arg = witness.arg();
        let report = log.ledger.json(&[
            "publish",
            &dest,
            "--sign",
            &key,
            "--witness",
            &arg,
            "--json",
        ]);
        assert_eq!(
            report["cosigned_by"].as_array().unwrap().len(),
            1,
            "round {round}"
        );
    }

    // The spec's other answers.
    let size = log.size();
    let (status, _, _) = post(
        witness.port,
        format!("old {}\n\n{}", size + 1, forged(&log, size)).as_bytes(),
    );
    assert_eq!(status, 400);
    let (status, _, _) = post(witness.port, b"old 1\n\nexample.org/unknown\n1\nAAAA\n\n");
    assert!(status == 400 || status == 404, "{status}");
    let stranger = Log::new();
    std::fs::copy(stranger.key_file(), root.join("stranger.key")).unwrap();
    let other_key = std::fs::read_to_string(root.join("stranger.key")).unwrap();
    let note = checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: size + 5,
            root: [1; 32],
            extensions: vec![],
        },
        other_key.trim_end(),
    )
    .unwrap();
    let (status, _, _) = post(witness.port, format!("old {size}\n\n{note}").as_bytes());
    assert_eq!(status, 403);
    let (status, _, _) = post(witness.port, &vec![b'x'; 100_000]);
    assert!(status == 413 || status == 400, "{status}");
}

#[test]
fn witness_keys_are_of_the_cosignature_type() {
    let log = Log::new();
    let out = log.ledger.run(&[
        "key",
        "generate",
        "--witness",
        "--name",
        "w.example",
        "--out",
        "w.key",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verifier = text(&out.stdout);
    let encoded = verifier.trim_end().splitn(3, '+').nth(2).unwrap();
    use base64::prelude::{Engine as _, BASE64_STANDARD};
    let bytes = BASE64_STANDARD.decode(encoded).unwrap();
    assert_eq!((bytes[0], bytes.len()), (0x04, 33));
    let private = std::fs::read_to_string(log.ledger.root().join("w.key")).unwrap();
    assert!(private.starts_with("PRIVATE+KEY+w.example+"));
    assert_error(
        &log.ledger.run(&["key", "generate", "--witness"]),
        EXIT_INPUT,
        "--name",
    );
    // A log's key is not a witness's, and the reverse.
    assert_error(
        &log.ledger.run(&[
            "monitor",
            "x",
            "--key",
            &log.verifier,
            "--witness-key",
            &log.verifier,
        ]),
        EXIT_INPUT,
        "0x01",
    );
}
