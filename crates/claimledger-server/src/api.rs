//! The JSON API under `/api/v1/`: the read commands of `claims`, with the shapes of their
//! `--json` (docs/CLI.md), and the writes add, revise and import, which need a writer's token.
//! `/api/v1/openapi.json` describes every path and shape.

use crate::http::with_type;
use crate::tokens::Role;
use crate::writer::{View, WriteError};
use crate::{AppState, Limits};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use claimledger_core::decide::{ClaimState, DecideError};
use claimledger_core::input::{self, Command};
use claimledger_core::{checkpoint, Date, Seq, Status, Subject, Tag, Timestamp};
use claimledger_formats::import_file::Batches;
use claimledger_formats::view;
use claimledger_store::{Filter, Receipt, RejectReason, StoreError};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::ops::ControlFlow;
use std::sync::Arc;

/// The OpenAPI document, served as it is.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The most claims one list answer holds; `offset` pages through the rest.
pub const LIST_LIMIT_MAX: usize = 1000;
/// The most entries one log answer holds.
pub const LOG_LIMIT_MAX: u64 = 1000;

/// An error answer: a status and the one-line message `claims` would print (without
/// `error: `), as `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> ApiError {
        let status = match &error {
            WriteError::Rejected {
                reason: RejectReason::Decide(DecideError::StaleRevision { .. }),
                ..
            } => StatusCode::CONFLICT,
            WriteError::Rejected {
                reason: RejectReason::UnknownClaim(_),
                ..
            } => StatusCode::NOT_FOUND,
            WriteError::Rejected { .. } => StatusCode::BAD_REQUEST,
            WriteError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WriteError::ShuttingDown | WriteError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, error.to_string())
    }
}

type ApiResult<T = Response> = Result<T, ApiError>;

pub fn routes(limits: &Limits) -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/show/{claim}", get(show))
        .route("/history/{claim}", get(history))
        .route("/list", get(list))
        .route("/compare", get(compare))
        .route("/subjects", get(subjects))
        .route("/head", get(head))
        .route("/checkpoint", get(checkpoint_text))
        .route("/proof/{claim}", get(proof))
        .route("/log", get(log))
        .route("/export", get(export))
        .route(
            "/add",
            post(add).layer(DefaultBodyLimit::max(limits.body_bytes_max)),
        )
        .route(
            "/revise",
            post(revise).layer(DefaultBodyLimit::max(limits.body_bytes_max)),
        )
        .route(
            "/import",
            post(import).layer(DefaultBodyLimit::max(limits.import_bytes_max)),
        )
}

async fn openapi() -> Response {
    with_type("application/json", OPENAPI)
}

/// Runs a read on the blocking pool (sled reads block) against the latest view.
pub async fn read<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&View) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let view = state.views.latest();
    tokio::task::spawn_blocking(move || work(&view))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the read failed"))?
}

/// The token a request presents: `Authorization: Bearer TOKEN`, or, where `basic` allows it
/// (reads of a private ledger from a browser), the password of basic authentication.
pub fn presented_token(headers: &HeaderMap, basic: bool) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(token.trim().to_owned());
    }
    let encoded = value.strip_prefix("Basic ").filter(|_| basic)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, token)| token.to_owned())
}

/// The author a write is made by: its token's. Only a bearer token counts, so that no
/// credential a browser sends by itself can write (no cross-site request forgery).
fn writer_of(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    let Some(tokens) = &state.tokens else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server is read-only: it was started without --tokens",
        ));
    };
    let token = presented_token(headers, false).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "writing needs a token: send Authorization: Bearer TOKEN",
        )
    })?;
    let grant = tokens
        .check(&token)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "the token is not known"))?;
    if grant.role != Role::Writer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("the token of {:?} may read, not write", grant.author),
        ));
    }
    Ok(grant.author)
}

/// `?as_of=SEQ|TIME`, as `--as-of` takes it.
#[derive(Debug, Default, Deserialize)]
pub struct AsOf {
    pub as_of: Option<String>,
}

/// Turns `as_of` into the last entry it includes (`None`: the view's head).
pub fn as_of_seq(view: &View, as_of: Option<&str>) -> ApiResult<Option<Seq>> {
    let Some(text) = as_of.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let count = view.head().count;
    if let Ok(seq) = text.parse::<u64>() {
        if seq > count {
            return Err(ApiError::bad(format!(
                "as_of {seq}: the ledger holds {count} entries"
            )));
        }
        return Ok(Some(Seq(seq)));
    }
    let at = chrono::DateTime::parse_from_rfc3339(text).map_err(|_| {
        ApiError::bad(format!(
            "as_of {:?}: expected an entry number or an RFC 3339 time",
            claimledger_core::escape_controls(text)
        ))
    })?;
    let at = Timestamp::new(at.with_timezone(&chrono::Utc));
    Ok(Some(view.seq_at_time(at)?.unwrap_or(Seq(0))))
}

/// The claim an id or key names, as of `as_of`; 404 when there is none (then).
pub fn find_claim(view: &View, id_or_key: &str, as_of: Option<Seq>) -> ApiResult<ClaimState> {
    let shown = claimledger_core::escape_controls(id_or_key);
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no claim has the id or key {shown:?}"),
        )
    };
    let id = view.resolve(id_or_key)?.ok_or_else(missing)?;
    match (view.claim_as_of(id, as_of)?, as_of) {
        (Some(state), _) => Ok(state),
        (None, Some(seq)) if seq.0 == 0 => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the ledger held no claims yet at that time, so not {shown:?}"),
        )),
        (None, Some(seq)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("claim {shown:?} was recorded after entry {seq}"),
        )),
        (None, None) => Err(missing()),
    }
}

fn json_response(value: &Json) -> Response {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    with_type("application/json", text)
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(claim): Path<String>,
    Query(q): Query<AsOf>,
) -> ApiResult {
    let body = read(&state, move |view| {
        let as_of = as_of_seq(view, q.as_of.as_deref())?;
        Ok(view::claim_json(&find_claim(view, &claim, as_of)?))
    })
    .await?;
    Ok(json_response(&body))
}

/// The history of a claim as `history --json` shapes it.
pub fn history_json(view: &View, claim: &ClaimState, as_of: Option<Seq>) -> ApiResult<Json> {
    let revisions = view.history_as_of(claim.id, as_of)?;
    Ok(Json::Array(
        revisions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let previous = i.checked_sub(1).map(|p| revisions[p].entry.event.claim());
                view::revision_json(&r.entry, &r.hash, previous)
            })
            .collect(),
    ))
}

async fn history(
    State(state): State<Arc<AppState>>,
    Path(claim): Path<String>,
    Query(q): Query<AsOf>,
) -> ApiResult {
    let body = read(&state, move |view| {
        let as_of = as_of_seq(view, q.as_of.as_deref())?;
        let found = find_claim(view, &claim, as_of)?;
        history_json(view, &found, as_of)
    })
    .await?;
    Ok(json_response(&body))
}

/// The filters of `list` and `subjects`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub subject: Option<String>,
    pub claimant: Option<String>,
    pub status: Option<String>,
    pub tag: Option<String>,
    pub covering: Option<String>,
    pub as_of: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// Text a claim's subject, claimant or statement contains (any case).
    pub q: Option<String>,
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl ListQuery {
    pub fn filter(&self) -> ApiResult<Filter> {
        let bad = |field: &str, reason: String| ApiError::bad(format!("{field}: {reason}"));
        Ok(Filter {
            subject: nonempty(&self.subject)
                .map(Subject::parse)
                .transpose()
                .map_err(|r| bad("subject", r))?,
            claimant: nonempty(&self.claimant).map(str::to_owned),
            status: nonempty(&self.status)
                .map(Status::parse)
                .transpose()
                .map_err(|r| bad("status", r))?,
            tag: nonempty(&self.tag)
                .map(Tag::parse)
                .transpose()
                .map_err(|r| bad("tag", r))?,
        })
    }

    pub fn covering(&self) -> ApiResult<Option<Date>> {
        nonempty(&self.covering)
            .map(|d| Date::parse(d).map_err(|why| ApiError::bad(format!("covering: {why}"))))
            .transpose()
    }

    /// The claims that match, as of `as_of`.
    pub fn claims(&self, view: &View) -> ApiResult<Vec<ClaimState>> {
        let filter = self.filter()?;
        let covering = self.covering()?;
        let as_of = as_of_seq(view, self.as_of.as_deref())?;
        let mut claims = view.list_as_of(&filter, as_of)?;
        if let Some(date) = &covering {
            claims.retain(|c| c.claim.period.as_ref().is_some_and(|p| p.covers(date)));
        }
        if let Some(text) = nonempty(&self.q) {
            let text = text.to_lowercase();
            claims.retain(|c| {
                [
                    c.claim.subject.as_str(),
                    &c.claim.claimant,
                    &c.claim.statement,
                ]
                .iter()
                .any(|field| field.to_lowercase().contains(&text))
            });
        }
        Ok(claims)
    }
}

async fn list(State(state): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> ApiResult {
    let limit = q.limit.unwrap_or(LIST_LIMIT_MAX);
    if limit > LIST_LIMIT_MAX {
        return Err(ApiError::bad(format!(
            "limit {limit}: at most {LIST_LIMIT_MAX} claims per answer; page with offset"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    let (total, body) = read(&state, move |view| {
        let claims = q.claims(view)?;
        let page: Vec<Json> = claims
            .iter()
            .skip(offset)
            .take(limit)
            .map(view::claim_json)
            .collect();
        Ok((claims.len(), Json::Array(page)))
    })
    .await?;
    let mut response = json_response(&body);
    if let Ok(value) = header::HeaderValue::from_str(&total.to_string()) {
        response.headers_mut().insert("x-total-count", value);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct CompareQuery {
    pub subject: Option<String>,
    pub sort: Option<String>,
    pub covering: Option<String>,
    pub as_of: Option<String>,
}

/// The claims about exactly a subject, in the order of `compare`.
pub fn comparison(view: &View, q: &CompareQuery) -> ApiResult<(Subject, Vec<ClaimState>)> {
    let subject = nonempty(&q.subject).ok_or_else(|| {
        ApiError::bad("subject: give the subject to compare, e.g. ?subject=russia/military-deaths")
    })?;
    let subject = Subject::parse(subject).map_err(|r| ApiError::bad(format!("subject: {r}")))?;
    let by_amount = match q.sort.as_deref() {
        None | Some("") | Some("stated") => false,
        Some("amount") => true,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "sort {:?}: use stated or amount",
                claimledger_core::escape_controls(other)
            )))
        }
    };
    let covering = ListQuery {
        covering: q.covering.clone(),
        ..ListQuery::default()
    }
    .covering()?;
    let as_of = as_of_seq(view, q.as_of.as_deref())?;
    let filter = Filter {
        subject: Some(subject.clone()),
        ..Filter::default()
    };
    let mut claims: Vec<ClaimState> = view
        .list_as_of(&filter, as_of)?
        .into_iter()
        .filter(|c| c.claim.subject == subject)
        .filter(|c| {
            covering
                .as_ref()
                .is_none_or(|d| c.claim.period.as_ref().is_some_and(|p| p.covers(d)))
        })
        .collect();
    if by_amount {
        view::sort_by_amount(&mut claims);
    } else {
        view::sort_by_stated(&mut claims);
    }
    Ok((subject, claims))
}

async fn compare(State(state): State<Arc<AppState>>, Query(q): Query<CompareQuery>) -> ApiResult {
    let body = read(&state, move |view| {
        let (_, claims) = comparison(view, &q)?;
        Ok(Json::Array(
            claims.iter().map(view::compare_row_json).collect(),
        ))
    })
    .await?;
    Ok(json_response(&body))
}

async fn subjects(State(state): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> ApiResult {
    let body = read(&state, move |view| {
        let claims = q.claims(view)?;
        let subjects = view::subjects(&claims);
        Ok(Json::Array(
            subjects
                .iter()
                .map(|(subject, summary)| view::subject_json(subject, summary))
                .collect(),
        ))
    })
    .await?;
    Ok(json_response(&body))
}

async fn head(State(state): State<Arc<AppState>>) -> ApiResult {
    let body = read(&state, |view| {
        let head = view.head();
        Ok(json!({"count": head.count, "hash": head.hash.to_hex(), "origin": view.origin()?}))
    })
    .await?;
    Ok(json_response(&body))
}

/// The view's checkpoint: signed when the server has a key.
pub fn signed_checkpoint(state: &AppState, view: &View) -> ApiResult<String> {
    let current = view.checkpoint()?;
    match &state.signing_key {
        None => Ok(current.to_body()),
        Some(key) => checkpoint::sign_checkpoint(&current, &key.text).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot sign: {e}"),
            )
        }),
    }
}

async fn checkpoint_text(State(state): State<Arc<AppState>>) -> ApiResult {
    let shared = Arc::clone(&state);
    let text = read(&state, move |view| signed_checkpoint(&shared, view)).await?;
    Ok(with_type("text/plain; charset=utf-8", text))
}

#[derive(Debug, Default, Deserialize)]
pub struct ProofQuery {
    /// The entry to prove; by default the claim's latest revision's.
    pub seq: Option<u64>,
}

async fn proof(
    State(state): State<Arc<AppState>>,
    Path(claim): Path<String>,
    Query(q): Query<ProofQuery>,
) -> ApiResult {
    let shared = Arc::clone(&state);
    let body = read(&state, move |view| {
        let found = find_claim(view, &claim, None)?;
        let revisions = view.history(found.id)?;
        let seq = match q.seq {
            None => revisions.last().map(|r| r.seq).ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the claim has no revisions",
                )
            })?,
            Some(seq) => revisions
                .iter()
                .map(|r| r.seq)
                .find(|s| s.0 == seq)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("entry {seq} is not a revision of this claim"),
                    )
                })?,
        };
        let count = view.head().count;
        let bytes = view.entry_bytes(seq)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("entry {seq} is not UTF-8; run `claims verify`"),
            )
        })?;
        let path = view.inclusion_proof(seq, count)?;
        let checkpoint = signed_checkpoint(&shared, view)?;
        // The proof file of `claims prove` (docs/FORMAT.md, "Proof files").
        Ok(json!({
            "type": "inclusion",
            "entry": text,
            "index": seq.0 - 1,
            "tree_size": count,
            "path": path.iter().map(claimledger_core::merkle::to_hex).collect::<Vec<_>>(),
            "checkpoint": checkpoint,
        }))
    })
    .await?;
    Ok(json_response(&body))
}

#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    pub from: Option<u64>,
    pub limit: Option<u64>,
}

/// One log line as `log --json` prints it: the stored bytes themselves as `entry`.
pub fn log_line(seq: Seq, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let entry: &serde_json::value::RawValue =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    out.extend_from_slice(
        format!(
            r#"{{"seq":{},"hash":"{}","entry":{}}}"#,
            seq.0,
            claimledger_core::EntryHash::of(bytes).to_hex(),
            entry.get()
        )
        .as_bytes(),
    );
    out.push(b'\n');
    Ok(())
}

async fn log(State(state): State<Arc<AppState>>, Query(q): Query<LogQuery>) -> ApiResult {
    let from = q.from.unwrap_or(1);
    if from == 0 {
        return Err(ApiError::bad("from 0: entries are numbered from 1"));
    }
    let limit = q.limit.unwrap_or(100);
    if limit > LOG_LIMIT_MAX {
        return Err(ApiError::bad(format!(
            "limit {limit}: at most {LOG_LIMIT_MAX} entries per answer; page with from"
        )));
    }
    let body = read(&state, move |view| {
        let mut out = Vec::new();
        let mut failure = None;
        let mut shown = 0;
        view.scan_entries(Seq(from), &mut |seq, bytes| {
            if shown >= limit {
                return ControlFlow::Break(());
            }
            shown += 1;
            match log_line(seq, bytes, &mut out) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failure = Some(format!(
                        "entry {seq} does not decode ({e}); run `claims verify`"
                    ));
                    ControlFlow::Break(())
                }
            }
        })?;
        match failure {
            Some(message) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)),
            None => Ok(out),
        }
    })
    .await?;
    Ok(with_type("application/x-ndjson", body))
}

/// Entries read per step of an export.
const EXPORT_STEP_ENTRIES: u64 = 4096;

/// Every stored entry, byte for byte, one a line, as `claims export`: streamed from the view
/// the request started with, a step at a time, so that memory holds a step and a client that
/// stops taking the answer for longer than the stream stall limit ends it.
async fn export(State(state): State<Arc<AppState>>) -> Response {
    let view = state.views.latest();
    let stall = state.limits.stream_stall;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::task::spawn_blocking(move || {
        let count = view.head().count;
        let mut next = 1u64;
        while next <= count {
            let last = (next + EXPORT_STEP_ENTRIES - 1).min(count);
            let mut chunk = Vec::with_capacity(1 << 20);
            let scanned = view.scan_entries(Seq(next), &mut |seq, bytes| {
                if seq.0 > last {
                    return ControlFlow::Break(());
                }
                chunk.extend_from_slice(bytes);
                chunk.push(b'\n');
                ControlFlow::Continue(())
            });
            let item = scanned
                .map(|()| Bytes::from(chunk))
                .map_err(|e| std::io::Error::other(e.to_string()));
            let failed = item.is_err();
            let sent = tokio::runtime::Handle::current()
                .block_on(async { tokio::time::timeout(stall, sender.send(item)).await });
            if failed || !matches!(sent, Ok(Ok(()))) {
                return;
            }
            next = last + 1;
        }
    });
    let stream = futures_stream(receiver);
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

/// The items a channel receives, as a stream (a streamed body).
pub(crate) fn futures_stream(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util_stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

mod futures_util_stream {
    //! A stream from a poll function (what `futures::stream::poll_fn` does), to keep the
    //! dependency list short.
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct PollFn<F>(F);

    impl<F> Unpin for PollFn<F> {}

    pub fn poll_fn<T, F: FnMut(&mut Context<'_>) -> Poll<Option<T>>>(f: F) -> PollFn<F> {
        PollFn(f)
    }

    impl<T, F: FnMut(&mut Context<'_>) -> Poll<Option<T>>> futures_core::Stream for PollFn<F> {
        type Item = T;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            (self.0)(cx)
        }
    }
}

/// A write's body: one JSON object of the input format (docs/FORMAT.md §1), as `--json`
/// takes it. Writes are JSON only, which a browser form cannot send.
fn parse_body(headers: &HeaderMap, body: &Bytes) -> ApiResult<Command> {
    require_type(headers, &["application/json"])?;
    let text = claimledger_formats::import_file::utf8(body).map_err(ApiError::bad)?;
    let json = input::parse_json(text).map_err(|e| ApiError::bad(e.to_string()))?;
    input::command_from_json(&json).map_err(|e| ApiError::bad(e.to_string()))
}

fn require_type(headers: &HeaderMap, allowed: &[&str]) -> ApiResult<()> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = given
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if allowed.contains(&essence.as_str()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("send the body as {}", allowed.join(" or ")),
    ))
}

/// Sets the command's author to the token's, whatever the body says.
fn authored(command: Command, author: &str) -> Command {
    match command {
        Command::Record(mut record) => {
            record.author = Some(author.to_owned());
            Command::Record(record)
        }
        Command::Revise(mut revise) => {
            revise.author = Some(author.to_owned());
            Command::Revise(revise)
        }
    }
}

/// What a write answers: the claim and the entry that now hold it.
pub fn receipt_json(receipt: &Receipt) -> Json {
    json!({
        "id": receipt.claim_id.to_string(),
        "key": receipt.key.as_ref().map(|k| k.to_string()),
        "revision": receipt.revision,
        "seq": receipt.seq.0,
        "hash": receipt.hash.to_hex(),
    })
}

async fn add(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let author = writer_of(&state, &headers)?;
    let command = parse_body(&headers, &body)?;
    if !matches!(command, Command::Record(_)) {
        return Err(ApiError::bad(
            "field `op`: add records a new claim; use /api/v1/revise to revise one",
        ));
    }
    snapshots_held(&state, &command).map_err(ApiError::bad)?;
    let receipt = state.writer.submit(authored(command, &author)).await?;
    let mut response = json_response(&receipt_json(&receipt));
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

async fn revise(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let author = writer_of(&state, &headers)?;
    let command = parse_body(&headers, &body)?;
    if !matches!(command, Command::Revise(_)) {
        return Err(ApiError::bad(
            "field `op`: revise needs \"op\": \"revise\" and the claim to revise in `claim`",
        ));
    }
    snapshots_held(&state, &command).map_err(ApiError::bad)?;
    let receipt = state.writer.submit(authored(command, &author)).await?;
    Ok(json_response(&receipt_json(&receipt)))
}

/// JSON Lines, all or nothing, as `claims import` reads a file; errors name the line.
async fn import(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let author = writer_of(&state, &headers)?;
    require_type(
        &headers,
        &[
            "application/x-ndjson",
            "application/jsonl",
            "application/json",
        ],
    )?;
    let shared = Arc::clone(&state);
    let parsed = tokio::task::spawn_blocking(move || -> ApiResult<(Vec<Command>, Vec<u64>)> {
        let mut batches =
            Batches::new(&body[..], false).map_err(|e| ApiError::bad(format!("body: {e}")))?;
        let mut commands = Vec::new();
        let mut lines = Vec::new();
        loop {
            let batch = batches
                .next_batch()
                .map_err(|e| ApiError::bad(format!("body: {e}")))?;
            if batch.is_empty() {
                break;
            }
            for (line, command) in batch {
                snapshots_held(&shared, &command).map_err(|why| {
                    ApiError::bad(format!("body: line {line}: {why}; nothing was imported"))
                })?;
                lines.push(line);
                commands.push(authored(command, &author));
            }
        }
        Ok((commands, lines))
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the import failed"))??;
    let (commands, lines) = parsed;
    if commands.is_empty() {
        return Err(ApiError::bad("body: no claims in the body"));
    }
    match state.writer.import(commands).await {
        Ok(submitted) => {
            let head = state.views.latest().head();
            Ok(json_response(&json!({
                "entries": submitted.entries,
                "recorded": submitted.recorded,
                "revised": submitted.entries - submitted.recorded,
                "head": {"count": head.count, "hash": head.hash.to_hex()},
            })))
        }
        Err(WriteError::Rejected { command, reason }) => {
            let line = lines.get(command).copied().unwrap_or(0);
            let mut error = ApiError::from(WriteError::Rejected { command, reason });
            error.message = format!("body: line {line}: {}; nothing was imported", error.message);
            Err(error)
        }
        Err(other) => Err(other.into()),
    }
}

/// A write may list only snapshots the evidence store holds (`claims archive` keeps them).
fn snapshots_held(state: &AppState, command: &Command) -> Result<(), String> {
    match state.evidence.first_missing(command) {
        None => Ok(()),
        Some((field, sha256)) => Err(format!(
            "field `{field}`: the ledger keeps no snapshot {sha256}; keep one with `claims archive`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_read_from_bearer_and_basic() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer clt_abc".parse().unwrap());
        assert_eq!(presented_token(&headers, false).as_deref(), Some("clt_abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("me:clt_xyz");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {basic}").parse().unwrap(),
        );
        assert_eq!(presented_token(&headers, true).as_deref(), Some("clt_xyz"));
        assert_eq!(presented_token(&headers, false), None, "basic never writes");
    }

    #[test]
    fn the_openapi_document_is_json() {
        let doc: Json = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
