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

/// The largest entry, in bytes: 65,535, the most an entry of a tlog-tiles entry bundle may
/// hold (c2sp.org/tlog-tiles). A command whose entry would be larger is refused at input;
/// decoding refuses stored bytes that are. Each field's own limit is far below it, but a claim
/// with many fields near theirs can pass it (100 sources of 4,000-character quotes).
pub const ENTRY_LEN_MAX: usize = 65_535;

/// A claim's permanent identity: a UUID version 7, made by the ledger when the claim is
/// recorded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimId(uuid::Uuid);

impl ClaimId {
    /// A claim id from a UUID of RFC 9562's version 7 (and its variant, `10` in binary).
    pub fn from_uuid(uuid: uuid::Uuid) -> Result<ClaimId, String> {
        if uuid.get_version_num() != 7 || uuid.get_variant() != uuid::Variant::RFC4122 {
            return Err(format!("{uuid} is not a version 7 UUID"));
        }
        Ok(ClaimId(uuid))
    }

    /// Parses the lowercase hyphenated form, `0198a34d-2a00-75f1-82b8-54b4d5723eb2`.
    pub fn parse(text: &str) -> Result<ClaimId, String> {
        let bytes = text.as_bytes();
        let mut value = [0u8; 16];
        let hyphens = [8, 13, 18, 23].iter().all(|&i| bytes.get(i) == Some(&b'-'));
        let groups = [
            (0, 0..8),
            (4, 9..13),
            (6, 14..18),
            (8, 19..23),
            (10, 24..36),
        ];
        if bytes.len() == 36
            && hyphens
            && groups
                .into_iter()
                .all(|(at, range)| decode_lower_hex(&bytes[range], &mut value[at..]))
        {
            return ClaimId::from_bytes(value);
        }
        // Not the one accepted form: say which way it is not.
        match uuid::Uuid::try_parse(text) {
            Ok(_) => Err(format!(
                "{text:?} is not a claim id in lowercase hyphenated form"
            )),
            Err(_) => Err(format!("{text:?} is not a claim id")),
        }
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
        let mut hash = [0u8; 32];
        if text.len() == 64 && decode_lower_hex(text.as_bytes(), &mut hash) {
            Ok(EntryHash(hash))
        } else {
            Err(format!(
                "{text:?} is not a hash: expected 64 lowercase hex digits"
            ))
        }
    }
}

/// Fills `out` from the start with the bytes that the lowercase hex digits `hex` spell, two
/// digits a byte; false if `hex` holds anything else or more than `out` takes.
fn decode_lower_hex(hex: &[u8], out: &mut [u8]) -> bool {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    if !hex.len().is_multiple_of(2) || hex.len() / 2 > out.len() {
        return false;
    }
    hex.chunks_exact(2)
        .zip(out)
        .all(|(pair, byte)| match (digit(pair[0]), digit(pair[1])) {
            (Some(high), Some(low)) => {
                *byte = high << 4 | low;
                true
            }
            _ => false,
        })
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

    /// Parses the stored form, exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ`: a real date, hours to 23,
    /// minutes and seconds to 59.
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        Timestamp::parse_stored(text.as_bytes()).ok_or_else(|| {
            // Not the stored form: say whether it is a time at all.
            match DateTime::parse_from_rfc3339(text) {
                Err(e) => format!("{text:?} is not a timestamp: {e}"),
                Ok(_) => format!("{text:?} is not in the stored form YYYY-MM-DDTHH:MM:SS.ffffffZ"),
            }
        })
    }

    fn parse_stored(b: &[u8]) -> Option<Timestamp> {
        let separators = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (26, b'Z'),
        ];
        if b.len() != 27 || !separators.iter().all(|&(i, c)| b[i] == c) {
            return None;
        }
        let number = |range: std::ops::Range<usize>| {
            b[range].iter().try_fold(0u32, |value, &d| {
                d.is_ascii_digit().then(|| value * 10 + u32::from(d - b'0'))
            })
        };
        let date =
            chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
        let time = chrono::NaiveTime::from_hms_micro_opt(
            number(11..13)?,
            number(14..16)?,
            number(17..19)?,
            number(20..26)?,
        )?;
        Some(Timestamp(date.and_time(time).and_utc()))
    }

    /// The stored form's 27 bytes, for years 0 to 9999 (every time a clock gives today).
    fn stored_form(&self) -> Option<[u8; 27]> {
        use chrono::{Datelike, Timelike};
        let at = self.0;
        let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
        let micros = at.nanosecond() / 1000;
        if micros >= 1_000_000 {
            return None;
        }
        let mut out = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |end: usize, digits: usize, mut value: u32| {
            for i in (end - digits..end).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(4, 4, year);
        put(7, 2, at.month());
        put(10, 2, at.day());
        put(13, 2, at.hour());
        put(16, 2, at.minute());
        put(19, 2, at.second());
        put(26, 6, micros);
        Some(out)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stored_form() {
            Some(bytes) => f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?),
            None => f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true)),
        }
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

    /// The full claim as of this event, taken out of it.
    pub fn into_claim(self) -> Claim {
        match self {
            Event::ClaimRecorded(e) => e.claim,
            Event::ClaimRevised(e) => e.claim,
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

/// The stored JSON object, field by field in stored order (docs/FORMAT.md, section 2). Read
/// back by the strict reader of [`crate::canonical`], never by serde.
#[derive(Serialize)]
struct StoredEntry<'a> {
    v: u32,
    seq: Seq,
    prev: EntryHash,
    #[serde(rename = "type")]
    type_name: &'static str,
    recorded_at: Timestamp,
    author: &'a str,
    claim_id: ClaimId,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Key>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<RevisionKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    claim: &'a Claim,
}

/// Why stored bytes are not a valid entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

impl Entry {
    /// The entry's stored bytes: compact JSON, no trailing newline (docs/FORMAT.md, section
    /// 2). Nothing here bounds their length: a caller that stores them checks it against
    /// [`ENTRY_LEN_MAX`].
    pub fn encode(&self) -> Vec<u8> {
        let (key, revision, kind, reason) = match &self.event {
            Event::ClaimRecorded(e) => (e.key.as_ref(), None, None, None),
            Event::ClaimRevised(e) => (None, Some(e.revision), Some(e.kind), Some(&*e.reason)),
        };
        let stored = StoredEntry {
            v: ENTRY_FORMAT_VERSION,
            seq: self.seq,
            prev: self.prev,
            type_name: self.event.type_name(),
            recorded_at: self.event.recorded_at(),
            author: self.event.author(),
            claim_id: self.event.claim_id(),
            key,
            revision,
            kind,
            reason,
            note: self.event.note(),
            claim: self.event.claim(),
        };
        serde_json::to_vec(&stored).expect("an entry always serialises")
    }
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

    /// The parsers as they were before their hand-written fast paths, to compare with.
    mod reference {
        use super::super::*;

        pub fn timestamp(text: &str) -> Option<Timestamp> {
            let parsed = DateTime::parse_from_rfc3339(text).ok()?;
            let timestamp = Timestamp::new(parsed.with_timezone(&Utc));
            (timestamp.get().to_rfc3339_opts(SecondsFormat::Micros, true) == text)
                .then_some(timestamp)
        }

        pub fn hash(text: &str) -> Option<EntryHash> {
            if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return None;
            }
            blake3::Hash::from_hex(text)
                .ok()
                .map(|h| EntryHash(*h.as_bytes()))
        }

        /// Before, the variant was not checked.
        pub fn claim_id(text: &str) -> Option<uuid::Uuid> {
            let uuid = uuid::Uuid::try_parse(text).ok()?;
            (uuid.hyphenated().to_string() == text && uuid.get_version_num() == 7).then_some(uuid)
        }
    }

    /// Text close to `YYYY-MM-DDTHH:MM:SS.ffffffZ`: each character of the form, or now and then
    /// another, and sometimes a character more or less.
    fn near_timestamp() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let template = "2025-02-28T23:59:59.999999Z";
        proptest::collection::vec((0u8..40, any::<char>(), 0u8..10), template.len()).prop_map(
            move |choices| {
                let mut out = String::new();
                for ((pick, other, digit), c) in choices.into_iter().zip(template.chars()) {
                    match pick {
                        0 => {}
                        1 => out.push(other),
                        2 => {
                            out.push(c);
                            out.push(c);
                        }
                        3..=5 => {
                            out.push(['t', 'z', ' ', '+', ':', '.', '-'][usize::from(pick) % 7])
                        }
                        7..=12 if c.is_ascii_digit() => out.push(char::from(b'0' + digit)),
                        _ => out.push(c),
                    }
                }
                out
            },
        )
    }

    proptest::proptest! {
        #[test]
        fn timestamps_parse_as_chrono_did(text in near_timestamp()) {
            proptest::prop_assert_eq!(Timestamp::parse(&text).ok(), reference::timestamp(&text));
        }

        #[test]
        fn timestamps_print_as_chrono_did(micros in -62_167_219_200_000_000i64..253_402_300_800_000_000) {
            let at = Timestamp::new(DateTime::from_timestamp_micros(micros).expect("in range"));
            let text = at.to_string();
            proptest::prop_assert_eq!(&text, &at.get().to_rfc3339_opts(SecondsFormat::Micros, true));
            proptest::prop_assert_eq!(Timestamp::parse(&text), Ok(at));
        }

        #[test]
        fn hashes_parse_as_before(bytes in proptest::collection::vec(0u8..=255, 32), flip in 0usize..80, to in proptest::prelude::any::<char>()) {
            let mut text = EntryHash(bytes.try_into().expect("32 bytes")).to_hex();
            if flip < 64 {
                let mut chars: Vec<char> = text.chars().collect();
                chars[flip] = to;
                text = chars.into_iter().collect();
            }
            proptest::prop_assert_eq!(EntryHash::parse(&text).ok(), reference::hash(&text));
        }

        #[test]
        fn claim_ids_parse_as_before(bytes in proptest::collection::vec(0u8..=255, 16), version in 6u8..9, flip in 0usize..50, to in proptest::prelude::any::<char>()) {
            let mut bytes: [u8; 16] = bytes.try_into().expect("16 bytes");
            bytes[6] = (version << 4) | (bytes[6] & 0x0f);
            let mut text = uuid::Uuid::from_bytes(bytes).hyphenated().to_string();
            if flip < 36 {
                let mut chars: Vec<char> = text.chars().collect();
                chars[flip] = to;
                text = chars.into_iter().collect();
            } else if flip < 40 {
                text = text.to_ascii_uppercase();
            }
            let before = reference::claim_id(&text);
            let now = ClaimId::parse(&text).ok().map(|id| id.uuid());
            // The one change: a version 7 id must also have RFC 9562's variant.
            let expected = before.filter(|uuid| uuid.get_variant() == uuid::Variant::RFC4122);
            proptest::prop_assert_eq!(now, expected);
        }
    }

    #[test]
    fn fixed_forms_at_their_edges() {
        for (text, ok) in [
            ("0000-01-01T00:00:00.000000Z", true),
            ("9999-12-31T23:59:59.999999Z", true),
            ("2024-02-29T00:00:00.000000Z", true),
            ("2023-02-29T00:00:00.000000Z", false),
            ("2025-08-13T24:00:00.000000Z", false),
            ("2025-08-13T23:60:00.000000Z", false),
            ("2025-08-13T23:59:60.000000Z", false),
            ("2025-08-13T12:00:00.000000z", false),
            ("2025-08-13t12:00:00.000000Z", false),
            ("2025-08-13 12:00:00.000000Z", false),
            ("2025-08-13T12:00:00.0000000Z", false),
            ("2025-08-13T12:00:00.00000Z", false),
            ("2025-08-13T12:00:00.000000+00:00", false),
            ("+2025-08-13T12:00:00.000000Z", false),
            ("2025-08-13T12:00:00.000000Z ", false),
        ] {
            assert_eq!(Timestamp::parse(text).is_ok(), ok, "{text}");
            assert_eq!(reference::timestamp(text).is_some(), ok, "{text}");
        }
        assert_eq!(
            Timestamp::parse("2025-08-13T12:00:00Z").unwrap_err(),
            "\"2025-08-13T12:00:00Z\" is not in the stored form YYYY-MM-DDTHH:MM:SS.ffffffZ"
        );
        assert!(Timestamp::parse("yesterday")
            .unwrap_err()
            .starts_with("\"yesterday\" is not a timestamp: "));
        let id = "0198a34d-2a00-75f1-82b8-54b4d5723eb2";
        assert_eq!(
            ClaimId::parse(id).map(|id| id.to_string()),
            Ok(id.to_owned())
        );
        assert_eq!(
            ClaimId::parse(&id.to_ascii_uppercase()).unwrap_err(),
            "\"0198A34D-2A00-75F1-82B8-54B4D5723EB2\" is not a claim id in lowercase hyphenated form"
        );
        assert_eq!(
            ClaimId::parse("0198a34d2a0075f182b854b4d5723eb2").unwrap_err(),
            "\"0198a34d2a0075f182b854b4d5723eb2\" is not a claim id in lowercase hyphenated form"
        );
        assert_eq!(ClaimId::parse("x").unwrap_err(), "\"x\" is not a claim id");
        assert_eq!(
            ClaimId::parse("0198a34d-2a00-75f1-c2b8-54b4d5723eb2").unwrap_err(),
            "0198a34d-2a00-75f1-c2b8-54b4d5723eb2 is not a version 7 UUID"
        );
    }
}
