//! Events, the only thing the ledger ever stores, and the entries that chain them.
//!
//! Events are named in the past tense and never change. A mistake in a claim is put right by a
//! [`ClaimRevised`] of kind `correction`, never by editing a [`ClaimRecorded`].
//!
//! An entry's stored bytes are one line of JSON written by [`Entry::encode`]; its hash is BLAKE3
//! of exactly those bytes. Decoding never re-serialises: verification hashes what is stored.
//! docs/FORMAT.md specifies the bytes.

use crate::{Claim, Key, RevisionKind};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The format version written in every entry as `"v"`.
pub const ENTRY_FORMAT_VERSION: u32 = 1;

/// The largest stored entry accepted when decoding, in bytes. Input limits keep real entries
/// far below it (a claim at every limit encodes to under 1 MiB).
pub const ENTRY_LEN_MAX: usize = 4 << 20;

/// A claim's permanent identity: a UUID version 7, made by the ledger when the claim is
/// recorded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimId(uuid::Uuid);

impl ClaimId {
    pub fn from_uuid(uuid: uuid::Uuid) -> Result<ClaimId, String> {
        if uuid.get_version_num() != 7 {
            return Err(format!("{uuid} is not a version 7 UUID"));
        }
        Ok(ClaimId(uuid))
    }

    pub fn parse(text: &str) -> Result<ClaimId, String> {
        let uuid =
            uuid::Uuid::try_parse(text).map_err(|_| format!("{text:?} is not a claim id"))?;
        if uuid.hyphenated().to_string() != text {
            return Err(format!(
                "{text:?} is not a claim id in lowercase hyphenated form"
            ));
        }
        ClaimId::from_uuid(uuid)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Result<ClaimId, String> {
        ClaimId::from_uuid(uuid::Uuid::from_bytes(bytes))
    }

    pub fn uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimId({})", self.0.hyphenated())
    }
}

impl Serialize for ClaimId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.hyphenated())
    }
}

impl<'de> Deserialize<'de> for ClaimId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ClaimId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An entry's position in the log: 1 for the first entry, dense, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    pub const FIRST: Seq = Seq(1);

    pub fn next(self) -> Seq {
        Seq(self
            .0
            .checked_add(1)
            .expect("sequence numbers do not run out"))
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// BLAKE3 of an entry's stored bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryHash(pub [u8; 32]);

impl EntryHash {
    /// The `prev` of the first entry.
    pub const ZERO: EntryHash = EntryHash([0; 32]);

    pub fn of(entry_bytes: &[u8]) -> EntryHash {
        EntryHash(*blake3::hash(entry_bytes).as_bytes())
    }

    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    /// Parses 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<EntryHash, String> {
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "{text:?} is not a hash: expected 64 lowercase hex digits"
            ));
        }
        blake3::Hash::from_hex(text)
            .map(|h| EntryHash(*h.as_bytes()))
            .map_err(|e| e.to_string())
    }
}

impl fmt::Display for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryHash({})", self.to_hex())
    }
}

impl Serialize for EntryHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for EntryHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        EntryHash::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A moment the ledger recorded something: UTC, written with exactly six fractional digits
/// (`2025-02-25T09:30:00.000000Z`) so that its text is one function of its value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Truncates to whole microseconds, the stored precision.
    pub fn new(at: DateTime<Utc>) -> Timestamp {
        let micros = at.timestamp_micros();
        Timestamp(
            DateTime::from_timestamp_micros(micros)
                .expect("a microsecond count from a valid time is valid"),
        )
    }

    pub fn get(&self) -> DateTime<Utc> {
        self.0
    }

    pub fn parse(text: &str) -> Result<Timestamp, String> {
        let parsed = DateTime::parse_from_rfc3339(text)
            .map_err(|e| format!("{text:?} is not a timestamp: {e}"))?;
        let timestamp = Timestamp::new(parsed.with_timezone(&Utc));
        if timestamp.to_string() != text {
            return Err(format!(
                "{text:?} is not in the stored form YYYY-MM-DDTHH:MM:SS.ffffffZ"
            ));
        }
        Ok(timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A claim entered the ledger: its revision 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRecorded {
    pub claim_id: ClaimId,
    pub key: Option<Key>,
    pub author: String,
    pub note: Option<String>,
    pub recorded_at: Timestamp,
    pub claim: Claim,
}

/// A claim got a new revision; `claim` is the full claim as of that revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRevised {
    pub claim_id: ClaimId,
    pub revision: u32,
    pub kind: RevisionKind,
    pub reason: String,
    pub author: String,
    pub note: Option<String>,
    pub recorded_at: Timestamp,
    pub claim: Claim,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    ClaimRecorded(ClaimRecorded),
    ClaimRevised(ClaimRevised),
}

impl Event {
    pub fn claim_id(&self) -> ClaimId {
        match self {
            Event::ClaimRecorded(e) => e.claim_id,
            Event::ClaimRevised(e) => e.claim_id,
        }
    }

    /// The revision of its claim that this event makes.
    pub fn revision(&self) -> u32 {
        match self {
            Event::ClaimRecorded(_) => 1,
            Event::ClaimRevised(e) => e.revision,
        }
    }

    /// The full claim as of this event.
    pub fn claim(&self) -> &Claim {
        match self {
            Event::ClaimRecorded(e) => &e.claim,
            Event::ClaimRevised(e) => &e.claim,
        }
    }

    pub fn author(&self) -> &str {
        match self {
            Event::ClaimRecorded(e) => &e.author,
            Event::ClaimRevised(e) => &e.author,
        }
    }

    pub fn note(&self) -> Option<&str> {
        match self {
            Event::ClaimRecorded(e) => e.note.as_deref(),
            Event::ClaimRevised(e) => e.note.as_deref(),
        }
    }

    pub fn recorded_at(&self) -> Timestamp {
        match self {
            Event::ClaimRecorded(e) => e.recorded_at,
            Event::ClaimRevised(e) => e.recorded_at,
        }
    }

    /// The name written in the entry's `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ClaimRecorded(_) => "claim_recorded",
            Event::ClaimRevised(_) => "claim_revised",
        }
    }
}

/// One link of the chain: the event, its place, and the hash of the entry before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: Seq,
    pub prev: EntryHash,
    pub event: Event,
}

/// The stored JSON object, field by field in stored order (docs/FORMAT.md).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEntry {
    v: u32,
    seq: Seq,
    prev: EntryHash,
    #[serde(rename = "type")]
    type_name: String,
    recorded_at: Timestamp,
    author: String,
    claim_id: ClaimId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revision: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<RevisionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    claim: Claim,
}

/// Why stored bytes are not a valid entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

impl Entry {
    /// The entry's stored bytes: compact JSON, no trailing newline.
    pub fn encode(&self) -> Vec<u8> {
        let stored = match &self.event {
            Event::ClaimRecorded(e) => StoredEntry {
                v: ENTRY_FORMAT_VERSION,
                seq: self.seq,
                prev: self.prev,
                type_name: self.event.type_name().to_owned(),
                recorded_at: e.recorded_at,
                author: e.author.clone(),
                claim_id: e.claim_id,
                key: e.key.clone(),
                revision: None,
                kind: None,
                reason: None,
                note: e.note.clone(),
                claim: e.claim.clone(),
            },
            Event::ClaimRevised(e) => StoredEntry {
                v: ENTRY_FORMAT_VERSION,
                seq: self.seq,
                prev: self.prev,
                type_name: self.event.type_name().to_owned(),
                recorded_at: e.recorded_at,
                author: e.author.clone(),
                claim_id: e.claim_id,
                key: None,
                revision: Some(e.revision),
                kind: Some(e.kind),
                reason: Some(e.reason.clone()),
                note: e.note.clone(),
                claim: e.claim.clone(),
            },
        };
        let bytes = serde_json::to_vec(&stored).expect("an entry always serialises");
        assert!(
            bytes.len() <= ENTRY_LEN_MAX,
            "input limits keep entries under {ENTRY_LEN_MAX} bytes"
        );
        bytes
    }

    /// Decodes and validates stored bytes: the JSON, every field rule of the claim format, and
    /// the rules of the event type.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        if bytes.len() > ENTRY_LEN_MAX {
            return Err(DecodeError(format!(
                "entry is {} bytes; the limit is {ENTRY_LEN_MAX}",
                bytes.len()
            )));
        }
        let stored: StoredEntry = serde_json::from_slice(bytes).map_err(|e| {
            // serde quotes unknown names as they are: escaped, a message stays one line.
            DecodeError(format!(
                "entry does not decode: {}",
                crate::escape_controls(&e.to_string())
            ))
        })?;
        if stored.v != ENTRY_FORMAT_VERSION {
            return Err(DecodeError(format!(
                "entry has format version {}, expected {ENTRY_FORMAT_VERSION}",
                stored.v
            )));
        }
        if stored.seq.0 == 0 {
            return Err(DecodeError(
                "entry has sequence number 0; numbering starts at 1".into(),
            ));
        }
        stored
            .claim
            .validate()
            .map_err(|e| DecodeError(format!("entry's claim is invalid: {}", e.within("claim"))))?;
        check_event_text(&stored).map_err(|e| DecodeError(format!("entry is invalid: {e}")))?;
        let event = match (stored.type_name.as_str(), stored.revision, stored.kind, stored.reason) {
            ("claim_recorded", None, None, None) => Event::ClaimRecorded(ClaimRecorded {
                claim_id: stored.claim_id,
                key: stored.key,
                author: stored.author,
                note: stored.note,
                recorded_at: stored.recorded_at,
                claim: stored.claim,
            }),
            ("claim_revised", Some(revision), Some(kind), Some(reason)) if stored.key.is_none() && revision >= 2 => {
                Event::ClaimRevised(ClaimRevised {
                    claim_id: stored.claim_id,
                    revision,
                    kind,
                    reason,
                    author: stored.author,
                    note: stored.note,
                    recorded_at: stored.recorded_at,
                    claim: stored.claim,
                })
            }
            ("claim_recorded" | "claim_revised", ..) => {
                return Err(DecodeError(format!(
                    "entry of type {} has the wrong fields: a claim_recorded has no revision, kind or reason; \
                     a claim_revised has revision (2 or more), kind and reason, and no key",
                    stored.type_name
                )))
            }
            (other, ..) => return Err(DecodeError(format!("entry has unknown type {other:?}"))),
        };
        Ok(Entry {
            seq: stored.seq,
            prev: stored.prev,
            event,
        })
    }
}

fn check_event_text(stored: &StoredEntry) -> Result<(), crate::FieldError> {
    use crate::claim::{check_nonempty_text, limits::*, Lines};
    check_nonempty_text("author", &stored.author, AUTHOR_LEN_MAX, Lines::One)?;
    if let Some(note) = &stored.note {
        check_nonempty_text("note", note, NOTE_LEN_MAX, Lines::Many)?;
    }
    if let Some(reason) = &stored.reason {
        check_nonempty_text("reason", reason, REASON_LEN_MAX, Lines::Many)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Status, Subject};

    fn sample_claim() -> Claim {
        Claim {
            subject: Subject::parse("russia/military-deaths").unwrap(),
            claimant: "Mediazona".into(),
            statement: "95,300 named dead".into(),
            value: None,
            period: None,
            stated_on: None,
            method: None,
            sources: vec![],
            status: Status::Active,
            tags: vec![],
        }
    }

    fn sample_id() -> ClaimId {
        ClaimId::parse("01953a1c-8f00-7000-8000-000000000001").unwrap()
    }

    fn at() -> Timestamp {
        Timestamp::parse("2025-02-25T09:30:00.000000Z").unwrap()
    }

    #[test]
    fn exact_bytes() {
        let entry = Entry {
            seq: Seq(1),
            prev: EntryHash::ZERO,
            event: Event::ClaimRecorded(ClaimRecorded {
                claim_id: sample_id(),
                key: Some(Key::parse("k").unwrap()),
                author: "ana".into(),
                note: None,
                recorded_at: at(),
                claim: sample_claim(),
            }),
        };
        let bytes = entry.encode();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"v":1,"seq":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000","type":"claim_recorded","recorded_at":"2025-02-25T09:30:00.000000Z","author":"ana","claim_id":"01953a1c-8f00-7000-8000-000000000001","key":"k","claim":{"subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named dead","status":"active"}}"#
        );
        assert_eq!(Entry::decode(&bytes).unwrap(), entry);
    }

    #[test]
    fn decode_errors_escape_names() {
        // serde's messages quote an unknown name as it is; decode's are escaped, one line.
        let good = r#"{"v":1,"seq":2,"prev":"0000000000000000000000000000000000000000000000000000000000000000","type":"claim_revised","recorded_at":"2025-02-25T09:30:00.000000Z","author":"ana","claim_id":"01953a1c-8f00-7000-8000-000000000001","revision":2,"kind":"update","reason":"r","claim":{"subject":"s","claimant":"c","statement":"x","status":"active"}}"#;
        for (from, to) in [
            (r#""kind":"update""#, r#""kind":"up\u001b[2J\ndate""#),
            (r#""author":"ana""#, r#""author":"ana","\u001b[31m\n":1"#),
            (r#""status":"active""#, r#""status":"\u0007""#),
        ] {
            let bad = good.replacen(from, to, 1);
            assert_ne!(bad, good);
            let error = Entry::decode(bad.as_bytes()).unwrap_err().to_string();
            assert!(!error.chars().any(char::is_control), "{error:?}");
            assert!(
                error.contains("\\u{1b}") || error.contains("\\u{7}"),
                "{error:?}"
            );
        }
    }

    #[test]
    fn decode_rejects() {
        let good = r#"{"v":1,"seq":2,"prev":"0000000000000000000000000000000000000000000000000000000000000000","type":"claim_revised","recorded_at":"2025-02-25T09:30:00.000000Z","author":"ana","claim_id":"01953a1c-8f00-7000-8000-000000000001","revision":2,"kind":"update","reason":"r","claim":{"subject":"s","claimant":"c","statement":"x","status":"active"}}"#;
        assert!(Entry::decode(good.as_bytes()).is_ok());
        for (from, to) in [
            (r#""v":1"#, r#""v":2"#),
            (r#""seq":2"#, r#""seq":0"#),
            (r#""revision":2"#, r#""revision":1"#),
            (r#""type":"claim_revised""#, r#""type":"claim_recorded""#),
            (r#""type":"claim_revised""#, r#""type":"claim_deleted""#),
            (r#""statement":"x""#, r#""statement":"""#),
            (r#""subject":"s""#, r#""subject":"S""#),
            (r#""author":"ana""#, r#""author":"ana","extra":1"#),
            (
                "000000000000000000000000000000000000000000000000000000000000000",
                "00000000000000000000000000000000000000000000000000000000000000",
            ),
            ("7000-8000", "4000-8000"),
            ("09:30:00.000000Z", "09:30:00Z"),
        ] {
            let bad = good.replacen(from, to, 1);
            assert_ne!(bad, good);
            assert!(Entry::decode(bad.as_bytes()).is_err(), "accepted {bad}");
        }
    }
}
