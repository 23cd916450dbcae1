//! One stored entry through the strict reader (`canonical::EntryView`, `Entry::decode`).
//!
//! Invariants: one content, one byte form: whatever decodes encodes to exactly the bytes it was
//! read from; the view and the owning entry agree on what is valid; a refusal is one line,
//! free of control characters.
#![no_main]

use claimledger_core::canonical::EntryView;
use claimledger_core::Entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let view = EntryView::parse(data);
    match Entry::decode(data) {
        Ok(entry) => {
            assert_eq!(entry.encode(), data, "decode then encode changes the bytes");
            let view = view.expect("the view reads what decode reads");
            assert_eq!(view.seq, entry.seq);
            assert_eq!(view.claim.bytes(), claim_bytes(data));
        }
        Err(error) => {
            assert_eq!(view.err(), Some(error.clone()), "the view refuses alike");
            let message = error.to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
    }
});

/// The claim object of a canonical entry: from `"claim":` to the last byte but one.
fn claim_bytes(data: &[u8]) -> &[u8] {
    let marker = b",\"claim\":";
    let start = data
        .windows(marker.len())
        .rposition(|w| w == marker)
        .expect("an entry has a claim")
        + marker.len();
    &data[start..data.len() - 1]
}
