//! How things look: figures as a reader says them, dates, tables, and the JSON shapes of the
//! read commands (documented in docs/CLI.md; change them only by adding fields).

use claimledger_core::decide::ClaimState;
use claimledger_core::{Bound, Decimal, Period, Timestamp, Value};

/// `1234567.5` as `1,234,567.5`.
pub fn group_thousands(decimal: &Decimal) -> String {
    group_digits(decimal.as_str())
}

/// A count as people read it: `1,234,567`.
pub fn count(n: u64) -> String {
    group_digits(&n.to_string())
}

/// A count and its noun, the noun in the singular for one: `1 entry`, `2,048 entries`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), noun(n, one, many))
}

/// The noun for a count: `one` for 1, else `many`. For result lines that scripts read, whose
/// digits stay ungrouped (`imported 2048 entries`).
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

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
    if seconds < 10.0 {
        return format!("{:.2} s", (seconds * 100.0).floor() / 100.0);
    }
    if seconds < 60.0 {
        return format!("{:.1} s", (seconds * 10.0).floor() / 10.0);
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

/// A size in bytes as people read it: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Digits with a comma every three places before the decimal point; a leading `-` kept.
fn group_digits(text: &str) -> String {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let mut grouped = String::with_capacity(int_part.len() + int_part.len() / 3);
    for (i, digit) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match frac_part {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A figure the way a reader says it: `≥ 46,000 people`, `≈ 380,000`, `121,507`.
pub fn figure(value: &Value) -> String {
    let amount = || {
        value
            .amount
            .as_ref()
            .map(group_thousands)
            .unwrap_or_default()
    };
    let number = match value.bound {
        Bound::Exact => amount(),
        Bound::AtLeast => format!("≥ {}", amount()),
        Bound::AtMost => format!("≤ {}", amount()),
        Bound::Approx => format!("≈ {}", amount()),
        Bound::Range => {
            let side = |d: &Option<Decimal>| d.as_ref().map(group_thousands).unwrap_or_default();
            format!("{}–{}", side(&value.low), side(&value.high))
        }
    };
    match &value.unit {
        Some(unit) => format!("{number} {unit}"),
        None => number,
    }
}

pub fn period(period: &Period) -> String {
    match (&period.from, &period.to) {
        (Some(from), Some(to)) if from == to => from.to_string(),
        (Some(from), Some(to)) => format!("{from} to {to}"),
        (Some(from), None) => format!("from {from}"),
        (None, Some(to)) => format!("until {to}"),
        (None, None) => String::new(),
    }
}

/// `2025-02-25 09:30:00 UTC`.
pub fn timestamp(at: Timestamp) -> String {
    at.get().format("%Y-%m-%d %H:%M:%S UTC").to_string()
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
            (Duration::from_secs_f64(1.0066735), "1.00 s"),
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

    #[test]
    fn thousands() {
        for (raw, shown) in [
            ("0", "0"),
            ("999", "999"),
            ("1000", "1,000"),
            ("121507", "121,507"),
            ("1065220", "1,065,220"),
            ("-1234.56", "-1,234.56"),
            ("0.5", "0.5"),
        ] {
            assert_eq!(group_thousands(&Decimal::parse(raw).unwrap()), shown);
        }
    }

    #[test]
    fn figures() {
        let value = |bound, amount: &str, unit: Option<&str>| Value {
            bound,
            amount: Some(Decimal::parse(amount).unwrap()),
            low: None,
            high: None,
            unit: unit.map(str::to_owned),
        };
        assert_eq!(figure(&value(Bound::AtLeast, "46000", None)), "≥ 46,000");
        assert_eq!(
            figure(&value(Bound::Approx, "380000", Some("wounded"))),
            "≈ 380,000 wounded"
        );
        assert_eq!(figure(&value(Bound::Exact, "121507", None)), "121,507");
        assert_eq!(figure(&value(Bound::AtMost, "10", None)), "≤ 10");
        let range = Value {
            bound: Bound::Range,
            amount: None,
            low: Some(Decimal::parse("1000").unwrap()),
            high: Some(Decimal::parse("2000").unwrap()),
            unit: None,
        };
        assert_eq!(figure(&range), "1,000–2,000");
    }
}
