//! Signing keys, checkpoints and proofs: `claims key generate`, `claims checkpoint`,
//! `claims prove`, `claims verify-proof` and `claims verify --checkpoint`, end to end, with a
//! battery of corrupted proofs that must all be refused.

use crate::support::{assert_error, is_hash, str_at, text, Ledger, EXIT_INPUT};
use claimledger_core::merkle::{self, record_hash};
use serde_json::{json, Value as Json};
use std::os::unix::fs::PermissionsExt;

const SMALL: &str = include_str!("fixtures/small.jsonl");
const ORIGIN: &str = "example.org/claims";
const EXIT_INTEGRITY: i32 = 1;

/// A ledger named `origin`, with the small fixture imported.
fn ledger_named(origin: &str) -> Ledger {
    let ledger = Ledger::uninitialised();
    ledger.ok(&["init", "--origin", origin]);
    ledger.import(SMALL);
    ledger
}

/// Makes a signing key for `name` in `file`; gives the verifier key.
fn key(ledger: &Ledger, name: &str, file: &str) -> String {
    ledger
        .ok(&["key", "generate", "--name", name, "--out", file])
        .trim_end()
        .to_owned()
}

/// Twenty more claims.
fn grow(ledger: &Ledger, tag: &str) {
    let lines: String = (0..20)
        .map(|i| {
            format!(r#"{{"subject":"grown/{tag}","claimant":"c","statement":"{tag} {i}"}}"#) + "\n"
        })
        .collect();
    ledger.import(&lines);
}

fn read_json(ledger: &Ledger, name: &str) -> Json {
    let text = std::fs::read_to_string(ledger.root().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn key_generate_writes_a_private_file_and_prints_the_verifier_key() {
    let ledger = ledger_named(ORIGIN);
    let out = ledger.run(&["key", "generate", "--name", ORIGIN]);
    let verifier = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // <name>+<8 hex digits>+<base64 of 0x01 and 32 bytes>, one line.
    let parts: Vec<&str> = verifier.trim_end().splitn(3, '+').collect();
    assert_eq!(parts[0], ORIGIN);
    assert!(parts[1].len() == 8 && parts[1].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(parts[2].len(), 44, "{verifier}");
    assert_eq!(verifier.lines().count(), 1);

    let file = ledger.root().join("example.org_claims.key");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the key file is readable by its owner only"
    );
    let secret = std::fs::read_to_string(&file).unwrap();
    assert!(secret.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+{}+", parts[1])));
    assert!(!verifier.contains(&secret[secret.len() - 20..]));

    // Never overwritten, never inside the ledger, always a usable name.
    assert_error(
        &ledger.run(&["key", "generate", "--name", ORIGIN]),
        EXIT_INPUT,
        "already exists; a key is never overwritten",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), secret);
    let inside = ledger.dir().join("my.key");
    assert_error(
        &ledger.run(&["key", "generate", "--out", inside.to_str().unwrap()]),
        EXIT_INPUT,
        "is inside the ledger",
    );
    assert!(!inside.exists());
    assert_error(
        &ledger.run(&["key", "generate", "--name", "has space"]),
        EXIT_INPUT,
        "--name: \"has space\" is not usable as a ledger origin",
    );

    // Without --name: the ledger's own origin.
    let origin = str_at(&ledger.json(&["head", "--json"]), "/origin").to_owned();
    assert_eq!(origin, ORIGIN);
    let other = Ledger::new();
    other.ok(&["key", "generate"]);
    let default_origin = str_at(&other.json(&["head", "--json"]), "/origin").to_owned();
    assert!(
        default_origin.starts_with("claimledger/ledger/"),
        "{default_origin}"
    );
    let default_file = format!("{}.key", default_origin.replace('/', "_"));
    assert!(other.root().join(default_file).exists());
}

#[test]
fn checkpoints_unsigned_and_signed() {
    let ledger = ledger_named(ORIGIN);
    let body = ledger.ok(&["checkpoint"]);
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 3, "{body}");
    assert_eq!(lines[0], ORIGIN);
    assert_eq!(lines[1], "9");
    assert_eq!(lines[2].len(), 44, "a base64 root of 32 bytes");
    assert!(body.ends_with('\n'));
    assert_eq!(ledger.ok(&["checkpoint"]), body, "reading changes nothing");

    key(&ledger, ORIGIN, "ledger.key");
    let signed = ledger.ok(&["checkpoint", "--sign", "ledger.key"]);
    assert!(
        signed.starts_with(&format!("{body}\n— {ORIGIN} ")),
        "{signed}"
    );
    assert_eq!(signed.lines().count(), 5);

    key(&ledger, "example.org/other", "other.key");
    assert_error(
        &ledger.run(&["checkpoint", "--sign", "other.key"]),
        EXIT_INPUT,
        "the key is named \"example.org/other\", but this ledger's origin is \"example.org/claims\"",
    );
    assert_error(
        &ledger.run(&["checkpoint", "--sign", "missing.key"]),
        EXIT_INPUT,
        "cannot read key file missing.key",
    );
    ledger.write("bad.key", "PRIVATE+KEY+nonsense\n");
    assert_error(
        &ledger.run(&["checkpoint", "--sign", "bad.key"]),
        EXIT_INPUT,
        "bad.key: the signing key is not usable",
    );

    // The origin is chosen at init, checked, and kept.
    let bad = Ledger::uninitialised();
    assert_error(
        &bad.run(&["init", "--origin", "https://example.org/claims"]),
        EXIT_INPUT,
        "--origin: \"https://example.org/claims\" is not usable as a ledger origin",
    );
    assert!(!bad.dir().exists());
    let empty = Ledger::new();
    let checkpoint = empty.ok(&["checkpoint"]);
    assert!(checkpoint.starts_with("claimledger/ledger/"));
    // The empty tree's root is SHA-256 of no bytes (RFC 6962).
    assert!(checkpoint.ends_with("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"));
}

#[test]
fn a_proof_verifies_with_the_file_and_the_key_alone() {
    let ledger = ledger_named(ORIGIN);
    let verifier = key(&ledger, ORIGIN, "ledger.key");
    ledger.write("verifier.txt", format!("{verifier}\n"));
    let export = ledger.ok(&["export"]);
    let entries: Vec<&str> = export
        .lines()
        .filter(|line| line.starts_with("{\"v\":"))
        .collect();

    // By key, by id and by sequence number; to a file or to standard output.
    let id = str_at(&ledger.show("mz"), "/id").to_owned();
    let latest = ledger.json(&["history", "mz", "--json"]);
    let latest_seq = latest.as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    ledger.ok(&["prove", "mz", "--sign", "ledger.key", "--out", "mz.json"]);
    let by_id = ledger.json(&["prove", &id, "--sign", "ledger.key"]);
    let proof = read_json(&ledger, "mz.json");
    assert_eq!(by_id, proof);
    let fields: Vec<&str> = proof
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields.len(), 6);
    assert_eq!(proof["type"], "inclusion");
    assert_eq!(proof["index"], latest_seq - 1);
    assert_eq!(proof["tree_size"], 9);
    assert_eq!(
        str_at(&proof, "/entry"),
        entries[latest_seq as usize - 1],
        "the entry's stored bytes, exactly"
    );
    let path = proof["path"].as_array().unwrap();
    assert_eq!(path.len(), 4, "the audit path in a tree of 9 leaves");
    assert!(path.iter().all(|h| is_hash(h.as_str().unwrap())));
    let signed = ledger.ok(&["checkpoint", "--sign", "ledger.key"]);
    assert_eq!(str_at(&proof, "/checkpoint"), signed);
    // The raw file keeps the documented order of fields.
    let raw = std::fs::read_to_string(ledger.root().join("mz.json")).unwrap();
    let order: Vec<usize> = [
        "\"type\"",
        "\"entry\"",
        "\"index\"",
        "\"tree_size\"",
        "\"path\"",
        "\"checkpoint\"",
    ]
    .iter()
    .map(|f| raw.find(f).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{raw}");

    let ok = ledger.ok(&["verify-proof", "mz.json", "--key", &verifier]);
    assert_eq!(
        ok,
        format!(
            "OK: entry {latest_seq} (revision 3 of claim {id}) is in the ledger {ORIGIN} of 9 \
             entries; checkpoint signed by {}\n",
            key_label(&verifier)
        )
    );
    assert_eq!(
        ledger.ok(&["verify-proof", "mz.json", "--key", "verifier.txt"]),
        ok,
        "--key takes the key or a file holding it"
    );
    let unchecked = ledger.ok(&["verify-proof", "mz.json"]);
    assert!(
        unchecked.contains("checkpoint signature not checked (no --key)"),
        "{unchecked}"
    );

    // Every entry of the ledger, unsigned, from standard input too.
    for seq in 1..=9 {
        let name = format!("seq{seq}.json");
        ledger.ok(&["prove", "--seq", &seq.to_string(), "--out", &name]);
        let ok = ledger.ok(&["verify-proof", &name]);
        assert!(ok.starts_with(&format!("OK: entry {seq} ")), "{ok}");
    }
    let stdin = ledger
        .cmd(&["verify-proof", "-"])
        .write_stdin(std::fs::read(ledger.root().join("seq3.json")).unwrap())
        .output()
        .unwrap();
    assert!(text(&stdout_of(&stdin)).starts_with("OK: entry 3 "));

    assert_error(
        &ledger.run(&["prove", "--seq", "0"]),
        EXIT_INPUT,
        "--seq 0: the ledger holds 9 entries",
    );
    assert_error(
        &ledger.run(&["prove", "--seq", "10"]),
        EXIT_INPUT,
        "--seq 10",
    );
    assert_error(
        &ledger.run(&["prove", "nobody"]),
        EXIT_INPUT,
        "no claim has the id or key \"nobody\"",
    );
    assert_error(&ledger.run(&["prove"]), EXIT_INPUT, "required");
    assert_error(
        &ledger.run(&["prove", "mz", "--seq", "1"]),
        EXIT_INPUT,
        "cannot be used with",
    );
    assert_error(
        &ledger.run(&["verify-proof", "mz.json", "--key", "nonsense"]),
        EXIT_INPUT,
        "--key: the verifier key \"nonsense\" is not usable",
    );
}

/// `<name>+<key id>` of a verifier key: how the OK line names it.
fn key_label(verifier: &str) -> String {
    let parts: Vec<&str> = verifier.splitn(3, '+').collect();
    format!("{}+{}", parts[0], parts[1])
}

fn stdout_of(out: &std::process::Output) -> Vec<u8> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout.clone()
}

/// Runs verify-proof on `proof` (written to a file) and requires it refused with exit code 1.
fn assert_refused(ledger: &Ledger, proof: &Json, key: Option<&str>, case: &str, fragment: &str) {
    ledger.write("case.json", serde_json::to_string_pretty(proof).unwrap());
    let mut args = vec!["verify-proof", "case.json"];
    if let Some(key) = key {
        args.extend(["--key", key]);
    }
    let out = ledger.run(&args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(EXIT_INTEGRITY),
        "{case}: {stderr}{}",
        text(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "{case}");
    assert_error(
        &out,
        EXIT_INTEGRITY,
        "case.json: the proof does not verify: ",
    );
    assert!(
        stderr.contains(fragment),
        "{case}: expected {fragment:?} in {stderr}"
    );
}

/// One bit of one hex hash flipped.
fn flip_bit(hash: &str, bit: usize) -> String {
    let mut bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    bytes[bit / 8] ^= 1 << (bit % 8);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every way of editing a list of hashes that must break a proof: each removed, each doubled,
/// each pair swapped, a hash added at either end.
fn path_edits(path: &[Json]) -> Vec<(String, Vec<Json>)> {
    let mut edits = Vec::new();
    for i in 0..path.len() {
        let mut removed = path.to_vec();
        removed.remove(i);
        edits.push((format!("path[{i}] removed"), removed));
        let mut doubled = path.to_vec();
        doubled.insert(i, path[i].clone());
        edits.push((format!("path[{i}] doubled"), doubled));
        for j in i + 1..path.len() {
            let mut swapped = path.to_vec();
            swapped.swap(i, j);
            edits.push((format!("path[{i}] and path[{j}] swapped"), swapped));
        }
    }
    let foreign = json!("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    edits.push((
        "a hash added first".into(),
        [vec![foreign.clone()], path.to_vec()].concat(),
    ));
    edits.push((
        "a hash added last".into(),
        [path.to_vec(), vec![foreign]].concat(),
    ));
    edits
}

#[test]
fn every_corrupted_inclusion_proof_is_refused() {
    let ledger = ledger_named(ORIGIN);
    grow(&ledger, "a");
    let verifier = key(&ledger, ORIGIN, "ledger.key");
    let other_verifier = key(&ledger, ORIGIN, "other.key");
    ledger.ok(&[
        "prove",
        "--seq",
        "13",
        "--sign",
        "ledger.key",
        "--out",
        "signed.json",
    ]);
    ledger.ok(&["prove", "--seq", "13", "--out", "unsigned.json"]);
    let signed = read_json(&ledger, "signed.json");
    let unsigned = read_json(&ledger, "unsigned.json");
    let key = Some(verifier.as_str());
    ledger.ok(&["verify-proof", "signed.json", "--key", &verifier]);
    ledger.ok(&["verify-proof", "unsigned.json"]);

    let edited = |proof: &Json, edit: &dyn Fn(&mut Json)| {
        let mut copy = proof.clone();
        edit(&mut copy);
        copy
    };
    // Each edit is refused with the key and a signed checkpoint, and, where the hashes alone
    // can tell, without a key on an unsigned checkpoint too.
    let both = |case: &str, edit: &dyn Fn(&mut Json), fragment: &str| {
        assert_refused(&ledger, &edited(&signed, edit), key, case, fragment);
        assert_refused(&ledger, &edited(&unsigned, edit), None, case, fragment);
    };
    for delta in [-12i64, -1, 1, 16] {
        let index = (12 + delta) as u64;
        both(
            &format!("index {index}"),
            &|p: &mut Json| p["index"] = json!(index),
            "its `entry` is entry 13, whose leaf index is 12",
        );
    }
    for tree_size in [13, 28, 30, 32, 64] {
        both(
            &format!("tree_size {tree_size}"),
            &|p: &mut Json| p["tree_size"] = json!(tree_size),
            "but its checkpoint is of 29 entries",
        );
    }
    let path = signed["path"].as_array().unwrap().clone();
    assert_eq!(path.len(), 5);
    for (i, hash) in path.iter().enumerate() {
        for bit in [0, 7, 8, 100, 255, (i * 37 + 11) % 256] {
            let flipped = flip_bit(hash.as_str().unwrap(), bit);
            both(
                &format!("path[{i}] bit {bit}"),
                &|p: &mut Json| p["path"][i] = json!(flipped),
                "the proof does not lead to the root",
            );
        }
        let upper = hash.as_str().unwrap().to_uppercase();
        both(
            &format!("path[{i}] in capitals"),
            &|p: &mut Json| p["path"][i] = json!(upper),
            &format!("`path[{i}]`"),
        );
    }
    for (case, edit) in path_edits(&path) {
        let expected = if case.contains("swapped") {
            "the proof does not lead to the root"
        } else {
            "the proof has"
        };
        both(&case, &|p: &mut Json| p["path"] = json!(edit), expected);
    }
    // The entry: one changed byte, a re-serialisation, another entry, no entry.
    let entry = str_at(&signed, "/entry").to_owned();
    let tampered = entry.replacen("\"statement\":\"", "\"statement\":\"X", 1);
    both(
        "an entry edited",
        &|p: &mut Json| p["entry"] = json!(tampered),
        "the proof does not lead to the root",
    );
    let spaced =
        serde_json::to_string_pretty(&serde_json::from_str::<Json>(&entry).unwrap()).unwrap();
    // The same content in another byte form: not an entry (one content, one byte form).
    both(
        "an entry re-serialised",
        &|p: &mut Json| p["entry"] = json!(spaced),
        "its `entry` is not a valid entry: entry is not in canonical form: white space at byte 2",
    );
    both(
        "an entry cut short",
        &|p: &mut Json| p["entry"] = json!(&entry[..entry.len() - 1]),
        "its `entry` is not a valid entry",
    );
    let twelfth =
        str_at(&read_json(&ledger, "unsigned.json"), "/entry").replace("\"seq\":13", "\"seq\":12");
    both(
        "another entry's seq",
        &|p: &mut Json| p["entry"] = json!(twelfth),
        "its `entry` is entry 12, whose leaf index is 11, but its `index` is 12",
    );
    both(
        "no entry",
        &|p: &mut Json| {
            p.as_object_mut().unwrap().remove("entry");
        },
        "missing field `entry`",
    );
    both(
        "a field added",
        &|p: &mut Json| p["note"] = json!("x"),
        "unknown field `note`",
    );
    both(
        "another type",
        &|p: &mut Json| p["type"] = json!("consistency"),
        "not a proof file",
    );

    // The checkpoint: its root or size changed breaks the signature; without a key, the
    // root changed breaks the path.
    let checkpoint = str_at(&signed, "/checkpoint").to_owned();
    let root = checkpoint.lines().nth(2).unwrap().to_owned();
    let other_root = format!("A{}", &root[1..]);
    for (case, from, to) in [
        ("root", format!("\n{root}\n"), format!("\n{other_root}\n")),
        ("size", "\n29\n".to_owned(), "\n30\n".to_owned()),
        (
            "origin",
            format!("{ORIGIN}\n"),
            "example.org/claim\n".to_owned(),
        ),
    ] {
        let forged = checkpoint.replacen(&from, &to, 1);
        assert_ne!(forged, checkpoint);
        let mut proof = signed.clone();
        proof["checkpoint"] = json!(forged);
        if case == "size" {
            proof["tree_size"] = json!(30);
        }
        assert_refused(
            &ledger,
            &proof,
            key,
            &format!("signed checkpoint {case}"),
            "`checkpoint`",
        );
    }
    let unsigned_checkpoint = str_at(&unsigned, "/checkpoint").to_owned();
    let mut proof = unsigned.clone();
    proof["checkpoint"] = json!(unsigned_checkpoint.replacen(&root, &other_root, 1));
    assert_refused(
        &ledger,
        &proof,
        None,
        "unsigned checkpoint root",
        "the proof does not lead to the root",
    );
    // The limit docs/FORMAT.md states: a proof does not commit to the tree size, only the
    // checkpoint's signature does. Leaf 12 has the same path in trees of 29 and 30 leaves, so
    // an unsigned checkpoint whose size was changed with the proof's passes the hashes (and
    // the OK line says no signature was checked); signed, the change was refused above.
    let mut proof = unsigned.clone();
    proof["checkpoint"] = json!(unsigned_checkpoint.replacen("\n29\n", "\n30\n", 1));
    proof["tree_size"] = json!(30);
    ledger.write("resized.json", proof.to_string());
    let unchecked = ledger.ok(&["verify-proof", "resized.json"]);
    assert!(
        unchecked.contains("signature not checked (no --key)"),
        "{unchecked}"
    );
    proof["tree_size"] = json!(33);
    proof["checkpoint"] = json!(unsigned_checkpoint.replacen("\n29\n", "\n33\n", 1));
    assert_refused(
        &ledger,
        &proof,
        None,
        "unsigned size 33",
        "the proof has 5 hashes but needs exactly 6",
    );

    // Keys: another key of the same name, no signature, the signature removed.
    assert_refused(
        &ledger,
        &signed,
        Some(&other_verifier),
        "another key",
        "is not signed by key",
    );
    assert_refused(
        &ledger,
        &unsigned,
        key,
        "unsigned with --key",
        "the checkpoint is not signed",
    );
    let mut stripped = signed.clone();
    stripped["checkpoint"] = json!(checkpoint.split("\n\n").next().unwrap().to_owned() + "\n");
    assert_refused(
        &ledger,
        &stripped,
        key,
        "signature stripped",
        "the checkpoint is not signed",
    );
    let mut sig_flipped = signed.clone();
    let signature_line = checkpoint.lines().last().unwrap();
    let last = signature_line.len() - 3;
    let mut bytes = checkpoint.clone().into_bytes();
    let at = checkpoint.len() - (signature_line.len() + 1) + last;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    sig_flipped["checkpoint"] = json!(String::from_utf8(bytes).unwrap());
    assert_refused(
        &ledger,
        &sig_flipped,
        key,
        "signature altered",
        "`checkpoint`",
    );

    ledger.write("garbage.json", "not json");
    assert_eq!(
        ledger.run(&["verify-proof", "garbage.json"]).status.code(),
        Some(EXIT_INTEGRITY)
    );
}

#[test]
fn a_proof_keeps_verifying_against_later_checkpoints() {
    let ledger = ledger_named(ORIGIN);
    let verifier = key(&ledger, ORIGIN, "ledger.key");
    ledger.ok(&["prove", "mz", "--sign", "ledger.key", "--out", "mz.json"]);
    let inclusion = read_json(&ledger, "mz.json");
    // The reader keeps the checkpoint the proof came with.
    ledger.write("seen.checkpoint", str_at(&inclusion, "/checkpoint"));

    for (round, tag) in ["a", "b", "c"].iter().enumerate() {
        grow(&ledger, tag);
        let name = format!("since-{round}.json");
        ledger.ok(&[
            "prove",
            "--since",
            "seen.checkpoint",
            "--sign",
            "ledger.key",
            "--out",
            &name,
        ]);
        let consistency = read_json(&ledger, &name);
        assert_eq!(consistency["type"], "consistency");
        assert_eq!(consistency["old_checkpoint"], inclusion["checkpoint"]);
        assert_eq!(
            str_at(&consistency, "/checkpoint"),
            ledger.ok(&["checkpoint", "--sign", "ledger.key"])
        );
        let size = 9 + 20 * (round + 1);
        assert_eq!(
            ledger.ok(&["verify-proof", &name, "--key", &verifier]),
            format!(
                "OK: the ledger {ORIGIN} of {size} entries extends its checkpoint of 9 entries; \
                 checkpoints signed by {}\n",
                key_label(&verifier)
            )
        );
        // The earlier inclusion proof still holds, and so does the ledger's own check.
        ledger.ok(&["verify-proof", "mz.json", "--key", &verifier]);
        ledger.ok(&["verify", "--checkpoint", "seen.checkpoint"]);
    }

    // Corrupted consistency proofs are refused too.
    ledger.ok(&["prove", "--since", "seen.checkpoint", "--out", "plain.json"]);
    let signed = read_json(&ledger, "since-2.json");
    let plain = read_json(&ledger, "plain.json");
    let path = signed["path"].as_array().unwrap().clone();
    assert!(path.len() >= 3, "{path:?}");
    for (i, hash) in path.iter().enumerate() {
        for bit in [0, 200] {
            let mut proof = plain.clone();
            proof["path"][i] = json!(flip_bit(hash.as_str().unwrap(), bit));
            assert_refused(
                &ledger,
                &proof,
                None,
                &format!("path[{i}] bit {bit}"),
                "the proof",
            );
        }
    }
    for (case, edit) in path_edits(&path) {
        let mut proof = plain.clone();
        proof["path"] = json!(edit);
        assert_refused(&ledger, &proof, None, &case, "the proof");
    }
    let mut swapped = signed.clone();
    swapped["old_checkpoint"] = signed["checkpoint"].clone();
    swapped["checkpoint"] = signed["old_checkpoint"].clone();
    assert_refused(
        &ledger,
        &swapped,
        Some(&verifier),
        "checkpoints swapped",
        "more than the second's",
    );
    let other = key(&ledger, ORIGIN, "other.key");
    assert_refused(
        &ledger,
        &signed,
        Some(&other),
        "another key",
        "`old_checkpoint`",
    );
    let mut unsigned_old = signed.clone();
    unsigned_old["old_checkpoint"] = plain["old_checkpoint"].clone();
    unsigned_old["old_checkpoint"] = json!(
        str_at(&signed, "/old_checkpoint")
            .split("\n\n")
            .next()
            .unwrap()
            .to_owned()
            + "\n"
    );
    assert_refused(
        &ledger,
        &unsigned_old,
        Some(&verifier),
        "old checkpoint unsigned",
        "`old_checkpoint`: the checkpoint is not signed",
    );
    let stranger = ledger_named("example.org/stranger");
    let foreign = stranger.ok(&["checkpoint"]);
    let mut mixed = plain.clone();
    mixed["old_checkpoint"] = json!(foreign);
    assert_refused(
        &ledger,
        &mixed,
        None,
        "checkpoints of two ledgers",
        "two ledgers",
    );
}

#[test]
fn verify_against_a_checkpoint_catches_rollback_and_rewriting() {
    let ledger = ledger_named(ORIGIN);
    key(&ledger, ORIGIN, "ledger.key");
    ledger.write(
        "nine.checkpoint",
        ledger.ok(&["checkpoint", "--sign", "ledger.key"]),
    );
    ledger.ok(&["verify", "--checkpoint", "nine.checkpoint"]);
    grow(&ledger, "a");
    let ok = ledger.run(&["verify", "--checkpoint", "nine.checkpoint"]);
    assert!(text(&stdout_of(&ok)).starts_with("OK: 29 entries"));
    assert!(text(&ok.stderr).contains(
        "the ledger extends the checkpoint in nine.checkpoint (9 entries of example.org/claims)"
    ));
    ledger.write("29.checkpoint", ledger.ok(&["checkpoint"]));

    // The same origin, another history: the first entries differ.
    let rewritten = ledger_named(ORIGIN);
    std::fs::copy(
        ledger.root().join("29.checkpoint"),
        rewritten.root().join("29.checkpoint"),
    )
    .unwrap();
    std::fs::copy(
        ledger.root().join("nine.checkpoint"),
        rewritten.root().join("nine.checkpoint"),
    )
    .unwrap();
    grow(&rewritten, "b");
    let check = |ledger: &Ledger, file: &str, fragment: &str| {
        let out = ledger.run(&["verify", "--checkpoint", file]);
        assert_eq!(
            out.status.code(),
            Some(EXIT_INTEGRITY),
            "{}",
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with(&format!("FAILED: {file}: ")), "{stdout}");
        assert!(
            stdout.contains(fragment),
            "expected {fragment:?} in {stdout}"
        );
        let out = ledger.run(&["verify", "--checkpoint", file, "--json"]);
        assert_eq!(out.status.code(), Some(EXIT_INTEGRITY));
        let json: Json = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["ok"], false);
        assert!(str_at(&json, "/problem/what").contains(fragment));
    };
    // Same first nine entries (the fixture), then different ones: nine still holds, 29 not.
    rewritten.ok(&["verify", "--checkpoint", "nine.checkpoint"]);
    check(
        &rewritten,
        "29.checkpoint",
        "the ledger's first 29 entries do not give the checkpoint's root",
    );
    assert_error(
        &rewritten.run(&["prove", "--since", "29.checkpoint"]),
        EXIT_INTEGRITY,
        "no proof can be made: the ledger's first 29 entries do not give",
    );

    // A rollback: the checkpoint is larger than the ledger.
    let rolled_back = ledger_named(ORIGIN);
    std::fs::copy(
        ledger.root().join("29.checkpoint"),
        rolled_back.root().join("29.checkpoint"),
    )
    .unwrap();
    check(&rolled_back, "29.checkpoint", "the checkpoint has 29 entries but the ledger holds only 9: it was rolled back, and entries 10 to 29 are gone");

    // Another ledger's checkpoint.
    let stranger = ledger_named("example.org/stranger");
    std::fs::copy(
        ledger.root().join("nine.checkpoint"),
        stranger.root().join("nine.checkpoint"),
    )
    .unwrap();
    check(&stranger, "nine.checkpoint", "the checkpoint is of the ledger \"example.org/claims\", but this ledger's origin is \"example.org/stranger\"");
    assert_error(
        &stranger.run(&["prove", "--since", "nine.checkpoint"]),
        EXIT_INPUT,
        "the checkpoint is of the ledger",
    );

    // Files that are not checkpoints.
    ledger.write("bad.checkpoint", "example.org/claims\nnine\n");
    assert_error(
        &ledger.run(&["verify", "--checkpoint", "bad.checkpoint"]),
        EXIT_INPUT,
        "bad.checkpoint: line 2 of the checkpoint",
    );
    assert_error(
        &ledger.run(&["verify", "--checkpoint", "none"]),
        EXIT_INPUT,
        "cannot read checkpoint none",
    );
    let empty = Ledger::uninitialised();
    empty.ok(&["init", "--origin", ORIGIN]);
    empty.write("empty.checkpoint", empty.ok(&["checkpoint"]));
    std::fs::copy(
        empty.root().join("empty.checkpoint"),
        ledger.root().join("empty.checkpoint"),
    )
    .unwrap();
    ledger.ok(&["verify", "--checkpoint", "empty.checkpoint"]);
    assert_error(
        &ledger.run(&["prove", "--since", "empty.checkpoint"]),
        EXIT_INPUT,
        "nothing to prove",
    );
}

const FORMAT_DOC: &str = include_str!("../../docs/FORMAT.md");

/// The seed of the test key docs/FORMAT.md publishes for its worked example.
const DOC_KEY_SEED: [u8; 32] = [1; 32];

/// docs/FORMAT.md's worked example of checkpoints and proofs, replayed: the ledger of section
/// 3's example, with the published test key; every checkpoint and proof file the document
/// shows must be what the binary writes.
#[test]
fn the_format_doc_example_of_proofs_is_true() {
    let ledger = Ledger::uninitialised();
    ledger.ok(&["init", "--origin", ORIGIN]);
    let (signing, verifier) =
        claimledger_core::checkpoint::generate_signing_key(ORIGIN, DOC_KEY_SEED).unwrap();
    ledger.write("example.key", format!("{}\n", signing.expose_secret()));
    let ana = ["--author", "ana"];
    let add = [
        "add",
        "--key",
        "mz-named-dead",
        "--subject",
        "russia/military-deaths",
        "--claimant",
        "Mediazona & BBC Russian Service",
        "--statement",
        "95,300 named Russian military dead",
        "--amount",
        "95300",
        "--unit",
        "people",
        "--from",
        "2022-02-24",
        "--to",
        "2025-02-24",
        "--stated-on",
        "2025-02-24",
        "--publisher",
        "AFP",
        "--quote",
        "currently stands at 95,300",
    ];
    ledger.ok(&[&add[..], &ana].concat());
    let one = ledger.ok(&["checkpoint", "--sign", "example.key"]);
    ledger.write("one.checkpoint", &one);
    let revise = [
        "revise",
        "mz-named-dead",
        "--reason",
        "List updated to 31 July 2025",
        "--amount",
        "121507",
        "--to",
        "2025-07-31",
        "--statement",
        "121,507 named Russian military dead",
        "--stated-on",
        "2025-08",
    ];
    ledger.ok(&[&revise[..], &ana].concat());
    let body = ledger.ok(&["checkpoint"]);
    let two = ledger.ok(&["checkpoint", "--sign", "example.key"]);
    let inclusion = ledger.ok(&["prove", "mz-named-dead", "--sign", "example.key"]);
    let consistency = ledger.ok(&[
        "prove",
        "--since",
        "one.checkpoint",
        "--sign",
        "example.key",
    ]);
    let export = ledger.ok(&["export"]);
    let leaves: Vec<String> = export
        .lines()
        .filter(|line| line.starts_with("{\"v\":"))
        .map(|entry| merkle::to_hex(&record_hash(entry.as_bytes())))
        .collect();
    if std::env::var_os("PRINT_DOC_EXAMPLE").is_some() {
        println!("KEY {}\nVERIFIER {verifier}\nLEAVES {leaves:?}\nONE\n{one}\nBODY\n{body}\nTWO\n{two}\nINCLUSION\n{inclusion}\nCONSISTENCY\n{consistency}", signing.expose_secret());
    }
    for (what, shown) in [
        ("the test signing key", signing.expose_secret().to_owned()),
        ("the verifier key", verifier.to_string()),
        ("the leaf hash of entry 1", leaves[0].clone()),
        ("the leaf hash of entry 2", leaves[1].clone()),
        ("the checkpoint of 1 entry", one),
        ("the checkpoint body of 2 entries", body),
        ("the checkpoint of 2 entries", two),
        ("the inclusion proof", inclusion),
        ("the consistency proof", consistency),
    ] {
        assert!(
            FORMAT_DOC.contains(&shown),
            "docs/FORMAT.md does not show {what}:\n{shown}"
        );
    }
    let ok = ledger.ok(&["prove", "mz-named-dead", "--out", "p.json"]);
    assert!(ok.is_empty());
    ledger.ok(&["verify-proof", "p.json"]);
}
