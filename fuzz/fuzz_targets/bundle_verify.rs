//! Bundle verification (`claims verify --bundle`, `verify_bundle`) on arbitrary bytes.
//!
//! Invariants: no panic and no I/O error from an in-memory reader; a problem found is one
//! line, free of control characters; a bundle without problems has one entry per line (but for
//! its header and checkpoint line, when it has a header); verifying again with the head it
//! gave as the expected head finds the same.
#![no_main]

use claimledger_store::verify_bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = data;
    let report =
        verify_bundle(&mut reader, None, None, &mut |_| {}).expect("no I/O error in memory");
    match &report.problem {
        Some(problem) => {
            let message = problem.to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
        None => {
            let lines = data
                .split(|&b| b == b'\n')
                .filter(|line| !line.is_empty())
                .count() as u64;
            let framing = if report.origin.is_some() { 2 } else { 0 };
            assert_eq!(report.head.count + framing, lines);
            let mut again = data;
            let expected = verify_bundle(&mut again, Some(report.head), None, &mut |_| {})
                .expect("no I/O error in memory");
            assert_eq!(expected, report);
        }
    }
});
