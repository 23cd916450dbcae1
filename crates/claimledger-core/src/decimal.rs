//! Exact decimal numbers, kept as the text the claimant's figure was given in.
//!
//! A figure such as `121507` or `0.5` is never converted to a float: it is validated, stored as
//! the same digits, and compared digit by digit.

use std::cmp::Ordering;
use std::fmt;

/// The longest decimal accepted, in characters (sign and point included).
pub const DECIMAL_LEN_MAX: usize = 64;

/// A validated decimal: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most [`DECIMAL_LEN_MAX`] characters.
///
/// Equality is textual (`1.50` and `1.5` are different figures as written); ordering is
/// numeric, with textual order breaking ties so that `Ord` stays consistent with `Eq`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// Parses decimal text, or says why it is not one.
    pub fn parse(text: &str) -> Result<Decimal, String> {
        Decimal::check(text)?;
        Ok(Decimal(text.to_owned()))
    }

    /// Checks decimal text without keeping it.
    pub(crate) fn check(text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Err("is empty; expected a decimal like \"121507\" or \"0.5\"".into());
        }
        if text.len() > DECIMAL_LEN_MAX {
            return Err(format!("is longer than {DECIMAL_LEN_MAX} characters"));
        }
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (int_part, frac_part) = match unsigned.split_once('.') {
            Some((int_part, frac_part)) => (int_part, Some(frac_part)),
            None => (unsigned, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
            return Err(format!(
                "{text:?} is not a decimal: use digits with an optional '-' and '.', \
                 no exponent, no thousands separators"
            ));
        }
        if int_part.len() > 1 && int_part.starts_with('0') {
            return Err(format!("{text:?} has a leading zero"));
        }
        Ok(())
    }

    /// A decimal from text [`Decimal::check`] accepted.
    pub(crate) fn from_checked(text: &str) -> Decimal {
        Decimal(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Numeric comparison: `1.5` equals `1.50` here.
    pub fn cmp_value(&self, other: &Decimal) -> Ordering {
        cmp_text(&self.0, &other.0)
    }
}

/// Numeric comparison of two decimal texts that [`Decimal::check`] accepts.
pub(crate) fn cmp_text(a: &str, b: &str) -> Ordering {
    fn is_negative(text: &str) -> bool {
        text.starts_with('-') && text.bytes().any(|b| (b'1'..=b'9').contains(&b))
    }
    fn parts(text: &str) -> (&str, &str) {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        unsigned.split_once('.').unwrap_or((unsigned, ""))
    }
    match (is_negative(a), is_negative(b)) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let magnitude = cmp_magnitude(parts(a), parts(b));
    if is_negative(a) {
        magnitude.reverse()
    } else {
        magnitude
    }
}

fn cmp_magnitude((int_a, frac_a): (&str, &str), (int_b, frac_b): (&str, &str)) -> Ordering {
    // No leading zeros (checked at parse), so a longer integer part is a larger number; the
    // shorter fraction counts as padded with zeros.
    let digit = |frac: &str, i: usize| frac.as_bytes().get(i).copied().unwrap_or(b'0');
    int_a
        .len()
        .cmp(&int_b.len())
        .then_with(|| int_a.cmp(int_b))
        .then_with(|| {
            (0..frac_a.len().max(frac_b.len()))
                .map(|i| digit(frac_a, i).cmp(&digit(frac_b, i)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_value(other).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.0)
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decimal::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(text: &str, ok: bool) {
        assert_eq!(Decimal::parse(text).is_ok(), ok, "{text:?}");
    }

    #[test]
    fn parse() {
        for good in ["0", "121507", "0.5", "-3", "-0.25", "1.50", "95300"] {
            check_parse(good, true);
        }
        for bad in [
            "", "-", ".5", "5.", "1e5", "01", "+1", "1,000", "1.2.3", " 1", "NaN", "--1",
        ] {
            check_parse(bad, false);
        }
        check_parse(&"9".repeat(DECIMAL_LEN_MAX), true);
        check_parse(&"9".repeat(DECIMAL_LEN_MAX + 1), false);
    }

    fn check_cmp(a: &str, b: &str, expected: Ordering) {
        let (a, b) = (Decimal::parse(a).unwrap(), Decimal::parse(b).unwrap());
        assert_eq!(a.cmp_value(&b), expected, "{a} vs {b}");
        assert_eq!(b.cmp_value(&a), expected.reverse(), "{b} vs {a}");
    }

    #[test]
    fn compare() {
        check_cmp("95300", "121507", Ordering::Less);
        check_cmp("1.5", "1.50", Ordering::Equal);
        check_cmp("0.5", "0.49", Ordering::Greater);
        check_cmp("-1", "0", Ordering::Less);
        check_cmp("-0", "0", Ordering::Equal);
        check_cmp("-2", "-10", Ordering::Greater);
        check_cmp("10", "9.999", Ordering::Greater);
    }

    proptest::proptest! {
        #[test]
        fn order_matches_integers(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000) {
            let (da, db) = (Decimal::parse(&a.to_string()).unwrap(), Decimal::parse(&b.to_string()).unwrap());
            proptest::prop_assert_eq!(da.cmp_value(&db), a.cmp(&b));
        }
    }
}
