//! The claim validator and the decisions that turn commands into events.
//!
//! The first byte picks what the rest is:
//! - even: a `Claim` as serde reads it (no input-format checks): `Claim::validate` must not
//!   panic, and a claim it accepts must record, encode and decode back to the same entry;
//! - odd: an input line: a record is decided as a new claim, a revise against a fixed claim;
//!   an event decided must encode, and decode back to the same entry and the same bytes (an
//!   entry over the size limit of 65,535 bytes is refused instead, naming its size).
//!
//! Invariants: no panic; errors are one line, free of control characters; stored entries
//! round-trip.
#![no_main]

use claimledger_core::decide::{self, ClaimState, EventContext};
use claimledger_core::input::{self, Command, RecordCommand};
use claimledger_core::{Claim, ClaimId, Entry, EntryHash, Seq, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if mode % 2 == 0 {
        check_claim(text);
    } else {
        check_command(text);
    }
});

fn one_line(message: &str) {
    assert!(!message.chars().any(char::is_control), "{message:?}");
}

fn context() -> EventContext {
    EventContext {
        now: Timestamp::parse("2025-02-25T09:30:00.000000Z").expect("a timestamp"),
        default_author: "fuzz".into(),
    }
}

fn id() -> ClaimId {
    ClaimId::parse("01953a1c-8f00-7000-8000-000000000001").expect("an id")
}

fn check_claim(text: &str) {
    let Ok(claim) = serde_json::from_str::<Claim>(text) else {
        return;
    };
    match claim.validate() {
        Ok(()) => {
            let again: Claim =
                serde_json::from_str(&serde_json::to_string(&claim).expect("serialises"))
                    .expect("a claim serialised reads back");
            assert_eq!(again, claim);
            let command = RecordCommand {
                key: None,
                claim,
                author: None,
                note: None,
            };
            let event = decide::decide_record(&command, id(), None, &context())
                .expect("a valid claim records");
            entry_round_trip(event, 1);
        }
        Err(e) => one_line(&e.to_string()),
    }
}

fn check_command(text: &str) {
    let command = match input::parse_command(text) {
        Ok(command) => command,
        Err(e) => return one_line(&e.to_string()),
    };
    let decided = match &command {
        Command::Record(record) => decide::decide_record(record, id(), None, &context()),
        Command::Revise(revise) => decide::decide_revise(revise, &current(), &context()),
    };
    match decided {
        Ok(event) => entry_round_trip(event, 7),
        Err(e) => one_line(&e.to_string()),
    }
}

/// The claim a revise applies to: revision 3 of a claim with most fields set.
fn current() -> ClaimState {
    let line = r#"{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named dead","value":{"bound":"at_least","amount":"95300","unit":"people"},"period":{"from":"2022-02-24","to":"2025-02"},"stated_on":"2025-02-24","method":"named\nlist","sources":[{"url":"https://example.org/a","publisher":"AFP","quote":"q"}],"tags":["war","named-dead"]}"#;
    let Ok(Command::Record(record)) = input::parse_command(line) else {
        panic!("the base claim parses");
    };
    let now = context().now;
    ClaimState {
        id: id(),
        key: record.key,
        revision: 3,
        claim: record.claim,
        recorded_at: now,
        revised_at: now,
    }
}

fn entry_round_trip(event: claimledger_core::Event, seq: u64) {
    event
        .claim()
        .validate()
        .expect("a decided event's claim is valid");
    let entry = Entry {
        seq: Seq(seq),
        prev: EntryHash::ZERO,
        event,
    };
    let bytes = entry.encode();
    if bytes.len() > claimledger_core::ENTRY_LEN_MAX {
        // The ledger refuses such a command at input (`Ledger::submit`); decoding refuses
        // such bytes, naming their size.
        let error = Entry::decode(&bytes).expect_err("an entry over the limit is refused");
        assert!(error.0.contains(&bytes.len().to_string()), "{error}");
        return;
    }
    let decoded = Entry::decode(&bytes).expect("an encoded entry decodes");
    assert_eq!(decoded, entry);
    assert_eq!(decoded.encode(), bytes, "one content, one byte form");
}
