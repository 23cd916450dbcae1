use claimledger_core::input::{parse_command, Command};
use claimledger_core::Timestamp;
use claimledger_store::{IdBits, SubmitContext};
use proptest::prelude::*;

pub fn context() -> SubmitContext {
    SubmitContext {
        now: Timestamp::parse("2025-08-13T12:00:00.000000Z").unwrap(),
        default_author: "tester".into(),
        id_bits: IdBits::Derived,
    }
}

pub fn command(json: &str) -> Command {
    parse_command(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

const SUBJECTS: [&str; 3] = [
    "russia/military-deaths",
    "ukraine/military-deaths",
    "russia/military-deaths/officers",
];
const CLAIMANTS: [&str; 3] = [
    "Mediazona",
    "Russian Ministry of Defence",
    "Ukraine General Staff",
];
const TAGS: [&str; 3] = ["estimate", "official", "named-dead"];

/// One step of a random history: record claim `k{n}`, or revise an earlier one.
#[derive(Clone, Debug)]
pub enum Step {
    Record {
        subject: usize,
        claimant: usize,
        amount: u32,
        tags: Vec<usize>,
    },
    Revise {
        target: usize,
        subject: Option<usize>,
        claimant: Option<usize>,
        amount: u32,
        tags: Option<Vec<usize>>,
        status: Option<usize>,
    },
}

pub fn steps(max_len: usize) -> impl Strategy<Value = Vec<Step>> {
    let tags = proptest::collection::vec(0..TAGS.len(), 0..3);
    let record = (
        0..SUBJECTS.len(),
        0..CLAIMANTS.len(),
        0u32..1_000_000,
        tags.clone(),
    )
        .prop_map(|(subject, claimant, amount, tags)| Step::Record {
            subject,
            claimant,
            amount,
            tags,
        });
    let revise = (
        any::<usize>(),
        proptest::option::of(0..SUBJECTS.len()),
        proptest::option::of(0..CLAIMANTS.len()),
        0u32..1_000_000,
        proptest::option::of(tags),
        proptest::option::of(0..4usize),
    )
        .prop_map(
            |(target, subject, claimant, amount, tags, status)| Step::Revise {
                target,
                subject,
                claimant,
                amount,
                tags,
                status,
            },
        );
    proptest::collection::vec(prop_oneof![2 => record, 3 => revise], 1..max_len)
}

fn tag_list(tags: &[usize]) -> String {
    let mut names: Vec<&str> = tags.iter().map(|&t| TAGS[t]).collect();
    names.dedup();
    names.sort();
    names.dedup();
    serde_json::to_string(&names).unwrap()
}

/// The input lines of `steps`: a revise names a claim recorded earlier (none if none was).
pub fn lines(steps: &[Step]) -> Vec<String> {
    let mut recorded = 0usize;
    let mut lines = Vec::new();
    for step in steps {
        match step {
            Step::Record {
                subject,
                claimant,
                amount,
                tags,
            } => {
                lines.push(format!(
                    r#"{{"key":"k{recorded}","subject":"{}","claimant":"{}","statement":"figure {amount}","value":{{"amount":{amount}}},"tags":{}}}"#,
                    SUBJECTS[*subject], CLAIMANTS[*claimant], tag_list(tags)
                ));
                recorded += 1;
            }
            Step::Revise {
                target,
                subject,
                claimant,
                amount,
                tags,
                status,
            } if recorded > 0 => {
                let mut fields = vec![
                    format!(
                        r#""op":"revise","claim":"k{}","reason":"new count""#,
                        target % recorded
                    ),
                    format!(r#""value":{{"amount":{amount},"unit":"people"}}"#),
                    format!(
                        r#""statement":"revised to {amount} at step {}""#,
                        lines.len()
                    ),
                ];
                fields.extend(subject.map(|s| format!(r#""subject":"{}""#, SUBJECTS[s])));
                fields.extend(claimant.map(|c| format!(r#""claimant":"{}""#, CLAIMANTS[c])));
                fields.extend(tags.as_ref().map(|t| format!(r#""tags":{}"#, tag_list(t))));
                fields.extend(status.map(|s| {
                    format!(
                        r#""status":"{}""#,
                        ["active", "disputed", "retracted", "superseded"][s]
                    )
                }));
                lines.push(format!("{{{}}}", fields.join(",")));
            }
            Step::Revise { .. } => {}
        }
    }
    lines
}
