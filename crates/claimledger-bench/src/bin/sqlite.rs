//! `claimledger-sqlite`: the ledger as a data team would first build it, on SQLite with a hash
//! column, for the benchmark to measure `claims` against (docs/PERFORMANCE.md).
//!
//! It does the same work as `claims`: input lines go through the same parser
//! (`claimledger_core::input`), the same decisions (`decide_record`, `decide_revise`), and
//! become the same entry bytes with the same BLAKE3 chain (`Entry::encode`, `EntryHash::of`).
//! Only the storage differs: one SQLite database in WAL mode with `synchronous=FULL`, each entry
//! a row of its exact bytes with its `seq`, `hash` and `prev`, and the ledger's indexes (claim
//! id to revisions, key to claim, subject, claimant and tag to claims) as tables and SQL
//! indexes. An import is one transaction. `verify` re-reads every entry in order, recomputes
//! each hash, checks the chain, the stored columns and every rule `claims verify` checks on
//! entries, and then that the tables and indexes state exactly the facts the log implies.

use anyhow::{anyhow, bail, Context, Result};
use claimledger_cli::fields::FieldArgs;
use claimledger_cli::view::{by_amount, by_stated, claim_json, revision_json};
use claimledger_core::decide::{decide_record, decide_revise, ClaimState, EventContext};
use claimledger_core::diff::diff_claims;
use claimledger_core::input::{self, Command};
use claimledger_core::{Claim, ClaimId, Entry, EntryHash, Event, Key, Seq, Subject, Timestamp};
use claimledger_store::index::{self, Fact, IndexDigest};
use claimledger_store::{
    clamp_time, encode_entry, new_claim_id, Head, IdBits, LogChecker, RejectReason, SubmitContext,
};
use clap::{Args as ClapArgs, Parser, Subcommand};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value as Json};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The allocator `claims` uses, so that the comparison is of storage, not of allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The longest input line accepted, as `claims import` (LINE_LEN_MAX there).
const LINE_LEN_MAX: usize = 1 << 20;

/// The page cache: 64 MiB (a negative `cache_size` is in KiB).
const CACHE_KIB: i64 = 64 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries(
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    prev BLOB NOT NULL,
    bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS claims(
    id BLOB PRIMARY KEY,
    key TEXT,
    revision INTEGER NOT NULL,
    recorded_seq INTEGER NOT NULL,
    latest_seq INTEGER NOT NULL,
    subject TEXT NOT NULL,
    claimant TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS claims_key ON claims(key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS claims_subject ON claims(subject);
CREATE INDEX IF NOT EXISTS claims_claimant ON claims(claimant);
CREATE TABLE IF NOT EXISTS revisions(
    claim_id BLOB NOT NULL,
    revision INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY(claim_id, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags(
    tag TEXT NOT NULL,
    claim_id BLOB NOT NULL,
    PRIMARY KEY(tag, claim_id)
) WITHOUT ROWID;
";

/// The claims ledger on SQLite, for comparison.
#[derive(Debug, Parser)]
#[command(name = "claimledger-sqlite", version)]
struct Args {
    /// The database file
    #[arg(long, value_name = "FILE")]
    db: PathBuf,

    /// Who is writing [default: $CLAIMS_AUTHOR, then $USER]
    #[arg(long, global = true)]
    author: Option<String>,

    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create the database and its tables
    Init,
    /// Import JSON Lines in the input format, all or nothing
    Import { file: PathBuf },
    /// Record one claim, from flags or --json FILE (`-`: standard input)
    Add(Box<AddArgs>),
    /// One claim as of its latest revision
    Show {
        claim: String,
        #[arg(long)]
        json: bool,
    },
    /// Every revision of a claim, with what changed
    History {
        claim: String,
        #[arg(long)]
        json: bool,
    },
    /// Every claim about exactly SUBJECT, sorted by statement date then amount
    Compare {
        subject: String,
        #[arg(long)]
        json: bool,
    },
    /// Claims about a subject or below it
    List {
        #[arg(long)]
        subject: String,
        #[arg(long)]
        json: bool,
    },
    /// Recompute every hash and check the log and the indexes
    Verify {
        #[arg(long)]
        json: bool,
    },
}

/// The flags of `claims add` (docs/CLI.md), turned into the input format by the same code.
#[derive(Debug, ClapArgs)]
struct AddArgs {
    #[arg(long)]
    json: Option<PathBuf>,
    #[arg(long)]
    key: Option<String>,
    #[command(flatten)]
    fields: FieldArgs,
}

impl AddArgs {
    fn to_json(&self) -> Json {
        let mut object = self.fields.to_json(None);
        if let Some(key) = &self.key {
            object.insert("key".into(), Json::String(key.clone()));
        }
        Json::Object(object)
    }
}

/// A refusal of the input or a failed verify: exit 2 or 1, as `claims`.
#[derive(Debug)]
struct Refused {
    code: u8,
    message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

fn refuse(message: impl Into<String>) -> anyhow::Error {
    Refused {
        code: 2,
        message: message.into(),
    }
    .into()
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            match error.downcast_ref::<Refused>() {
                Some(refused) => ExitCode::from(refused.code),
                None => ExitCode::from(4),
            }
        }
    }
}

fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Cmd::Init => {
            open(&args.db, true)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Import { file } => import(&args.db, &file, args.author.as_deref()),
        Cmd::Add(add) => {
            let command = match &add.json {
                Some(path) => read_json(path)?,
                None => {
                    input::command_from_json(&add.to_json()).map_err(|e| refuse(e.to_string()))?
                }
            };
            if !matches!(command, Command::Record(_)) {
                return Err(refuse("field `op`: add records a new claim"));
            }
            let mut conn = open(&args.db, false)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut writer = Writer::new(&tx, args.author.as_deref())?;
            let receipt = writer
                .submit(&tx, &command)?
                .map_err(|reason| refuse(format!("{reason}; nothing was recorded")))?;
            tx.commit()?;
            writeln!(std::io::stdout(), "{}", receipt.0)?;
            eprintln!(
                "recorded claim {} as entry {}; head {}:{}",
                receipt.0, receipt.1, receipt.1, receipt.2
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Show { claim, json } => {
            let mut conn = open(&args.db, false)?;
            let tx = conn.transaction()?;
            let row = resolve(&tx, &claim)?
                .ok_or_else(|| refuse(format!("no claim has the id or key {claim:?}")))?;
            let state = load_state(&tx, &row)?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &claim_json(&state))?;
                writeln!(out)?;
            } else {
                write_claim(&mut out, &state)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::History { claim, json } => {
            let mut conn = open(&args.db, false)?;
            let tx = conn.transaction()?;
            let row = resolve(&tx, &claim)?
                .ok_or_else(|| refuse(format!("no claim has the id or key {claim:?}")))?;
            history(&tx, &row, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Compare { subject, json } => {
            let subject = Subject::parse(&subject).map_err(|r| refuse(format!("SUBJECT: {r}")))?;
            let mut conn = open(&args.db, false)?;
            let tx = conn.transaction()?;
            let mut claims = claims_about(&tx, &subject, false)?;
            claims.sort_by(|a, b| by_stated(a, b).then_with(|| by_amount(a, b)));
            write_states(&claims, json, true)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::List { subject, json } => {
            let subject =
                Subject::parse(&subject).map_err(|r| refuse(format!("--subject: {r}")))?;
            let mut conn = open(&args.db, false)?;
            let tx = conn.transaction()?;
            let claims = claims_about(&tx, &subject, true)?;
            write_states(&claims, json, false)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { json } => {
            let mut conn = open(&args.db, false)?;
            let tx = conn.transaction()?;
            let report = verify(&tx)?;
            drop(tx);
            let mut out = std::io::stdout().lock();
            if json {
                let problem = report
                    .problem
                    .as_ref()
                    .map(|(seq, what)| json!({"seq": seq, "what": what}));
                serde_json::to_writer_pretty(
                    &mut out,
                    &json!({
                        "ok": problem.is_none(),
                        "entries": report.entries,
                        "claims": report.claims,
                        "head": {"count": report.entries, "hash": report.head.to_hex()},
                        "problem": problem,
                    }),
                )?;
                writeln!(out)?;
            } else {
                match &report.problem {
                    None => writeln!(
                        out,
                        "OK: {} entries, {} claims; head {}:{}",
                        report.entries, report.claims, report.entries, report.head
                    )?,
                    Some((Some(seq), what)) => writeln!(out, "FAILED: entry {seq}: {what}")?,
                    Some((None, what)) => writeln!(out, "FAILED: {what}")?,
                }
            }
            Ok(if report.problem.is_none() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Opens the database with the settings every command uses; `create` makes the tables.
fn open(path: &Path, create: bool) -> Result<Connection> {
    if !create && !path.exists() {
        return Err(refuse(format!(
            "no database at {}; run init first",
            path.display()
        )));
    }
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(60))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("the database refused WAL mode ({mode})");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(32);
    if create {
        conn.execute_batch(SCHEMA)?;
    }
    Ok(conn)
}

fn author(given: Option<&str>) -> Result<String> {
    let author = match given {
        Some(author) => author.to_owned(),
        None => std::env::var("CLAIMS_AUTHOR")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into()),
    };
    input::check_author(&author).map_err(|e| refuse(format!("author {author:?}: {}", e.reason)))?;
    Ok(author)
}

/// Reads one JSON object from a file or `-`, as `claims add --json`.
fn read_json(path: &Path) -> Result<Command> {
    let name = path.display().to_string();
    let mut text = String::new();
    if name == "-" {
        std::io::stdin().lock().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    }
    input::parse_command(&text).map_err(|e| refuse(format!("{name}: {e}")))
}

fn blob_id(bytes: &[u8]) -> Result<ClaimId> {
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| anyhow!("a claim id of {} bytes", bytes.len()))?;
    ClaimId::from_bytes(bytes).map_err(|e| anyhow!("a stored claim id: {e}"))
}

fn blob_hash(bytes: &[u8]) -> Option<EntryHash> {
    bytes.try_into().ok().map(EntryHash)
}

/// A claim's row: what the index says about it.
#[derive(Debug)]
struct ClaimRow {
    id: ClaimId,
    key: Option<String>,
    revision: u32,
    recorded_seq: u64,
    latest_seq: u64,
}

const CLAIM_COLUMNS: &str = "id, key, revision, recorded_seq, latest_seq";

/// A `claims` row as read: id, key, revision, recorded_seq, latest_seq.
type RawClaimRow = (Vec<u8>, Option<String>, u32, u64, u64);

fn claim_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawClaimRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_claim_row(raw: RawClaimRow) -> Result<ClaimRow> {
    Ok(ClaimRow {
        id: blob_id(&raw.0)?,
        key: raw.1,
        revision: raw.2,
        recorded_seq: raw.3,
        latest_seq: raw.4,
    })
}

/// The claim an id or key names, as `claims` resolves it: an id first, then a key.
fn resolve(conn: &Connection, id_or_key: &str) -> Result<Option<ClaimRow>> {
    let raw = if let Ok(id) = ClaimId::parse(id_or_key) {
        conn.prepare_cached(&format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE id = ?1"))?
            .query_row([&id.as_bytes()[..]], claim_row)
            .optional()?
    } else if Key::parse(id_or_key).is_ok() {
        conn.prepare_cached(&format!(
            "SELECT {CLAIM_COLUMNS} FROM claims WHERE key = ?1"
        ))?
        .query_row([id_or_key], claim_row)
        .optional()?
    } else {
        None
    };
    raw.map(to_claim_row).transpose()
}

/// Reads and decodes entry `seq`, checking it is where it says.
fn entry(conn: &Connection, seq: u64) -> Result<(Entry, EntryHash)> {
    let bytes: Vec<u8> = conn
        .prepare_cached("SELECT bytes FROM entries WHERE seq = ?1")?
        .query_row([seq], |row| row.get(0))
        .optional()?
        .ok_or_else(|| anyhow!("entry {seq}: the index names an entry the log does not hold"))?;
    let entry = Entry::decode(&bytes).map_err(|e| anyhow!("entry {seq}: {e}"))?;
    if entry.seq.0 != seq {
        bail!(
            "entry {seq}: the entry stored here says it is entry {}",
            entry.seq
        );
    }
    Ok((entry, EntryHash::of(&bytes)))
}

/// Checks that an entry is the revision of the claim the index says.
fn expect_revision(entry: &Entry, id: ClaimId, revision: u32) -> Result<()> {
    if entry.event.claim_id() != id || entry.event.revision() != revision {
        bail!(
            "entry {}: the index says this is revision {revision} of claim {id}, but the entry \
             disagrees",
            entry.seq
        );
    }
    Ok(())
}

/// A claim as of its latest revision, from its first and latest entries (as `claims`).
fn load_state(conn: &Connection, row: &ClaimRow) -> Result<ClaimState> {
    let (recorded, _) = entry(conn, row.recorded_seq)?;
    expect_revision(&recorded, row.id, 1)?;
    let latest = if row.latest_seq == row.recorded_seq {
        recorded.clone()
    } else {
        let (latest, _) = entry(conn, row.latest_seq)?;
        expect_revision(&latest, row.id, row.revision)?;
        latest
    };
    Ok(state_of(row, &recorded, &latest))
}

fn state_of(row: &ClaimRow, recorded: &Entry, latest: &Entry) -> ClaimState {
    ClaimState {
        id: row.id,
        key: row.key.as_deref().and_then(|k| Key::parse(k).ok()),
        revision: row.revision,
        claim: latest.event.claim().clone(),
        recorded_at: recorded.event.recorded_at(),
        revised_at: latest.event.recorded_at(),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Appends entries inside one transaction, as `Ledger::submit` decides and encodes them.
struct Writer {
    context: SubmitContext,
    event_context: EventContext,
    /// The last claim id, read when the first record needs it.
    last_id: Option<Option<ClaimId>>,
    prev: EntryHash,
    seq: u64,
}

impl Writer {
    fn new(conn: &Connection, author_flag: Option<&str>) -> Result<Writer> {
        let now = Timestamp::new(chrono::Utc::now());
        let last: Option<(u64, Vec<u8>)> = conn
            .query_row(
                "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let (seq, prev, now) = match last {
            None => (1, EntryHash::ZERO, now),
            Some((count, hash)) => {
                let (last, _) = entry(conn, count)?;
                let hash =
                    blob_hash(&hash).ok_or_else(|| anyhow!("entry {count}: a bad hash column"))?;
                (
                    count + 1,
                    hash,
                    clamp_time(now, Some(last.event.recorded_at())),
                )
            }
        };
        let default_author = author(author_flag)?;
        Ok(Writer {
            context: SubmitContext {
                now,
                default_author: default_author.clone(),
                id_bits: if std::env::var_os("CLAIMS_NOW").is_some() {
                    IdBits::Derived
                } else {
                    IdBits::Random
                },
            },
            event_context: EventContext {
                now,
                default_author,
            },
            last_id: None,
            prev,
            seq,
        })
    }

    /// Decides, encodes and inserts one command. `Ok(Err(reason))`: refused.
    fn submit(
        &mut self,
        conn: &Connection,
        command: &Command,
    ) -> Result<std::result::Result<(ClaimId, u64, EntryHash), String>> {
        let (event, previous) = match command {
            Command::Record(record) => {
                let key_owner = match &record.key {
                    None => None,
                    Some(key) => resolve(conn, key.as_str())?.map(|row| row.id),
                };
                let last = match self.last_id {
                    Some(last) => last,
                    None => conn
                        .query_row(
                            "SELECT id FROM claims ORDER BY id DESC LIMIT 1",
                            [],
                            |row| row.get::<_, Vec<u8>>(0),
                        )
                        .optional()?
                        .map(|bytes| blob_id(&bytes))
                        .transpose()?,
                };
                let id = new_claim_id(&self.context, self.prev, Seq(self.seq), last)?;
                match decide_record(record, id, key_owner, &self.event_context) {
                    Ok(event) => {
                        // Only once the command is accepted.
                        self.last_id = Some(Some(id));
                        (event, None)
                    }
                    Err(e) => return Ok(Err(RejectReason::from(e).to_string())),
                }
            }
            Command::Revise(revise) => {
                let Some(row) = resolve(conn, &revise.claim)? else {
                    return Ok(Err(format!(
                        "field `claim`: no claim has the id or key {:?}",
                        revise.claim
                    )));
                };
                let current = load_state(conn, &row)?;
                match decide_revise(revise, &current, &self.event_context) {
                    Ok(event) => (event, Some(current)),
                    Err(e) => return Ok(Err(RejectReason::from(e).to_string())),
                }
            }
        };
        let seq = self.seq;
        let (entry, bytes, hash) = match encode_entry(Seq(seq), self.prev, event) {
            Ok(encoded) => encoded,
            Err(reason) => return Ok(Err(reason.to_string())),
        };
        conn.prepare_cached("INSERT INTO entries(seq, hash, prev, bytes) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![seq, &hash.0[..], &self.prev.0[..], bytes])?;
        let id = entry.event.claim_id();
        let id_blob = &id.as_bytes()[..];
        let claim = entry.event.claim();
        match (&entry.event, previous) {
            (Event::ClaimRecorded(recorded), _) => {
                conn.prepare_cached(
                    "INSERT INTO claims(id, key, revision, recorded_seq, latest_seq, subject, \
                     claimant) VALUES (?1, ?2, 1, ?3, ?3, ?4, ?5)",
                )?
                .execute(params![
                    id_blob,
                    recorded.key.as_ref().map(Key::as_str),
                    seq,
                    claim.subject.as_str(),
                    claim.claimant
                ])?;
                for tag in &claim.tags {
                    conn.prepare_cached("INSERT INTO tags(tag, claim_id) VALUES (?1, ?2)")?
                        .execute(params![tag.as_str(), id_blob])?;
                }
            }
            (Event::ClaimRevised(revised), Some(before)) => {
                conn.prepare_cached(
                    "UPDATE claims SET revision = ?2, latest_seq = ?3, subject = ?4, \
                     claimant = ?5 WHERE id = ?1",
                )?
                .execute(params![
                    id_blob,
                    revised.revision,
                    seq,
                    claim.subject.as_str(),
                    claim.claimant
                ])?;
                for tag in before.claim.tags.iter().filter(|t| !claim.tags.contains(t)) {
                    conn.prepare_cached("DELETE FROM tags WHERE tag = ?1 AND claim_id = ?2")?
                        .execute(params![tag.as_str(), id_blob])?;
                }
                for tag in claim.tags.iter().filter(|t| !before.claim.tags.contains(t)) {
                    conn.prepare_cached("INSERT INTO tags(tag, claim_id) VALUES (?1, ?2)")?
                        .execute(params![tag.as_str(), id_blob])?;
                }
            }
            (Event::ClaimRevised(_), None) => unreachable!("a revise has its claim"),
        }
        conn.prepare_cached("INSERT INTO revisions(claim_id, revision, seq) VALUES (?1, ?2, ?3)")?
            .execute(params![id_blob, entry.event.revision(), seq])?;
        self.prev = hash;
        self.seq += 1;
        Ok(Ok((id, seq, hash)))
    }
}

/// Parses every line as `claims import` does and inserts it, all in one transaction.
fn import(db: &Path, file: &Path, author_flag: Option<&str>) -> Result<ExitCode> {
    let name = file.display().to_string();
    let reader: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| refuse(format!("cannot read {name}: {e}")))?)
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut conn = open(db, true)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut writer = Writer::new(&tx, author_flag)?;
    let (mut recorded, mut revised) = (0u64, 0u64);
    let mut last = None;
    let mut line = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        line.clear();
        number += 1;
        let read = (&mut reader)
            .take(LINE_LEN_MAX as u64 + 2)
            .read_until(b'\n', &mut line)
            .map_err(|e| refuse(format!("{name}: line {number}: cannot read: {e}")))?;
        if read == 0 {
            break;
        }
        let content = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(&line);
        if content.len() > LINE_LEN_MAX {
            return Err(refuse(format!(
                "{name}: line {number}: longer than {LINE_LEN_MAX} bytes"
            )));
        }
        let text = std::str::from_utf8(content).map_err(|e| {
            refuse(format!(
                "{name}: line {number}: not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ))
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let command = input::parse_command(text)
            .map_err(|e| refuse(format!("{name}: line {number}: {e}")))?;
        let receipt = writer.submit(&tx, &command)?.map_err(|reason| {
            refuse(format!(
                "{name}: line {number}: {reason}; nothing was imported"
            ))
        })?;
        match command {
            Command::Record(_) => recorded += 1,
            Command::Revise(_) => revised += 1,
        }
        last = Some(receipt);
    }
    let Some((_, count, hash)) = last else {
        return Err(refuse(format!("{name}: no claims in the file")));
    };
    tx.commit()?;
    // Closing the last connection checkpoints the WAL into the database and removes it.
    conn.close().map_err(|(_, e)| e)?;
    writeln!(
        std::io::stdout(),
        "imported {} entries ({recorded} recorded, {revised} revised); head {count}:{hash}",
        recorded + revised
    )?;
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// Reading

fn figure(claim: &Claim) -> String {
    claim
        .value
        .as_ref()
        .and_then(|v| serde_json::to_string(v).ok())
        .unwrap_or_default()
}

fn write_claim(out: &mut impl Write, state: &ClaimState) -> Result<()> {
    let claim = &state.claim;
    match &state.key {
        Some(key) => writeln!(out, "claim      {key} ({})", state.id)?,
        None => writeln!(out, "claim      {}", state.id)?,
    }
    writeln!(out, "subject    {}", claim.subject)?;
    writeln!(out, "claimant   {}", claim.claimant)?;
    writeln!(out, "statement  {}", claim.statement)?;
    if claim.value.is_some() {
        writeln!(out, "figure     {}", figure(claim))?;
    }
    if let Some(period) = &claim.period {
        writeln!(out, "period     {}", serde_json::to_string(period)?)?;
    }
    if let Some(stated_on) = &claim.stated_on {
        writeln!(out, "stated on  {stated_on}")?;
    }
    writeln!(out, "status     {}", claim.status.as_str())?;
    for source in &claim.sources {
        writeln!(out, "source     {}", serde_json::to_string(source)?)?;
    }
    writeln!(
        out,
        "revision   {} (recorded {}, last revised {})",
        state.revision, state.recorded_at, state.revised_at
    )?;
    Ok(())
}

fn history(conn: &Connection, row: &ClaimRow, json: bool) -> Result<()> {
    let mut seqs = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT revision, seq FROM revisions WHERE claim_id = ?1 ORDER BY revision",
        )?;
        let mut rows = stmt.query([&row.id.as_bytes()[..]])?;
        while let Some(r) = rows.next()? {
            seqs.push((r.get::<_, u32>(0)?, r.get::<_, u64>(1)?));
        }
    }
    let mut revisions = Vec::with_capacity(seqs.len());
    for (revision, seq) in seqs {
        let (entry, hash) = entry(conn, seq)?;
        expect_revision(&entry, row.id, revision)?;
        revisions.push((entry, hash));
    }
    let mut out = std::io::stdout().lock();
    let mut items = Vec::new();
    if !json {
        writeln!(
            out,
            "{}: {} revisions",
            row.key.clone().unwrap_or_else(|| row.id.to_string()),
            revisions.len()
        )?;
    }
    for (i, (entry, hash)) in revisions.iter().enumerate() {
        let event = &entry.event;
        let changes = match i.checked_sub(1) {
            Some(p) => diff_claims(revisions[p].0.event.claim(), event.claim()),
            None => Vec::new(),
        };
        if json {
            let previous = i.checked_sub(1).map(|p| revisions[p].0.event.claim());
            items.push(revision_json(entry, hash, previous));
        } else {
            writeln!(out)?;
            writeln!(
                out,
                "revision {} · entry {} · {} · by {}",
                event.revision(),
                entry.seq,
                event.recorded_at(),
                event.author()
            )?;
            match event {
                Event::ClaimRecorded(_) => writeln!(out, "  recorded: {}", figure(event.claim()))?,
                Event::ClaimRevised(e) => writeln!(out, "  {}: {}", e.kind.as_str(), e.reason)?,
            }
            writeln!(out, "  hash {hash}")?;
            for change in changes {
                let show = |v: &Option<Json>| v.as_ref().map_or("(none)".into(), Json::to_string);
                writeln!(
                    out,
                    "  {}: {} → {}",
                    change.field,
                    show(&change.before),
                    show(&change.after)
                )?;
            }
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut out, &Json::Array(items))?;
        writeln!(out)?;
    }
    Ok(())
}

/// The claims about `subject` (and, with `below`, every subject under it), each as of its
/// latest revision, in the order they were recorded. The subject index finds them; each is
/// then read from its first and latest entries, as `claims` reads them.
fn claims_about(conn: &Connection, subject: &Subject, below: bool) -> Result<Vec<ClaimState>> {
    let sql = if below {
        format!(
            "SELECT {CLAIM_COLUMNS} FROM claims WHERE subject = ?1 OR (subject >= ?1 || '/' \
             AND subject < ?1 || '0') ORDER BY id"
        )
    } else {
        format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE subject = ?1 ORDER BY id")
    };
    let mut rows = Vec::new();
    {
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut found = stmt.query([subject.as_str()])?;
        while let Some(row) = found.next()? {
            rows.push(to_claim_row(claim_row(row)?)?);
        }
    }
    let mut states = Vec::with_capacity(rows.len());
    for row in &rows {
        let state = load_state(conn, row)?;
        if state.claim.subject != *subject
            && !(below
                && state
                    .claim
                    .subject
                    .as_str()
                    .starts_with(&format!("{subject}/")))
        {
            bail!(
                "the subject index lists claim {} under {subject}, but its latest revision is \
                 about {}",
                row.id,
                state.claim.subject
            );
        }
        states.push(state);
    }
    Ok(states)
}

fn write_states(claims: &[ClaimState], json: bool, compare: bool) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        let items: Vec<Json> = claims.iter().map(claim_json).collect();
        serde_json::to_writer_pretty(&mut out, &Json::Array(items))?;
        writeln!(out)?;
    } else {
        if compare {
            writeln!(out, "CLAIMANT\tFIGURE\tPERIOD\tSTATED\tREVISIONS\tSTATUS")?;
        }
        for c in claims {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}",
                c.claim.claimant,
                figure(&c.claim),
                c.claim
                    .period
                    .as_ref()
                    .and_then(|p| serde_json::to_string(p).ok())
                    .unwrap_or_default(),
                c.claim
                    .stated_on
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                c.revision,
                c.claim.status.as_str()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Verify

#[derive(Debug)]
struct Report {
    entries: u64,
    claims: u64,
    head: EntryHash,
    problem: Option<(Option<u64>, String)>,
}

type Problem = (Option<u64>, String);

fn at(seq: u64, what: impl Into<String>) -> Problem {
    (Some(seq), what.into())
}

fn problem_of(problem: claimledger_store::Problem) -> Problem {
    (problem.seq.map(|seq| seq.0), problem.what)
}

/// The columns stored beside an entry's bytes, checked against what the log checker computes.
struct Columns {
    seq: u64,
    hash: Vec<u8>,
    prev: Vec<u8>,
}

/// Checks the stored hash and prev columns of the entries the checker has checked since the
/// last call, given their hashes in order; `prev` is the hash of the entry before them.
fn check_columns(
    pending: &mut std::collections::VecDeque<Columns>,
    hashes: Vec<EntryHash>,
    prev: &mut EntryHash,
) -> Option<Problem> {
    for hash in hashes {
        let columns = pending.pop_front()?;
        if blob_hash(&columns.hash) != Some(hash) {
            return Some(at(
                columns.seq,
                "its bytes do not hash to its stored hash: the entry or its hash was altered",
            ));
        }
        if blob_hash(&columns.prev) != Some(*prev) {
            return Some(at(
                columns.seq,
                "its stored prev is not the hash of the entry before",
            ));
        }
        *prev = hash;
    }
    None
}

/// Every check of `claims verify` that needs only the entries, by the store's own checker
/// ([`LogChecker`]), fed from the entries table; then the columns beside each entry, and the
/// tables and SQL indexes against the log.
fn verify(conn: &Connection) -> Result<Report> {
    let mut check = LogChecker::new(None, None);
    check.keep_hashes();
    let mut pending = std::collections::VecDeque::new();
    let mut prev = EntryHash::ZERO;
    // A problem in the columns, found before the checker reached its entry.
    let mut columns_problem = None;
    let mut last = None;
    {
        let mut stmt = conn.prepare("SELECT seq, hash, prev, bytes FROM entries ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut expected = 1u64;
        while let Some(row) = rows.next()? {
            let seq: u64 = row.get(0)?;
            if seq != expected {
                columns_problem = Some(at(
                    expected,
                    format!("the log holds entry {seq} where entry {expected} belongs: sequence numbers must be dense"),
                ));
                break;
            }
            // Blob or text alike: whatever the column holds is what is checked.
            let bytes = |i: usize| -> rusqlite::Result<&[u8]> { Ok(row.get_ref(i)?.as_bytes()?) };
            let hash = bytes(1)?.to_vec();
            last = Some((seq, blob_hash(&hash)));
            pending.push_back(Columns {
                seq,
                hash,
                prev: bytes(2)?.to_vec(),
            });
            let flow = check.push(Seq(seq), bytes(3)?);
            columns_problem = check_columns(&mut pending, check.take_hashes(), &mut prev);
            if flow.is_break() || columns_problem.is_some() {
                break;
            }
            expected += 1;
        }
    }
    // The head the table's last row gives: which of two entries a broken link altered.
    check.set_head(last.and_then(|(count, hash)| Some(Head { count, hash: hash? })));
    let mut problem = check.finish().map(problem_of);
    if columns_problem.is_none() {
        columns_problem = check_columns(&mut pending, check.take_hashes(), &mut prev);
    }
    // The first of the two; for one entry, what its columns show, checked first.
    problem = match (problem, columns_problem) {
        (Some(a), Some(b)) => Some(if b.0.unwrap_or(u64::MAX) <= a.0.unwrap_or(u64::MAX) {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    };
    let report = |problem| Report {
        entries: check.entries_checked(),
        claims: check.claim_count(),
        head: check.last_hash(),
        problem,
    };
    if problem.is_some() {
        return Ok(report(problem));
    }
    Ok(report(check_index(conn, &check)?))
}

/// The tables and SQL indexes against the log: each claim's row (its revision, and its first
/// and latest entries as `revisions` gives them), and the digest of every fact they state
/// (revision locations from `revisions`, keys from `claims` and from its key index, subjects and
/// claimants from their indexes, tags from `tags`).
fn check_index(conn: &Connection, check: &LogChecker) -> Result<Option<Problem>> {
    let key = check.fact_key();
    let mut stored = IndexDigest::default();
    let mut rows = 0u64;
    {
        let mut stmt = conn.prepare(&format!("SELECT {CLAIM_COLUMNS} FROM claims"))?;
        let mut found = stmt.query([])?;
        while let Some(row) = found.next()? {
            let row = to_claim_row(claim_row(row)?)?;
            rows += 1;
            let Some(revision) = check.claim_revision(row.id) else {
                return Ok(Some((
                    None,
                    format!(
                        "the claims table holds claim {}, which the log never records",
                        row.id
                    ),
                )));
            };
            if revision != row.revision {
                return Ok(Some((
                    None,
                    format!(
                        "the claims table says claim {} is at revision {}, the log says {revision}",
                        row.id, row.revision
                    ),
                )));
            }
            if let Some(text) = &row.key {
                stored.add(
                    &key,
                    &Fact::ClaimKey {
                        id: row.id,
                        key: Cow::Borrowed(text),
                    },
                );
            }
        }
    }
    if rows != check.claim_count() {
        return Ok(Some((
            None,
            format!(
                "the claims table holds {rows} claims, the log records {}",
                check.claim_count()
            ),
        )));
    }
    let mut scan = |sql: &str, fact: &dyn Fn(&str, ClaimId) -> Fact<'_>| -> Result<()> {
        let mut stmt = conn.prepare(sql)?;
        let mut found = stmt.query([])?;
        while let Some(row) = found.next()? {
            let text: String = row.get(0)?;
            let id = blob_id(&row.get::<_, Vec<u8>>(1)?)?;
            stored.add(&key, &fact(&text, id));
        }
        Ok(())
    };
    scan(
        "SELECT key, id FROM claims INDEXED BY claims_key WHERE key IS NOT NULL ORDER BY key",
        &|key, id| Fact::KeyClaim {
            key: Cow::Owned(key.to_owned()),
            id,
        },
    )?;
    scan(
        "SELECT subject, id FROM claims INDEXED BY claims_subject ORDER BY subject",
        &|label, id| Fact::Label {
            kind: index::SUBJECT,
            label: Cow::Owned(label.to_owned()),
            id,
        },
    )?;
    scan(
        "SELECT claimant, id FROM claims INDEXED BY claims_claimant ORDER BY claimant",
        &|label, id| Fact::Label {
            kind: index::CLAIMANT,
            label: Cow::Owned(label.to_owned()),
            id,
        },
    )?;
    scan("SELECT tag, claim_id FROM tags", &|label, id| Fact::Label {
        kind: index::TAG,
        label: Cow::Owned(label.to_owned()),
        id,
    })?;
    {
        let mut stmt = conn.prepare("SELECT claim_id, revision, seq FROM revisions")?;
        let mut found = stmt.query([])?;
        while let Some(row) = found.next()? {
            let id = blob_id(&row.get::<_, Vec<u8>>(0)?)?;
            stored.add(
                &key,
                &Fact::Revision {
                    id,
                    revision: row.get(1)?,
                    seq: Seq(row.get(2)?),
                },
            );
        }
    }
    if stored != check.index_digest() {
        return Ok(Some((
            None,
            format!(
                "the indexes do not agree with the log: they state {} facts, the log implies {}{}",
                stored.count,
                check.index_digest().count,
                if stored.count == check.index_digest().count {
                    " (some differ)"
                } else {
                    ""
                }
            ),
        )));
    }
    // Each row's first and latest entries are those of its revisions 1 and latest (whose
    // entries the digest above held to the log).
    let misplaced: Option<Vec<u8>> = conn
        .query_row(
            "SELECT c.id FROM claims c \
             LEFT JOIN revisions f ON f.claim_id = c.id AND f.revision = 1 \
             LEFT JOIN revisions l ON l.claim_id = c.id AND l.revision = c.revision \
             WHERE f.seq IS NOT c.recorded_seq OR l.seq IS NOT c.latest_seq LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(id) = misplaced {
        return Ok(Some((
            None,
            format!(
                "the claims table gives claim {} entries its revisions do not",
                blob_id(&id)?
            ),
        )));
    }
    Ok(None)
}
