//! `claims monitor`: follows a published log and checks everything new since it last looked.
//!
//! The monitor keeps, in its state ([`MonitorState`]), the last checkpoint it accepted, the
//! right edge of that tree (the roots of its perfect subtrees, and its partial tiles), and the
//! state of the store's entry checker (`claimledger_store::EntryCheck`: the chain, and what the
//! rules of verify need to know about the claims seen). A run:
//!
//! 1. fetches the checkpoint and checks its signature (and cosignatures, with a quorum);
//! 2. refuses a smaller size (a rollback) or another root for the same size (a fork);
//! 3. fetches the entry bundles past the last size, decodes them strictly, and hashes every
//!    new entry into the tree from the right edge it holds: the root must be the checkpoint's,
//!    which shows both that the entries are the log's and that the new tree extends the old one
//!    (a consistency check with the hashes a proof would carry); entries seen before, in a
//!    bundle that was partial, must be the ones seen;
//! 4. fetches the tiles past the last size: each must hold exactly the hashes computed, and
//!    start with what its partial version held before;
//! 5. runs every entry through the entry checker: decoding, the chain, and every rule verify
//!    applies to entries.
//!
//! When the root does not match, the tiles tell which side lies: if they give the
//! checkpoint's root, a bundle was rewritten (the first entry whose leaf is not the tile's is
//! named); otherwise the checkpoint is not consistent with what was seen before (a fork), or,
//! from an empty state, with its own tiles.
//!
//! Nothing of a run is kept unless all of it checks out: the caller writes the new state only
//! then ([`save_state`], atomically).

use crate::cosignature::{self, CosignatureVerifier};
use crate::layout::{
    decode_bundle, new_objects, ObjectName, CHECKPOINT_LEN_MAX, CHECKPOINT_PATH, TILE_WIDTH,
};
use crate::objects::{in_parallel, ObjectError, ObjectSource};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use claimledger_core::checkpoint::{self, Checkpoint, VerifierKeyText};
use claimledger_core::merkle::{record_hash, Frontier, Hash, HashReader, HASH_SIZE, TILE_HEIGHT};
use claimledger_core::Seq;
use claimledger_store::EntryCheck;
use std::collections::BTreeMap;
use std::path::Path;

/// Bundles fetched and checked per step: 16,384 entries.
const STEP_BUNDLES: usize = 64;

/// Objects fetched at once.
const FETCH_CONCURRENCY: usize = 8;

/// The state file's format.
const STATE_FORMAT: u32 = 1;

/// What to check a log with.
#[derive(Debug)]
pub struct MonitorOptions {
    /// The log's verifier key.
    pub key: VerifierKeyText,
    /// Witnesses whose cosignatures count.
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have cosigned the checkpoint.
    pub quorum: usize,
}

/// What the monitor keeps between runs.
#[derive(Debug)]
pub struct MonitorState {
    pub origin: String,
    pub size: u64,
    /// The checkpoint accepted last, as published.
    pub checkpoint: String,
    root: Hash,
    /// The roots of the tree's perfect subtrees, largest first (one per set bit of `size`).
    peaks: Vec<Hash>,
    /// The partial tile at the end of each tile level: (level, index) → its hashes.
    edge: BTreeMap<(u8, u64), Vec<u8>>,
    checker: EntryCheck,
}

/// The JSON head of a state file; the entry checker's state follows it, after a newline.
#[derive(serde::Serialize, serde::Deserialize)]
struct StateHead {
    format: u32,
    origin: String,
    size: u64,
    checkpoint: String,
    root: String,
    peaks: Vec<String>,
    edge: Vec<(u8, u64, String)>,
}

/// Reads a state file written by [`save_state`]; `None` when there is none yet.
pub fn load_state(path: &Path) -> Result<Option<MonitorState>, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let damaged = |why: String| {
        format!(
            "{} is not a monitor state file of this build ({why}); give another --state to \
             start afresh",
            path.display()
        )
    };
    let newline = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| damaged("no header line".into()))?;
    let (head, checker) = bytes.split_at(newline);
    let head: StateHead = serde_json::from_slice(head).map_err(|e| damaged(e.to_string()))?;
    if head.format != STATE_FORMAT {
        return Err(damaged(format!("state format {}", head.format)));
    }
    let hash = |text: &str| -> Result<Hash, String> {
        let bytes = BASE64_STANDARD
            .decode(text)
            .map_err(|e| damaged(e.to_string()))?;
        Ok(Hash(
            bytes
                .try_into()
                .map_err(|_| damaged("a hash is not 32 bytes".into()))?,
        ))
    };
    let peaks = head
        .peaks
        .iter()
        .map(|p| hash(p))
        .collect::<Result<Vec<_>, _>>()?;
    if peaks.len() != head.size.count_ones() as usize {
        return Err(damaged("the tree's edge does not fit its size".into()));
    }
    let mut edge = BTreeMap::new();
    for (level, index, tile) in head.edge {
        let tile = BASE64_STANDARD
            .decode(tile)
            .map_err(|e| damaged(e.to_string()))?;
        edge.insert((level, index), tile);
    }
    let checker = EntryCheck::restore(&checker[1..]).map_err(damaged)?;
    Ok(Some(MonitorState {
        root: hash(&head.root)?,
        origin: head.origin,
        size: head.size,
        checkpoint: head.checkpoint,
        peaks,
        edge,
        checker,
    }))
}

/// Writes the state atomically: a temporary file in the same directory, synced, renamed over
/// the old one, and the directory synced.
pub fn save_state(path: &Path, state: &MonitorState) -> Result<(), String> {
    use std::io::Write;
    let head = StateHead {
        format: STATE_FORMAT,
        origin: state.origin.clone(),
        size: state.size,
        checkpoint: state.checkpoint.clone(),
        root: BASE64_STANDARD.encode(state.root.0),
        peaks: state
            .peaks
            .iter()
            .map(|p| BASE64_STANDARD.encode(p.0))
            .collect(),
        edge: state
            .edge
            .iter()
            .map(|((level, index), tile)| (*level, *index, BASE64_STANDARD.encode(tile)))
            .collect(),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut temp = tempfile::Builder::new()
        .prefix(".monitor-state-")
        .tempfile_in(dir)
        .map_err(fail)?;
    let head = serde_json::to_vec(&head).map_err(|e| e.to_string())?;
    temp.write_all(&head)
        .and_then(|()| temp.write_all(b"\n"))
        .and_then(|()| temp.write_all(&state.checker.save()))
        .and_then(|()| temp.as_file().sync_all())
        .map_err(fail)?;
    temp.persist(path).map_err(|e| fail(e.error))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail)
}

/// What a run found new.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MonitorReport {
    pub origin: String,
    /// The size accepted before this run (0: none).
    pub old_size: u64,
    pub size: u64,
    pub new_entries: u64,
    pub claims_recorded: u64,
    pub revisions_recorded: u64,
    pub tiles_checked: u64,
    pub bundles_checked: u64,
    pub bytes_fetched: u64,
    /// The witnesses whose cosignatures on the checkpoint verified.
    pub cosigned_by: Vec<String>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The log is broken or lies: a fork, a rollback, a rewritten tile or bundle, an invalid
    /// entry, a bad signature.
    #[error("{0}")]
    Integrity(String),
    /// The log could not be read.
    #[error("{0}")]
    Unavailable(String),
    /// The state is of another log.
    #[error("{0}")]
    Usage(String),
}

impl From<ObjectError> for MonitorError {
    fn from(error: ObjectError) -> MonitorError {
        match error {
            ObjectError::TooLarge { .. } => MonitorError::Integrity(error.to_string()),
            ObjectError::Unavailable { .. } => MonitorError::Unavailable(error.to_string()),
        }
    }
}

/// Something to do with each new entry besides the checks (such as fetching the evidence it
/// names from the same log): an error stops the run as an integrity failure.
pub type EntryHook<'a> = dyn FnMut(Seq, &[u8], &dyn ObjectSource) -> Result<(), String> + 'a;

fn integrity(message: impl Into<String>) -> MonitorError {
    MonitorError::Integrity(message.into())
}

/// Reads the peaks of a tree from the monitor's state, as `Frontier::read` asks for them.
struct Peaks<'a> {
    indexes: Vec<u64>,
    hashes: &'a [Hash],
}

impl HashReader for Peaks<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|index| {
                self.indexes
                    .iter()
                    .position(|i| i == index)
                    .and_then(|at| self.hashes.get(at).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Checks what `source` publishes past `state` (a first run: `None`), and returns what is new
/// and the state to keep.
pub fn run(
    source: &dyn ObjectSource,
    options: &MonitorOptions,
    state: Option<MonitorState>,
    on_entry: &mut EntryHook<'_>,
) -> Result<(MonitorReport, MonitorState), MonitorError> {
    let where_ = source.describe();
    let text = source
        .get(CHECKPOINT_PATH, CHECKPOINT_LEN_MAX)?
        .ok_or_else(|| MonitorError::Unavailable(format!("{where_} has no checkpoint")))?;
    let text = String::from_utf8(text)
        .map_err(|_| integrity(format!("{where_}checkpoint is not UTF-8")))?;
    let checkpoint = checkpoint::open_signed_checkpoint(&text, options.key.as_str())
        .map_err(|e| integrity(format!("{where_}checkpoint: {e}")))?;
    let cosigned_by = if options.witnesses.is_empty() {
        Vec::new()
    } else {
        cosignature::check_quorum(&text, &options.witnesses, options.quorum)
            .map_err(|e| integrity(format!("{where_}checkpoint: {e}")))?
    };

    let (old_size, old_root, frontier, edge, checker) = match state {
        None => (
            0,
            claimledger_core::merkle::EMPTY_HASH,
            Frontier::new(),
            BTreeMap::new(),
            EntryCheck::new(),
        ),
        Some(state) => {
            if state.origin != checkpoint.origin {
                return Err(MonitorError::Usage(format!(
                    "the state is of the log {:?}, but {where_} publishes {:?}; give each log \
                     its own --state",
                    state.origin, checkpoint.origin
                )));
            }
            let frontier = Frontier::read(
                state.size,
                &Peaks {
                    indexes: tlog_tiles::sub_tree_index(0, state.size, Vec::new()),
                    hashes: &state.peaks,
                },
            )
            .map_err(|_| MonitorError::Usage("the state's tree edge is damaged".into()))?;
            (state.size, state.root, frontier, state.edge, state.checker)
        }
    };
    if checkpoint.size < old_size {
        return Err(integrity(format!(
            "rollback: {where_} now publishes a checkpoint of {} entries, but one of {old_size} \
             was seen before",
            checkpoint.size
        )));
    }
    if checkpoint.size == old_size && checkpoint.root != old_root.0 {
        return Err(integrity(format!(
            "fork: {where_} publishes a checkpoint of {old_size} entries with root {}, but the \
             one seen before had root {old_root}",
            Hash(checkpoint.root)
        )));
    }
    let mut run = Run {
        source,
        where_: &where_,
        checkpoint: &checkpoint,
        old_size,
        frontier,
        old_frontier_peaks: Frontier::new(),
        edge,
        computed: BTreeMap::new(),
        checker,
        report: MonitorReport {
            origin: checkpoint.origin.clone(),
            old_size,
            size: checkpoint.size,
            cosigned_by,
            bytes_fetched: text.len() as u64,
            ..MonitorReport::default()
        },
    };
    run.old_frontier_peaks = run.frontier.clone();
    run.entries(on_entry)?;
    run.tiles()?;
    let peaks = run
        .frontier
        .read_hashes(&tlog_tiles::sub_tree_index(0, checkpoint.size, Vec::new()))
        .map_err(|e| integrity(format!("the tree's edge: {e}")))?;
    let edge = run.new_edge();
    let state = MonitorState {
        origin: checkpoint.origin.clone(),
        size: checkpoint.size,
        checkpoint: text,
        root: Hash(checkpoint.root),
        peaks,
        edge,
        checker: run.checker,
    };
    Ok((run.report, state))
}

struct Run<'a> {
    source: &'a dyn ObjectSource,
    where_: &'a str,
    checkpoint: &'a Checkpoint,
    old_size: u64,
    frontier: Frontier,
    old_frontier_peaks: Frontier,
    /// The partial tiles at the old size.
    edge: BTreeMap<(u8, u64), Vec<u8>>,
    /// The hashes of the tiles past the old size, computed from the entries.
    computed: BTreeMap<(u8, u64), Vec<u8>>,
    checker: EntryCheck,
    report: MonitorReport,
}

impl Run<'_> {
    fn location(&self, name: &ObjectName) -> String {
        format!("{}{}", self.where_, name.path())
    }

    /// Fetches objects, several at a time; a missing one is an integrity failure (the
    /// checkpoint needs it).
    fn fetch(&mut self, names: &[ObjectName]) -> Result<Vec<Vec<u8>>, MonitorError> {
        let source = self.source;
        let results = in_parallel(names, FETCH_CONCURRENCY, |name| {
            source.get(&name.path(), name.len_max())
        });
        let mut fetched = Vec::with_capacity(names.len());
        for (name, result) in names.iter().zip(results) {
            let bytes = result?.ok_or_else(|| {
                integrity(format!(
                    "{} is missing, though the checkpoint of {} entries needs it",
                    self.location(name),
                    self.checkpoint.size
                ))
            })?;
            self.report.bytes_fetched += bytes.len() as u64;
            fetched.push(bytes);
        }
        Ok(fetched)
    }

    /// Steps 3 and 5: the bundles past the old size, their entries hashed into the tree and
    /// checked. An entry that does not check out is reported only once the root is known to
    /// be right: if the entries do not give the root, the log lies about its history (a fork,
    /// a rewritten bundle), which is what is reported.
    fn entries(&mut self, on_entry: &mut EntryHook<'_>) -> Result<(), MonitorError> {
        let size = self.checkpoint.size;
        let bundles: Vec<ObjectName> = new_objects(self.old_size, size)
            .into_iter()
            .filter(|name| matches!(name, ObjectName::Bundle { .. }))
            .collect();
        let claims_before = self.checker.claim_count();
        let mut entry_problem: Option<String> = None;
        // An entry seen before that changed: a rewritten bundle if the tree still extends the
        // one seen before, else part of a fork, which the root check names.
        let mut seen_problem: Option<MonitorError> = None;
        for step in bundles.chunks(STEP_BUNDLES) {
            let fetched = self.fetch(step)?;
            for (name, bytes) in step.iter().zip(&fetched) {
                let ObjectName::Bundle { index, width } = *name else {
                    continue;
                };
                let entries = decode_bundle(bytes, width as usize)
                    .map_err(|e| integrity(format!("{}: {e}", self.location(name))))?;
                self.report.bundles_checked += 1;
                let first = index * u64::from(TILE_WIDTH) + 1;
                for (offset, entry) in entries.iter().enumerate() {
                    let seq = first + offset as u64;
                    let leaf = record_hash(entry);
                    if seq <= self.old_size {
                        if seen_problem.is_none() {
                            seen_problem = self.check_seen(name, seq, leaf).err();
                        }
                        continue;
                    }
                    for (level, at, hash) in self.frontier.push(leaf) {
                        if level % TILE_HEIGHT == 0 {
                            let tile = (level / TILE_HEIGHT, at / u64::from(TILE_WIDTH));
                            self.computed
                                .entry(tile)
                                .or_insert_with(|| {
                                    self.edge.get(&tile).cloned().unwrap_or_default()
                                })
                                .extend_from_slice(&hash.0);
                        }
                    }
                    self.report.new_entries += 1;
                    if entry_problem.is_some() {
                        continue;
                    }
                    if self.checker.push(Seq(seq), entry).is_break() {
                        entry_problem = Some(self.entry_problem());
                        continue;
                    }
                    if let Err(why) = on_entry(Seq(seq), entry, self.source) {
                        entry_problem =
                            Some(format!("entry {seq} in {}: {why}", self.location(name)));
                    }
                }
            }
        }
        if entry_problem.is_none() && self.checker.finish().is_some() {
            entry_problem = Some(self.entry_problem());
        }
        if self.frontier.root().0 != self.checkpoint.root {
            return Err(self.root_mismatch());
        }
        if let Some(problem) = seen_problem {
            return Err(problem);
        }
        if let Some(problem) = entry_problem {
            return Err(integrity(problem));
        }
        let recorded = self.checker.claim_count() - claims_before;
        self.report.claims_recorded = recorded;
        self.report.revisions_recorded = self.report.new_entries - recorded;
        Ok(())
    }

    /// The entry checker's problem, naming the bundle that holds the entry.
    fn entry_problem(&mut self) -> String {
        match self.checker.finish() {
            Some(problem) => {
                let bundle = problem.seq.map(|seq| {
                    let index = (seq.0 - 1) / u64::from(TILE_WIDTH);
                    let width = (self.checkpoint.size - index * u64::from(TILE_WIDTH))
                        .min(u64::from(TILE_WIDTH)) as u32;
                    self.location(&ObjectName::Bundle { index, width })
                });
                match bundle {
                    Some(bundle) => format!("invalid entry in {bundle}: {problem}"),
                    None => format!("invalid entries at {}: {problem}", self.where_),
                }
            }
            None => "an entry does not check out".into(),
        }
    }

    /// An entry seen in an earlier run, in a bundle that was partial then: its leaf must be
    /// the one the partial tile held.
    fn check_seen(&self, name: &ObjectName, seq: u64, leaf: Hash) -> Result<(), MonitorError> {
        let index = seq - 1;
        let tile = (0, index / u64::from(TILE_WIDTH));
        let at = (index % u64::from(TILE_WIDTH)) as usize * HASH_SIZE;
        let seen = self.edge.get(&tile).and_then(|t| t.get(at..at + HASH_SIZE));
        if seen != Some(&leaf.0[..]) {
            return Err(integrity(format!(
                "rewritten bundle: entry {seq} in {} is not the entry seen there before",
                self.location(name)
            )));
        }
        Ok(())
    }

    /// The entries do not give the checkpoint's root: the tiles tell who lies.
    fn root_mismatch(&mut self) -> MonitorError {
        let size = self.checkpoint.size;
        let tiles: Vec<ObjectName> = new_objects(self.old_size, size)
            .into_iter()
            .filter(|name| matches!(name, ObjectName::Tile { level: 0, .. }))
            .collect();
        let Ok(fetched) = self.fetch(&tiles) else {
            return integrity(format!(
                "the published entries do not give the root of the checkpoint of {size} \
                 entries, and its tiles cannot be read"
            ));
        };
        // The leaves as the tiles have them, past the old size, hashed into the old tree.
        let mut from_tiles = self.old_frontier_peaks.clone();
        let mut first_bad: Option<(ObjectName, u64)> = None;
        for (name, bytes) in tiles.iter().zip(&fetched) {
            let ObjectName::Tile { index, .. } = *name else {
                continue;
            };
            let computed = self.computed.get(&(0, index));
            for (i, hash) in bytes.chunks_exact(HASH_SIZE).enumerate() {
                let seq = index * u64::from(TILE_WIDTH) + i as u64 + 1;
                if seq <= self.old_size {
                    continue;
                }
                let Ok(hash) = <[u8; HASH_SIZE]>::try_from(hash) else {
                    continue;
                };
                from_tiles.push(Hash(hash)).for_each(drop);
                let ours = computed.and_then(|c| c.get(i * HASH_SIZE..(i + 1) * HASH_SIZE));
                if first_bad.is_none() && ours != Some(&hash[..]) {
                    first_bad = Some((*name, seq));
                }
            }
        }
        let tiles_agree =
            from_tiles.tree_size() == size && from_tiles.root().0 == self.checkpoint.root;
        match (tiles_agree, first_bad) {
            (true, Some((tile, seq))) => integrity(format!(
                "rewritten bundle: entry {seq} in {} is not the entry whose leaf {} holds, and \
                 the tiles give the checkpoint's root",
                self.location(&ObjectName::Bundle {
                    index: (seq - 1) / u64::from(TILE_WIDTH),
                    width: match tile {
                        ObjectName::Tile { width, .. } => width,
                        ObjectName::Bundle { width, .. } => width,
                    },
                }),
                self.location(&tile)
            )),
            _ if self.old_size > 0 => integrity(format!(
                "fork: the checkpoint of {size} entries at {}checkpoint does not extend the one \
                 of {} entries seen before (root {}): the log's history was rewritten",
                self.where_,
                self.old_size,
                self.old_frontier_peaks.root()
            )),
            _ => integrity(format!(
                "the checkpoint of {size} entries at {}checkpoint has a root that neither its \
                 entries nor its tiles give",
                self.where_
            )),
        }
    }

    /// Step 4: every tile past the old size holds exactly the hashes computed.
    fn tiles(&mut self) -> Result<(), MonitorError> {
        let tiles: Vec<ObjectName> = new_objects(self.old_size, self.checkpoint.size)
            .into_iter()
            .filter(|name| matches!(name, ObjectName::Tile { .. }))
            .collect();
        for step in tiles.chunks(STEP_BUNDLES) {
            let fetched = self.fetch(step)?;
            for (name, bytes) in step.iter().zip(&fetched) {
                let ObjectName::Tile {
                    level,
                    index,
                    width,
                } = *name
                else {
                    continue;
                };
                let computed = self.computed.get(&(level, index));
                if computed.map(Vec::as_slice) != Some(bytes.as_slice())
                    || bytes.len() != width as usize * HASH_SIZE
                {
                    let seen = self.edge.get(&(level, index));
                    let why = match seen {
                        Some(seen) if !bytes.starts_with(seen) => {
                            "its first hashes are not those it held before"
                        }
                        _ => "it does not hold the hashes of the published entries",
                    };
                    return Err(integrity(format!(
                        "rewritten tile: {} {why}",
                        self.location(name)
                    )));
                }
                self.report.tiles_checked += 1;
            }
        }
        Ok(())
    }

    /// The partial tiles at the new size, for the next run.
    fn new_edge(&self) -> BTreeMap<(u8, u64), Vec<u8>> {
        let size = self.checkpoint.size;
        let mut edge = BTreeMap::new();
        let mut level = 0u8;
        while level < 64 / TILE_HEIGHT {
            let hashes = size >> (u32::from(level) * u32::from(TILE_HEIGHT));
            if hashes == 0 {
                break;
            }
            let index = hashes / u64::from(TILE_WIDTH);
            let width = hashes % u64::from(TILE_WIDTH);
            if width > 0 {
                let tile = self
                    .computed
                    .get(&(level, index))
                    .or_else(|| self.edge.get(&(level, index)))
                    .cloned()
                    .unwrap_or_default();
                edge.insert((level, index), tile);
            }
            level += 1;
        }
        edge
    }
}
