//! A witness: c2sp.org/tlog-witness `add-checkpoint`, the side that cosigns.
//!
//! For each log it knows (an origin and the log's verifier key), a witness remembers the last
//! checkpoint it cosigned, and cosigns a new one only when it is signed by the log's key and
//! a consistency proof shows it extends that one. It writes what it cosigned durably (a file
//! per origin: written to a temporary name, synced, renamed over the old one, directory
//! synced) before it answers, so that no crash can make it forget a checkpoint it vouched for:
//! it never cosigns two different roots for one size, nor a smaller tree after a larger one.
//!
//! [`Witness::add_checkpoint`] is the whole protocol, with no HTTP in it; [`serve`] puts it
//! behind `POST <prefix>/add-checkpoint`, one request at a time.

use crate::cosignature::{self, CosignatureSigner};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use claimledger_core::checkpoint::{self, CheckpointError, VerifierKeyText};
use claimledger_core::merkle::{self, Hash};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The largest request body read: the old size, 63 proof lines and a checkpoint with its
/// signatures.
pub const REQUEST_LEN_MAX: usize = 64 * 1024;

/// The most consistency proof lines a request may hold (the spec's limit).
pub const PROOF_LINES_MAX: usize = 63;

/// How long a request may take to arrive.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The content type of a 409 answer's body, the size the witness holds.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// An answer: HTTP status, content type and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    fn text(status: u16, message: impl Into<String>) -> Answer {
        let mut body = message.into();
        body.push('\n');
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into_bytes(),
        }
    }
}

/// What a witness holds for one log: the last checkpoint it cosigned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cosigned {
    pub origin: String,
    pub size: u64,
    /// The root, base64, as in the checkpoint.
    pub root: String,
    /// The checkpoint as the log signed it, kept as evidence of what the log said.
    pub checkpoint: String,
}

/// A witness for a set of logs, its state in a directory.
pub struct Witness {
    key: String,
    logs: BTreeMap<String, VerifierKeyText>,
    state_dir: PathBuf,
    /// Held from reading a log's state to writing the new one: two requests never both
    /// extend the same state (the spec's race).
    state: Mutex<()>,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch, from the system clock.
pub fn system_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Witness {
    /// A witness with the private key text `key` for the logs `logs` (each named by its
    /// verifier key, whose name is the log's origin), keeping its state in `state_dir`
    /// (created if missing).
    pub fn new(
        key: &str,
        logs: Vec<VerifierKeyText>,
        state_dir: &Path,
        clock: Box<dyn Fn() -> u64 + Send + Sync>,
    ) -> Result<Witness, String> {
        CosignatureSigner::parse(key, 0)?;
        let mut by_origin = BTreeMap::new();
        for log in logs {
            let origin = log.name().to_owned();
            if by_origin.insert(origin.clone(), log).is_some() {
                return Err(format!("the log {origin:?} is given twice"));
            }
        }
        std::fs::create_dir_all(state_dir)
            .map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
        Ok(Witness {
            key: key.to_owned(),
            logs: by_origin,
            state_dir: state_dir.to_owned(),
            state: Mutex::new(()),
            clock,
        })
    }

    /// The verifier key of the witness's key.
    pub fn verifier_key(&self) -> String {
        CosignatureSigner::parse(&self.key, 0)
            .map(|s| s.verifier_key())
            .unwrap_or_default()
    }

    fn state_file(&self, origin: &str) -> PathBuf {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(origin.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.state_dir.join(format!("{name}.json"))
    }

    /// The last checkpoint cosigned for `origin`, if any.
    pub fn cosigned(&self, origin: &str) -> Result<Option<Cosigned>, String> {
        let file = self.state_file(origin);
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let state: Cosigned = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is damaged: {e}", file.display()))?;
        if state.origin != origin {
            return Err(format!("{} is not the state of {origin:?}", file.display()));
        }
        Ok(Some(state))
    }

    fn save(&self, state: &Cosigned) -> Result<(), String> {
        use std::io::Write;
        let file = self.state_file(&state.origin);
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", file.display());
        let mut temp = tempfile::Builder::new()
            .prefix(".cosigning-")
            .tempfile_in(&self.state_dir)
            .map_err(fail)?;
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
        temp.write_all(&bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(fail)?;
        temp.persist(&file).map_err(|e| fail(e.error))?;
        std::fs::File::open(&self.state_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(fail)
    }

    /// Handles one `add-checkpoint` request body.
    pub fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let request = match parse_request(body) {
            Ok(request) => request,
            Err(why) => return Answer::text(400, why),
        };
        let Some(origin) = request.note.split('\n').next().filter(|o| !o.is_empty()) else {
            return Answer::text(400, "the checkpoint has no origin line");
        };
        let Some(log_key) = self.logs.get(origin) else {
            return Answer::text(
                404,
                format!("this witness does not know the log {origin:?}"),
            );
        };
        let checkpoint = match checkpoint::open_signed_checkpoint(request.note, log_key.as_str()) {
            Ok(checkpoint) => checkpoint,
            Err(
                e @ (CheckpointError::NotSignedByKey { .. }
                | CheckpointError::BadSignature { .. }
                | CheckpointError::Unsigned),
            ) => return Answer::text(403, e.to_string()),
            Err(e) => return Answer::text(400, e.to_string()),
        };
        if request.old > checkpoint.size {
            return Answer::text(
                400,
                format!(
                    "the old size {} is larger than the checkpoint's {}",
                    request.old, checkpoint.size
                ),
            );
        }
        if request.old == 0 && !request.proof.is_empty() {
            return Answer::text(400, "a proof from size 0 is empty");
        }
        let _held = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let last = match self.cosigned(origin) {
            Ok(last) => last,
            Err(why) => return Answer::text(500, why),
        };
        let last_size = last.as_ref().map_or(0, |l| l.size);
        let conflict = || Answer {
            status: 409,
            content_type: SIZE_CONTENT_TYPE,
            body: format!("{last_size}\n").into_bytes(),
        };
        if request.old != last_size {
            return conflict();
        }
        let root = Hash(checkpoint.root);
        if let Some(last) = &last {
            let Ok(last_root) = decode_root(&last.root) else {
                return Answer::text(500, "the witness's state is damaged");
            };
            if checkpoint.size == last.size {
                if root != last_root {
                    return conflict();
                }
            } else if let Err(e) = merkle::verify_consistency(
                last.size,
                checkpoint.size,
                &request.proof,
                last_root,
                root,
            ) {
                return Answer::text(422, format!("the consistency proof does not verify: {e}"));
            }
        }
        let body_text = checkpoint.to_body();
        let state = Cosigned {
            origin: origin.to_owned(),
            size: checkpoint.size,
            root: BASE64_STANDARD.encode(checkpoint.root),
            checkpoint: request.note.to_owned(),
        };
        if last.as_ref() != Some(&state) {
            if let Err(why) = self.save(&state) {
                return Answer::text(500, why);
            }
        }
        let signer = match CosignatureSigner::parse(&self.key, (self.clock)()) {
            Ok(signer) => signer,
            Err(why) => return Answer::text(500, why),
        };
        match cosignature::cosign(&body_text, &signer) {
            Ok(line) => Answer {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                body: line.into_bytes(),
            },
            Err(why) => Answer::text(500, why),
        }
    }
}

fn decode_root(text: &str) -> Result<Hash, ()> {
    let bytes = BASE64_STANDARD.decode(text).map_err(|_| ())?;
    Ok(Hash(bytes.try_into().map_err(|_| ())?))
}

struct Request<'a> {
    old: u64,
    proof: Vec<Hash>,
    note: &'a str,
}

fn parse_request(body: &[u8]) -> Result<Request<'_>, String> {
    if body.len() > REQUEST_LEN_MAX {
        return Err(format!(
            "the request is longer than {REQUEST_LEN_MAX} bytes"
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| "the request is not UTF-8".to_owned())?;
    let (first, mut rest) = text
        .split_once('\n')
        .ok_or("the request has no old size line")?;
    let old = first
        .strip_prefix("old ")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter(|n| *n == "0" || !n.starts_with('0'))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or("the first line is not \"old <size>\"")?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or("the request has no empty line before the checkpoint")?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == PROOF_LINES_MAX {
            return Err(format!("the proof has more than {PROOF_LINES_MAX} lines"));
        }
        let hash = decode_root(line)
            .map_err(|()| format!("proof line {} is not a base64 hash", proof.len() + 1))?;
        proof.push(hash);
    }
    Ok(Request {
        old,
        proof,
        note: rest,
    })
}

/// Serves `witness` at `POST <prefix>add-checkpoint` on `listener` until `shutdown` resolves.
/// Bodies are limited to [`REQUEST_LEN_MAX`] bytes and [`REQUEST_TIMEOUT`]; any other path or
/// method is answered 404 or 405.
pub fn serve(
    witness: std::sync::Arc<Witness>,
    listener: std::net::TcpListener,
    prefix: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::routing::post;
    listener.set_nonblocking(true)?;
    let route = format!("{}add-checkpoint", normalize_prefix(prefix));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let app = axum::Router::new()
            .route(
                &route,
                post(move |request: axum::extract::Request| handle(witness.clone(), request)),
            )
            .layer(axum::extract::DefaultBodyLimit::max(REQUEST_LEN_MAX));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    })
}

/// Resolves on SIGINT or SIGTERM: how `claims witness serve` is stopped.
pub async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// `/`, or `/PREFIX/`.
pub fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        format!("/{trimmed}/")
    }
}

async fn handle(
    witness: std::sync::Arc<Witness>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = tokio::time::timeout(
        REQUEST_TIMEOUT,
        axum::body::to_bytes(request.into_body(), REQUEST_LEN_MAX),
    )
    .await;
    let answer = match body {
        Err(_) => Answer::text(408, "the request took too long to arrive"),
        Ok(Err(_)) => Answer::text(
            413,
            format!("the request is longer than {REQUEST_LEN_MAX} bytes"),
        ),
        Ok(Ok(bytes)) => {
            match tokio::task::spawn_blocking(move || witness.add_checkpoint(&bytes)).await {
                Ok(answer) => answer,
                Err(_) => Answer::text(500, "the request failed"),
            }
        }
    };
    let status = axum::http::StatusCode::from_u16(answer.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimledger_core::checkpoint::Checkpoint;
    use claimledger_core::merkle::{record_hash, Frontier, VecHashes};

    struct Log {
        key: String,
        verifier: VerifierKeyText,
        stored: Vec<Hash>,
        frontier: Frontier,
        roots: Vec<Hash>,
    }

    impl Log {
        fn new(seed: u8) -> Log {
            let (key, verifier) =
                checkpoint::generate_signing_key("example.org/log", [seed; 32]).expect("key");
            Log {
                key: key.expose_secret().to_owned(),
                verifier,
                stored: Vec::new(),
                frontier: Frontier::new(),
                roots: vec![merkle::EMPTY_HASH],
            }
        }

        fn grow(&mut self, entries: u64, salt: &str) {
            for i in 0..entries {
                let entry = format!("{salt}{}", self.frontier.tree_size() + i);
                self.stored.extend(
                    self.frontier
                        .push(record_hash(entry.as_bytes()))
                        .map(|(_, _, h)| h),
                );
                self.roots.push(self.frontier.root());
            }
        }

        fn note(&self, size: u64) -> String {
            let checkpoint = Checkpoint {
                origin: "example.org/log".into(),
                size,
                root: self.roots[size as usize].0,
                extensions: vec![],
            };
            checkpoint::sign_checkpoint(&checkpoint, &self.key).expect("signed")
        }

        fn request(&self, old: u64, size: u64) -> Vec<u8> {
            let mut body = format!("old {old}\n");
            if old > 0 && old < size {
                let proof =
                    tlog_tiles::prove_tree(size, old, &VecHashes(&self.stored)).expect("proof");
                for hash in proof {
                    body.push_str(&BASE64_STANDARD.encode(hash.0));
                    body.push('\n');
                }
            }
            body.push('\n');
            body.push_str(&self.note(size));
            body.into_bytes()
        }
    }

    fn witness(dir: &Path, log: &Log) -> Witness {
        let (key, _) = cosignature::generate_key("witness.example/w", [5; 32]).expect("key");
        Witness::new(
            &key,
            vec![log.verifier.clone()],
            dir,
            Box::new(|| 1_700_000_000),
        )
        .expect("witness")
    }

    #[test]
    fn cosigns_only_consistent_checkpoints_and_answers_with_the_specs_codes() {
        let dir = tempfile::tempdir().expect("dir");
        let mut log = Log::new(1);
        log.grow(10, "a");
        let w = witness(dir.path(), &log);
        let verifier =
            cosignature::CosignatureVerifier::parse(&w.verifier_key()).expect("verifier");

        let first = w.add_checkpoint(&log.request(0, 5));
        assert_eq!(
            first.status,
            200,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        let line = String::from_utf8(first.body).expect("text");
        assert_eq!(
            cosignature::verify(&format!("{}{line}", log.note(5)), &verifier),
            Ok(1_700_000_000)
        );
        // Old size not the one cosigned: 409 with the size held.
        let stale = w.add_checkpoint(&log.request(0, 8));
        assert_eq!(
            (stale.status, stale.content_type, stale.body.as_slice()),
            (409, SIZE_CONTENT_TYPE, &b"5\n"[..])
        );
        assert_eq!(w.add_checkpoint(&log.request(5, 8)).status, 200);
        // The same checkpoint again is cosigned again.
        assert_eq!(w.add_checkpoint(&log.request(8, 8)).status, 200);
        // A bad proof: 422, and the state stays.
        let mut bad = log.request(8, 10);
        let at = bad.iter().position(|b| *b == b'\n').expect("line") + 1;
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        assert_eq!(w.add_checkpoint(&bad).status, 422);
        assert_eq!(
            w.cosigned("example.org/log")
                .expect("state")
                .map(|s| s.size),
            Some(8)
        );
        // Old size above the checkpoint's: 400.
        assert_eq!(w.add_checkpoint(&log.request(8, 8)).status, 200);
        let mut over = log.request(8, 8);
        over.splice(0..5, b"old 9".iter().copied());
        assert_eq!(w.add_checkpoint(&over).status, 400);
        // A fork of the same size: 409, never a second root for size 8.
        let mut fork = Log::new(1);
        fork.grow(10, "b");
        let forked = w.add_checkpoint(&fork.request(8, 8));
        assert_eq!((forked.status, forked.body.as_slice()), (409, &b"8\n"[..]));
        // Another key: 403. Another origin: 404. Garbage: 400.
        let mut stranger = Log::new(2);
        stranger.grow(10, "a");
        assert_eq!(w.add_checkpoint(&stranger.request(8, 10)).status, 403);
        let text = String::from_utf8(log.request(8, 10))
            .expect("text")
            .replace("example.org/log\n", "example.org/other\n");
        assert_eq!(w.add_checkpoint(text.as_bytes()).status, 404);
        for garbage in [&b""[..], b"old 01\n\n", b"old 1\nnot base64\n\n", b"\xff"] {
            assert_eq!(w.add_checkpoint(garbage).status, 400);
        }
    }

    #[test]
    fn the_state_survives_a_new_process() {
        let dir = tempfile::tempdir().expect("dir");
        let mut log = Log::new(1);
        log.grow(6, "a");
        assert_eq!(
            witness(dir.path(), &log)
                .add_checkpoint(&log.request(0, 6))
                .status,
            200
        );
        let again = witness(dir.path(), &log);
        let mut fork = Log::new(1);
        fork.grow(6, "b");
        assert_eq!(again.add_checkpoint(&fork.request(6, 6)).status, 409);
        assert_eq!(again.add_checkpoint(&log.request(6, 6)).status, 200);
    }
}
