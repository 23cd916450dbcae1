//! The pages: server-rendered HTML that needs no script to read, reads on a phone and prints
//! cleanly. Every claim field goes through the template engine (maud), which escapes it;
//! nothing from the ledger is ever written into a script, a style or an event attribute, and
//! only `http(s)` source links are made links.
//!
//! `?as_of=SEQ|TIME` on any page shows the ledger as it stood then, and the page's links keep
//! it.

use crate::api::{self, ApiError, AsOf, CompareQuery, ListQuery};
use crate::chart::{self, Point, Series};
use crate::http::with_type;
use crate::writer::View;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use claimledger_core::decide::ClaimState;
use claimledger_core::diff::diff_claims;
use claimledger_core::{Archived, Entry, EntryHash, Event, Seq, SnapshotHash};
use claimledger_formats::changes::{field_text, source_lines};
use claimledger_formats::text::{figure, period, timestamp};
use claimledger_formats::view;
use claimledger_store::SnapshotFault;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use std::sync::Arc;

const STYLE: &str = include_str!("assets/style.css");
const CHECK_JS: &str = include_str!("assets/check.js");

/// The most claims a subject's chart draws.
const CHART_CLAIMS_MAX: usize = 300;
/// Entries per page of the log.
const LOG_PAGE: u64 = 50;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(subjects_page))
        .route("/subjects/{*subject}", get(subject_page))
        .route("/claims/{claim}", get(claim_page))
        .route("/claims/{claim}/evidence/{sha256}", get(snapshot))
        .route("/entries/{seq}", get(entry_page))
        .route("/log", get(log_page))
        .route("/assets/style.css", get(style))
        .route("/assets/check.js", get(check_js))
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn check_js() -> Response {
    asset("text/javascript; charset=utf-8", CHECK_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = with_type(content_type, body);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// Characters left as they are in a path segment or query value; the rest are %-encoded.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A link within the site that keeps `as_of`.
fn href(path: &str, as_of: Option<&str>) -> String {
    match as_of.filter(|a| !a.is_empty()) {
        None => path.to_owned(),
        Some(as_of) => {
            let join = if path.contains('?') { '&' } else { '?' };
            format!("{path}{join}as_of={}", encode(as_of))
        }
    }
}

fn subject_href(subject: &str, as_of: Option<&str>) -> String {
    let path: Vec<String> = subject.split('/').map(encode).collect();
    href(&format!("/subjects/{}", path.join("/")), as_of)
}

fn claim_href(state: &ClaimState, as_of: Option<&str>) -> String {
    let name = state
        .key
        .as_ref()
        .map_or_else(|| state.id.to_string(), |k| k.to_string());
    href(&format!("/claims/{}", encode(&name)), as_of)
}

fn claim_name(state: &ClaimState) -> String {
    state
        .key
        .as_ref()
        .map_or_else(|| state.id.to_string(), |k| k.to_string())
}

/// The frame of every page.
fn page(title: &str, as_of: Option<&str>, head: Option<(u64, String)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · claims" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/check.js" defer {}
            }
            body {
                header class="site" {
                    a class="home" href=(href("/", as_of)) { "claims" }
                    nav {
                        a href=(href("/", as_of)) { "Subjects" }
                        a href=(href("/log", as_of)) { "Log" }
                        a href="/api/v1/openapi.json" { "API" }
                    }
                    @if let Some((count, hash)) = &head {
                        p class="head" { "Ledger head " (count) ":" code { (hash.get(..16).unwrap_or(hash)) "…" } }
                    }
                }
                @if let Some(as_of) = as_of.filter(|a| !a.is_empty()) {
                    p class="as-of" { "Showing the ledger as it stood at " strong { (as_of) } ". " a href="?" { "Show it as it is now" } }
                }
                main { (body) }
                footer { p { "A tamper-evident ledger of claims. Every page is drawn from the log; "
                    "each claim page can check its entry against the signed checkpoint." } }
            }
        }
    }
}

/// A page answer, or the page that says what went wrong.
type PageResult = Result<Markup, PageError>;

#[derive(Debug)]
pub struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError(error)
    }
}

impl From<claimledger_store::StoreError> for PageError {
    fn from(error: claimledger_store::StoreError) -> PageError {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Bad request",
            _ => "Error",
        };
        let body = page(
            title,
            None,
            None,
            html! { h1 { (title) } p class="error" { (self.0.message) } },
        );
        (self.0.status, body).into_response()
    }
}

pub fn not_found() -> Response {
    PageError(ApiError::new(
        StatusCode::NOT_FOUND,
        "there is no page here",
    ))
    .into_response()
}

async fn render(
    state: &Arc<AppState>,
    work: impl FnOnce(&View, &AppState) -> PageResult + Send + 'static,
) -> Response {
    let view = state.views.latest();
    let shared = Arc::clone(state);
    match tokio::task::spawn_blocking(move || work(&view, &shared)).await {
        Ok(Ok(markup)) => markup.into_response(),
        Ok(Err(error)) => error.into_response(),
        Err(_) => PageError(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be made",
        ))
        .into_response(),
    }
}

fn head_of(view: &View) -> Option<(u64, String)> {
    let head = view.head();
    Some((head.count, head.hash.to_hex()))
}

async fn subjects_page(State(state): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> Response {
    render(&state, move |view, _| {
        let claims = q.claims(view)?;
        let subjects = view::subjects(&claims);
        let as_of = q.as_of.as_deref();
        let searched = [&q.q, &q.claimant, &q.tag]
            .iter()
            .any(|f| f.as_deref().is_some_and(|v| !v.is_empty()));
        Ok(page(
            "Subjects",
            as_of,
            head_of(view),
            html! {
                h1 { "Subjects" }
                form class="search" method="get" action="/" {
                    label { "Text " input type="search" name="q" value=[q.q.as_deref()] placeholder="subject, claimant or statement"; }
                    label { "Claimant " input type="text" name="claimant" value=[q.claimant.as_deref()]; }
                    label { "Tag " input type="text" name="tag" value=[q.tag.as_deref()]; }
                    @if let Some(as_of) = as_of { input type="hidden" name="as_of" value=(as_of); }
                    button type="submit" { "Search" }
                }
                @if subjects.is_empty() {
                    p { @if searched { "No claims match." } @else { "The ledger holds no claims yet." } }
                } @else {
                    table class="subjects" {
                        thead { tr { th { "Subject" } th class="num" { "Claims" } th { "Latest stated" } } }
                        tbody {
                            @for (subject, summary) in &subjects {
                                tr {
                                    td { a href=(subject_href(subject, as_of)) { (subject) } }
                                    td class="num" { (summary.claims) }
                                    td { @if let Some(d) = &summary.latest_stated_on { (d) } }
                                }
                            }
                        }
                    }
                    p class="count" { (claims.len()) " claims about " (subjects.len()) " subjects" @if searched { " match" } "." }
                }
            },
        ))
    })
    .await
}

async fn subject_page(
    State(state): State<Arc<AppState>>,
    Path(subject): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Response {
    render(&state, move |view, _| {
        let as_of_text = q.as_of.clone();
        let as_of_text = as_of_text.as_deref();
        let query = CompareQuery {
            subject: Some(subject),
            ..q
        };
        let (subject, claims) = api::comparison(view, &query)?;
        if claims.is_empty() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("the ledger holds no claims about {subject}"),
            )
            .into());
        }
        let as_of = api::as_of_seq(view, as_of_text)?;
        let mut claimants: Vec<String> = Vec::new();
        for c in &claims {
            if !claimants.contains(&c.claim.claimant) {
                claimants.push(c.claim.claimant.clone());
            }
        }
        let mut series = Vec::new();
        for c in claims.iter().take(CHART_CLAIMS_MAX) {
            let points = view
                .history_as_of(c.id, as_of)?
                .iter()
                .filter_map(|r| {
                    let claim = r.entry.event.claim();
                    Some(Point {
                        stated_on: claim.stated_on.clone()?,
                        value: claim.value.clone()?,
                    })
                })
                .collect();
            series.push(Series {
                claimant: c.claim.claimant.clone(),
                claim_label: claim_name(c),
                points,
            });
        }
        let chart = chart::chart(&series, &claimants);
        Ok(page(
            subject.as_str(),
            as_of_text,
            head_of(view),
            html! {
                p class="crumbs" { a href=(href("/", as_of_text)) { "Subjects" } " / " }
                h1 { (subject.as_str()) }
                @if let Some(chart) = chart {
                    figure class="chart" {
                        (chart)
                        @if claims.len() > CHART_CLAIMS_MAX {
                            figcaption { "The chart shows the first " (CHART_CLAIMS_MAX) " claims; the table has all " (claims.len()) "." }
                        }
                    }
                }
                h2 { "What each claimant says" }
                div class="scroll" {
                    table class="compare" {
                        thead { tr { th { "Claimant" } th { "Figure" } th { "Period" } th { "Stated" } th class="num" { "Revisions" } th { "Status" } } }
                        tbody {
                            @for c in &claims {
                                tr {
                                    td { a href=(claim_href(c, as_of_text)) { (c.claim.claimant) } }
                                    @match &c.claim.value {
                                        Some(v) => td class="figure" { (figure(v)) },
                                        None => td class="said" { q { (c.claim.statement) } },
                                    }
                                    td { @if let Some(p) = &c.claim.period { (period(p)) } }
                                    td { @if let Some(d) = &c.claim.stated_on { (d) } }
                                    td class="num" { (c.revision) }
                                    td { (c.claim.status.as_str()) }
                                }
                            }
                        }
                    }
                }
                p class="count" { (claims.len()) " claims. " a href=(format!("/api/v1/compare?subject={}", encode(subject.as_str()))) { "As JSON" } }
            },
        ))
    })
    .await
}

fn safe_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

async fn claim_page(
    State(state): State<Arc<AppState>>,
    Path(claim): Path<String>,
    Query(q): Query<AsOf>,
) -> Response {
    render(&state, move |view, app| {
        let as_of_text = q.as_of.as_deref();
        let as_of = api::as_of_seq(view, as_of_text)?;
        let current = api::find_claim(view, &claim, as_of)?;
        let revisions = view.history_as_of(current.id, as_of)?;
        let shown = revisions.last().map(|r| r.seq).unwrap_or(Seq(0));
        let c = &current.claim;
        let claim_json = serde_json::to_string(c).unwrap_or_default();
        let verifier = app.signing_key.as_ref().map(|k| k.verifier.to_string());
        let name = claim_name(&current);
        Ok(page(
            &name,
            as_of_text,
            head_of(view),
            html! {
                p class="crumbs" {
                    a href=(href("/", as_of_text)) { "Subjects" } " / "
                    a href=(subject_href(c.subject.as_str(), as_of_text)) { (c.subject.as_str()) } " /"
                }
                h1 { (c.claimant) }
                blockquote class="statement" { (c.statement) }
                dl class="claim" {
                    dt { "Claim" } dd { code { (name) } @if current.key.is_some() { " (" code { (current.id) } ")" } }
                    @if let Some(v) = &c.value { dt { "Figure" } dd class="figure" { (figure(v)) " " span class="bound" { "(" (v.bound.as_str()) ")" } } }
                    @if let Some(p) = &c.period { dt { "Period" } dd { (period(p)) } }
                    @if let Some(d) = &c.stated_on { dt { "Stated on" } dd { (d) } }
                    @if let Some(m) = &c.method { dt { "Method" } dd class="prose" { (m) } }
                    dt { "Status" } dd { (c.status.as_str()) }
                    @if !c.tags.is_empty() {
                        dt { "Tags" } dd { @for t in &c.tags { span class="tag" { (t.as_str()) } " " } }
                    }
                    dt { "Revision" } dd { (current.revision) ", recorded " (timestamp(current.recorded_at)) ", last revised " (timestamp(current.revised_at)) }
                }
                @if !c.sources.is_empty() {
                    h2 { "Sources" }
                    ol class="sources" {
                        @for s in &c.sources {
                            li {
                                @if let Some(p) = &s.publisher { strong { (p) } " " }
                                @if let Some(t) = &s.title { cite { (t) } " " }
                                @if let Some(d) = &s.published_on { span class="date" { "published " (d) } " " }
                                @if let Some(d) = &s.retrieved_on { span class="date" { "retrieved " (d) } " " }
                                @if let Some(u) = &s.url {
                                    @if safe_link(u) { a href=(u) rel="nofollow noopener noreferrer" { (u) } }
                                    @else { code { (u) } }
                                }
                                @if let Some(quote) = &s.quote { blockquote class="quote" { (quote) } }
                                @if !s.archived.is_empty() {
                                    ul class="snapshots" {
                                        @for a in &s.archived {
                                            li {
                                                a href=(format!("/claims/{}/evidence/{}", current.id, a.sha256)) download { "Snapshot" }
                                                " " (a.media_type) ", " (bytes_text(a.size)) ", captured " (a.captured_at.to_string())
                                                @if let Some(u) = &a.url { ", fetched from " code { (u) } }
                                                @if let Some(status) = a.status { " (HTTP " (status) ")" }
                                                " · SHA-256 " code class="hash" { (a.sha256) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 id="history" { "History" }
                ol class="history" {
                    @for (i, r) in revisions.iter().enumerate() {
                        @let event = &r.entry.event;
                        @let previous = i.checked_sub(1).and_then(|p| revisions.get(p)).map(|p| p.entry.event.claim());
                        li {
                            p class="revision-head" {
                                strong { "Revision " (event.revision()) }
                                " · " a href=(href(&format!("/entries/{}", r.seq), as_of_text)) { "entry " (r.seq) }
                                " · " (timestamp(event.recorded_at()))
                                " · by " span class="author" { (event.author()) }
                            }
                            @match event {
                                Event::ClaimRecorded(_) => p { "Recorded." },
                                Event::ClaimRevised(e) => p { span class="kind" { (e.kind.as_str()) } ": " span class="prose" { (e.reason) } },
                            }
                            @if let Some(note) = event.note() { p class="note prose" { "Note: " (note) } }
                            @if let Some(previous) = previous {
                                @let changes = diff_claims(previous, event.claim());
                                @if !changes.is_empty() {
                                    table class="diff" {
                                        thead { tr { th { "Field" } th { "Before" } th { "After" } } }
                                        tbody {
                                            @for change in &changes {
                                                @if let Some(lines) = source_lines(change) {
                                                    @for line in &lines { tr { td class="source-change" colspan="3" { (line) } } }
                                                } @else {
                                                    tr { td { (change.field) } td class="before" { (field_text(&change.field, &change.before)) } td class="after" { (field_text(&change.field, &change.after)) } }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            p class="hash" { "hash " code { (r.hash) } }
                        }
                    }
                }
                section id="check" class="check"
                    data-claim-id=(current.id)
                    data-revision=(current.revision)
                    data-seq=(shown.0)
                    data-proof-url=(format!("/api/v1/proof/{}?seq={}", current.id, shown.0))
                    data-verifier-key=[verifier.as_deref()]
                    data-claim=(claim_json) {
                    h2 { "Check it yourself" }
                    p {
                        "Your browser can check that revision " (current.revision) " of this claim, as shown here, "
                        "is entry " (shown.0) " of the published log: it fetches the entry's inclusion proof and the "
                        "signed checkpoint, recomputes the SHA-256 Merkle path to the checkpoint's root, and checks the "
                        "checkpoint's Ed25519 signature. Nothing is installed; the code is "
                        a href="/assets/check.js" { "this script" } "."
                    }
                    @if let Some(v) = &verifier {
                        p { "The checkpoint must be signed by this verifier key; compare it with the one the ledger publishes elsewhere:" }
                        p { code class="key" { (v) } }
                    } @else {
                        p class="warn" { "This server signs no checkpoints (it was started without --sign), so only the hashes can be checked." }
                    }
                    button type="button" id="check-button" { "Check this claim" }
                    p id="check-verdict" role="status" {}
                    ol id="check-steps" {}
                }
            },
        ))
    })
    .await
}

/// A size as a reader says it: `912 bytes`, `10.5 MB`.
fn bytes_text(size: u64) -> String {
    match size {
        0..=9_999 => format!("{size} bytes"),
        10_000..=999_999 => format!("{:.1} kB", size as f64 / 1e3),
        _ => format!("{:.1} MB", size as f64 / 1e6),
    }
}

/// The file name a snapshot is saved under: its hash, and an extension for its media type.
fn snapshot_file_name(item: &Archived) -> String {
    let essence = item.media_type.split(';').next().unwrap_or("").trim();
    let extension = match essence {
        "text/html" | "application/xhtml+xml" => "html",
        "application/pdf" => "pdf",
        "application/warc" => "warc",
        "text/plain" => "txt",
        "application/json" => "json",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    };
    format!("{}.{extension}", item.sha256)
}

/// Bytes read from a snapshot and sent per step.
const SNAPSHOT_STEP_BYTES: usize = 256 << 10;

/// `/claims/{claim}/evidence/{sha256}`: a snapshot the claim's history lists, as a download
/// that cannot act in this origin (attachment, a sandboxing CSP, nosniff), streamed from the
/// evidence store and hashed on the way: bytes that do not hash to the name end the
/// connection before the last of them, so a client never receives a whole altered snapshot.
async fn snapshot(
    State(state): State<Arc<AppState>>,
    Path((claim, sha256)): Path<(String, String)>,
) -> Response {
    let view = state.views.latest();
    let shared = Arc::clone(&state);
    let found =
        tokio::task::spawn_blocking(move || open_snapshot(&view, &shared, &claim, &sha256)).await;
    let (item, file) = match found {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return error.into_response(),
        Err(_) => {
            return PageError(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the snapshot could not be read",
            ))
            .into_response()
        }
    };
    let stall = state.limits.stream_stall;
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(2);
    let expected = item.sha256;
    let size = item.size;
    tokio::task::spawn_blocking(move || {
        use sha2::Digest;
        use std::io::Read;
        let mut file = file;
        let mut hasher = sha2::Sha256::new();
        let mut sent: u64 = 0;
        let send = |item: Result<axum::body::Bytes, std::io::Error>| {
            let sent = tokio::runtime::Handle::current()
                .block_on(async { tokio::time::timeout(stall, sender.send(item)).await });
            matches!(sent, Ok(Ok(())))
        };
        loop {
            let mut chunk = vec![0u8; SNAPSHOT_STEP_BYTES];
            let read = match file.read(&mut chunk) {
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    send(Err(e));
                    return;
                }
            };
            chunk.truncate(read);
            hasher.update(&chunk);
            sent += read as u64;
            let last = read == 0 || sent >= size;
            if sent > size || (last && SnapshotHash(hasher.clone().finalize().into()) != expected) {
                // Altered since it was checked (or grown): the last bytes are withheld.
                send(Err(std::io::Error::other(format!(
                    "snapshot {expected} was altered in the evidence store"
                ))));
                return;
            }
            if read > 0 && !send(Ok(axum::body::Bytes::from(chunk))) {
                return;
            }
            if last {
                return;
            }
        }
    });
    let stream = crate::api::futures_stream(receiver);
    let mut response = Response::new(axum::body::Body::from_stream(stream));
    let headers = response.headers_mut();
    let value = |text: &str| {
        HeaderValue::from_str(text)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
    };
    headers.insert(header::CONTENT_TYPE, value(&item.media_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(item.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        value(&format!(
            "attachment; filename=\"{}\"",
            snapshot_file_name(&item)
        )),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::http::SNAPSHOT_CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600, no-transform"),
    );
    response
}

/// Finds the snapshot in the claim's history and opens its file, checking its size.
fn open_snapshot(
    view: &View,
    state: &AppState,
    claim: &str,
    sha256: &str,
) -> Result<(Archived, std::fs::File), PageError> {
    let hash = SnapshotHash::parse(sha256).map_err(|why| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no snapshot {}: {why}",
                claimledger_core::escape_controls(sha256)
            ),
        )
    })?;
    let current = api::find_claim(view, claim, None)?;
    let item = view
        .history_as_of(current.id, None)?
        .iter()
        .flat_map(|r| r.entry.event.claim().sources.iter())
        .flat_map(|s| s.archived.iter())
        .find(|a| a.sha256 == hash)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("claim {} lists no snapshot {hash}", current.id),
            )
        })?;
    let damaged = |fault: SnapshotFault| {
        PageError(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("snapshot {hash} {fault} in the evidence store; run `claims verify`"),
        ))
    };
    let file = match state.evidence.open(&hash) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(damaged(SnapshotFault::Missing))
        }
        Err(e) => {
            return Err(PageError(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read snapshot {hash}: {e}"),
            )))
        }
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    if length != item.size {
        return Err(damaged(SnapshotFault::WrongSize(length)));
    }
    Ok((item, file))
}

#[derive(Debug, Default, Deserialize)]
struct EntryPath {
    seq: String,
}

async fn entry_page(
    State(state): State<Arc<AppState>>,
    Path(path): Path<EntryPath>,
    Query(q): Query<AsOf>,
) -> Response {
    render(&state, move |view, _| {
        let as_of_text = q.as_of.as_deref();
        let limit = api::as_of_seq(view, as_of_text)?.unwrap_or(Seq(view.head().count));
        let seq = path
            .seq
            .parse::<u64>()
            .ok()
            .filter(|s| *s >= 1 && *s <= limit.0)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("the ledger holds entries 1 to {} here", limit.0),
                )
            })?;
        let bytes = view.entry_bytes(Seq(seq))?;
        let hash = EntryHash::of(&bytes);
        let entry = Entry::decode(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("entry {seq} does not decode ({}); run `claims verify`", e.0),
            )
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let event = &entry.event;
        Ok(page(
            &format!("Entry {seq}"),
            as_of_text,
            head_of(view),
            html! {
                h1 { "Entry " (seq) }
                dl class="claim" {
                    dt { "Type" } dd { (event.type_name()) }
                    dt { "Claim" } dd { a href=(href(&format!("/claims/{}", event.claim_id()), as_of_text)) { code { (event.claim_id()) } } ", revision " (event.revision()) }
                    dt { "Recorded" } dd { (timestamp(event.recorded_at())) " by " (event.author()) }
                    dt { "Hash" } dd { code { (hash) } }
                    dt { "Previous" } dd {
                        @if seq > 1 { a href=(href(&format!("/entries/{}", seq - 1), as_of_text)) { code { (entry.prev) } } }
                        @else { code { (entry.prev) } " (the first entry)" }
                    }
                }
                nav class="pager" {
                    @if seq > 1 { a href=(href(&format!("/entries/{}", seq - 1), as_of_text)) { "← entry " (seq - 1) } }
                    @if seq < limit.0 { a href=(href(&format!("/entries/{}", seq + 1), as_of_text)) { "entry " (seq + 1) " →" } }
                }
                h2 { "The stored bytes" }
                p { "Exactly as hashed (" (bytes.len()) " bytes):" }
                pre class="bytes" { (text) }
            },
        ))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct LogPageQuery {
    from: Option<u64>,
    as_of: Option<String>,
}

async fn log_page(State(state): State<Arc<AppState>>, Query(q): Query<LogPageQuery>) -> Response {
    render(&state, move |view, _| {
        let as_of_text = q.as_of.as_deref();
        let limit = api::as_of_seq(view, as_of_text)?.unwrap_or(Seq(view.head().count));
        // Newest first by default.
        let last = q.from.map_or(limit.0, |from| from.min(limit.0));
        let first = last.saturating_sub(LOG_PAGE - 1).max(1);
        let mut rows: Vec<(Seq, EntryHash, Entry)> = Vec::new();
        let mut failure = None;
        if last >= 1 {
            view.scan_entries(Seq(first), &mut |seq, bytes| {
                if seq.0 > last {
                    return std::ops::ControlFlow::Break(());
                }
                match Entry::decode(bytes) {
                    Ok(entry) => rows.push((seq, EntryHash::of(bytes), entry)),
                    Err(e) => {
                        failure = Some(format!("entry {seq} does not decode ({}); run `claims verify`", e.0));
                        return std::ops::ControlFlow::Break(());
                    }
                }
                std::ops::ControlFlow::Continue(())
            })?;
        }
        if let Some(message) = failure {
            return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message).into());
        }
        rows.reverse();
        let page_href = |from: u64| {
            let base = format!("/log?from={from}");
            href(&base, as_of_text)
        };
        Ok(page(
            "Log",
            as_of_text,
            head_of(view),
            html! {
                h1 { "The log" }
                p { "Every entry, newest first. Each commits to the hash of the one before it." }
                div class="scroll" {
                    table class="log" {
                        thead { tr { th class="num" { "Entry" } th { "Hash" } th { "Type" } th { "Claim" } th class="num" { "Rev" } th { "Recorded" } th { "By" } } }
                        tbody {
                            @for (seq, hash, entry) in &rows {
                                tr {
                                    td class="num" { a href=(href(&format!("/entries/{seq}"), as_of_text)) { (seq) } }
                                    td { code { (hash.to_hex().get(..16).unwrap_or_default()) } }
                                    td { (entry.event.type_name()) }
                                    td { a href=(href(&format!("/claims/{}", entry.event.claim_id()), as_of_text)) { code { (entry.event.claim_id().to_string().get(..8).unwrap_or_default()) "…" } } }
                                    td class="num" { (entry.event.revision()) }
                                    td { (timestamp(entry.event.recorded_at())) }
                                    td { (entry.event.author()) }
                                }
                            }
                        }
                    }
                }
                nav class="pager" {
                    @if last < limit.0 { a href=(page_href((last + LOG_PAGE).min(limit.0))) { "← newer" } }
                    @if first > 1 { a href=(page_href(first - 1)) { "older →" } }
                }
            },
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_encoded() {
        assert_eq!(encode("a b/<c>"), "a%20b%2F%3Cc%3E");
        assert_eq!(
            subject_href("russia/military deaths", Some("2025-01-01T00:00:00Z")),
            "/subjects/russia/military%20deaths?as_of=2025-01-01T00%3A00%3A00Z"
        );
        assert!(!safe_link("javascript:alert(1)"));
        assert!(!safe_link(" https://x"));
        assert!(safe_link("HTTPS://example.org/a"));
    }
}
