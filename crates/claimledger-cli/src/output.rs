//! How things look: figures as a reader says them, dates, tables, and the JSON shapes of the
//! read commands (documented in docs/CLI.md; change them only by adding fields).

use claimledger_core::decide::ClaimState;
pub use claimledger_formats::text::{figure, period, timestamp};

/// A claim's key if it has one, else its id.
pub fn claim_name(state: &ClaimState) -> String {
    state
        .key
        .as_ref()
        .map_or_else(|| state.id.to_string(), |k| k.to_string())
}

/// At most `chars` characters of `text`, on one line, with an ellipsis if cut.
pub fn shorten(text: &str, chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", flat[..cut].trim_end()),
        None => flat,
    }
}

/// An aligned table with a header row and no borders.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening() {
        assert_eq!(
            shorten("I don't know\nif it's true", 100),
            "I don't know if it's true"
        );
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("ab  cdef", 3), "ab…");
        assert_eq!(shorten("ééé", 3), "ééé");
    }
}
