//! An independent verifier for claimledger exports, written from `docs/FORMAT.md` alone
//! (sections 1 to 4, and the tree of section 8), without reading or linking any claimledger
//! code, to show that the document is enough to check an export. [`verify`] checks an export's
//! bytes: a bundle (header, entries, checkpoint) or, from older builds, the entries alone.

use std::collections::{HashMap, HashSet};

/// 64 zeros: `prev` of entry 1, and the hash part of an empty ledger's head.
const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A head, `COUNT:HASH` (section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub count: u64,
    pub hash: String,
}

pub fn parse_head(text: &str) -> Result<Head, String> {
    let (count, hash) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not COUNT:HASH"))?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("count {count:?} is not a whole number"));
    }
    let count: u64 = count.parse().map_err(|e| format!("count {count:?}: {e}"))?;
    let hash = hash.trim_end().to_ascii_lowercase();
    if !is_lower_hex(&hash, 64) {
        return Err(format!("hash {hash:?} is not 64 hex digits"));
    }
    Ok(Head { count, hash })
}

// ---------------------------------------------------------------------------------------------
// Verification (section 4)
// ---------------------------------------------------------------------------------------------

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub entries: u64,
    /// hash of the last line, or 64 zeros when empty
    pub hash: String,
    /// The bundle's origin and the checkpoint it ends with; `None` for entries alone.
    pub checkpoint: Option<BundleCheckpoint>,
}

/// What a bundle's first and last lines say, once checked against its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleCheckpoint {
    pub origin: String,
    pub size: u64,
    /// The Merkle root, as the checkpoint writes it (base64).
    pub root: String,
    /// Whether signature lines follow the body (not checked here: no key is given).
    pub signed: bool,
}

impl Report {
    pub fn head(&self) -> String {
        format!("{}:{}", self.entries, self.hash)
    }
}

/// The first failure: the line number in the input and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FAILED line {}: {}", self.line, self.reason)
    }
}

/// What step 4 tracks for each claim.
#[derive(Debug)]
struct ClaimState<'a> {
    revision: u64,
    /// the bytes of the claim object as of the latest revision
    claim: &'a [u8],
}

#[derive(Debug, Default)]
struct Ledger<'a> {
    /// `recorded_at` of the entry before: times never go back (section 2).
    last_recorded_at: Option<String>,
    claims: HashMap<String, ClaimState<'a>>,
    /// key -> claim id
    keys: HashMap<String, String>,
}

/// Performs every check of section 4 on an export; `expect` is a head written down earlier.
pub fn verify(input: &[u8], expect: Option<&Head>) -> Result<Report, Failure> {
    // Step 1: split at \n; every line but an empty last one is a line of the bundle.
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    // A first line starting {"bundle": is the header, and the last line is then the
    // checkpoint line; otherwise (an export of an older build) every line is an entry.
    let mut framing: Option<(String, &[u8])> = None;
    let mut offset = 0;
    if lines
        .first()
        .is_some_and(|l| l.starts_with(b"{\"bundle\":"))
    {
        let origin = parse_header(lines[0]).map_err(|reason| Failure { line: 1, reason })?;
        if lines.len() < 2 {
            return Err(Failure {
                line: 1,
                reason: "the bundle has a header but no checkpoint line".into(),
            });
        }
        let last = lines.pop().expect("two lines or more");
        lines.remove(0);
        framing = Some((origin, last));
        offset = 1;
    }

    let mut ledger = Ledger::default();
    let mut prev = ZERO_HASH.to_owned();
    let mut expected_hash_seen: Option<String> = None;
    let mut leaves: Vec<[u8; 32]> = Vec::with_capacity(lines.len());
    let mut n: u64 = 0;
    for line in lines {
        n += 1;
        // Steps 2, 4 and 5; step 3 is the hash.
        check_entry(n, line, &prev, &mut ledger).map_err(|reason| Failure {
            line: n + offset,
            reason,
        })?;
        prev = blake3::hash(line).to_hex().to_string();
        if framing.is_some() {
            leaves.push(leaf_hash(line));
        }
        if expect.is_some_and(|h| h.count == n) {
            expected_hash_seen = Some(prev.clone());
        }
    }

    // Step 6.
    if let Some(head) = expect {
        if head.count > n {
            return Err(Failure {
                line: head.count + offset,
                reason: format!(
                    "expected head {}:{} but the export has only {n} entries: the ledger was \
                     rolled back or rewritten",
                    head.count, head.hash
                ),
            });
        }
        let actual = match expected_hash_seen {
            Some(h) => h,
            // M = 0: the empty ledger's head, 0:000…000, which every ledger extends.
            None => ZERO_HASH.to_owned(),
        };
        if actual != head.hash {
            return Err(Failure {
                line: head.count + offset,
                reason: format!(
                    "expected head {}:{} but entry {} hashes to {actual}: the ledger was rolled \
                     back or rewritten",
                    head.count, head.hash, head.count
                ),
            });
        }
    }

    // Step 7: the checkpoint line, against the entries' Merkle root (section 8).
    let checkpoint = match framing {
        None => None,
        Some((origin, line)) => Some(check_checkpoint_line(line, &origin, n, &leaves).map_err(
            |reason| Failure {
                line: n + 2,
                reason,
            },
        )?),
    };

    Ok(Report {
        entries: n,
        hash: prev,
        checkpoint,
    })
}

/// A string in JSON as section 2 escapes it: `"` and `\`, the five short escapes, other
/// control characters as \u00XX in lowercase hex, everything else as it is.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The header line: exactly `{"bundle":1,"origin":ORIGIN}`.
fn parse_header(line: &[u8]) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("the header is not valid JSON: {e}"))?;
    let origin = value
        .get("origin")
        .and_then(|o| o.as_str())
        .ok_or("the header has no origin string")?
        .to_owned();
    let expected = format!("{{\"bundle\":1,\"origin\":{}}}", json_string(&origin));
    if expected.as_bytes() != line {
        return Err(format!(
            "the header is not exactly {expected} (the only form of a format 1 bundle header)"
        ));
    }
    if origin.is_empty() {
        return Err("the origin is empty".into());
    }
    Ok(origin)
}

/// Section 8: leaf(e) = SHA-256(0x00 ‖ e).
fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// Section 8: MTH, by its definition.
fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    use sha2::Digest;
    match leaves.len() {
        0 => sha2::Sha256::digest(b"").into(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let mut hasher = sha2::Sha256::new();
            hasher.update([1u8]);
            hasher.update(merkle_root(&leaves[..k]));
            hasher.update(merkle_root(&leaves[k..]));
            hasher.finalize().into()
        }
    }
}

/// Standard base64 with padding (RFC 4648), as checkpoints write roots.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The checkpoint line: exactly `{"checkpoint":TEXT}`, TEXT a checkpoint (section 8: origin,
/// size, root, each ending in a newline, then any extension lines, then, when signed, an empty
/// line and signature lines). Its origin must be the header's, its size the entry count and
/// its root the Merkle root of the entries.
fn check_checkpoint_line(
    line: &[u8],
    origin: &str,
    entries: u64,
    leaves: &[[u8; 32]],
) -> Result<BundleCheckpoint, String> {
    let value: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| format!("the last line is not a checkpoint line: {e}"))?;
    let text = value
        .get("checkpoint")
        .and_then(|t| t.as_str())
        .ok_or("the last line has no checkpoint string")?;
    let expected = format!("{{\"checkpoint\":{}}}", json_string(text));
    if expected.as_bytes() != line {
        return Err("the checkpoint line is not in its one form".into());
    }
    let (body, signed) = match text.split_once("\n\n") {
        Some((body, _signatures)) => (format!("{body}\n"), true),
        None => (text.to_owned(), false),
    };
    let mut body_lines = body.split('\n');
    let (Some(cp_origin), Some(size), Some(root)) =
        (body_lines.next(), body_lines.next(), body_lines.next())
    else {
        return Err("the checkpoint has fewer than three lines".into());
    };
    if !body.ends_with('\n') {
        return Err("the checkpoint does not end with a newline".into());
    }
    if cp_origin != origin {
        return Err(format!(
            "the checkpoint's origin {cp_origin:?} is not the header's {origin:?}"
        ));
    }
    let size_ok = !size.is_empty()
        && size.bytes().all(|b| b.is_ascii_digit())
        && (size == "0" || !size.starts_with('0'));
    let size: u64 = match size.parse() {
        Ok(size) if size_ok => size,
        _ => {
            return Err(format!(
                "the checkpoint's size {size:?} is not a decimal number"
            ))
        }
    };
    if size != entries {
        return Err(format!(
            "the checkpoint is of {size} entries but the bundle holds {entries}"
        ));
    }
    let computed = base64(&merkle_root(leaves));
    if root != computed {
        return Err(format!(
            "the checkpoint's root {root} is not the Merkle root of the entries, {computed}: an \
             entry was changed after the checkpoint was made"
        ));
    }
    Ok(BundleCheckpoint {
        origin: origin.to_owned(),
        size,
        root: root.to_owned(),
        signed,
    })
}

/// Whether a field must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Always,
    Optional,
}
use Presence::{Always, Optional};

/// Section 2: the fields of each entry type, in order.
const RECORDED_FIELDS: &[(&str, Presence)] = &[
    ("v", Always),
    ("seq", Always),
    ("prev", Always),
    ("type", Always),
    ("recorded_at", Always),
    ("author", Always),
    ("claim_id", Always),
    ("key", Optional),
    ("note", Optional),
    ("claim", Always),
];

const REVISED_FIELDS: &[(&str, Presence)] = &[
    ("v", Always),
    ("seq", Always),
    ("prev", Always),
    ("type", Always),
    ("recorded_at", Always),
    ("author", Always),
    ("claim_id", Always),
    ("revision", Always),
    ("kind", Always),
    ("reason", Always),
    ("note", Optional),
    ("claim", Always),
];

const CLAIM_FIELDS: &[(&str, Presence)] = &[
    ("subject", Always),
    ("claimant", Always),
    ("statement", Always),
    ("value", Optional),
    ("period", Optional),
    ("stated_on", Optional),
    ("method", Optional),
    ("sources", Optional),
    ("status", Always),
    ("tags", Optional),
];

const VALUE_FIELDS: &[(&str, Presence)] = &[
    ("bound", Always),
    ("amount", Optional),
    ("low", Optional),
    ("high", Optional),
    ("unit", Optional),
];

const PERIOD_FIELDS: &[(&str, Presence)] = &[("from", Optional), ("to", Optional)];

const SOURCE_FIELDS: &[(&str, Presence)] = &[
    ("url", Optional),
    ("publisher", Optional),
    ("title", Optional),
    ("published_on", Optional),
    ("retrieved_on", Optional),
    ("quote", Optional),
    ("archived", Optional),
];

const ARCHIVED_FIELDS: &[(&str, Presence)] = &[
    ("sha256", Always),
    ("size", Always),
    ("media_type", Always),
    ("captured_at", Always),
    ("url", Optional),
    ("status", Optional),
];

/// Checks entry `n` (steps 2, 4 and 5); `prev` is the hash of line n−1 (or zeros).
fn check_entry<'a>(
    n: u64,
    line: &'a [u8],
    prev: &str,
    ledger: &mut Ledger<'a>,
) -> Result<(), String> {
    if line.is_empty() {
        return Err("empty line; every line but an empty last one must be an entry".into());
    }
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1))?;
    // Parse with a standard JSON parser first, so any plain syntax error is reported as such ...
    serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("not valid JSON: {e}"))?;
    // ... then with our own, which keeps field order and raw bytes and checks section 2's form.
    let entry = Parser::parse(line)?;
    let fields = entry.as_object("the entry")?;

    // `v` first: a later format may have other fields, so nothing else is checked without it.
    let v = get(fields, "v").ok_or("no field `v`")?;
    match &v.val {
        Val::Num(t) if t == "1" => {}
        _ => {
            return Err(format!(
                "`v` is {}, expected 1 (the only entry format this verifier knows)",
                v.raw(line)
            ))
        }
    }
    let seq = get(fields, "seq").ok_or("no field `seq`")?;
    let seq_value = seq.as_integer("seq")?;
    if seq_value != n {
        return Err(format!("`seq` is {seq_value}, expected {n}"));
    }
    let prev_field = get(fields, "prev").ok_or("no field `prev`")?;
    let prev_value = prev_field.as_str("prev")?;
    if !is_lower_hex(prev_value, 64) {
        return Err(format!(
            "`prev` {prev_value:?} is not 64 lowercase hex digits"
        ));
    }
    if prev_value != prev {
        return Err(if n == 1 {
            format!("`prev` is {prev_value}, expected 64 zeros for entry 1")
        } else {
            format!(
                "`prev` is {prev_value}, but line {} hashes to {prev}",
                n - 1
            )
        });
    }
    let kind_of_entry = get(fields, "type")
        .ok_or("no field `type`")?
        .as_str("type")?;
    let spec = match kind_of_entry {
        "claim_recorded" => RECORDED_FIELDS,
        "claim_revised" => REVISED_FIELDS,
        other => return Err(format!("unknown entry type {other:?}")),
    };
    check_fields(fields, spec, "")?;

    let field = |name: &str| get(fields, name);
    let required = |name: &str| get(fields, name).ok_or_else(|| format!("no field `{name}`"));

    let recorded_at = required("recorded_at")?.as_str("recorded_at")?;
    check_recorded_at(recorded_at)?;
    // The form is fixed, so text order is time order.
    if let Some(last) = &ledger.last_recorded_at {
        if recorded_at < last.as_str() {
            return Err(format!(
                "`recorded_at` {recorded_at} is earlier than the entry before's, {last}"
            ));
        }
    }
    ledger.last_recorded_at = Some(recorded_at.to_owned());
    check_text("author", required("author")?, 200, false)?;
    let claim_id = required("claim_id")?.as_str("claim_id")?;
    check_uuid_v7(claim_id)?;
    if let Some(note) = field("note") {
        check_text("note", note, 4000, true)?;
    }
    let claim = required("claim")?;

    // Step 4: track claims.
    if kind_of_entry == "claim_recorded" {
        if ledger.claims.contains_key(claim_id) {
            return Err(format!("claim id {claim_id} was already recorded"));
        }
        if let Some(key) = field("key") {
            let key = key.as_str("key")?;
            check_key(key, "key")?;
            if let Some(other) = ledger.keys.get(key) {
                return Err(format!("key {key:?} is already used by claim {other}"));
            }
            ledger.keys.insert(key.to_owned(), claim_id.to_owned());
        }
        ledger.claims.insert(
            claim_id.to_owned(),
            ClaimState {
                revision: 1,
                claim: claim.bytes(line),
            },
        );
    } else {
        let revision = required("revision")?.as_integer("revision")?;
        if revision < 2 {
            return Err(format!("`revision` is {revision}, must be at least 2"));
        }
        let kind = required("kind")?.as_str("kind")?;
        if !matches!(kind, "update" | "correction" | "status" | "evidence") {
            return Err(format!(
                "`kind` is {kind:?}, expected \"update\", \"correction\", \"status\" or \"evidence\""
            ));
        }
        check_text("reason", required("reason")?, 4000, true)?;
        let state = ledger.claims.get_mut(claim_id).ok_or_else(|| {
            format!("claim_revised names claim {claim_id}, which was never recorded")
        })?;
        if revision != state.revision + 1 {
            return Err(format!(
                "`revision` is {revision}, but claim {claim_id} is at revision {}, so the next \
                 is {}",
                state.revision,
                state.revision + 1
            ));
        }
        // Section 1: "A revise is refused when it changes nothing; a `status` revise is refused
        // unless it sets a different `status` and nothing else." Entries are canonical (fixed
        // field order, fixed escaping), so equal claims are equal bytes.
        let new_claim = claim.bytes(line);
        if new_claim == state.claim {
            return Err(format!(
                "revision {revision} of claim {claim_id} changes nothing in the claim"
            ));
        }
        if kind == "status" {
            check_status_only(state.claim, new_claim)?;
        }
        if kind == "evidence" {
            check_archived_only(state.claim, new_claim)?;
        }
        state.revision = revision;
        state.claim = new_claim;
    }

    // Step 5: the claim object against section 1.
    check_claim(claim)
}

/// Step 2: exactly the fields of `spec`, in its order, each once, the `Always` ones present.
fn check_fields(
    fields: &[(String, Node)],
    spec: &[(&str, Presence)],
    ctx: &str,
) -> Result<(), String> {
    let mut next = 0;
    let mut previous: Option<&str> = None;
    for (name, node) in fields {
        match spec.iter().position(|(s, _)| s == name) {
            None => return Err(format!("unexpected field {:?}", format!("{ctx}{name}"))),
            Some(i) if i < next => {
                if fields.iter().filter(|(other, _)| other == name).count() > 1 {
                    return Err(format!("duplicate field `{ctx}{name}`"));
                }
                return Err(format!(
                    "field `{ctx}{name}` is out of order: it must come before `{ctx}{}`",
                    previous.unwrap_or("")
                ));
            }
            Some(i) => next = i + 1,
        }
        if matches!(node.val, Val::Null) {
            return Err(format!(
                "field `{ctx}{name}` is null; absent fields are left out, never null"
            ));
        }
        previous = Some(name);
    }
    for (name, presence) in spec {
        if *presence == Always && get(fields, name).is_none() {
            return Err(format!("missing field `{ctx}{name}`"));
        }
    }
    Ok(())
}

fn get<'n>(fields: &'n [(String, Node)], name: &str) -> Option<&'n Node> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A `status` revision: the status differs and every other field is the same.
fn check_status_only(old: &[u8], new: &[u8]) -> Result<(), String> {
    let old_node = Parser::parse(old)?;
    let new_node = Parser::parse(new)?;
    let old_fields = old_node.as_object("claim")?;
    let new_fields = new_node.as_object("claim")?;
    for (name, _) in CLAIM_FIELDS {
        let a = get(old_fields, name).map(|n| n.bytes(old));
        let b = get(new_fields, name).map(|n| n.bytes(new));
        if *name == "status" {
            if a == b {
                return Err("a revision of kind \"status\" must change `status`".into());
            }
        } else if a != b {
            return Err(format!(
                "a revision of kind \"status\" changes `claim.{name}`; it may change only the status"
            ));
        }
    }
    Ok(())
}

/// An `evidence` revision: every field is the same but the sources' `archived` lists (section 1:
/// "an `evidence` revise ... changes nothing but the sources' `archived` lists").
fn check_archived_only(old: &[u8], new: &[u8]) -> Result<(), String> {
    let old_node = Parser::parse(old)?;
    let new_node = Parser::parse(new)?;
    let old_fields = old_node.as_object("claim")?;
    let new_fields = new_node.as_object("claim")?;
    let changes = |what: &str| {
        format!("a revision of kind \"evidence\" changes `claim.{what}`; it may change only the sources' `archived` lists")
    };
    for (name, _) in CLAIM_FIELDS {
        let a = get(old_fields, name);
        let b = get(new_fields, name);
        if *name != "sources" {
            if a.map(|n| n.bytes(old)) != b.map(|n| n.bytes(new)) {
                return Err(changes(name));
            }
            continue;
        }
        let empty: &[Node] = &[];
        let a = a.map_or(Ok(empty), |n| n.as_array("claim.sources"))?;
        let b = b.map_or(Ok(empty), |n| n.as_array("claim.sources"))?;
        if a.len() != b.len() {
            return Err(changes("sources"));
        }
        for (i, (a, b)) in a.iter().zip(b).enumerate() {
            let a = a.as_object("claim.sources[]")?;
            let b = b.as_object("claim.sources[]")?;
            for (field, _) in SOURCE_FIELDS.iter().filter(|(f, _)| *f != "archived") {
                if get(a, field).map(|n| n.bytes(old)) != get(b, field).map(|n| n.bytes(new)) {
                    return Err(changes(&format!("sources[{i}].{field}")));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Field rules (sections 1 and 2)
// ---------------------------------------------------------------------------------------------

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `recorded_at`: exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ`, a real date and time, seconds to 59.
fn check_recorded_at(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 27
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            26 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(format!(
            "`recorded_at` {s:?} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"
        ));
    }
    let (year, month, day) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10]));
    if !is_real_date(year, month, day) {
        return Err(format!("`recorded_at` {s:?} is not a real date"));
    }
    let (h, m, sec) = (num(&b[11..13]), num(&b[14..16]), num(&b[17..19]));
    if h > 23 || m > 59 || sec > 59 {
        return Err(format!("`recorded_at` {s:?} is not a real time"));
    }
    Ok(())
}

/// ASCII digits to a number (the caller has checked they are digits).
fn num(digits: &[u8]) -> i64 {
    digits
        .iter()
        .fold(0i64, |acc, &d| acc * 10 + i64::from(d.wrapping_sub(b'0')))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn is_real_date(year: i64, month: i64, day: i64) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// `claim_id`: a lowercase hyphenated UUID of version 7 (RFC 9562, so also variant `10`).
fn check_uuid_v7(s: &str) -> Result<(), String> {
    if !is_uuid_shaped(s) || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "`claim_id` {s:?} is not a lowercase hyphenated UUID"
        ));
    }
    let b = s.as_bytes();
    if b[14] != b'7' {
        return Err(format!("`claim_id` {s} is not a version 7 UUID"));
    }
    if !matches!(b[19], b'8' | b'9' | b'a' | b'b') {
        return Err(format!(
            "`claim_id` {s} does not have the RFC 9562 variant a version 7 UUID has"
        ));
    }
    Ok(())
}

/// 8-4-4-4-12 hex digits (either case).
fn is_uuid_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `key` and tags: `[a-z0-9][a-z0-9._-]{0,127}`.
fn is_key_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && matches!(b[0], b'a'..=b'z' | b'0'..=b'9')
        && b.iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
}

fn check_key(s: &str, what: &str) -> Result<(), String> {
    if !is_key_syntax(s) {
        return Err(format!(
            "`{what}` {s:?} does not match [a-z0-9][a-z0-9._-]{{0,127}}"
        ));
    }
    // "not shaped like a UUID": the hyphenated form, and the 32-digit simple form too (a key
    // is accepted wherever a claim id is, so it must not look like any spelling of one).
    if is_uuid_shaped(s) || is_lower_hex(s, 32) {
        return Err(format!("`{what}` {s:?} is shaped like a UUID"));
    }
    Ok(())
}

/// A text field: a string, non-empty, at most `max` characters, no control characters but
/// (when `multiline`) line breaks and tabs.
fn check_text<'n>(
    name: &str,
    node: &'n Node,
    max: usize,
    multiline: bool,
) -> Result<&'n str, String> {
    let s = node.as_str(name)?;
    // Section 1: white space alone (Unicode White_Space) is empty too.
    if s.trim().is_empty() {
        return Err(format!("`{name}` is empty"));
    }
    let chars = s.chars().count();
    if chars > max {
        return Err(format!("`{name}` has {chars} characters, more than {max}"));
    }
    check_no_control(name, s, multiline)?;
    Ok(s)
}

fn check_no_control(name: &str, s: &str, multiline: bool) -> Result<(), String> {
    if let Some(c) = s
        .chars()
        .find(|&c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(format!(
            "`{name}` holds the control character U+{:04X}",
            u32::from(c)
        ));
    }
    Ok(())
}

/// The claim object (section 2's order, section 1's rules).
fn check_claim(claim: &Node) -> Result<(), String> {
    let fields = claim.as_object("claim")?;
    check_fields(fields, CLAIM_FIELDS, "claim.")?;
    let field = |name: &str| get(fields, name);
    let required = |name: &str| get(fields, name).ok_or_else(|| format!("no field `claim.{name}`"));

    let subject = required("subject")?.as_str("claim.subject")?;
    let subject_ok = subject.chars().count() <= 200
        && subject.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        });
    if !subject_ok {
        return Err(format!(
            "`claim.subject` {subject:?} is not a lowercase path of [a-z0-9._-]+ segments \
             joined by /, at most 200 characters"
        ));
    }
    check_text("claim.claimant", required("claimant")?, 200, false)?;
    check_text("claim.statement", required("statement")?, 4000, true)?;
    if let Some(value) = field("value") {
        check_value(value)?;
    }
    if let Some(period) = field("period") {
        check_period(period)?;
    }
    if let Some(stated_on) = field("stated_on") {
        check_date("claim.stated_on", stated_on)?;
    }
    if let Some(method) = field("method") {
        check_text("claim.method", method, 4000, true)?;
    }
    if let Some(sources) = field("sources") {
        let items = sources.as_array("claim.sources")?;
        if items.is_empty() {
            return Err("`claim.sources` is empty; an empty list is left out".into());
        }
        if items.len() > 100 {
            return Err(format!(
                "`claim.sources` has {} sources, more than 100",
                items.len()
            ));
        }
        for (i, source) in items.iter().enumerate() {
            check_source(i, source)?;
        }
    }
    let status = required("status")?.as_str("claim.status")?;
    if !matches!(status, "active" | "disputed" | "retracted" | "superseded") {
        return Err(format!(
            "`claim.status` is {status:?}, expected active, disputed, retracted or superseded"
        ));
    }
    if let Some(tags) = field("tags") {
        let items = tags.as_array("claim.tags")?;
        if items.is_empty() {
            return Err("`claim.tags` is empty; an empty list is left out".into());
        }
        if items.len() > 64 {
            return Err(format!(
                "`claim.tags` has {} tags, more than 64",
                items.len()
            ));
        }
        let mut seen = HashSet::new();
        for tag in items {
            let tag = tag.as_str("claim.tags[]")?;
            if !is_key_syntax(tag) {
                return Err(format!(
                    "tag {tag:?} does not match [a-z0-9][a-z0-9._-]{{0,127}}"
                ));
            }
            if !seen.insert(tag) {
                return Err(format!("tag {tag:?} appears twice"));
            }
        }
    }
    Ok(())
}

fn check_value(value: &Node) -> Result<(), String> {
    let fields = value.as_object("claim.value")?;
    check_fields(fields, VALUE_FIELDS, "claim.value.")?;
    let decimal = |name: &str| -> Result<Option<&str>, String> {
        match get(fields, name) {
            None => Ok(None),
            Some(node) => {
                let s = node.as_str(&format!("claim.value.{name}"))?;
                if !is_decimal(s) {
                    return Err(format!(
                        "`claim.value.{name}` {s:?} is not a decimal -?(0|[1-9][0-9]*)(.[0-9]+)? \
                         of at most 64 characters"
                    ));
                }
                Ok(Some(s))
            }
        }
    };
    let bound = get(fields, "bound")
        .ok_or("no field `claim.value.bound`")?
        .as_str("claim.value.bound")?;
    let amount = decimal("amount")?;
    let low = decimal("low")?;
    let high = decimal("high")?;
    match bound {
        "exact" | "at_least" | "at_most" | "approx" => {
            if amount.is_none() {
                return Err(format!(
                    "`claim.value` with bound {bound:?} has no `amount`"
                ));
            }
            if low.is_some() || high.is_some() {
                return Err(format!(
                    "`claim.value` with bound {bound:?} has `low` or `high`, which are for \
                     \"range\" only"
                ));
            }
        }
        "range" => {
            // "`amount` | for every bound but `range`": read as "not for range".
            if amount.is_some() {
                return Err(
                    "`claim.value` with bound \"range\" has an `amount`; a range has \
                            `low` and `high`"
                        .into(),
                );
            }
            let (Some(low), Some(high)) = (low, high) else {
                return Err("`claim.value` with bound \"range\" needs `low` and `high`".into());
            };
            if compare_decimals(low, high) == std::cmp::Ordering::Greater {
                return Err(format!(
                    "`claim.value.low` {low} is greater than `claim.value.high` {high}"
                ));
            }
        }
        other => {
            return Err(format!(
                "`claim.value.bound` is {other:?}, expected exact, at_least, at_most, approx or \
                 range"
            ))
        }
    }
    if let Some(unit) = get(fields, "unit") {
        check_text("claim.value.unit", unit, 100, false)?;
    }
    Ok(())
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most 64 characters.
fn is_decimal(s: &str) -> bool {
    if s.len() > 64 {
        return false;
    }
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let int_ok = int == "0"
        || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok
}

/// Numeric comparison of two strings accepted by [`is_decimal`].
fn compare_decimals(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    // (negative, integer digits without leading zeros, fraction digits without trailing zeros)
    fn parts(s: &str) -> (bool, &str, &str) {
        let (neg, unsigned) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let is_zero = int.is_empty() && frac.is_empty();
        (neg && !is_zero, int, frac)
    }
    fn magnitude(a: (&str, &str), b: (&str, &str)) -> Ordering {
        a.0.len()
            .cmp(&b.0.len())
            .then_with(|| a.0.cmp(b.0))
            .then_with(|| a.1.cmp(b.1))
    }
    let (an, ai, af) = parts(a);
    let (bn, bi, bf) = parts(b);
    match (an, bn) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude((ai, af), (bi, bf)),
        (true, true) => magnitude((bi, bf), (ai, af)),
    }
}

fn check_period(period: &Node) -> Result<(), String> {
    let fields = period.as_object("claim.period")?;
    check_fields(fields, PERIOD_FIELDS, "claim.period.")?;
    let from = match get(fields, "from") {
        Some(node) => Some(check_date("claim.period.from", node)?),
        None => None,
    };
    let to = match get(fields, "to") {
        Some(node) => Some(check_date("claim.period.to", node)?),
        None => None,
    };
    match (from, to) {
        (None, None) => Err("`claim.period` has neither `from` nor `to`".into()),
        (Some(from), Some(to)) if from.start > to.last => Err(format!(
            "`claim.period`: `from` {:?} is after `to` {:?}",
            get(fields, "from").map(|n| n.raw_str()).unwrap_or_default(),
            get(fields, "to").map(|n| n.raw_str()).unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

fn check_source(index: usize, source: &Node) -> Result<(), String> {
    let ctx = format!("claim.sources[{index}]");
    let fields = source.as_object(&ctx)?;
    check_fields(fields, SOURCE_FIELDS, &format!("{ctx}."))?;
    if get(fields, "url").is_none() && get(fields, "publisher").is_none() {
        return Err(format!("`{ctx}` has neither `url` nor `publisher`"));
    }
    if let Some(url) = get(fields, "url") {
        let name = format!("{ctx}.url");
        let url = url.as_str(&name)?;
        check_no_control(&name, url, false)?;
        if url.len() > 2000 {
            return Err(format!("`{name}` is {} bytes, more than 2,000", url.len()));
        }
        if !is_http_url(url) {
            return Err(format!(
                "`{name}` {url:?} is not an absolute http or https URL with a host"
            ));
        }
    }
    if let Some(node) = get(fields, "publisher") {
        check_text(&format!("{ctx}.publisher"), node, 200, false)?;
    }
    if let Some(node) = get(fields, "title") {
        check_text(&format!("{ctx}.title"), node, 1000, false)?;
    }
    if let Some(node) = get(fields, "published_on") {
        check_date(&format!("{ctx}.published_on"), node)?;
    }
    if let Some(node) = get(fields, "retrieved_on") {
        check_date(&format!("{ctx}.retrieved_on"), node)?;
    }
    if let Some(node) = get(fields, "quote") {
        check_text(&format!("{ctx}.quote"), node, 4000, true)?;
    }
    if let Some(node) = get(fields, "archived") {
        let name = format!("{ctx}.archived");
        let items = node.as_array(&name)?;
        if items.is_empty() {
            return Err(format!("`{name}` is empty; an empty list is left out"));
        }
        if items.len() > 100 {
            return Err(format!(
                "`{name}` has {} snapshots, more than 100",
                items.len()
            ));
        }
        let mut hashes: Vec<&str> = Vec::new();
        for (j, item) in items.iter().enumerate() {
            let hash = check_archived(&format!("{name}[{j}]"), item)?;
            if hashes.contains(&hash) {
                return Err(format!("`{name}[{j}].sha256` {hash} is listed twice"));
            }
            hashes.push(hash);
        }
    }
    Ok(())
}

/// One snapshot of a source's `archived` list; returns its hash.
fn check_archived<'n>(ctx: &str, item: &'n Node) -> Result<&'n str, String> {
    let fields = item.as_object(ctx)?;
    check_fields(fields, ARCHIVED_FIELDS, &format!("{ctx}."))?;
    let field = |name: &str| get(fields, name).ok_or_else(|| format!("no field `{ctx}.{name}`"));
    let hash = field("sha256")?.as_str(&format!("{ctx}.sha256"))?;
    if !is_lower_hex(hash, 64) {
        return Err(format!(
            "`{ctx}.sha256` {hash:?} is not 64 lowercase hex digits"
        ));
    }
    let size = field("size")?.as_integer(&format!("{ctx}.size"))?;
    if size == 0 || size > (1 << 53) - 1 {
        return Err(format!("`{ctx}.size` is {size}, not from 1 to 2^53 - 1"));
    }
    let media_type = field("media_type")?.as_str(&format!("{ctx}.media_type"))?;
    let token = |part: &str| {
        part.as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&-^_.+".contains(&b))
    };
    if media_type.len() > 255
        || !media_type
            .split_once('/')
            .is_some_and(|(a, b)| token(a) && token(b))
    {
        return Err(format!(
            "`{ctx}.media_type` {media_type:?} is not a lowercase type/subtype"
        ));
    }
    check_date(&format!("{ctx}.captured_at"), field("captured_at")?)?;
    let url = get(fields, "url");
    if let Some(url) = url {
        let name = format!("{ctx}.url");
        let url = url.as_str(&name)?;
        check_no_control(&name, url, false)?;
        if url.len() > 2000 || !is_http_url(url) {
            return Err(format!(
                "`{name}` {url:?} is not an absolute http or https URL of at most 2,000 bytes"
            ));
        }
    }
    if let Some(status) = get(fields, "status") {
        let status = status.as_integer(&format!("{ctx}.status"))?;
        if !(100..=599).contains(&status) {
            return Err(format!("`{ctx}.status` is {status}, not an HTTP status"));
        }
        if url.is_none() {
            return Err(format!("`{ctx}.status` is given without `{ctx}.url`"));
        }
    }
    Ok(hash)
}

/// Section 1: an absolute URL as the WHATWG URL Standard parses it (the `url` crate is an
/// implementation of it), with scheme `http` or `https` and a non-empty host.
fn is_http_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|parsed| {
        matches!(parsed.scheme(), "http" | "https")
            && parsed.host_str().is_some_and(|host| !host.is_empty())
    })
}

/// The span of time a DATE stands for, in nanoseconds since 1970 (UTC): first and last instant.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i128,
    last: i128,
}

const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

fn check_date(name: &str, node: &Node) -> Result<Span, String> {
    let s = node.as_str(name)?;
    parse_date(s).ok_or_else(|| {
        format!(
            "`{name}` {s:?} is not a DATE (YYYY, YYYY-MM, YYYY-MM-DD or an RFC 3339 timestamp, \
             at most 64 characters)"
        )
    })
}

fn parse_date(s: &str) -> Option<Span> {
    let b = s.as_bytes();
    if b.len() > 64 || !b.is_ascii() {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        d.iter().all(u8::is_ascii_digit).then(|| num(d))
    };
    let year = digits(0..4)?;
    match b.len() {
        4 => Some(Span {
            start: days_from_civil(year, 1, 1) * NANOS_PER_DAY,
            last: days_from_civil(year + 1, 1, 1) * NANOS_PER_DAY - 1,
        }),
        7 => {
            let month = (b[4] == b'-').then(|| digits(5..7))??;
            if !(1..=12).contains(&month) {
                return None;
            }
            let (ny, nm) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            Some(Span {
                start: days_from_civil(year, month, 1) * NANOS_PER_DAY,
                last: days_from_civil(ny, nm, 1) * NANOS_PER_DAY - 1,
            })
        }
        10 => {
            let (month, day) = ymd_tail(b, &digits)?;
            let start = days_from_civil(year, month, day) * NANOS_PER_DAY;
            Some(Span {
                start,
                last: start + NANOS_PER_DAY - 1,
            })
        }
        _ => {
            // RFC 3339 date-time: full-date "T" HH:MM:SS [.frac] ("Z" / ±HH:MM)
            let (month, day) = ymd_tail(b, &digits)?;
            // Section 1: an upper-case `T` (RFC 3339 also allows `t`, or a space).
            if b.get(10) != Some(&b'T') || b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
                return None;
            }
            let (h, m, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
            if h > 23 || m > 59 || sec > 60 {
                return None;
            }
            let mut i = 19;
            let mut nanos: i128 = 0;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    if i - start < 9 {
                        nanos = nanos * 10 + i128::from(b[i] - b'0');
                    }
                    i += 1;
                }
                // Section 1: 1 to 9 digits of fraction.
                let n = i - start;
                if n == 0 || n > 9 {
                    return None;
                }
                for _ in n..9 {
                    nanos *= 10;
                }
            }
            let offset_minutes: i64 = match b.get(i) {
                Some(b'Z') if i + 1 == b.len() => 0,
                Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                    let (oh, om) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
                    if oh > 23 || om > 59 {
                        return None;
                    }
                    if *sign == b'+' {
                        oh * 60 + om
                    } else {
                        -(oh * 60 + om)
                    }
                }
                _ => return None,
            };
            let seconds = days_from_civil(year, month, day) * 86_400
                + i128::from(h * 3600 + m * 60 + sec - offset_minutes * 60);
            let t = seconds * 1_000_000_000 + nanos;
            Some(Span { start: t, last: t })
        }
    }
}

/// Month and day of `YYYY-MM-DD…`, when they make a real calendar date.
fn ymd_tail(
    b: &[u8],
    digits: &dyn Fn(std::ops::Range<usize>) -> Option<i64>,
) -> Option<(i64, i64)> {
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    is_real_date(year, month, day).then_some((month, day))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i128 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i128::from(era * 146_097 + doe - 719_468)
}

// ---------------------------------------------------------------------------------------------
// JSON, as section 2 writes it
// ---------------------------------------------------------------------------------------------

/// A parsed JSON value that keeps the order of object fields and its place in the bytes.
#[derive(Debug)]
struct Node {
    val: Val,
    start: usize,
    end: usize,
}

#[derive(Debug)]
enum Val {
    Null,
    Bool,
    /// the number's text, as written
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    /// fields in the order they appear
    Obj(Vec<(String, Node)>),
}

impl Node {
    fn bytes<'b>(&self, src: &'b [u8]) -> &'b [u8] {
        src.get(self.start..self.end).unwrap_or_default()
    }

    fn raw(&self, src: &[u8]) -> String {
        String::from_utf8_lossy(self.bytes(src)).into_owned()
    }

    fn raw_str(&self) -> String {
        match &self.val {
            Val::Str(s) => s.clone(),
            _ => String::new(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self.val {
            Val::Null => "null",
            Val::Bool => "a boolean",
            Val::Num(_) => "a number",
            Val::Str(_) => "a string",
            Val::Arr(_) => "an array",
            Val::Obj(_) => "an object",
        }
    }

    fn as_object(&self, what: &str) -> Result<&[(String, Node)], String> {
        match &self.val {
            Val::Obj(fields) => Ok(fields),
            _ => Err(format!("{what} is {}, not an object", self.type_name())),
        }
    }

    fn as_array(&self, what: &str) -> Result<&[Node], String> {
        match &self.val {
            Val::Arr(items) => Ok(items),
            _ => Err(format!("`{what}` is {}, not an array", self.type_name())),
        }
    }

    fn as_str(&self, what: &str) -> Result<&str, String> {
        match &self.val {
            Val::Str(s) => Ok(s),
            _ => Err(format!("`{what}` is {}, not a string", self.type_name())),
        }
    }

    /// A whole number written plainly (`0` or `[1-9][0-9]*`).
    fn as_integer(&self, what: &str) -> Result<u64, String> {
        match &self.val {
            Val::Num(t) if t.bytes().all(|b| b.is_ascii_digit()) => t
                .parse()
                .map_err(|e| format!("`{what}` {t} is out of range: {e}")),
            Val::Num(t) => Err(format!("`{what}` is {t}, not a whole number")),
            _ => Err(format!("`{what}` is {}, not an integer", self.type_name())),
        }
    }
}

/// A strict parser for the form of section 2: no white space between tokens; strings escaped
/// exactly as section 2 says (so `\/`, `\u0041` or a surrogate pair escape are refused).
struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

const MAX_DEPTH: usize = 128;

impl<'a> Parser<'a> {
    fn parse(b: &'a [u8]) -> Result<Node, String> {
        let mut p = Parser { b, pos: 0 };
        let node = p.value(0)?;
        if p.pos != b.len() {
            return Err(p.error("bytes after the end of the JSON object"));
        }
        Ok(node)
    }

    fn error(&self, what: &str) -> String {
        match self.b.get(self.pos) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => format!(
                "white space at byte {}; entries have none between tokens",
                self.pos + 1
            ),
            _ => format!("{what} at byte {}", self.pos + 1),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.b.get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", char::from(c))))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("JSON nested too deeply"));
        }
        let start = self.pos;
        let val = match self.b.get(self.pos) {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Val::Str(self.string()?),
            Some(b't') => self.literal("true", Val::Bool)?,
            Some(b'f') => self.literal("false", Val::Bool)?,
            Some(b'n') => self.literal("null", Val::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.error("expected a JSON value")),
        };
        Ok(Node {
            val,
            start,
            end: self.pos,
        })
    }

    fn literal(&mut self, word: &str, val: Val) -> Result<Val, String> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(val)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Val, String> {
        self.expect(b'{')?;
        let mut fields = Vec::new();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Val::Obj(fields));
        }
        loop {
            if self.b.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a field name"));
            }
            let name = self.string()?;
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            fields.push((name, value));
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Val::Obj(fields));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Val, String> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Val::Arr(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Val::Arr(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Val, String> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.b.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.b.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.b.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(Val::Num(
            String::from_utf8_lossy(&self.b[start..self.pos]).into_owned(),
        ))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    let escape_at = self.pos;
                    let e = self.b.get(self.pos + 1).copied();
                    self.pos += 2;
                    match e {
                        Some(b'"') => out.push(b'"'),
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'b') => out.push(0x08),
                        Some(b't') => out.push(0x09),
                        Some(b'n') => out.push(0x0a),
                        Some(b'f') => out.push(0x0c),
                        Some(b'r') => out.push(0x0d),
                        Some(b'u') => {
                            let hex = self.b.get(self.pos..self.pos + 4).unwrap_or_default();
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .filter(|h| h.len() == 4 && is_lower_hex(h, 4))
                                .and_then(|h| u8::from_str_radix(h.get(2..)?, 16).ok())
                                .filter(|_| hex.starts_with(b"00"));
                            match code {
                                Some(c)
                                    if c < 0x20
                                        && !matches!(c, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) =>
                                {
                                    out.push(c);
                                    self.pos += 4;
                                }
                                _ => {
                                    self.pos = escape_at;
                                    return Err(self.error(&format!(
                                        "escape \\u{} where section 2 writes the character \
                                         itself, a short escape, or \\u00XX (lowercase) only \
                                         below U+0020",
                                        String::from_utf8_lossy(hex)
                                    )));
                                }
                            }
                        }
                        _ => {
                            self.pos = escape_at;
                            return Err(self.error(&format!(
                                "escape \\{} that section 2 does not write",
                                e.map(char::from).unwrap_or(' ')
                            )));
                        }
                    }
                }
                0x00..=0x1f => return Err(self.error("raw control character in a string")),
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.error("string is not valid UTF-8"))
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    // Copied from docs/FORMAT.md, section 3, "Worked example".
    const LINE1: &str = r#"{"v":1,"seq":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000","type":"claim_recorded","recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","claim_id":"0198a34d-2a00-75f1-82b8-54b4d5723eb2","key":"mz-named-dead","claim":{"subject":"russia/military-deaths","claimant":"Mediazona & BBC Russian Service","statement":"95,300 named Russian military dead","value":{"bound":"exact","amount":"95300","unit":"people"},"period":{"from":"2022-02-24","to":"2025-02-24"},"stated_on":"2025-02-24","sources":[{"publisher":"AFP","quote":"currently stands at 95,300"}],"status":"active"}}"#;
    const LINE2: &str = r#"{"v":1,"seq":2,"prev":"4eab37672d6b2c4b921228097743a2193168a2a333d6318648adb8c858d4b7f3","type":"claim_revised","recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","claim_id":"0198a34d-2a00-75f1-82b8-54b4d5723eb2","revision":2,"kind":"update","reason":"List updated to 31 July 2025","claim":{"subject":"russia/military-deaths","claimant":"Mediazona & BBC Russian Service","statement":"121,507 named Russian military dead","value":{"bound":"exact","amount":"121507","unit":"people"},"period":{"from":"2022-02-24","to":"2025-07-31"},"stated_on":"2025-08","sources":[{"publisher":"AFP","quote":"currently stands at 95,300"}],"status":"active"}}"#;
    const HASH1: &str = "4eab37672d6b2c4b921228097743a2193168a2a333d6318648adb8c858d4b7f3";
    const HASH2: &str = "86b387dfb963cb7d5a9bec67f7076e9ce6c2add00ca1d2679d923db533a6770b";
    const DOC_HEAD: &str = "2:86b387dfb963cb7d5a9bec67f7076e9ce6c2add00ca1d2679d923db533a6770b";

    fn export(lines: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out
    }

    fn doc_export() -> Vec<u8> {
        export(&[LINE1, LINE2])
    }

    /// `text` with its one occurrence of `from` replaced by `to`.
    fn replace_once(text: &str, from: &str, to: &str) -> String {
        assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
        text.replacen(from, to, 1)
    }

    fn head(text: &str) -> Head {
        parse_head(text).expect("a valid head")
    }

    #[track_caller]
    fn fails_at(input: &[u8], expect: Option<&Head>, line: u64) -> String {
        match verify(input, expect) {
            Ok(report) => panic!("verified, but should fail at line {line}: {report:?}"),
            Err(failure) => {
                assert_eq!(failure.line, line, "wrong line: {failure}");
                failure.reason
            }
        }
    }

    #[test]
    fn worked_example_lengths_and_hashes_match_the_document() {
        assert_eq!(LINE1.len(), 603);
        assert_eq!(LINE2.len(), 648);
        assert_eq!(blake3::hash(LINE1.as_bytes()).to_hex().as_str(), HASH1);
        assert_eq!(blake3::hash(LINE2.as_bytes()).to_hex().as_str(), HASH2);
        assert_eq!(ZERO_HASH.len(), 64);
    }

    #[test]
    fn worked_example_verifies_with_the_documented_head() {
        let report = verify(&doc_export(), None).expect("the worked example verifies");
        assert_eq!(report.entries, 2);
        assert_eq!(report.head(), DOC_HEAD);
    }

    #[test]
    fn empty_export_is_the_empty_head() {
        let report = verify(b"", None).expect("an empty export verifies");
        assert_eq!(report.head(), format!("0:{ZERO_HASH}"));
        verify(b"", Some(&head(&format!("0:{ZERO_HASH}")))).expect("0:000… matches empty");
        fails_at(b"", Some(&head(DOC_HEAD)), 2);
    }

    #[test]
    fn missing_final_newline_is_accepted() {
        let input = format!("{LINE1}\n{LINE2}");
        let report = verify(input.as_bytes(), None).expect("verifies");
        assert_eq!(report.head(), DOC_HEAD);
    }

    #[test]
    fn flipped_character_in_line_1_fails() {
        let line1 = replace_once(LINE1, "95,300 named", "95,301 named");
        // Line 1 is still well formed; line 2's prev no longer matches its hash.
        let reason = fails_at(&export(&[&line1, LINE2]), None, 2);
        assert!(reason.contains("prev"), "{reason}");
    }

    #[test]
    fn changed_prev_fails() {
        let line2 = replace_once(LINE2, HASH1, &HASH1.replace("4eab", "4eac"));
        fails_at(&export(&[LINE1, &line2]), None, 2);
        let line1 = replace_once(LINE1, ZERO_HASH, HASH1);
        fails_at(&export(&[&line1, LINE2]), None, 1);
    }

    #[test]
    fn swapped_lines_fail() {
        fails_at(&export(&[LINE2, LINE1]), None, 1);
    }

    #[test]
    fn duplicated_line_fails() {
        fails_at(&export(&[LINE1, LINE1, LINE2]), None, 2);
        fails_at(&export(&[LINE1, LINE2, LINE2]), None, 3);
    }

    #[test]
    fn deleted_first_line_fails() {
        fails_at(&export(&[LINE2]), None, 1);
    }

    #[test]
    fn wrong_v_fails() {
        let line1 = replace_once(LINE1, r#"{"v":1,"#, r#"{"v":2,"#);
        let reason = fails_at(&export(&[&line1, LINE2]), None, 1);
        assert!(reason.contains("`v`"), "{reason}");
        let line1 = replace_once(LINE1, r#"{"v":1,"#, r#"{"v":"1","#);
        fails_at(&export(&[&line1]), None, 1);
    }

    #[test]
    fn field_in_wrong_order_fails() {
        let line1 = replace_once(
            LINE1,
            r#""recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","#,
            r#""author":"ana","recorded_at":"2025-08-13T12:00:00.000000Z","#,
        );
        let reason = fails_at(&export(&[&line1, LINE2]), None, 1);
        assert!(reason.contains("out of order"), "{reason}");
        // inside the claim object too
        let line1 = replace_once(
            LINE1,
            r#""bound":"exact","amount":"95300""#,
            r#""amount":"95300","bound":"exact""#,
        );
        let reason = fails_at(&export(&[&line1]), None, 1);
        assert!(reason.contains("out of order"), "{reason}");
    }

    #[test]
    fn extra_field_fails() {
        let line1 = replace_once(LINE1, r#""author":"ana","#, r#""author":"ana","extra":1,"#);
        let reason = fails_at(&export(&[&line1, LINE2]), None, 1);
        assert!(reason.contains("unexpected field"), "{reason}");
        // a field of the other entry type
        let line1 = replace_once(LINE1, r#""key":"mz-named-dead","#, r#""revision":1,"#);
        fails_at(&export(&[&line1]), None, 1);
        // a duplicated field
        let line1 = replace_once(
            LINE1,
            r#""author":"ana","#,
            r#""author":"ana","author":"ana","#,
        );
        let reason = fails_at(&export(&[&line1]), None, 1);
        assert!(reason.contains("duplicate"), "{reason}");
    }

    #[test]
    fn missing_field_fails() {
        let line2 = replace_once(LINE2, r#""kind":"update","#, "");
        let reason = fails_at(&export(&[LINE1, &line2]), None, 2);
        assert!(reason.contains("missing field `kind`"), "{reason}");
    }

    #[test]
    fn uppercase_hex_prev_fails() {
        let line2 = replace_once(LINE2, HASH1, &HASH1.to_ascii_uppercase());
        let reason = fails_at(&export(&[LINE1, &line2]), None, 2);
        assert!(reason.contains("lowercase"), "{reason}");
    }

    #[test]
    fn revision_3_right_after_the_record_fails() {
        let line2 = replace_once(LINE2, r#""revision":2,"#, r#""revision":3,"#);
        let reason = fails_at(&export(&[LINE1, &line2]), None, 2);
        assert!(reason.contains("revision"), "{reason}");
    }

    #[test]
    fn revision_of_an_unknown_claim_fails() {
        let line2 = replace_once(
            LINE2,
            "0198a34d-2a00-75f1-82b8-54b4d5723eb2",
            "0198a34d-2a00-75f1-82b8-54b4d5723eb3",
        );
        let reason = fails_at(&export(&[LINE1, &line2]), None, 2);
        assert!(reason.contains("never recorded"), "{reason}");
    }

    #[test]
    fn bad_recorded_at_and_claim_id_fail() {
        for (from, to) in [
            ("12:00:00.000000Z", "12:00:00Z"),
            ("12:00:00.000000Z", "12:00:00.000000+00:00"),
            ("2025-08-13T", "2025-02-30T"),
            ("0198a34d-2a00-75f1", "0198A34D-2A00-75F1"),
            ("0198a34d-2a00-75f1", "0198a34d-2a00-45f1"),
            ("0198a34d-2a00-75f1-82b8", "0198a34d2a0075f182b8"),
        ] {
            let line1 = replace_once(LINE1, from, to);
            fails_at(&export(&[&line1]), None, 1);
        }
    }

    #[test]
    fn non_canonical_json_fails() {
        for (from, to) in [
            (r#""author":"ana""#, r#""author": "ana""#),
            (r#""author":"ana""#, r#""author":"\u0061na""#),
            (r#""author":"ana""#, r#""author":"a\/na""#),
            (r#""seq":1"#, r#""seq":1.0"#),
        ] {
            let line1 = replace_once(LINE1, from, to);
            fails_at(&export(&[&line1]), None, 1);
        }
        let crlf = format!("{LINE1}\r\n");
        fails_at(crlf.as_bytes(), None, 1);
        let blank = format!("{LINE1}\n\n{LINE2}\n");
        fails_at(blank.as_bytes(), None, 2);
        fails_at(b"{\"v\":1\n", None, 1);
        fails_at(b"\xff\n", None, 1);
    }

    #[test]
    fn claim_rules_are_checked() {
        for (from, to) in [
            (
                r#""subject":"russia/military-deaths""#,
                r#""subject":"Russia/deaths""#,
            ),
            (r#""amount":"95300""#, r#""amount":95300"#),
            (r#""amount":"95300""#, r#""amount":"095300""#),
            (
                r#""bound":"exact","amount":"95300","#,
                r#""bound":"exact","#,
            ),
            (r#""status":"active""#, r#""status":"gone""#),
            (r#""to":"2025-02-24""#, r#""to":"2021""#),
            (r#""stated_on":"2025-02-24""#, r#""stated_on":"2025-02-29""#),
            (r#"{"publisher":"AFP","#, r#"{"#),
            (r#""key":"mz-named-dead""#, r#""key":"Mz""#),
            (
                r#""key":"mz-named-dead""#,
                r#""key":"0198a34d-2a00-75f1-82b8-54b4d5723eb3""#,
            ),
            (
                r#""key":"mz-named-dead""#,
                r#""key":"0198a34d2a0075f182b854b4d5723eb3""#,
            ),
            (
                r#""bound":"exact","amount":"95300","#,
                r#""bound":"range","amount":"1","low":"1","high":"2","#,
            ),
            (
                r#""bound":"exact","amount":"95300","#,
                r#""bound":"range","low":"2","high":"1.5","#,
            ),
            (r#""amount":"95300","#, r#""amount":"95300","low":"1","#),
            (
                r#""claimant":"Mediazona & BBC Russian Service""#,
                r#""claimant":"""#,
            ),
            (r#""status":"active""#, r#""status":"active","tags":[]"#),
            (
                r#""status":"active""#,
                r#""status":"active","tags":["a","a"]"#,
            ),
            (r#""status":"active""#, r#""status":"active","tags":["A"]"#),
            (
                r#""key":"mz-named-dead","#,
                r#""key":"mz-named-dead","note":null,"#,
            ),
        ] {
            let line1 = replace_once(LINE1, from, to);
            fails_at(&export(&[&line1]), None, 1);
        }
        // and some that hold
        for (from, to) in [
            (r#""to":"2025-02-24""#, r#""to":"2022-02""#),
            (
                r#""stated_on":"2025-02-24""#,
                r#""stated_on":"2025-02-24T10:00:00.5+03:00""#,
            ),
            (
                r#""status":"active""#,
                r#""status":"disputed","tags":["x","0198a34d-2a00-75f1-82b8-54b4d5723eb2"]"#,
            ),
            (
                r#""bound":"exact","amount":"95300","#,
                r#""bound":"range","low":"-0.5","high":"0","#,
            ),
            (
                r#""key":"mz-named-dead","#,
                r#""key":"mz-named-dead","note":"line\none","#,
            ),
        ] {
            let line1 = replace_once(LINE1, from, to);
            verify(&export(&[&line1]), None).expect("holds");
        }
    }

    #[test]
    fn status_revisions_change_only_the_status() {
        let status_only = replace_once(LINE1, r#""status":"active""#, r#""status":"retracted""#);
        let revised = |claim_source: &str, kind: &str| -> Vec<u8> {
            let claim_start = claim_source.find(r#""claim":{"#).unwrap_or_default();
            let line2 = format!(
                r#"{{"v":1,"seq":2,"prev":"{HASH1}","type":"claim_revised","recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","claim_id":"0198a34d-2a00-75f1-82b8-54b4d5723eb2","revision":2,"kind":"{kind}","reason":"r",{}"#,
                &claim_source[claim_start..]
            );
            export(&[LINE1, &line2])
        };
        verify(&revised(&status_only, "status"), None).expect("a status revision");
        fails_at(&revised(LINE2, "status"), None, 2);
        fails_at(&revised(LINE1, "update"), None, 2);
    }

    #[test]
    fn evidence_revisions_change_only_the_snapshots() {
        let item = r#"{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":12,"media_type":"application/pdf","captured_at":"2025-08-13"}"#;
        let archived = replace_once(
            LINE1,
            r#""quote":"currently stands at 95,300"}"#,
            &format!(r#""quote":"currently stands at 95,300","archived":[{item}]}}"#),
        );
        let revised = |claim_source: &str, kind: &str| -> Vec<u8> {
            let claim_start = claim_source.find(r#""claim":{"#).unwrap_or_default();
            let line2 = format!(
                "{}{}",
                &LINE2[..LINE2.find(r#""claim":{"#).unwrap_or_default()],
                &claim_source[claim_start..]
            )
            .replace(r#""kind":"update""#, &format!(r#""kind":"{kind}""#));
            export(&[LINE1, &line2])
        };
        verify(&revised(&archived, "evidence"), None).expect("an evidence revision");
        verify(&revised(&archived, "update"), None).expect("an update may add snapshots too");
        fails_at(&revised(&archived, "status"), None, 2);
        fails_at(&revised(LINE2, "evidence"), None, 2);
        let retracted = replace_once(&archived, r#""status":"active""#, r#""status":"retracted""#);
        fails_at(&revised(&retracted, "evidence"), None, 2);
        for (from, to) in [
            (r#""size":12"#, r#""size":0"#),
            (r#""size":12"#, r#""size":"12""#),
            ("application/pdf", "PDF"),
            (
                r#""captured_at":"2025-08-13""#,
                r#""captured_at":"2025-08-13","status":200"#,
            ),
            (r#","media_type":"application/pdf""#, ""),
            (item, &format!("{item},{item}")),
        ] {
            let bad = replace_once(&archived, from, to);
            fails_at(&revised(&bad, "evidence"), None, 2);
        }
    }

    #[test]
    fn duplicate_key_and_id_fail() {
        let line2 = format!(r#"{{"v":1,"seq":2,"prev":"{HASH1}","#)
            + &LINE1[LINE1.find(r#""type""#).unwrap_or_default()..];
        let reason = fails_at(&export(&[LINE1, &line2]), None, 2);
        assert!(reason.contains("already recorded"), "{reason}");
        let line2 = replace_once(&line2, "54b4d5723eb2", "54b4d5723eb3");
        let reason = fails_at(&export(&[LINE1, &line2]), None, 2);
        assert!(reason.contains("already used"), "{reason}");
        let line2 = replace_once(&line2, r#""key":"mz-named-dead","#, "");
        verify(&export(&[LINE1, &line2]), None).expect("a second claim without a key");
    }

    #[test]
    fn expect_head_with_the_documented_head_passes() {
        let report = verify(&doc_export(), Some(&head(DOC_HEAD))).expect("head matches");
        assert_eq!(report.head(), DOC_HEAD);
        verify(&doc_export(), Some(&head(&format!("1:{HASH1}")))).expect("an earlier head");
        verify(&doc_export(), Some(&head(&format!("0:{ZERO_HASH}")))).expect("the empty head");
    }

    #[test]
    fn expect_head_with_a_wrong_hash_fails() {
        let wrong = format!("2:{HASH1}");
        let reason = fails_at(&doc_export(), Some(&head(&wrong)), 2);
        assert!(reason.contains("rolled back or rewritten"), "{reason}");
        fails_at(&doc_export(), Some(&head(&format!("1:{HASH2}"))), 1);
    }

    #[test]
    fn expect_head_with_a_count_beyond_the_export_fails() {
        let beyond = format!("3:{HASH2}");
        let reason = fails_at(&doc_export(), Some(&head(&beyond)), 3);
        assert!(reason.contains("only 2 entries"), "{reason}");
    }

    #[test]
    fn malformed_heads_are_refused() {
        for text in [
            "",
            "2",
            ":abc",
            "x:86b3",
            "2:86b3",
            "-1:86b387dfb963cb7d5a9bec67f7076e9ce6c2add00ca1d2679d923db533a6770b",
        ] {
            assert!(parse_head(text).is_err(), "{text:?}");
        }
        assert_eq!(head(&DOC_HEAD.to_ascii_uppercase()), head(DOC_HEAD));
    }

    #[test]
    fn decimals_compare_numerically() {
        use std::cmp::Ordering::*;
        for (a, b, o) in [
            ("1", "2", Less),
            ("10", "9", Greater),
            ("0.5", "0.50", Equal),
            ("-0", "0", Equal),
            ("-1", "0", Less),
            ("-1.5", "-1.25", Less),
            ("123.001", "123", Greater),
        ] {
            assert_eq!(compare_decimals(a, b), o, "{a} vs {b}");
        }
    }

    #[test]
    fn date_spans() {
        let span = |s: &str| parse_date(s).unwrap_or_else(|| panic!("{s} is a DATE"));
        assert!(span("2024").start <= span("2024-06").last);
        assert!(span("2025").start > span("2024").last);
        assert!(span("2024-12-31T23:00:00-05:00").start > span("2024").last);
        assert!(span("2024-12-31T23:00:00Z").start <= span("2024").last);
        for bad in ["24", "2024-13", "2023-02-29", "2024-01-01T10:00Z"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        for bad in [
            "2024-01-01T10:00:00",
            "2024-01-01T24:00:00Z",
            "2024-01-01T10:00:00.Z",
            // Section 1 allows RFC 3339's upper-case `T` and `Z` only, and 1 to 9 digits of
            // fraction.
            "2024-01-01 10:00:00Z",
            "2024-01-01t10:00:00z",
            "2024-01-01T10:00:00z",
            "2024-01-01T10:00:00.1234567891+01:00",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        for good in [
            "2024-02-29",
            "2016-12-31T23:59:60Z",
            "2024-01-01T10:00:00.123456789+01:00",
        ] {
            assert!(parse_date(good).is_some(), "{good}");
        }
        // a timestamp at the very end of `to`'s day is in the period; the next instant is not
        assert!(span("2024-01-01T23:59:59.999999999Z").start <= span("2024-01-01").last);
        assert!(span("2024-01-02T00:00:00Z").start > span("2024-01-01").last);
    }
}
