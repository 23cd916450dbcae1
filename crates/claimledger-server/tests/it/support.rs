//! A seed ledger in a temporary directory and a server on it, on a free loopback port.

use claimledger_core::checkpoint::generate_signing_key;
use claimledger_core::input::parse_command;
use claimledger_core::Timestamp;
use claimledger_server::tokens::{new_token, Role, Tokens};
use claimledger_server::{Config, Server};
use claimledger_store::{IdBits, Ledger, SledStorage, SubmitContext};
use std::path::PathBuf;
use std::time::Duration;

pub const ORIGIN: &str = "example.org/claims";

pub fn seed_lines() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed-claims.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A running server with its ledger, a writer's and a reader's token, and its verifier key.
pub struct TestServer {
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    pub writer: String,
    pub reader: String,
    pub verifier: String,
    pub base: String,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ledger_dir(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    /// Stops the server and opens its ledger.
    pub fn stop(mut self) -> (tempfile::TempDir, Ledger<SledStorage>) {
        self.server.take().unwrap().shutdown().unwrap();
        let storage = SledStorage::open(&self.ledger_dir(), Duration::from_secs(5)).unwrap();
        let ledger = Ledger::open(storage).unwrap();
        (self.dir, ledger)
    }
}

/// A ledger holding `lines`, made with the clock pinned.
pub fn ledger_with(lines: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let storage =
        SledStorage::create_with_origin(&dir.path().join("ledger"), Duration::from_secs(5), ORIGIN)
            .unwrap();
    let mut ledger = Ledger::open(storage).unwrap();
    let commands: Vec<_> = lines.iter().map(|l| parse_command(l).unwrap()).collect();
    let context = SubmitContext {
        now: Timestamp::parse("2025-08-13T12:00:00.000000Z").unwrap(),
        default_author: "ana".into(),
        id_bits: IdBits::Derived,
    };
    if !commands.is_empty() {
        ledger.submit(&commands, &context).unwrap();
    }
    dir
}

pub fn start(lines: &[String], configure: impl FnOnce(&mut Config)) -> TestServer {
    start_in(ledger_with(lines), configure)
}

pub fn start_in(dir: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> TestServer {
    let (writer, writer_line) = new_token([1; 32], Role::Writer, "Ana Díaz").unwrap();
    let (reader, reader_line) = new_token([2; 32], Role::Reader, "Reader Bot").unwrap();
    let (signing, verifier) = generate_signing_key(ORIGIN, [9; 32]).unwrap();
    let mut config = Config::new(dir.path().join("ledger"), "127.0.0.1:0".parse().unwrap());
    config.tokens = Some(Tokens::parse(&format!("{writer_line}\n{reader_line}\n")).unwrap());
    config.signing_key = Some(signing.expose_secret().to_owned());
    config.wait = Duration::from_secs(5);
    configure(&mut config);
    let server = Server::start(config).unwrap();
    let base = format!("http://{}", server.addr());
    TestServer {
        server: Some(server),
        dir,
        writer,
        reader,
        verifier: verifier.to_string(),
        base,
    }
}

/// An HTTP client that returns every status as a response, with a time limit.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET: status and body.
pub fn get(url: &str) -> (u16, String) {
    let mut response = client().get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

pub fn get_json(url: &str) -> serde_json::Value {
    let (status, body) = get(url);
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// POST with a bearer token (or none) and a content type: status and body as JSON.
pub fn post(
    url: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut request = client().post(url).header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut response = request.send(body).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}
