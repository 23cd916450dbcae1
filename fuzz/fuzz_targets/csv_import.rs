//! The CSV import (`claims import --csv`) through `import_file::parse_csv`.
//!
//! Invariants: no panic; every error is one line, free of control characters, and names a
//! line of the file; commands come with line numbers that never go down; a quoted field left open
//! at the end is refused.
#![no_main]

use claimledger_cli::import_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count() as u64;
    match import_file::parse_csv(data) {
        Ok(parsed) => {
            assert_eq!(parsed.commands.len(), parsed.line_numbers.len());
            // Never down; records split only by a lone CR (which the csv reader takes as a
            // record's end) share the number of the line, counted in LFs, that holds them.
            assert!(parsed.line_numbers.windows(2).all(|w| w[0] <= w[1]));
            assert!(parsed.line_numbers.iter().all(|&n| n >= 2 && n <= lines));
            assert!(!ends_in_open_quote(data), "an open quote was accepted");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
            assert!(
                e.line >= 1 && e.line <= lines,
                "{message:?} of {lines} lines"
            );
        }
    }
});

/// Whether the bytes end inside a quoted field, counted independently of the reader: a quote
/// at the start of a field opens it; inside it, `""` is a quote and a lone `"` closes it.
fn ends_in_open_quote(data: &[u8]) -> bool {
    let mut at_field_start = true;
    let mut quoted = false;
    let mut i = 0;
    while i < data.len() {
        let byte = data[i];
        if quoted {
            if byte == b'"' {
                if data.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if byte == b'"' && at_field_start {
            quoted = true;
        } else {
            at_field_start = matches!(byte, b',' | b'\n' | b'\r');
        }
        at_field_start = at_field_start && !quoted;
        i += 1;
    }
    quoted
}
