//! How things look: figures as a reader says them, dates, tables, and the JSON shapes of the
//! read commands (documented in docs/CLI.md; change them only by adding fields).

use claimledger_core::decide::ClaimState;
pub use claimledger_formats::text::{bytes, count, figure, noun, period, plural, timestamp};

/// A duration as people read it, to about three significant digits: `840 ms`, `1.01 s`,
/// `12.3 s`, `2 min 5 s`, `3 h 20 min`.
pub fn duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 0.001 {
        return format!("{} µs", duration.as_micros());
    }
    if seconds < 1.0 {
        return format!("{} ms", (seconds * 1000.0).round() as u64);
    }
    // Three significant digits, without trailing zeros: `1.01 s`, `2 s`, `12.3 s`.
    let trimmed = |text: String| text.trim_end_matches('0').trim_end_matches('.').to_owned();
    if seconds < 9.995 {
        return format!("{} s", trimmed(format!("{seconds:.2}")));
    }
    if seconds < 59.95 {
        return format!("{} s", trimmed(format!("{seconds:.1}")));
    }
    let whole = duration.as_secs();
    if whole < 3600 {
        return format!("{} min {} s", whole / 60, whole % 60);
    }
    format!("{} h {} min", whole / 3600, whole % 3600 / 60)
}

/// A rate as people read it: `153,001/s`, `12.5/s`; `unit` follows the number (`MB/s`).
pub fn rate(per_second: f64, unit: &str) -> String {
    let per_second = if per_second.is_finite() {
        per_second.max(0.0)
    } else {
        0.0
    };
    let number = if per_second >= 100.0 {
        count(per_second.round() as u64)
    } else {
        format!("{per_second:.1}")
    };
    format!("{number} {unit}/s").replace(" /s", "/s")
}

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

/// An aligned table with a header row and no borders, as text without its last line break.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut text = Vec::new();
    let mut table = TableWriter::new(header);
    let written = table
        .write_batch(&mut text, rows)
        .and_then(|()| table.finish(&mut text));
    debug_assert!(written.is_ok(), "writing to memory does not fail");
    let mut text = String::from_utf8(text).unwrap_or_default();
    text.truncate(text.trim_end_matches('\n').len());
    text
}

/// A table written a batch of rows at a time, so that a long listing never holds all its
/// rows: columns are two spaces apart and as wide as their widest cell so far, so a listing
/// that fits in one batch is aligned exactly, and a later, wider cell widens its column from
/// that batch on. Trailing spaces are trimmed.
#[derive(Debug)]
pub struct TableWriter {
    header: Vec<String>,
    widths: Vec<usize>,
    header_written: bool,
}

impl TableWriter {
    pub fn new(header: &[&str]) -> TableWriter {
        TableWriter {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            widths: header.iter().map(|h| display_width(h)).collect(),
            header_written: false,
        }
    }

    pub fn write_batch(
        &mut self,
        out: &mut dyn std::io::Write,
        rows: Vec<Vec<String>>,
    ) -> std::io::Result<()> {
        for row in &rows {
            for (width, cell) in self.widths.iter_mut().zip(row) {
                *width = (*width).max(display_width(cell));
            }
        }
        if !self.header_written {
            self.header_written = true;
            let header = std::mem::take(&mut self.header);
            self.write_row(out, &header)?;
        }
        for row in &rows {
            self.write_row(out, row)?;
        }
        Ok(())
    }

    /// Writes the header if no row came.
    pub fn finish(&mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_batch(out, Vec::new())
    }

    fn write_row(&self, out: &mut dyn std::io::Write, row: &[String]) -> std::io::Result<()> {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&self.widths) {
            let flat = cell.replace(['\n', '\r'], " ");
            line.push_str(&flat);
            let pad = width.saturating_sub(display_width(&flat)) + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(out, "{}", line.trim_end())
    }
}

/// How many columns a terminal gives `text`.
fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// A JSON array written an item at a time, exactly as `serde_json::to_writer_pretty` writes
/// the whole array, followed by a line break; so that a listing of many claims never holds
/// the JSON of all of them at once.
#[derive(Debug, Default)]
pub struct JsonArrayWriter {
    items: u64,
}

impl JsonArrayWriter {
    pub fn write(
        &mut self,
        out: &mut dyn std::io::Write,
        item: &serde_json::Value,
    ) -> std::io::Result<()> {
        let pretty = serde_json::to_string_pretty(item).map_err(std::io::Error::from)?;
        out.write_all(if self.items == 0 { b"[\n" } else { b",\n" })?;
        self.items += 1;
        // One level deeper: every line of the item indented by two more spaces.
        for (i, line) in pretty.split('\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"  ")?;
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(if self.items == 0 { b"[]\n" } else { b"\n]\n" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A streamed array is exactly the pretty JSON of the whole array.
    #[test]
    fn json_arrays_stream_as_they_print_whole() {
        let items = |n: usize| -> Vec<serde_json::Value> {
            (0..n)
                .map(|i| serde_json::json!({"i": i, "nested": {"list": [i, "x"]}, "empty": [], "text": "a\nb"}))
                .collect()
        };
        for n in [0, 1, 3] {
            let mut whole = serde_json::to_string_pretty(&items(n)).unwrap();
            whole.push('\n');
            let mut streamed = Vec::new();
            let mut writer = JsonArrayWriter::default();
            for item in items(n) {
                writer.write(&mut streamed, &item).unwrap();
            }
            writer.finish(&mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), whole, "{n} items");
        }
    }

    #[test]
    fn tables_align_on_display_width() {
        assert_eq!(
            table(
                &["A", "BB"],
                vec![vec!["ééé".into(), "x".into()], vec!["1".into(), "".into()]]
            ),
            "A    BB\nééé  x\n1"
        );
        assert_eq!(table(&["A", "B"], vec![]), "A  B");
        // A later batch with a wider cell widens the column from there on.
        let mut out = Vec::new();
        let mut writer = TableWriter::new(&["A", "B"]);
        writer
            .write_batch(&mut out, vec![vec!["1".into(), "x".into()]])
            .unwrap();
        writer
            .write_batch(&mut out, vec![vec!["12345".into(), "y".into()]])
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A  B\n1  x\n12345  y\n");
    }

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

    #[test]
    fn counts_durations_rates_sizes() {
        use std::time::Duration;
        for (n, shown) in [
            (0, "0 entries"),
            (1, "1 entry"),
            (2, "2 entries"),
            (1234, "1,234 entries"),
        ] {
            assert_eq!(plural(n, "entry", "entries"), shown);
        }
        for (d, shown) in [
            (Duration::from_micros(250), "250 µs"),
            (Duration::from_millis(840), "840 ms"),
            (Duration::from_secs_f64(1.0066735), "1.01 s"),
            (Duration::from_secs(2), "2 s"),
            (Duration::from_secs(30), "30 s"),
            (Duration::from_secs_f64(12.34), "12.3 s"),
            (Duration::from_secs(125), "2 min 5 s"),
            (Duration::from_secs(12_000), "3 h 20 min"),
        ] {
            assert_eq!(duration(d), shown);
        }
        assert_eq!(rate(153_001.038_8, ""), "153,001/s");
        assert_eq!(rate(12.54, "entries"), "12.5 entries/s");
        assert_eq!(rate(f64::INFINITY, ""), "0.0/s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
    }
}
