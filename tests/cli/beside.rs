//! `claims` beside `claims serve`: while a server holds the ledger, commands on it are run by
//! the server through the socket in the ledger directory, with the same output and exit code
//! as without a server; writes from CLI and HTTP clients at once all land; a client killed
//! mid-command, a stale socket and another user's process change nothing.

use crate::readme::{tour_commands, tour_shell as sh};
use crate::serve::{agent, serve, start, Serving};
use crate::support::{bin, text, Ledger, AUTHOR, EXIT_BUSY, NOW};
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SOCKET: &str = "serve.sock";

/// Every regular file under `dir` (but the ledgers' own), by path relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if relative.starts_with(".claims") || relative.starts_with("copy") {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                found.push(relative);
            }
        }
    }
    found.sort();
    found
}

/// The README's tour, twice: alone, and with `claims serve` holding the ledger from the
/// first command on. Every command prints the same bytes on standard output and error and
/// exits with the same code, and every file the tour writes is the same.
#[test]
fn the_readme_tour_prints_the_same_beside_a_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = tour_commands(&readme);
    assert!(commands[0].starts_with("claims init"), "{}", commands[0]);
    let alone = tempfile::tempdir().unwrap();
    let beside = tempfile::tempdir().unwrap();
    std::fs::create_dir(alone.path().join("examples")).unwrap();
    std::fs::copy(
        root.join("examples/seed-claims.jsonl"),
        alone.path().join("examples/seed-claims.jsonl"),
    )
    .unwrap();
    std::fs::create_dir(alone.path().join("examples/evidence")).unwrap();
    std::fs::copy(
        root.join("examples/evidence/casualties-report-2025-08-13.txt"),
        alone
            .path()
            .join("examples/evidence/casualties-report-2025-08-13.txt"),
    )
    .unwrap();
    // The ledger is made once, so that both have the same origin.
    let init = sh(alone.path(), &commands[0]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    crate::support::copy_dir(alone.path(), beside.path()).unwrap();
    let socket = beside.path().join(".claims").join(SOCKET);
    let mut server_cmd = Command::new(bin());
    server_cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(beside.path())
        .env("HOME", beside.path())
        .env("CLAIMS_NOW", NOW)
        .env("CLAIMS_AUTHOR", AUTHOR)
        .env_remove("CLAIMS_LEDGER");
    let mut server = start(server_cmd);
    let mut served = 0;
    for command in &commands[1..] {
        assert!(socket.exists(), "the server's socket, before `{command}`");
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "the server runs"
        );
        let a = sh(alone.path(), command);
        let b = sh(beside.path(), command);
        assert!(a.status.success(), "`{command}`: {}", text(&a.stderr));
        assert_eq!(
            a.status.code(),
            b.status.code(),
            "`{command}` beside a server: {}",
            text(&b.stderr)
        );
        if command.contains("key generate") {
            // A new key each time: the rest of the tour signs with the same one.
            for name in ["ledger.key", "verifier.txt"] {
                std::fs::copy(alone.path().join(name), beside.path().join(name)).unwrap();
            }
            continue;
        }
        assert_eq!(
            text(&a.stdout),
            text(&b.stdout),
            "`{command}`: standard output"
        );
        assert_eq!(
            text(&a.stderr),
            text(&b.stderr),
            "`{command}`: standard error"
        );
        if command.contains("--ledger copy") || command.contains("--bundle") {
            continue;
        }
        served += 1;
    }
    assert!(served >= 20, "{served} commands through the server");
    let written = files(alone.path());
    assert_eq!(written, files(beside.path()));
    for name in &written {
        let (a, b) = (
            std::fs::read(alone.path().join(name)).unwrap(),
            std::fs::read(beside.path().join(name)).unwrap(),
        );
        if name.extension().is_some_and(|e| e == "state") {
            // A monitor's state: its checkpoint, then the saved entry check, whose digests are
            // under a key each check draws at random. The checkpoint part must agree, and the
            // saved check be of the same length.
            let marker: &[u8] = b"claimledger-ec-";
            let at = |bytes: &[u8]| bytes.windows(marker.len()).position(|w| w == marker);
            assert!(at(&a).is_some(), "{}: a saved entry check", name.display());
            assert_eq!(at(&a), at(&b), "{}", name.display());
            let split = at(&a).unwrap();
            assert_eq!(a[..split], b[..split], "{}", name.display());
            assert_eq!(a.len(), b.len(), "{}", name.display());
            continue;
        }
        assert_eq!(a, b, "{}", name.display());
    }
    stop(&mut server);
    assert!(
        !socket.exists(),
        "the server removes its socket when it stops"
    );
}

/// Stops the server with SIGTERM and waits for it.
fn stop(server: &mut Serving) {
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two `claims add` processes at a time and an HTTP writer, all at once: every write
/// acknowledged is in the ledger, in one chain that verifies.
#[test]
fn cli_and_http_writers_at_once() {
    let ledger = Ledger::new();
    let token = ledger.ok(&["token", "--for", "Ana", "--tokens", "tokens.txt"]);
    let token = token.trim().to_owned();
    let mut server = serve(&ledger, &["--tokens", "tokens.txt"]);
    const EACH: usize = 15;
    let keys: Vec<String> = std::thread::scope(|scope| {
        let mut writers = Vec::new();
        for w in 0..2 {
            let ledger = &ledger;
            writers.push(scope.spawn(move || {
                (0..EACH)
                    .map(|i| {
                        let key = format!("cli{w}-{i}");
                        let out = ledger.run(&[
                            "add",
                            "--key",
                            &key,
                            "--subject",
                            "load",
                            "--claimant",
                            "c",
                            "--statement",
                            "s",
                        ]);
                        assert!(out.status.success(), "{key}: {}", text(&out.stderr));
                        assert!(
                            text(&out.stderr)
                                .starts_with(&format!("recorded claim {key} as entry")),
                            "{}",
                            text(&out.stderr)
                        );
                        key
                    })
                    .collect::<Vec<_>>()
            }));
        }
        let (base, token) = (&server.base, &token);
        writers.push(scope.spawn(move || {
            (0..EACH)
                .map(|i| {
                    let key = format!("http-{i}");
                    let body = format!(
                        r#"{{"key":"{key}","subject":"load","claimant":"c","statement":"s"}}"#
                    );
                    let answer = agent()
                        .post(format!("{base}/api/v1/add"))
                        .header("authorization", format!("Bearer {token}"))
                        .header("content-type", "application/json")
                        .send(&body)
                        .unwrap();
                    assert_eq!(answer.status(), 201, "{key}");
                    key
                })
                .collect::<Vec<_>>()
        }));
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    // Read through the server, then alone, once it has stopped: the same claims.
    let through_server = ledger.json(&["list", "--json", "--subject", "load"]);
    stop(&mut server);
    let alone = ledger.json(&["list", "--json", "--subject", "load"]);
    assert_eq!(through_server, alone);
    let listed: BTreeSet<&str> = alone
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 3 * EACH);
    for key in &keys {
        assert!(
            listed.contains(key.as_str()),
            "{key} acknowledged but absent"
        );
    }
    assert_eq!(ledger.head_count(), 3 * EACH as u64);
    ledger.assert_verifies();
}

/// A client killed while the server runs its import (reading the client's standard input,
/// holding the ledger): nothing of it is written, and the server serves on.
#[test]
fn a_client_killed_mid_command_changes_nothing() {
    let ledger = Ledger::new();
    ledger.import("{\"key\":\"a\",\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"x\"}\n");
    let head = ledger.head();
    let mut server = serve(&ledger, &[]);
    let mut client = ledger
        .std_cmd(&["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = client.stdin.take().unwrap();
    input
        .write_all(b"{\"key\":\"b\",\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"x\"}\n")
        .unwrap();
    input.flush().unwrap();
    // The server has the command, and waits for the rest of its input.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        client.try_wait().unwrap().is_none(),
        "the import waits for input"
    );
    client.kill().unwrap();
    client.wait().unwrap();
    // The input stays open (this test holds it): only the client's going away ends it.
    let started = Instant::now();
    let out = ledger.run(&[
        "add",
        "--key",
        "c",
        "--subject",
        "s",
        "--claimant",
        "c",
        "--statement",
        "y",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(input);
    let listed = ledger.json(&["list", "--json"]);
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "c"], "nothing of the killed import");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server serves on"
    );
    stop(&mut server);
    assert_ne!(ledger.head(), head);
    assert_eq!(ledger.head_count(), 2);
    ledger.assert_verifies();
}

/// A server killed outright leaves its socket behind: `claims` finds nobody answering there and
/// runs the command itself, and the next server replaces the socket.
#[test]
fn a_stale_socket_is_ignored() {
    let ledger = Ledger::new();
    ledger.import("{\"key\":\"a\",\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"x\"}\n");
    let shown = ledger.run(&["show", "a"]);
    let mut server = serve(&ledger, &[]);
    let socket = ledger.dir().join(SOCKET);
    assert_eq!(ledger.run(&["show", "a"]).stdout, shown.stdout, "served");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(socket.exists(), "SIGKILL leaves the socket");
    let again = ledger.run(&["show", "a", "--wait", "5"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(again.stdout, shown.stdout);
    assert_eq!(again.stderr, shown.stderr);
    ledger.ok(&[
        "add",
        "--key",
        "b",
        "--subject",
        "s",
        "--claimant",
        "c",
        "--statement",
        "y",
    ]);
    let mut server = serve(&ledger, &[]);
    ledger.ok(&[
        "add",
        "--key",
        "c",
        "--subject",
        "s",
        "--claimant",
        "c",
        "--statement",
        "z",
    ]);
    stop(&mut server);
    assert!(!socket.exists());
    assert_eq!(ledger.head_count(), 3);
    ledger.assert_verifies();
}

/// The socket is its owner's alone (mode 0600), and a process of another user is not served:
/// its command runs as it would without the socket.
#[test]
fn another_users_process_is_not_served() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let ledger = Ledger::new();
    ledger.import("{\"key\":\"a\",\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"x\"}\n");
    let mut server = serve(&ledger, &[]);
    let socket = ledger.dir().join(SOCKET);
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600, "the socket's mode");
    assert_eq!(meta.uid(), rustix_uid(), "the server's user owns it");
    if rustix_uid() == 0 {
        // As another user (nobody), who may read the ledger's directory but not the socket.
        for dir in [ledger.root(), ledger.dir()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = ledger
            .std_cmd(&["show", "a", "--wait", "1"])
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        // Not served: it waits for the lock the server holds, as without a socket.
        crate::support::assert_error(&out, EXIT_BUSY, "ledger busy");
        // A server of another user is not asked either: its process holds the lock, so the
        // command waits for it as it would without a socket.
        let theirs = Ledger::new();
        theirs.import("{\"key\":\"a\",\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"x\"}\n");
        chown_all(theirs.root(), 65534);
        let mut their_server = start({
            let mut command = theirs.std_cmd(&["serve", "--listen", "127.0.0.1:0"]);
            command.uid(65534).gid(65534).env("HOME", theirs.root());
            command
        });
        assert!(theirs.dir().join(SOCKET).exists());
        let out = theirs.run(&["show", "a", "--wait", "1"]);
        crate::support::assert_error(&out, EXIT_BUSY, "ledger busy");
        // And a process of another user that connects anyway (root may) is closed on, unread.
        let mut stream =
            std::os::unix::net::UnixStream::connect(theirs.dir().join(SOCKET)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = stream.write_all(&[5, 0, 0, 0, 1, 0, 0, 0, 0]);
        let mut answer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stream, &mut answer);
        assert!(answer.is_empty(), "{answer:?}");
        stop(&mut their_server);
    }
    stop(&mut server);
}

fn rustix_uid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}

fn chown_all(dir: &Path, uid: u32) {
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

/// One frame of the socket's protocol: its length, its kind, its bytes.
fn frame(kind: u8, fields: &[u8]) -> Vec<u8> {
    let mut bytes = u32::try_from(fields.len() + 1)
        .unwrap()
        .to_le_bytes()
        .to_vec();
    bytes.push(kind);
    bytes.extend_from_slice(fields);
    bytes
}

/// What the server answers `bytes` with, until it closes the connection.
fn answer_to(socket: &Path, bytes: &[u8]) -> Vec<u8> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut answer).unwrap();
    answer
}

/// Whatever comes over the socket, the server neither panics nor stops serving: a frame too
/// long, another protocol's version, counts that point past the end, a command it does not
/// run, bytes cut short.
#[test]
fn hostile_requests_on_the_socket_are_refused() {
    let ledger = Ledger::new();
    ledger.import("{\"key\":\"a\",\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"x\"}\n");
    let shown = ledger.ok(&["show", "a"]);
    let mut server = serve(&ledger, &[]);
    let socket = ledger.dir().join(SOCKET);
    const REFUSED: u8 = 15;
    let refused = |answer: &[u8], words: &str| {
        assert!(answer.len() > 10, "{answer:?}");
        assert_eq!(answer[4], REFUSED, "{answer:?}");
        assert_eq!(answer[5], 4, "an environment error's code");
        let message = String::from_utf8_lossy(&answer[10..]);
        assert!(message.contains(words), "{message}");
    };
    // Too long: closed on, unanswered.
    assert!(answer_to(&socket, &[0xff, 0xff, 0xff, 0xff, 1]).is_empty());
    // Cut short.
    assert!(answer_to(&socket, &[9, 0, 0, 0, 1, 1]).is_empty());
    assert!(answer_to(&socket, &[]).is_empty());
    // Not a request first.
    refused(&answer_to(&socket, &frame(2, &[0])), "not a request");
    // Another version.
    refused(
        &answer_to(&socket, &frame(1, &99u32.to_le_bytes())),
        "version 99",
    );
    // A million arguments, none there.
    let mut fields = 1u32.to_le_bytes().to_vec();
    fields.push(0);
    fields.extend_from_slice(&1_000_000u32.to_le_bytes());
    refused(&answer_to(&socket, &frame(1, &fields)), "malformed");
    // Streams named but not sent.
    let mut fields = 1u32.to_le_bytes().to_vec();
    fields.push(0b111);
    fields.extend_from_slice(&[0; 8]);
    refused(&answer_to(&socket, &frame(1, &fields)), "streams");
    // A well-formed request for a command the server does not run, and one that does not
    // parse: answered with an exit code (2), on no streams.
    for args in [&["claims", "init"][..], &["claims", "--no-such-flag"], &[]] {
        let mut fields = 1u32.to_le_bytes().to_vec();
        fields.push(0);
        fields.extend_from_slice(&u32::try_from(args.len()).unwrap().to_le_bytes());
        for arg in args {
            fields.extend_from_slice(&u32::try_from(arg.len()).unwrap().to_le_bytes());
            fields.extend_from_slice(arg.as_bytes());
        }
        fields.extend_from_slice(&0u32.to_le_bytes());
        let answer = answer_to(&socket, &frame(1, &fields));
        // ACCEPTED, then EXIT with code 2.
        assert_eq!(
            answer,
            [frame(10, &[]), frame(14, &[2])].concat(),
            "{args:?}"
        );
    }
    assert_eq!(ledger.ok(&["show", "a"]), shown, "served still");
    assert!(server.child.try_wait().unwrap().is_none());
    stop(&mut server);
    ledger.assert_verifies();
}
