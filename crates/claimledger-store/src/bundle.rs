//! The framing of an export bundle (docs/FORMAT.md, "Bundles"): what `claims export` writes
//! around the entries so that a bundle carries its ledger's identity and protects every entry,
//! the last one included.
//!
//! ```text
//! {"bundle":1,"origin":"example.org/claims"}          the header: format and origin
//! {"v":1,"seq":1,...}                                  the entries, one per line, as stored
//! ...
//! {"checkpoint":"example.org/claims\n2\n6k6A...=\n"}  the checkpoint of the last entry
//! ```
//!
//! Each line ends with a newline. The checkpoint line holds the checkpoint's text (signed with
//! `claims export --sign`, or its body) as a JSON string. The hash chain protects every entry
//! but the last by the one after it; the checkpoint's root, over every entry, protects the last
//! too, and its signature keeps anyone without the key from making a new one for altered
//! entries. A bundle whose first line is an entry (what `claims export` wrote before) has no
//! header and no checkpoint.
//!
//! Each line has one byte form: the JSON of section 2 (no white space, fields in this order,
//! strings escaped as section 2 says), checked by writing it again and comparing bytes.

use claimledger_core::checkpoint::SIGNED_CHECKPOINT_LEN_MAX;

/// The bundle format this build writes and reads.
pub const BUNDLE_FORMAT: u64 = 1;

/// How a header line starts; an entry line starts `{"v":`.
const HEADER_START: &[u8] = b"{\"bundle\":";

/// How the checkpoint line starts.
const CHECKPOINT_START: &[u8] = b"{\"checkpoint\":";

/// The longest checkpoint line read: a checkpoint of the largest size, every byte escaped.
pub const CHECKPOINT_LINE_LEN_MAX: usize = 6 * SIGNED_CHECKPOINT_LEN_MAX + 32;

/// The header line, without its newline: `{"bundle":1,"origin":"<origin>"}`.
pub fn header_line(origin: &str) -> String {
    format!(
        "{{\"bundle\":{BUNDLE_FORMAT},\"origin\":{}}}",
        json_string(origin)
    )
}

/// The checkpoint line, without its newline: `{"checkpoint":"<the checkpoint's text>"}`.
pub fn checkpoint_line(checkpoint: &str) -> String {
    format!("{{\"checkpoint\":{}}}", json_string(checkpoint))
}

/// A string as JSON writes it under section 2's rules (serde_json's escaping is exactly those:
/// `"`, `\` and control characters only, lowercase hex).
fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

/// Whether a line is a header (and must then parse as one).
pub(crate) fn is_header(line: &[u8]) -> bool {
    line.starts_with(HEADER_START)
}

/// Whether a line is the checkpoint line (and must then parse as one).
pub(crate) fn is_checkpoint_line(line: &[u8]) -> bool {
    line.starts_with(CHECKPOINT_START)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    bundle: u64,
    origin: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: String,
}

/// The origin a header line names, or why it is not one.
pub(crate) fn parse_header(line: &[u8]) -> Result<String, String> {
    let header: Header = serde_json::from_slice(line).map_err(|e| {
        format!(
            "the first line is not a bundle header {{\"bundle\":1,\"origin\":...}}: {}",
            claimledger_core::escape_controls(&e.to_string())
        )
    })?;
    if header.bundle != BUNDLE_FORMAT {
        return Err(format!(
            "the bundle is of format {}; this build reads format {BUNDLE_FORMAT}",
            header.bundle
        ));
    }
    claimledger_core::checkpoint::validate_origin(&header.origin)
        .map_err(|e| format!("the first line's origin: {e}"))?;
    if header_line(&header.origin).as_bytes() != line {
        return Err(
            "the first line is not in the one form docs/FORMAT.md gives a bundle header \
             (no spaces, fields in order, escapes as for entries)"
                .into(),
        );
    }
    Ok(header.origin)
}

/// The checkpoint text a checkpoint line holds, or why it is not one.
pub(crate) fn parse_checkpoint_line(line: &[u8]) -> Result<String, String> {
    let parsed: CheckpointLine = serde_json::from_slice(line).map_err(|e| {
        format!(
            "the last line is not a checkpoint line {{\"checkpoint\":...}}: {}",
            claimledger_core::escape_controls(&e.to_string())
        )
    })?;
    if checkpoint_line(&parsed.checkpoint).as_bytes() != line {
        return Err(
            "the checkpoint line is not in the one form docs/FORMAT.md gives it (no spaces, \
             escapes as for entries)"
                .into(),
        );
    }
    Ok(parsed.checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_written() {
        let header = header_line("example.org/claims");
        assert_eq!(header, r#"{"bundle":1,"origin":"example.org/claims"}"#);
        assert!(is_header(header.as_bytes()));
        assert_eq!(
            parse_header(header.as_bytes()).as_deref(),
            Ok("example.org/claims")
        );
        let note = "example.org/claims\n2\nq6ur=\n\n— example.org/claims XqeH\n";
        let line = checkpoint_line(note);
        assert_eq!(
            line,
            "{\"checkpoint\":\"example.org/claims\\n2\\nq6ur=\\n\\n— example.org/claims XqeH\\n\"}"
        );
        assert!(is_checkpoint_line(line.as_bytes()));
        assert_eq!(parse_checkpoint_line(line.as_bytes()).as_deref(), Ok(note));
        assert_eq!(
            parse_header(header_line("a\"b\\c/é").as_bytes()).as_deref(),
            Ok("a\"b\\c/é")
        );
    }

    #[test]
    fn other_forms_are_refused() {
        for (line, fragment) in [
            (r#"{"bundle":1, "origin":"o"}"#, "not in the one form"),
            (r#"{"origin":"o","bundle":1}"#, "not in the one form"),
            (r#"{"bundle":1,"origin":"\u006f"}"#, "not in the one form"),
            (r#"{"bundle":2,"origin":"o"}"#, "of format 2"),
            (r#"{"bundle":1}"#, "missing field `origin`"),
            (r#"{"bundle":1,"origin":"o","x":1}"#, "unknown field `x`"),
            (
                r#"{"bundle":1,"origin":"o","origin":"p"}"#,
                "duplicate field `origin`",
            ),
            (r#"{"bundle":"1","origin":"o"}"#, "invalid type"),
        ] {
            let error = parse_header(line.as_bytes()).expect_err(line);
            assert!(error.contains(fragment), "{line}: {error}");
        }
        for (line, fragment) in [
            (r#"{"checkpoint": "o\n1\n"}"#, "not in the one form"),
            (r#"{"checkpoint":"o\n1\n","x":1}"#, "unknown field `x`"),
            (r#"{"checkpoint":1}"#, "invalid type"),
            (r#"{"checkpoint":"o"#, "EOF"),
        ] {
            let error = parse_checkpoint_line(line.as_bytes()).expect_err(line);
            assert!(error.contains(fragment), "{line}: {error}");
        }
    }
}
