//! The JSON Lines input: one line through `input::parse_command`, and whole files through the
//! import reader (`import_file::parse_lines`).
//!
//! Invariants: no panic; every error is one line, free of control characters; the
//! duplicate-refusing JSON reader agrees with serde_json except for duplicate fields; a record
//! re-encoded as input parses back to the same command.
#![no_main]

use claimledger_cli::import_file;
use claimledger_core::input::{self, Command};
use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;

fuzz_target!(|data: &[u8]| {
    check_file(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_json(text);
    match input::parse_command(text) {
        Ok(command) => round_trip(&command),
        Err(e) => one_line(&e.to_string()),
    }
});

fn one_line(message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "an error of more than one line: {message:?}"
    );
}

/// The import reader: line numbers that count up, one per command.
fn check_file(data: &[u8]) {
    match import_file::parse_lines(data) {
        Ok(parsed) => {
            assert_eq!(parsed.commands.len(), parsed.line_numbers.len());
            assert!(parsed.line_numbers.windows(2).all(|w| w[0] < w[1]));
            let lines = data.split(|&b| b == b'\n').count() as u64;
            assert!(parsed.line_numbers.iter().all(|&n| n >= 1 && n <= lines));
        }
        Err(e) => {
            one_line(&e.to_string());
            assert!(e.line >= 1);
        }
    }
}

/// `parse_json` is serde_json's reading with duplicate fields refused.
fn check_json(text: &str) {
    let strict = input::parse_json(text);
    let plain = serde_json::from_str::<Json>(text);
    match (&strict, &plain) {
        (Ok(strict), Ok(plain)) => assert_eq!(strict, plain),
        (Err(e), Ok(_)) => {
            let message = e.to_string();
            assert!(message.starts_with("duplicate field `"), "{message}");
        }
        (Ok(_), Err(e)) => panic!("serde_json refuses what parse_json accepts: {e}"),
        (Err(_), Err(_)) => {}
    }
    if let Err(e) = strict {
        one_line(&e.to_string());
    }
}

/// A record written back as an input line parses to the same command.
fn round_trip(command: &Command) {
    let Command::Record(record) = command else {
        return;
    };
    let Ok(Json::Object(mut object)) = serde_json::to_value(&record.claim) else {
        panic!("a claim serialises as an object");
    };
    if let Some(key) = &record.key {
        object.insert("key".into(), key.as_str().into());
    }
    if let Some(author) = &record.author {
        object.insert("author".into(), author.as_str().into());
    }
    if let Some(note) = &record.note {
        object.insert("note".into(), note.as_str().into());
    }
    let line = Json::Object(object).to_string();
    match input::parse_command(&line) {
        Ok(again) => assert_eq!(&again, command, "{line}"),
        Err(e) => panic!("a record re-encoded does not parse: {e}: {line}"),
    }
}
