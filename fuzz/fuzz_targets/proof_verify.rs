//! Proof verification (`claims verify-proof`): proof files through `proof_file::verify`, and
//! the Merkle proof checks underneath on arbitrary sizes, indices and paths.
//!
//! The first byte picks what the rest is:
//! - even: a proof file, checked without a key and with the key of the seed proofs;
//! - odd: `index`, `size1`, `size2` (8 bytes each, big-endian) then 32-byte hashes: the
//!   last is the root, the others the path, for `verify_inclusion` and `verify_consistency`.
//!
//! Invariants: no panic; verdicts and errors are one line, free of control characters; a
//! consistency proof between equal sizes verifies only with an empty path and equal roots.
#![no_main]

use claimledger_cli::proof_file;
use claimledger_core::checkpoint::VerifierKeyText;
use claimledger_core::merkle::{self, Blake3Tree, LeafIndex, NodeHash, TreeHash};
use libfuzzer_sys::fuzz_target;

/// The verifier key of the ledger the seed proofs (corpus/proof_verify) were made from.
const SEED_KEY: &str = include_str!("../seeds/proof.key");

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let key = VerifierKeyText::parse(SEED_KEY.trim()).expect("the seed key parses");
        for key in [None, Some(&key)] {
            let verdict = match proof_file::verify(text, key) {
                Ok(proven) => proven.to_string(),
                Err(reason) => reason,
            };
            assert!(!verdict.chars().any(char::is_control), "{verdict:?}");
        }
    } else {
        check_merkle(rest);
    }
});

fn check_merkle(data: &[u8]) {
    if data.len() < 24 {
        return;
    }
    let number = |at: usize| u64::from_be_bytes(data[at..at + 8].try_into().expect("8 bytes"));
    let (index, size1, size2) = (number(0), number(8), number(16));
    let mut hashes: Vec<NodeHash> = data[24..]
        .chunks_exact(32)
        .map(|c| NodeHash(c.try_into().expect("32 bytes")))
        .collect();
    let Some(root) = hashes.pop() else {
        return;
    };
    let leaf = Blake3Tree::leaf(&index.to_be_bytes());
    if let Err(e) =
        merkle::verify_inclusion::<Blake3Tree>(&leaf, LeafIndex(index), size1, &hashes, &root)
    {
        assert!(!e.to_string().chars().any(char::is_control));
    }
    let first = hashes.first().copied().unwrap_or(root);
    let verdict = merkle::verify_consistency::<Blake3Tree>(size1, size2, &hashes, &first, &root);
    if size1 == size2 && verdict.is_ok() {
        assert!(hashes.is_empty() && first == root);
    }
    if let Err(e) = verdict {
        assert!(!e.to_string().chars().any(char::is_control));
    }
}
