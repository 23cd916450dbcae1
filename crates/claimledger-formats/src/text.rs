//! Figures, periods and times as a reader says them: `≥ 46,000 people`, `2022-02-24 to
//! 2025-02-24`, `2025-02-25 09:30:00 UTC`. Shared by `claims` and the pages of `claims serve`.

use claimledger_core::{Bound, Decimal, Period, Timestamp, Value};

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
