//! Deterministic synthetic claims in the input format (docs/FORMAT.md section 1).
//!
//! Every line is built from its own PRNG stream, seeded from the run's seed and the line's
//! number, so a line's content depends only on (seed, line number) and the same seed always
//! gives the same file.
//!
//! The shape of the data:
//! - `records` record lines with keys `c0`, `c1`, ..., about 450 bytes each;
//! - 8 subjects; [`HOT_SUBJECT`] holds every 10th record (`c0`, `c10`, ...), the others are
//!   spread at random over the other 7;
//! - 50 claimants, 6 tags (0 to 2 per claim), every bound, periods, `stated_on` dates and one
//!   source with url, publisher and quote;
//! - then `revisions` revise lines, each naming an earlier key and replacing the value and the
//!   statement. Five of them, spread evenly through the revisions, revise [`probe_key`], the
//!   claim that the show and history timings read.

use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// The subject holding every 10th record.
pub const HOT_SUBJECT: &str = "bench/hot";

/// The other seven subjects. None is below [`HOT_SUBJECT`].
const OTHER_SUBJECTS: [&str; 7] = [
    "bench/energy/output",
    "bench/health/cases",
    "bench/conflict/casualties",
    "bench/economy/gdp",
    "bench/migration/arrivals",
    "bench/climate/emissions",
    "bench/education/enrolment",
];

const ORGANISATIONS: [&str; 10] = [
    "Institute for Conflict Studies",
    "National Statistics Office",
    "Open Data Watch",
    "Field Survey Network",
    "Civic Monitor",
    "Regional Observatory",
    "Public Health Unit",
    "Energy Transition Council",
    "Migration Research Centre",
    "Independent Audit Board",
];

const REGIONS: [&str; 5] = ["North", "South", "East", "West", "Central"];

/// How many distinct claimants the generator uses.
pub const CLAIMANTS: u64 = (ORGANISATIONS.len() * REGIONS.len()) as u64;

const PUBLISHERS: [&str; 12] = [
    "Agence Example",
    "Reuters Example",
    "The Daily Ledger",
    "Evening Courier",
    "Statistics Gazette",
    "Open Wire",
    "Field Notes Weekly",
    "Public Broadcaster",
    "Morning Herald",
    "Data Desk",
    "Regional Times",
    "Policy Review",
];

const TAGS: [&str; 6] = [
    "official",
    "estimate",
    "survey",
    "model",
    "preliminary",
    "audited",
];

const UNITS: [&str; 6] = ["people", "tonnes", "usd", "percent", "households", "mwh"];

const BOUNDS: [&str; 5] = ["exact", "at_least", "at_most", "approx", "range"];

const WORDS: [&str; 40] = [
    "according",
    "to",
    "the",
    "latest",
    "count",
    "published",
    "figures",
    "show",
    "that",
    "total",
    "reported",
    "across",
    "all",
    "regions",
    "rose",
    "fell",
    "compared",
    "with",
    "previous",
    "period",
    "including",
    "confirmed",
    "cases",
    "only",
    "where",
    "records",
    "were",
    "verified",
    "by",
    "independent",
    "observers",
    "and",
    "local",
    "officials",
    "under",
    "revised",
    "methodology",
    "excluding",
    "disputed",
    "areas",
];

const REASONS: [&str; 5] = [
    "The claimant published an updated figure",
    "Revised after the final count was released",
    "The claimant corrected its own earlier estimate",
    "New data covering a longer period",
    "Updated following an independent audit",
];

/// Sizes and seed of one generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenConfig {
    /// Record lines, keys `c0` to `c{records-1}`.
    pub records: u64,
    /// Revise lines after the records.
    pub revisions: u64,
    /// The PRNG seed.
    pub seed: u64,
}

/// What [`write_claims`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Lines written (records plus revisions).
    pub lines: u64,
    /// Bytes written, newlines included.
    pub bytes: u64,
    /// Bytes of the record lines, newlines included.
    pub record_bytes: u64,
    /// Record lines in [`HOT_SUBJECT`].
    pub hot_records: u64,
}

/// splitmix64 (Steele, Lea and Flood), a small, fast PRNG that is plenty for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        // `below` is < len, so the index is in range; the fallback is never taken.
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items[index]
    }
}

/// The stream for one line: record `n` or revision `n`.
fn line_rng(seed: u64, stream: u64, n: u64) -> SplitMix64 {
    let mut mix = SplitMix64::new(seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let base = mix.next_u64();
    SplitMix64::new(base ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

const RECORD_STREAM: u64 = 1;
const REVISION_STREAM: u64 = 2;

/// The key of record `n`.
pub fn key(n: u64) -> String {
    format!("c{n}")
}

/// The subject of record `n` (the hot one for every 10th record).
fn subject(n: u64, rng: &mut SplitMix64) -> &'static str {
    if n.is_multiple_of(10) {
        HOT_SUBJECT
    } else {
        rng.pick(&OTHER_SUBJECTS)
    }
}

/// The record number that show and history read: a record in the middle of the file, in the
/// hot subject, with five revisions.
pub fn probe_record(records: u64) -> u64 {
    (records / 2) / 10 * 10
}

/// The key of [`probe_record`].
pub fn probe_key(records: u64) -> String {
    key(probe_record(records))
}

/// How many revise lines name the probe claim.
pub const PROBE_REVISIONS: u64 = 5;

/// Whether revise line `j` (of `revisions`) names the probe claim.
fn is_probe_revision(j: u64, revisions: u64) -> bool {
    let step = (revisions / PROBE_REVISIONS).max(1);
    j % step == step / 2 && j / step < PROBE_REVISIONS
}

/// How many revisions of the probe claim a file with these sizes holds.
pub fn probe_revisions(cfg: &GenConfig) -> u64 {
    if cfg.records == 0 {
        return 0;
    }
    (0..cfg.revisions)
        .filter(|&j| is_probe_revision(j, cfg.revisions))
        .count() as u64
}

fn claimant(rng: &mut SplitMix64) -> String {
    let i = rng.below(CLAIMANTS);
    let org = ORGANISATIONS[(i % ORGANISATIONS.len() as u64) as usize];
    let region = REGIONS[(i / ORGANISATIONS.len() as u64) as usize];
    format!("{org} {region}")
}

/// A date `YYYY-MM-DD` in year `year` (always a real calendar date).
fn day(rng: &mut SplitMix64, year: u64) -> String {
    format!("{year}-{:02}-{:02}", rng.between(1, 12), rng.between(1, 28))
}

/// Words appended to `text` until it holds at least `target` bytes.
fn words(rng: &mut SplitMix64, text: &mut String, target: usize) {
    while text.len() < target {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(rng.pick(&WORDS));
    }
}

fn amount(rng: &mut SplitMix64) -> String {
    let whole = rng.between(1, 9_999_999);
    if rng.below(5) == 0 {
        format!("{whole}.{}", rng.between(1, 9))
    } else {
        whole.to_string()
    }
}

#[derive(Debug, Serialize)]
struct Value {
    bound: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    low: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    high: Option<String>,
    unit: &'static str,
}

fn value(rng: &mut SplitMix64) -> Value {
    let bound = rng.pick(&BOUNDS);
    let unit = rng.pick(&UNITS);
    if bound == "range" {
        let low = rng.between(1, 4_999_999);
        let high = low + rng.between(1, 4_999_999);
        Value {
            bound,
            amount: None,
            low: Some(low.to_string()),
            high: Some(high.to_string()),
            unit,
        }
    } else {
        Value {
            bound,
            amount: Some(amount(rng)),
            low: None,
            high: None,
            unit,
        }
    }
}

#[derive(Debug, Serialize)]
struct Period {
    from: String,
    to: String,
}

#[derive(Debug, Serialize)]
struct Source {
    url: String,
    publisher: &'static str,
    quote: String,
}

#[derive(Debug, Serialize)]
struct RecordLine {
    op: &'static str,
    key: String,
    subject: &'static str,
    claimant: String,
    statement: String,
    value: Value,
    period: Period,
    stated_on: String,
    sources: [Source; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct ReviseLine {
    op: &'static str,
    claim: String,
    reason: &'static str,
    value: Value,
    statement: String,
}

/// Record line `n` (without the newline).
pub fn record_line(seed: u64, n: u64) -> Result<Vec<u8>> {
    let mut rng = line_rng(seed, RECORD_STREAM, n);
    let subject = subject(n, &mut rng);
    let claimant = claimant(&mut rng);
    let value = value(&mut rng);
    let from_year = rng.between(2010, 2022);
    let to_year = from_year + rng.between(1, 3);
    let period = Period {
        from: day(&mut rng, from_year),
        to: day(&mut rng, to_year),
    };
    let stated_on = day(&mut rng, to_year + 1);
    let figure = value
        .amount
        .clone()
        .or_else(|| value.low.clone())
        .unwrap_or_default();
    let mut statement = format!("{figure} {}:", value.unit);
    let target = statement.len() + usize::try_from(rng.between(10, 45))?;
    words(&mut rng, &mut statement, target);
    let mut quote = String::new();
    let target = usize::try_from(rng.between(15, 40))?;
    words(&mut rng, &mut quote, target);
    let source = Source {
        url: format!("https://data.example.org/reports/{n}"),
        publisher: rng.pick(&PUBLISHERS),
        quote,
    };
    let mut tags = Vec::new();
    for _ in 0..rng.below(3) {
        let tag = rng.pick(&TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let line = RecordLine {
        op: "record",
        key: key(n),
        subject,
        claimant,
        statement,
        value,
        period,
        stated_on,
        sources: [source],
        tags,
    };
    Ok(serde_json::to_vec(&line)?)
}

/// Revise line `j` of a file with `records` records (without the newline).
pub fn revise_line(cfg: &GenConfig, j: u64) -> Result<Vec<u8>> {
    let mut rng = line_rng(cfg.seed, REVISION_STREAM, j);
    let probe = probe_record(cfg.records);
    let target_record = if is_probe_revision(j, cfg.revisions) {
        probe
    } else {
        // Any other record: the probe claim's history stays exactly as planned.
        match rng.below(cfg.records) {
            k if k == probe => (k + 1) % cfg.records,
            k => k,
        }
    };
    let value = value(&mut rng);
    // The revision number in the statement makes every revise change something.
    let mut statement = format!("revision {j}: {} {}", value.unit, value.bound);
    let target = statement.len() + usize::try_from(rng.between(40, 90))?;
    words(&mut rng, &mut statement, target);
    let line = ReviseLine {
        op: "revise",
        claim: key(target_record),
        reason: rng.pick(&REASONS),
        value,
        statement,
    };
    Ok(serde_json::to_vec(&line)?)
}

/// Writes the whole file: the records, then the revisions, one JSON object per line.
pub fn write_claims<W: Write>(cfg: &GenConfig, mut out: W) -> Result<GenStats> {
    let mut stats = GenStats::default();
    for n in 0..cfg.records {
        let mut line = record_line(cfg.seed, n)?;
        line.push(b'\n');
        out.write_all(&line)?;
        stats.lines += 1;
        stats.bytes += line.len() as u64;
        stats.record_bytes += line.len() as u64;
        if n.is_multiple_of(10) {
            stats.hot_records += 1;
        }
    }
    if cfg.records > 0 {
        for j in 0..cfg.revisions {
            let mut line = revise_line(cfg, j)?;
            line.push(b'\n');
            out.write_all(&line)?;
            stats.lines += 1;
            stats.bytes += line.len() as u64;
        }
    }
    out.flush()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::Value as Json;
    use std::collections::HashSet;

    fn generate(cfg: &GenConfig) -> (Vec<u8>, GenStats) {
        let mut out = Vec::new();
        let stats = write_claims(cfg, &mut out).unwrap();
        (out, stats)
    }

    fn cfg(records: u64, revisions: u64, seed: u64) -> GenConfig {
        GenConfig {
            records,
            revisions,
            seed,
        }
    }

    #[test]
    fn same_seed_same_lines() {
        let (a, stats_a) = generate(&cfg(200, 40, 7));
        let (b, stats_b) = generate(&cfg(200, 40, 7));
        assert_eq!(a, b);
        assert_eq!(stats_a, stats_b);
        // A line depends only on (seed, line number): a bigger file starts the same way.
        let (big, _) = generate(&cfg(2_000, 40, 7));
        let first_lines = |bytes: &[u8]| -> Vec<Vec<u8>> {
            bytes
                .split(|&b| b == b'\n')
                .take(50)
                .map(<[u8]>::to_vec)
                .collect()
        };
        assert_eq!(first_lines(&a), first_lines(&big));
        let (other, _) = generate(&cfg(200, 40, 8));
        assert_ne!(first_lines(&a), first_lines(&other));
    }

    #[test]
    fn lines_parse_and_have_the_required_fields() {
        let config = cfg(1_000, 200, 42);
        let (bytes, stats) = generate(&config);
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, stats.lines);
        assert_eq!(stats.lines, 1_200);
        assert_eq!(stats.bytes, text.len() as u64);
        assert_eq!(stats.hot_records, 100);

        let mut keys = HashSet::new();
        let mut subjects = HashSet::new();
        let mut claimants = HashSet::new();
        let mut probe = 0;
        for (i, line) in lines.iter().enumerate() {
            let json: Json = serde_json::from_str(line).unwrap();
            let object = json.as_object().unwrap();
            let text_field = |name: &str| -> &str {
                let text = object
                    .get(name)
                    .and_then(Json::as_str)
                    .unwrap_or_else(|| panic!("line {}: no {name}", i + 1));
                assert!(!text.is_empty(), "line {}: empty {name}", i + 1);
                text
            };
            let value = object["value"].as_object().unwrap();
            match value["bound"].as_str().unwrap() {
                "range" => {
                    let low: u64 = value["low"].as_str().unwrap().parse().unwrap();
                    let high: u64 = value["high"].as_str().unwrap().parse().unwrap();
                    assert!(low <= high);
                }
                _ => assert!(value["amount"].is_string()),
            }
            if (i as u64) < config.records {
                assert_eq!(text_field("op"), "record");
                let key = text_field("key");
                assert_eq!(key, format!("c{i}"));
                assert!(keys.insert(key.to_string()));
                let subject = text_field("subject");
                assert_eq!(subject == HOT_SUBJECT, i.is_multiple_of(10));
                subjects.insert(subject.to_string());
                claimants.insert(text_field("claimant").to_string());
                text_field("statement");
                text_field("stated_on");
                let period = object["period"].as_object().unwrap();
                assert!(period["from"].as_str().unwrap() < period["to"].as_str().unwrap());
                let sources = object["sources"].as_array().unwrap();
                assert_eq!(sources.len(), 1);
                for field in ["url", "publisher", "quote"] {
                    assert!(sources[0][field].is_string(), "line {}: {field}", i + 1);
                }
            } else {
                assert_eq!(text_field("op"), "revise");
                let claim = text_field("claim");
                assert!(keys.contains(claim), "line {}: unknown {claim}", i + 1);
                if claim == probe_key(config.records) {
                    probe += 1;
                }
                text_field("reason");
                text_field("statement");
            }
        }
        assert_eq!(subjects.len(), 8);
        assert!(claimants.len() >= 45, "{} claimants", claimants.len());
        assert_eq!(probe, PROBE_REVISIONS);
        assert_eq!(probe_revisions(&config), PROBE_REVISIONS);

        let average = stats.record_bytes / config.records;
        assert!((400..=500).contains(&average), "{average} bytes per record");
    }

    #[test]
    fn lines_pass_the_ledgers_own_input_checks() {
        let (bytes, _) = generate(&cfg(3_000, 600, 3));
        let text = String::from_utf8(bytes).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Err(error) = claimledger_core::input::parse_command(line) {
                panic!("line {}: {error:?}\n{line}", i + 1);
            }
        }
    }

    #[test]
    fn probe_revisions_in_small_files() {
        assert_eq!(probe_revisions(&cfg(100, 3, 1)), 3);
        assert_eq!(probe_revisions(&cfg(100, 0, 1)), 0);
        assert_eq!(probe_revisions(&cfg(20_000, 4_000, 1)), PROBE_REVISIONS);
        assert_eq!(
            probe_revisions(&cfg(1_000_000, 200_000, 42)),
            PROBE_REVISIONS
        );
        let (bytes, _) = generate(&cfg(100, 3, 1));
        let text = String::from_utf8(bytes).unwrap();
        let named = text
            .lines()
            .filter(|line| line.contains(&format!("\"claim\":\"{}\"", probe_key(100))))
            .count();
        assert_eq!(named, 3);
    }
}
