//! Asking witnesses to cosign a checkpoint: c2sp.org/tlog-witness `add-checkpoint`, from the
//! log's side.
//!
//! A witness accepts a checkpoint only with a consistency proof from the size it last cosigned.
//! The log does not keep that size: it first offers a proof from the size it last published,
//! and when the witness answers 409 with the size it holds (`text/x.tlog.size`), it proves from
//! that size instead, once. Every cosignature returned is checked with the witness's key.

use crate::cosignature::{self, CosignatureVerifier};
use crate::objects::{ATTEMPTS, CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use claimledger_core::merkle::Hash;
use std::io::Read;
use std::time::Duration;

/// The largest answer read from a witness: a few signature lines.
const RESPONSE_LEN_MAX: usize = 64 * 1024;

/// A witness to ask: its submission prefix and its verifier key.
#[derive(Clone, Debug)]
pub struct WitnessTarget {
    pub url: url::Url,
    pub verifier: CosignatureVerifier,
}

impl WitnessTarget {
    /// `URL=VKEY`: the witness's submission prefix (`add-checkpoint` is under it) and its
    /// cosignature verifier key.
    pub fn parse(text: &str) -> Result<WitnessTarget, String> {
        let (url, key) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected URL=VERIFIER_KEY"))?;
        let mut url = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{url}: a witness is reached over http or https"));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let verifier = CosignatureVerifier::parse(key).map_err(|e| format!("{url}: {e}"))?;
        Ok(WitnessTarget { url, verifier })
    }

    fn endpoint(&self) -> Result<url::Url, String> {
        self.url
            .join("add-checkpoint")
            .map_err(|e| format!("{}: {e}", self.url))
    }
}

/// What the witnesses answered.
#[derive(Debug, Default)]
pub struct Collected {
    /// One valid cosignature line per witness that cosigned.
    lines: String,
    labels: Vec<String>,
    /// Why each other witness did not cosign, naming it.
    failures: Vec<String>,
}

impl Collected {
    /// (cosignature lines, witnesses that cosigned, why the others did not).
    pub fn into_parts(self) -> (String, Vec<String>, Vec<String>) {
        (self.lines, self.labels, self.failures)
    }
}

/// Asks every witness to cosign `note` (a checkpoint of `size` entries signed by the log),
/// with consistency proofs from `proof(old size)`. `first_old` is the size offered first.
pub fn collect(
    witnesses: &[WitnessTarget],
    note: &str,
    size: u64,
    first_old: u64,
    proof: &dyn Fn(u64) -> Result<Vec<Hash>, String>,
) -> Collected {
    let client = match reqwest::blocking::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("claimledger/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            return Collected {
                failures: vec![format!("cannot make an HTTP client: {e}")],
                ..Collected::default()
            }
        }
    };
    // One at a time: a log has a few witnesses, and the proofs read the ledger.
    let answers: Vec<Result<String, String>> = witnesses
        .iter()
        .map(|witness| ask(&client, witness, note, size, first_old, proof))
        .collect();
    let mut collected = Collected::default();
    for (witness, answer) in witnesses.iter().zip(answers) {
        let label = witness.verifier.label();
        match answer {
            Ok(line) => {
                collected.lines.push_str(&line);
                collected.labels.push(label);
            }
            Err(why) => collected
                .failures
                .push(format!("witness {label} at {}: {why}", witness.url)),
        }
    }
    collected
}

/// One witness: its valid cosignature line, or why there is none.
fn ask(
    client: &reqwest::blocking::Client,
    witness: &WitnessTarget,
    note: &str,
    size: u64,
    first_old: u64,
    proof: &dyn Fn(u64) -> Result<Vec<Hash>, String>,
) -> Result<String, String> {
    let endpoint = witness.endpoint()?;
    let mut old = first_old.min(size);
    for _ in 0..2 {
        let mut body = format!("old {old}\n");
        for hash in proof(old)? {
            body.push_str(&BASE64_STANDARD.encode(hash.0));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        let (status, content_type, answer) = post(client, &endpoint, body)?;
        match status {
            200 => return cosignature_in(witness, note, &answer),
            409 if content_type.starts_with("text/x.tlog.size") => {
                let held = std::str::from_utf8(&answer)
                    .ok()
                    .and_then(|text| text.strip_suffix('\n'))
                    .and_then(|text| text.parse::<u64>().ok())
                    .ok_or("it answered 409 without a size it holds")?;
                if held > size {
                    return Err(format!(
                        "it has cosigned a checkpoint of {held} entries, more than the {size} \
                         published now: it has seen a longer history of this log"
                    ));
                }
                if held == old {
                    return Err(format!(
                        "it has cosigned another checkpoint of {held} entries, with a \
                         different root: it has seen a different history of this log"
                    ));
                }
                old = held;
            }
            409 => return Err("it answered 409 Conflict".into()),
            404 => return Err("it does not witness this log's origin".into()),
            403 => return Err("it does not trust the key this checkpoint is signed with".into()),
            400 => return Err("it refused the request as malformed (400)".into()),
            422 => return Err("it refused the consistency proof (422)".into()),
            other => return Err(format!("it answered HTTP {other}")),
        }
    }
    Err("it kept answering 409 Conflict with a changing size".into())
}

/// POSTs, retrying when the connection fails: (status, content type, body).
fn post(
    client: &reqwest::blocking::Client,
    endpoint: &url::Url,
    body: String,
) -> Result<(u16, String, Vec<u8>), String> {
    let mut attempt = 1;
    loop {
        match client.post(endpoint.clone()).body(body.clone()).send() {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut bytes = Vec::new();
                response
                    .take(RESPONSE_LEN_MAX as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("cannot read its answer: {e}"))?;
                if bytes.len() > RESPONSE_LEN_MAX {
                    return Err(format!(
                        "its answer is longer than {RESPONSE_LEN_MAX} bytes"
                    ));
                }
                return Ok((status, content_type, bytes));
            }
            Err(e) if attempt >= ATTEMPTS => return Err(format!("cannot reach it: {e}")),
            Err(_) => {
                std::thread::sleep(Duration::from_millis(250 << attempt));
                attempt += 1;
            }
        }
    }
}

/// The first line of a 200 answer that is a valid cosignature by the witness's key.
fn cosignature_in(witness: &WitnessTarget, note: &str, answer: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(answer).map_err(|_| "its answer is not UTF-8")?;
    for line in text.split_inclusive('\n') {
        if !line.starts_with("— ") || !line.ends_with('\n') {
            continue;
        }
        let with_line = format!("{note}{line}");
        if cosignature::verify(&with_line, &witness.verifier).is_ok() {
            return Ok(line.to_owned());
        }
    }
    Err(format!(
        "it answered 200 without a valid cosignature by {}",
        witness.verifier.label()
    ))
}
