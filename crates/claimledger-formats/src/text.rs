//! Figures, periods and times as a reader says them: `≥ 46,000 people`, `2022-02-24 to
//! 2025-02-24`, `2025-02-25 09:30:00 UTC`. Shared by `claims` and the pages of `claims serve`.

use claimledger_core::{Bound, Decimal, Period, Timestamp, Value};

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

/// `1234567.5` as `1,234,567.5`.
pub fn group_thousands(decimal: &Decimal) -> String {
    group_digits(decimal.as_str())
}

/// A number's text with its integer digits in groups of three: `-1234.56` as `-1,234.56`.
pub fn group_digits(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
