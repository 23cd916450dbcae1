//! Snapshots of sources: the `archived` list of a source (docs/FORMAT.md, sections 1 and 2).
//!
//! A snapshot is a file of bytes (a PDF, an image, a saved page, a WARC file of a fetch) kept in
//! the ledger's evidence store under the SHA-256 of its bytes. The claim records only what
//! identifies and describes it: its hash, size, media type, when it was captured, and for a
//! fetch the URL and the final HTTP status. Binding the hash into the log is what lets a reader
//! check that the evidence they hold is the evidence a figure was recorded with.

use crate::claim::{check_url, FieldError};
use crate::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most snapshots one source lists.
pub const ARCHIVED_COUNT_MAX: usize = 100;
/// The largest size a snapshot may state: 2^53 − 1, the largest integer every JSON reader
/// (JavaScript's included) reads exactly.
pub const SNAPSHOT_SIZE_MAX: u64 = (1 << 53) - 1;
/// The longest media type, `type/subtype`: RFC 6838 allows 127 characters a part.
pub const MEDIA_TYPE_LEN_MAX: usize = 255;

/// SHA-256 of a snapshot's bytes: the name it is stored and published under, the hash that
/// `sha256sum` prints for the file.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotHash(pub [u8; 32]);

impl SnapshotHash {
    /// Parses 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<SnapshotHash, String> {
        let bytes = text.as_bytes();
        let mut hash = [0u8; 32];
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let ok = bytes.len() == 64
            && bytes
                .chunks_exact(2)
                .zip(hash.iter_mut())
                .all(|(pair, out)| match (digit(pair[0]), digit(pair[1])) {
                    (Some(high), Some(low)) => {
                        *out = high << 4 | low;
                        true
                    }
                    _ => false,
                });
        if ok {
            Ok(SnapshotHash(hash))
        } else {
            Err(format!(
                "{:?} is not a SHA-256 hash: expected 64 lowercase hex digits",
                crate::escape_controls(text)
            ))
        }
    }

    pub fn to_hex(&self) -> String {
        let mut text = String::with_capacity(64);
        for byte in self.0 {
            text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        text
    }
}

impl fmt::Display for SnapshotHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for SnapshotHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SnapshotHash({})", self.to_hex())
    }
}

impl Serialize for SnapshotHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SnapshotHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        SnapshotHash::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One snapshot of a source, as its `archived` list records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archived {
    pub sha256: SnapshotHash,
    /// The snapshot's length in bytes.
    pub size: u64,
    /// What the bytes are, `type/subtype` in lowercase: `application/pdf`, `application/warc`.
    pub media_type: String,
    /// When the bytes were captured (fetched, or saved by the user).
    pub captured_at: Date,
    /// For a fetch: the URL the capture ended at, after redirects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For a fetch: the HTTP status of the last response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Archived {
    /// The stored field names, in order.
    pub const FIELDS: [&'static str; 6] = [
        "sha256",
        "size",
        "media_type",
        "captured_at",
        "url",
        "status",
    ];

    /// Checks the rules the field types alone do not. Field paths are relative to the item.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_archived_item(
            self.size,
            &self.media_type,
            self.url.as_deref(),
            self.status,
        )
    }
}

/// The rules of one archived item whose hash and date are each valid.
pub(crate) fn check_archived_item(
    size: u64,
    media_type: &str,
    url: Option<&str>,
    status: Option<u16>,
) -> Result<(), FieldError> {
    check_size(size).map_err(|why| FieldError::new("size", why))?;
    check_media_type(media_type).map_err(|why| FieldError::new("media_type", why))?;
    if let Some(url) = url {
        check_url(url).map_err(|why| FieldError::new("url", why))?;
    }
    if let Some(status) = status {
        check_status(u64::from(status)).map_err(|why| FieldError::new("status", why))?;
        if url.is_none() {
            return Err(FieldError::new(
                "status",
                "is the status of a fetch, which names its `url`",
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_size(size: u64) -> Result<(), String> {
    if size == 0 {
        Err("is 0: a snapshot holds at least one byte".into())
    } else if size > SNAPSHOT_SIZE_MAX {
        Err(format!(
            "is {size}; the limit is {SNAPSHOT_SIZE_MAX} (2^53 - 1)"
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn check_status(status: u64) -> Result<(), String> {
    if (100..=599).contains(&status) {
        Ok(())
    } else {
        Err(format!("{status} is not an HTTP status (100 to 599)"))
    }
}

fn is_token_char(b: u8) -> bool {
    // RFC 6838's restricted-name characters, lowercase only: one media type, one form.
    b.is_ascii_lowercase()
        || b.is_ascii_digit()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'&' | b'-' | b'^' | b'_' | b'.' | b'+'
        )
}

/// A media type as stored: `type/subtype`, lowercase, RFC 6838's characters, no parameters.
pub fn check_media_type(text: &str) -> Result<(), String> {
    let shown = || crate::escape_controls(text);
    if text.len() > MEDIA_TYPE_LEN_MAX {
        return Err(format!(
            "is {} bytes long; the limit is {MEDIA_TYPE_LEN_MAX}",
            text.len()
        ));
    }
    let valid = text.split_once('/').is_some_and(|(kind, subtype)| {
        [kind, subtype].iter().all(|part| {
            part.as_bytes()
                .first()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && part.bytes().all(is_token_char)
        })
    });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a media type: write `type/subtype` in lowercase, without parameters, \
             e.g. \"application/pdf\" or \"text/html\"",
            shown()
        ))
    }
}

/// The rules of a whole `archived` list: its length and no snapshot twice. Field paths are
/// relative to the source.
pub(crate) fn check_archived_list<'a>(
    count: usize,
    hashes: impl Iterator<Item = &'a SnapshotHash>,
) -> Result<(), FieldError> {
    if count > ARCHIVED_COUNT_MAX {
        return Err(FieldError::new(
            "archived",
            format!("has {count} snapshots; the limit is {ARCHIVED_COUNT_MAX}"),
        ));
    }
    let mut seen: Vec<&SnapshotHash> = Vec::with_capacity(count);
    for (i, hash) in hashes.enumerate() {
        if seen.contains(&hash) {
            return Err(FieldError::new(
                format!("archived[{i}].sha256"),
                format!("snapshot {hash} is listed twice"),
            ));
        }
        seen.push(hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        for good in [
            "application/pdf",
            "text/html",
            "application/warc",
            "image/svg+xml",
            "application/vnd.ms-excel",
            "application/x-gzip",
        ] {
            assert_eq!(check_media_type(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "pdf",
            "Application/pdf",
            "text/html; charset=utf-8",
            "text/",
            "/html",
            "text/html/x",
            "text /html",
            "-a/b",
            "a/\u{1b}",
        ] {
            assert!(check_media_type(bad).is_err(), "{bad:?}");
        }
        assert!(!check_media_type("a/\u{1b}")
            .unwrap_err()
            .chars()
            .any(char::is_control));
    }

    #[test]
    fn hashes() {
        let text = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(SnapshotHash::parse(text).unwrap().to_hex(), text);
        assert!(SnapshotHash::parse(&text.to_ascii_uppercase()).is_err());
        assert!(SnapshotHash::parse(&text[1..]).is_err());
        assert!(SnapshotHash::parse(&format!("{text}0")).is_err());
        assert!(SnapshotHash::parse(&text.replace('e', "g")).is_err());
    }

    #[test]
    fn items() {
        let check = |size, media: &str, url: Option<&str>, status| {
            check_archived_item(size, media, url, status).map_err(|e| e.to_string())
        };
        assert_eq!(check(1, "application/pdf", None, None), Ok(()));
        assert_eq!(
            check(
                5,
                "application/warc",
                Some("https://example.org/"),
                Some(200)
            ),
            Ok(())
        );
        assert_eq!(
            check(0, "application/pdf", None, None).unwrap_err(),
            "field `size`: is 0: a snapshot holds at least one byte"
        );
        assert!(check(1 << 53, "application/pdf", None, None).is_err());
        assert!(check(SNAPSHOT_SIZE_MAX, "application/pdf", None, None).is_ok());
        assert_eq!(
            check(1, "application/pdf", None, Some(200)).unwrap_err(),
            "field `status`: is the status of a fetch, which names its `url`"
        );
        assert!(check(1, "a/b", Some("https://x.org"), Some(99)).is_err());
        assert!(check(1, "a/b", Some("https://x.org"), Some(600)).is_err());
        assert!(check(1, "a/b", Some("ftp://x.org"), None).is_err());
    }
}
