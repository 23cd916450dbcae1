//! `claims archive --fetch`: a source's URL fetched and kept as a WARC file (ISO 28500,
//! WARC/1.1), the format web archives and their tools read.
//!
//! The HTTP is ureq's. What this adds is the record of the exchange: a transport that sits
//! above TLS in ureq's connector chain copies every byte the request sent and every byte the
//! response brought, as they crossed the connection, so that the WARC holds the server's bytes
//! (status line, headers as sent, body with its transfer and content codings), not a
//! re-serialisation. Nothing is decompressed: a gzip bomb is a few compressed bytes. Redirects
//! are followed here, not by ureq, so that every hop is a request and a response record.
//!
//! Bounded: the response bodies together (`body_bytes_max`), the whole fetch's time, each
//! read's wait, the number of redirects, the header size (ureq's 64 KiB).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

/// What a fetch may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The response bodies of every hop together.
    pub body_bytes_max: u64,
    /// The whole fetch, every hop included.
    pub time_max: Duration,
    /// The longest wait for the next bytes.
    pub read_timeout: Duration,
    pub redirects_max: u32,
}

/// The most bytes the request of one hop may take (ureq writes a few hundred).
const REQUEST_BYTES_MAX: usize = 1 << 20;
/// The most bytes of response head (status line and headers) ureq reads.
const RESPONSE_HEAD_BYTES_MAX: usize = 64 * 1024;

/// One request and its response, as they crossed the connection.
#[derive(Debug)]
pub struct Exchange {
    pub url: String,
    /// When the request was sent.
    pub at: DateTime<Utc>,
    pub request: Vec<u8>,
    /// The response's bytes: `response_len` of them, its head (`head_len`) first.
    response: File,
    pub response_len: u64,
    pub head_len: u64,
    pub status: u16,
}

/// A whole fetch: every hop, the last one's status being the final status.
#[derive(Debug)]
pub struct Capture {
    pub exchanges: Vec<Exchange>,
}

impl Capture {
    fn last(&self) -> &Exchange {
        self.exchanges.last().expect("a capture has an exchange")
    }

    /// The URL the fetch ended at, after redirects.
    pub fn final_url(&self) -> &str {
        &self.last().url
    }

    pub fn status(&self) -> u16 {
        self.last().status
    }

    /// When the last response was asked for.
    pub fn captured_at(&self) -> DateTime<Utc> {
        self.last().at
    }
}

/// Why a fetch was given up. Every message is one line, naming the URL where it helps.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Refused(String),
    /// Writing the spool files failed (the machine, not the server).
    #[error("cannot write a temporary file: {0}")]
    Spool(io::Error),
}

fn refused(message: impl Into<String>) -> FetchError {
    FetchError::Refused(claimledger_core::escape_controls(&message.into()))
}

/// Bytes that crossed one connection, in both directions.
#[derive(Debug)]
struct Recorder {
    sent: Vec<u8>,
    received: File,
    received_len: u64,
    received_max: u64,
    overflow: bool,
    error: Option<io::Error>,
}

impl Recorder {
    fn new(received_max: u64) -> io::Result<Recorder> {
        Ok(Recorder {
            sent: Vec::new(),
            received: tempfile::tempfile()?,
            received_len: 0,
            received_max,
            overflow: false,
            error: None,
        })
    }

    fn sent(&mut self, bytes: &[u8]) {
        if self.sent.len() + bytes.len() > REQUEST_BYTES_MAX {
            self.overflow = true;
            return;
        }
        self.sent.extend_from_slice(bytes);
    }

    fn received(&mut self, bytes: &[u8]) {
        if self.overflow || self.error.is_some() {
            return;
        }
        if self.received_len + bytes.len() as u64 > self.received_max {
            self.overflow = true;
            return;
        }
        match self.received.write_all(bytes) {
            Ok(()) => self.received_len += bytes.len() as u64,
            Err(e) => self.error = Some(e),
        }
    }
}

type Shared = Arc<Mutex<Recorder>>;

fn with<T>(shared: &Shared, f: impl FnOnce(&mut Recorder) -> T) -> T {
    f(&mut shared.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The last link of the connector chain: wraps the connection (TLS already inside it) so that
/// its bytes are recorded.
#[derive(Debug)]
struct RecordingConnector(Shared);

impl Connector<Box<dyn Transport>> for RecordingConnector {
    type Out = RecordingTransport;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<RecordingTransport>, ureq::Error> {
        Ok(chained.map(|inner| RecordingTransport {
            inner,
            recorder: self.0.clone(),
        }))
    }
}

#[derive(Debug)]
struct RecordingTransport {
    inner: Box<dyn Transport>,
    recorder: Shared,
}

impl Transport for RecordingTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let output = self.inner.buffers().output();
        let sent = output.get(..amount).unwrap_or(output);
        with(&self.recorder, |r| r.sent(sent));
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        // The bytes this call appends come after those still unconsumed.
        let before = self.inner.buffers().input().len();
        let progress = self.inner.await_input(timeout)?;
        let input = self.inner.buffers().input();
        let new = input.get(before..).unwrap_or_default();
        with(&self.recorder, |r| r.received(new));
        Ok(progress)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// Fetches `url`, following up to `limits.redirects_max` redirects by hand. `now` gives each
/// request's time. A response of any status is a capture (a 404 page is evidence that a page
/// was gone); what cannot be had within the limits is an error.
pub fn fetch(
    url: &str,
    limits: &Limits,
    user_agent: &str,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Capture, FetchError> {
    let started = Instant::now();
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut current = url.to_owned();
    let mut body_bytes_left = limits.body_bytes_max;
    loop {
        let left = limits
            .time_max
            .checked_sub(started.elapsed())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| timed_out(limits))?;
        let exchange = fetch_one(
            &current,
            limits,
            left,
            &mut body_bytes_left,
            user_agent,
            now,
        )?;
        let location = redirect_target(&exchange)?;
        exchanges.push(exchange);
        let Some(location) = location else {
            return Ok(Capture { exchanges });
        };
        let next = url::Url::parse(&current)
            .and_then(|base| base.join(&location))
            .map_err(|e| {
                refused(format!(
                    "{current} redirects to {location:?}, which is not a URL: {e}"
                ))
            })?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(refused(format!(
                "{current} redirects to {next}, which is not an http or https URL"
            )));
        }
        let next = next.to_string();
        if exchanges.iter().any(|e| e.url == next) {
            let hops: Vec<&str> = exchanges.iter().map(|e| e.url.as_str()).collect();
            return Err(refused(format!(
                "redirect loop: {} -> {next}",
                hops.join(" -> ")
            )));
        }
        if exchanges.len() > limits.redirects_max as usize {
            return Err(refused(format!(
                "{url} redirects more than {} times (the last to {next})",
                limits.redirects_max
            )));
        }
        current = next;
    }
}

fn timed_out(limits: &Limits) -> FetchError {
    refused(format!(
        "the fetch took longer than {} s (--timeout)",
        limits.time_max.as_secs_f64()
    ))
}

/// The `Location` of a redirect, if the response is one.
fn redirect_target(exchange: &Exchange) -> Result<Option<String>, FetchError> {
    if !matches!(exchange.status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let head = exchange.head()?;
    let location = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.trim().to_owned());
    match location {
        Some(location) if !location.is_empty() => Ok(Some(location)),
        // A redirect without a target is a response like any other.
        _ => Ok(None),
    }
}

fn fetch_one(
    url: &str,
    limits: &Limits,
    time_left: Duration,
    body_bytes_left: &mut u64,
    user_agent: &str,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Exchange, FetchError> {
    // Chunked framing adds bytes to the body's: twice the body, and the head, bound it.
    let received_max = body_bytes_left
        .saturating_mul(2)
        .saturating_add(RESPONSE_HEAD_BYTES_MAX as u64 + 4096);
    let recorder = Arc::new(Mutex::new(
        Recorder::new(received_max).map_err(FetchError::Spool)?,
    ));
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(0)
        .max_response_header_size(RESPONSE_HEAD_BYTES_MAX)
        .proxy(None)
        .user_agent(user_agent)
        .timeout_global(Some(time_left))
        .timeout_per_read(Some(limits.read_timeout))
        .build();
    let connector = DefaultConnector::new().chain(RecordingConnector(recorder.clone()));
    let agent = ureq::Agent::with_parts(
        config,
        connector,
        ureq::unversioned::resolver::DefaultResolver::default(),
    );
    let at = now();
    let response = agent
        .get(url)
        .header("Accept", "*/*")
        .call()
        .map_err(|e| fetch_error(url, limits, e))?;
    let status = response.status().as_u16();
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = response.headers().get("transfer-encoding").is_some();
    let mut body = response
        .into_body()
        .into_with_config()
        .limit(*body_bytes_left)
        .reader();
    let read = io::copy(&mut body, &mut io::sink()).map_err(|e| {
        // ureq's reader hands its own errors inside an io::Error.
        if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
            if let Some(Ok(error)) = e.into_inner().map(|inner| inner.downcast::<ureq::Error>()) {
                return fetch_error(url, limits, *error);
            }
            return refused(format!("{url}: the response could not be read"));
        }
        fetch_error(url, limits, ureq::Error::Io(e))
    })?;
    *body_bytes_left -= read.min(*body_bytes_left);
    // The connection is done with: what it recorded is the exchange.
    drop(body);
    drop(agent);
    let (request, response, response_len) = with(&recorder, |r| {
        if let Some(error) = r.error.take() {
            return Err(FetchError::Spool(error));
        }
        if r.overflow {
            return Err(too_large(url, limits));
        }
        let response = r.received.try_clone().map_err(FetchError::Spool)?;
        Ok((std::mem::take(&mut r.sent), response, r.received_len))
    })?;
    let mut exchange = Exchange {
        url: url.to_owned(),
        at,
        request,
        response,
        response_len,
        head_len: 0,
        status,
    };
    exchange.head_len = exchange.find_head_len()?;
    // Bytes the server sent past the body it announced belong to no response: the record
    // ends where the body does.
    if let (Some(declared), false) = (declared, chunked) {
        let end = exchange.head_len.saturating_add(declared);
        if end < exchange.response_len {
            exchange.response_len = end;
            exchange.response.set_len(end).map_err(FetchError::Spool)?;
        }
    }
    Ok(exchange)
}

fn too_large(url: &str, limits: &Limits) -> FetchError {
    refused(format!(
        "{url}: the response is larger than {} bytes (--max-size)",
        limits.body_bytes_max
    ))
}

fn fetch_error(url: &str, limits: &Limits, error: ureq::Error) -> FetchError {
    match error {
        ureq::Error::Timeout(ureq::Timeout::Global) => timed_out(limits),
        ureq::Error::Timeout(_) => refused(format!(
            "{url}: no bytes came for {} s (the server stalled)",
            limits.read_timeout.as_secs_f64()
        )),
        ureq::Error::BodyExceedsLimit(_) => too_large(url, limits),
        ureq::Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => refused(format!(
            "{url}: the server closed the connection before the end of the response it announced"
        )),
        ureq::Error::HostNotFound => refused(format!("{url}: the host was not found")),
        ureq::Error::Io(e) => refused(format!("{url}: {e}")),
        other => refused(format!("{url}: {other}")),
    }
}

impl Exchange {
    /// The response's head (status line and headers), as text for reading headers.
    fn head(&self) -> Result<String, FetchError> {
        let mut head = vec![0u8; self.head_len.min(RESPONSE_HEAD_BYTES_MAX as u64) as usize];
        let mut file = &self.response;
        file.seek(SeekFrom::Start(0)).map_err(FetchError::Spool)?;
        file.read_exact(&mut head).map_err(FetchError::Spool)?;
        Ok(String::from_utf8_lossy(&head).into_owned())
    }

    /// Where the response's body starts: after the first empty line (`\r\n\r\n`, or `\n\n`,
    /// which HTTP readers accept too).
    fn find_head_len(&mut self) -> Result<u64, FetchError> {
        let mut start =
            vec![0u8; self.response_len.min(RESPONSE_HEAD_BYTES_MAX as u64 + 4) as usize];
        self.response
            .seek(SeekFrom::Start(0))
            .map_err(FetchError::Spool)?;
        self.response
            .read_exact(&mut start)
            .map_err(FetchError::Spool)?;
        let crlf = start
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4);
        let lf = start.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
        match (crlf, lf) {
            (Some(a), Some(b)) => Ok(a.min(b) as u64),
            (Some(a), None) | (None, Some(a)) => Ok(a as u64),
            (None, None) => Err(refused(format!(
                "{}: the response has no end of headers",
                self.url
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// WARC

/// The WARC/1.1 text of a date: `YYYY-MM-DDThh:mm:ssZ`.
fn warc_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A digest as WARC tools write and check them: `sha256:` and base32.
fn labelled(digest: [u8; 32]) -> String {
    format!("sha256:{}", data_encoding::BASE32.encode(&digest))
}

fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// Writes one record's header: version, named fields, length, blank line.
fn write_header(
    out: &mut dyn Write,
    fields: &[(&str, &str)],
    content_length: u64,
) -> io::Result<()> {
    write!(out, "WARC/1.1\r\n")?;
    for (name, value) in fields {
        // Field values are ours or URLs the parser accepted: no line breaks.
        let value: String = value.chars().filter(|c| !c.is_control()).collect();
        write!(out, "{name}: {value}\r\n")?;
    }
    write!(out, "Content-Length: {content_length}\r\n\r\n")
}

/// SHA-256 of `len` bytes of `file` from `from`.
fn digest_of(file: &File, from: u64, len: u64) -> io::Result<[u8; 32]> {
    let mut file = file;
    file.seek(SeekFrom::Start(from))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file.take(len), &mut hasher)?;
    Ok(hasher.finalize().into())
}

/// Writes the capture as a WARC file: a `warcinfo` record naming the software, then for each
/// hop a `request` record and a `response` record (`application/http`), each with
/// `WARC-Target-URI`, `WARC-Date` and SHA-256 block digests, the response also with its payload
/// digest (the bytes after the HTTP head, as `warcio` computes it).
pub fn write_warc(capture: &Capture, software: &str, out: &mut dyn Write) -> io::Result<()> {
    let info_id = record_id();
    let info = format!(
        "software: {software}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
    );
    let first_at = capture.exchanges.first().map_or_else(Utc::now, |e| e.at);
    write_header(
        out,
        &[
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", &info_id),
            ("WARC-Date", &warc_date(first_at)),
            ("Content-Type", "application/warc-fields"),
        ],
        info.len() as u64,
    )?;
    out.write_all(info.as_bytes())?;
    out.write_all(b"\r\n\r\n")?;
    for exchange in &capture.exchanges {
        let date = warc_date(exchange.at);
        let request_id = record_id();
        let response_id = record_id();
        let block = labelled(Sha256::digest(&exchange.request).into());
        write_header(
            out,
            &[
                ("WARC-Type", "request"),
                ("WARC-Record-ID", &request_id),
                ("WARC-Date", &date),
                ("WARC-Target-URI", &exchange.url),
                ("WARC-Warcinfo-ID", &info_id),
                ("WARC-Concurrent-To", &response_id),
                ("WARC-Block-Digest", &block),
                ("Content-Type", "application/http;msgtype=request"),
            ],
            exchange.request.len() as u64,
        )?;
        out.write_all(&exchange.request)?;
        out.write_all(b"\r\n\r\n")?;
        let block = labelled(digest_of(&exchange.response, 0, exchange.response_len)?);
        let payload = labelled(digest_of(
            &exchange.response,
            exchange.head_len,
            exchange.response_len - exchange.head_len,
        )?);
        write_header(
            out,
            &[
                ("WARC-Type", "response"),
                ("WARC-Record-ID", &response_id),
                ("WARC-Date", &date),
                ("WARC-Target-URI", &exchange.url),
                ("WARC-Warcinfo-ID", &info_id),
                ("WARC-Block-Digest", &block),
                ("WARC-Payload-Digest", &payload),
                ("Content-Type", "application/http;msgtype=response"),
            ],
            exchange.response_len,
        )?;
        let mut file = &exchange.response;
        file.seek(SeekFrom::Start(0))?;
        let copied = io::copy(&mut file.take(exchange.response_len), out)?;
        if copied != exchange.response_len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a spooled response is shorter than it was",
            ));
        }
        out.write_all(b"\r\n\r\n")?;
    }
    Ok(())
}
