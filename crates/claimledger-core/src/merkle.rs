//! The ledger's Merkle tree: the RFC 6962 tree over SHA-256 that Certificate Transparency,
//! Go's checksum database and every c2sp.org/tlog-checkpoint log and witness use, so that
//! their clients can check a ledger's checkpoints and proofs.
//!
//! ```text
//! leaf(entry)        = SHA-256(0x00 ‖ entry bytes)
//! node(left, right)  = SHA-256(0x01 ‖ left ‖ right)
//! ```
//!
//! The tree itself comes from the `tlog_tiles` crate, Cloudflare's port of Go's
//! `golang.org/x/mod/sumdb/tlog`: [`record_hash`] and [`node_hash`], the stored-hash layout
//! ([`tlog_tiles::stored_hash_index`]), [`tlog_tiles::tree_hash`], record and tree proofs
//! ([`tlog_tiles::prove_record`], [`tlog_tiles::prove_tree`]) and tiles ([`Tile`]). This module
//! holds only what that crate lacks:
//!
//! - [`Frontier`]: the roots of the perfect subtrees of a tree (one per set bit of its size),
//!   all an append needs: [`Frontier::push`] returns the stored hashes a new leaf completes, as
//!   `tlog_tiles::stored_hashes` computes them, without reading anything back.
//! - [`verify_inclusion`] and [`verify_consistency`]: `tlog_tiles`' checks, called only once
//!   the sizes, indices and proof length are known to be sound, so that no proof from outside
//!   reaches the crate's internal assertions, and with errors that say what is wrong.
//! - The text of hashes in proof files ([`to_hex`], [`parse_hex`]).
//! - Tile coordinates as c2sp.org/tlog-tiles names them ([`tile_path`], [`entry_bundle_path`]):
//!   `Tile::path` writes Go's older `tile/H/L/NNN` form.
//!
//! What verification cannot detect: RFC 6962 proofs do not commit to the tree size, only to
//! the root. A root quoted with the wrong size still verifies when the proof has the same
//! shape for both sizes (the audit path of leaf 0 is the same walk in trees of 5 to 8
//! leaves). A size and its root must therefore come together from one trusted place, such as
//! a signed checkpoint, never be combined by the reader.
//!
//! ```
//! use claimledger_core::merkle::{self, Frontier, record_hash};
//!
//! let entries = [&b"first entry"[..], b"second entry", b"third entry"];
//! let mut frontier = Frontier::new();
//! let mut stored = Vec::new(); // the stored-hash layout, as tlog_tiles defines it
//! for entry in entries {
//!     stored.extend(frontier.push(record_hash(entry)).map(|(_, _, hash)| hash));
//! }
//! let root = frontier.root();
//! let reader = merkle::VecHashes(&stored);
//!
//! let path = tlog_tiles::prove_record(3, 1, &reader).unwrap();
//! merkle::verify_inclusion(record_hash(b"second entry"), 1, 3, &path, root).unwrap();
//!
//! let root_of_2 = tlog_tiles::tree_hash(2, &reader).unwrap();
//! let proof = tlog_tiles::prove_tree(3, 2, &reader).unwrap();
//! merkle::verify_consistency(2, 3, &proof, root_of_2, root).unwrap();
//! ```

pub use tlog_tiles::{node_hash, record_hash, Hash, HashReader, Tile, EMPTY_HASH, HASH_SIZE};

/// The height of the ledger's tiles: a tile holds up to 2^8 = 256 hashes of one tree level,
/// the levels 0, 8, 16, … (c2sp.org/tlog-tiles).
pub const TILE_HEIGHT: u8 = 8;

/// The hashes of a full tile, and the entries of a full entry bundle.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// The roots of the perfect subtrees a tree is made of, one per set bit of its size, largest
/// (leftmost) first: enough to append a leaf and to compute the root without the leaves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frontier {
    tree_size: u64,
    /// (stored hash index, hash), in the order of `tlog_tiles::sub_tree_index(0, size)`:
    /// ascending index.
    peaks: Vec<(u64, Hash)>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Reads the frontier of the tree of `tree_size` leaves: one hash per set bit of the size.
    pub fn read(tree_size: u64, reader: &impl HashReader) -> Result<Frontier, tlog_tiles::Error> {
        let indexes = tlog_tiles::sub_tree_index(0, tree_size, Vec::new());
        let hashes = reader.read_hashes(&indexes)?;
        if hashes.len() != indexes.len() {
            return Err(tlog_tiles::Error::BadMath);
        }
        Ok(Frontier {
            tree_size,
            peaks: indexes.into_iter().zip(hashes).collect(),
        })
    }

    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// Appends a leaf and returns the stored hashes it completes, as (tree level, index within
    /// the level, hash), lowest level first: the leaf, then one interior node per trailing 1
    /// bit of the size before (`tlog_tiles::stored_hashes_for_record_hash`). Across appends,
    /// every hash of the stored-hash layout is returned once, in the layout's order.
    ///
    /// # Panics
    ///
    /// If the tree already holds u64::MAX leaves.
    pub fn push(&mut self, leaf: Hash) -> impl Iterator<Item = (u8, u64, Hash)> {
        let size_before = self.tree_size;
        assert!(
            size_before < u64::MAX,
            "a tree holds at most u64::MAX leaves"
        );
        let hashes = tlog_tiles::stored_hashes_for_record_hash(size_before, leaf, &*self)
            .expect("a frontier holds every hash an append reads");
        // The append consumed the peaks of the levels below the new top one, which are the
        // last ones (the lowest set bits of the size).
        let consumed = hashes.len() - 1;
        self.peaks.truncate(self.peaks.len() - consumed);
        let top = consumed as u8;
        let top_index = size_before >> top;
        self.peaks.push((
            tlog_tiles::stored_hash_index(top, top_index),
            hashes[consumed],
        ));
        self.tree_size = size_before + 1;
        debug_assert_eq!(self.peaks.len(), self.tree_size.count_ones() as usize);
        hashes
            .into_iter()
            .enumerate()
            .map(move |(level, hash)| (level as u8, size_before >> level, hash))
    }

    /// The root of the tree (the empty tree's is SHA-256 of no bytes).
    pub fn root(&self) -> Hash {
        tlog_tiles::tree_hash(self.tree_size, self)
            .expect("a frontier holds every hash of its root")
    }
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|index| {
                self.peaks
                    .iter()
                    .find(|(at, _)| at == index)
                    .map(|(_, hash)| *hash)
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Hashes held in memory in the stored-hash layout, from index 0: a [`HashReader`] for tests
/// and examples.
#[derive(Debug)]
pub struct VecHashes<'a>(pub &'a [Hash]);

impl HashReader for VecHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.0.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// A hash as 64 lowercase hex digits, the form of proof files.
pub fn to_hex(hash: &Hash) -> String {
    use std::fmt::Write;
    hash.0
        .iter()
        .fold(String::with_capacity(64), |mut text, b| {
            let _ = write!(text, "{b:02x}");
            text
        })
}

/// Parses 64 lowercase hex digits.
pub fn parse_hex(text: &str) -> Result<Hash, String> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    let mut hash = [0; HASH_SIZE];
    if bytes.len() == 2 * HASH_SIZE {
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            match (digit(pair[0]), digit(pair[1])) {
                (Some(high), Some(low)) => hash[i] = high << 4 | low,
                _ => break,
            }
            if i + 1 == HASH_SIZE {
                return Ok(Hash(hash));
            }
        }
    }
    Err(format!(
        "{text:?} is not a Merkle tree hash: expected 64 lowercase hex digits"
    ))
}

/// The c2sp.org/tlog-tiles path of a hash tile: `tile/<L>/<N>[.p/<W>]`, where `N` is written in
/// groups of three digits (`x001/x234/067`) and `.p/<W>` marks a partial tile of `W` hashes.
///
/// # Panics
///
/// Unless `width` is 1 to 256 and `level` below 8.
pub fn tile_path(level: u8, index: u64, width: u32) -> String {
    c2sp_path(Tile::new(TILE_HEIGHT, level, index, width, false))
}

/// The c2sp.org/tlog-tiles path of an entry bundle: `tile/entries/<N>[.p/<W>]`, the bundle of
/// entries `N`·256 + 1 to `N`·256 + `W`.
///
/// # Panics
///
/// Unless `width` is 1 to 256.
pub fn entry_bundle_path(index: u64, width: u32) -> String {
    c2sp_path(Tile::new(TILE_HEIGHT, 0, index, width, true))
}

/// Go's `tile/8/L/...` or `tile/8/data/...`, rewritten as c2sp.org/tlog-tiles has it: no
/// height, and `entries` for `data`.
fn c2sp_path(tile: Tile) -> String {
    let go = tile.path();
    let rest = go
        .strip_prefix("tile/8/")
        .expect("tiles of height 8 have paths under tile/8/");
    match rest.strip_prefix("data/") {
        Some(index) => format!("tile/entries/{index}"),
        None => format!("tile/{rest}"),
    }
}

/// Why a proof was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of {tree_size} leaves (indices start at 0)")]
    LeafIndexOutOfRange { index: u64, tree_size: u64 },
    #[error(
        "a consistency proof starts from a tree of at least 1 leaf: every tree extends the \
         empty tree, so there is nothing to prove"
    )]
    EmptyFirstTree,
    #[error(
        "the first tree has {size1} leaves, more than the second's {size2}: a log only grows, \
         so give the older, smaller head first"
    )]
    SizesOutOfOrder { size1: u64, size2: u64 },
    #[error(
        "the proof has {got} hashes but needs exactly {expected}: it was made for another leaf \
         index or tree size, or hashes were added to it or lost from it"
    )]
    WrongProofLength { got: usize, expected: usize },
    #[error(
        "the proof does not lead to the root: the leaf hash, its index, the tree size or a hash \
         in the proof is wrong, or the root is not this tree's"
    )]
    RootMismatch,
    #[error(
        "two heads of the same size {tree_size} have different roots: one of them is not this \
         log's, or the log was rewritten"
    )]
    SameSizeRootsDiffer { tree_size: u64 },
    #[error(
        "the proof does not lead from the first root to the second: the second tree does not \
         extend the first (the log was rewritten), or a size, a root or a hash in the proof is \
         wrong"
    )]
    NotConsistent,
}

/// The number of hashes in the audit path of leaf `index` in a tree of `tree_size` leaves
/// (index < size): the levels below the point where the leaf's and the last leaf's paths meet,
/// and one per left sibling above it (RFC 9162 2.1.3.2, in closed form).
fn inclusion_path_len(index: u64, tree_size: u64) -> usize {
    let inner = u64::BITS - (index ^ (tree_size - 1)).leading_zeros();
    // A shift by 64 (leaf 0 of a tree of more than 2^63 leaves) leaves nothing.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The number of hashes in the consistency proof from `size1` to `size2` (0 < size1 < size2):
/// the audit path of the first tree's last perfect subtree, plus its root unless the first tree
/// is perfect (RFC 9162 2.1.4.2, in closed form).
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let level = size1.trailing_zeros();
    let index = (size1 - 1) >> level;
    let last = (size2 - 1) >> level;
    let inner = u64::BITS - (index ^ last).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    usize::from(index != 0) + (inner + border) as usize
}

/// Checks that `leaf` is leaf `index` of the tree of `tree_size` leaves whose root is `root`.
/// The size and root must come from one trusted head: the proof does not commit to the size
/// (see the module documentation).
pub fn verify_inclusion(
    leaf: Hash,
    index: u64,
    tree_size: u64,
    path: &[Hash],
    root: Hash,
) -> Result<(), ProofError> {
    if index >= tree_size {
        return Err(ProofError::LeafIndexOutOfRange { index, tree_size });
    }
    let expected = inclusion_path_len(index, tree_size);
    if path.len() != expected {
        return Err(ProofError::WrongProofLength {
            got: path.len(),
            expected,
        });
    }
    tlog_tiles::check_record(&path.to_vec(), tree_size, root, index, leaf)
        .map_err(|_| ProofError::RootMismatch)
}

/// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
/// with root `root1`. Equal sizes need an empty proof and equal roots. Each size and its root
/// must come from one trusted head: the proof does not commit to the sizes.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: Hash,
    root2: Hash,
) -> Result<(), ProofError> {
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    let expected = if size1 == size2 {
        0
    } else {
        consistency_proof_len(size1, size2)
    };
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            got: proof.len(),
            expected,
        });
    }
    if size1 == size2 {
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::SameSizeRootsDiffer { tree_size: size1 })
        };
    }
    tlog_tiles::check_tree(&proof.to_vec(), size2, root2, size1, root1)
        .map_err(|_| ProofError::NotConsistent)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A tree grown leaf by leaf: its stored hashes (the layout tlog_tiles reads) filled from
    /// [`Frontier::push`], and the root of every prefix.
    struct Tree {
        leaves: Vec<Hash>,
        stored: Vec<Hash>,
        roots: Vec<Hash>,
    }

    impl Tree {
        fn of_leaves(leaves: Vec<Hash>) -> Tree {
            let mut frontier = Frontier::new();
            let mut stored = Vec::new();
            let mut roots = vec![frontier.root()];
            for &leaf in &leaves {
                let size_before = frontier.tree_size();
                let first = stored.len() as u64;
                for (i, (level, index, hash)) in frontier.push(leaf).enumerate() {
                    assert_eq!(
                        tlog_tiles::stored_hash_index(level, index),
                        first + i as u64,
                        "the hashes of leaf {size_before} come in the layout's order"
                    );
                    stored.push(hash);
                }
                assert_eq!(
                    tlog_tiles::stored_hash_count(size_before + 1),
                    stored.len() as u64
                );
                roots.push(frontier.root());
            }
            Tree {
                leaves,
                stored,
                roots,
            }
        }

        fn of(count: u64) -> Tree {
            Tree::of_leaves(
                (0..count)
                    .map(|i| record_hash(format!("entry {i}").as_bytes()))
                    .collect(),
            )
        }

        fn inclusion(&self, index: u64, tree_size: u64) -> Vec<Hash> {
            tlog_tiles::prove_record(tree_size, index, &VecHashes(&self.stored)).unwrap()
        }

        fn consistency(&self, size1: u64, size2: u64) -> Vec<Hash> {
            tlog_tiles::prove_tree(size2, size1, &VecHashes(&self.stored)).unwrap()
        }
    }

    fn hex32(text: &str) -> Hash {
        parse_hex(text).unwrap()
    }

    /// The reference tree of RFC 6962's test suite (google/certificate-transparency,
    /// cpp/merkletree/merkle_tree_test.cc).
    fn rfc6962_tree() -> Tree {
        Tree::of_leaves(
            [
                "",
                "00",
                "10",
                "2021",
                "3031",
                "40414243",
                "5051525354555657",
                "606162636465666768696a6b6c6d6e6f",
            ]
            .iter()
            .map(|leaf| record_hash(&hex::decode(leaf).unwrap()))
            .collect(),
        )
    }

    #[test]
    fn rfc6962_roots() {
        let tree = rfc6962_tree();
        for (leaf_count, expected) in [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        .into_iter()
        .enumerate()
        {
            let expected = hex32(expected);
            assert_eq!(tree.roots[leaf_count], expected, "frontier of {leaf_count}");
            let stored = tlog_tiles::tree_hash(leaf_count as u64, &VecHashes(&tree.stored));
            assert_eq!(stored.unwrap(), expected, "stored {leaf_count}");
        }
        assert_eq!(tree.roots[0], EMPTY_HASH);
    }

    #[test]
    fn rfc6962_proofs() {
        let tree = rfc6962_tree();
        let check_inclusion = |m: u64, n: u64, expected: &[&str]| {
            let expected: Vec<_> = expected.iter().map(|h| hex32(h)).collect();
            assert_eq!(tree.inclusion(m, n), expected, "leaf {m} of {n}");
            let (leaf, root) = (tree.leaves[m as usize], tree.roots[n as usize]);
            assert_eq!(verify_inclusion(leaf, m, n, &expected, root), Ok(()));
        };
        check_inclusion(0, 1, &[]);
        check_inclusion(
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        );
        check_inclusion(
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        );
        check_inclusion(
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        );
        check_inclusion(
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        );

        let check_consistency = |m: u64, n: u64, expected: &[&str]| {
            let expected: Vec<_> = expected.iter().map(|h| hex32(h)).collect();
            assert_eq!(tree.consistency(m, n), expected, "sizes {m} to {n}");
            let (root1, root2) = (tree.roots[m as usize], tree.roots[n as usize]);
            assert_eq!(verify_consistency(m, n, &expected, root1, root2), Ok(()));
        };
        check_consistency(1, 1, &[]);
        check_consistency(
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        );
        check_consistency(
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        );
        check_consistency(
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        );
    }

    /// The reference definitions of RFC 9162 2.1.1: the root of leaf hashes in memory.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_HASH,
            1 => leaves[0],
            n => {
                let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(reference_root(&leaves[..k]), reference_root(&leaves[k..]))
            }
        }
    }

    /// Every size up to 300: the frontier's root is the definition's; every audit path and
    /// every consistency proof (all pairs up to 80, a sample above) verifies and has the
    /// length the closed forms give.
    #[test]
    fn all_sizes() {
        let tree = Tree::of(300);
        for n in 0..=300u64 {
            assert_eq!(
                tree.roots[n as usize],
                reference_root(&tree.leaves[..n as usize]),
                "{n}"
            );
        }
        for n in 1..=300u64 {
            let root = tree.roots[n as usize];
            for m in (0..n).filter(|m| n <= 80 || m % 7 == 0 || *m == n - 1) {
                let path = tree.inclusion(m, n);
                assert_eq!(path.len(), inclusion_path_len(m, n), "leaf {m} of {n}");
                assert_eq!(
                    verify_inclusion(tree.leaves[m as usize], m, n, &path, root),
                    Ok(())
                );
            }
            for m in (1..=n).filter(|m| n <= 80 || m % 11 == 0 || *m == n) {
                let proof = tree.consistency(m, n);
                let expected = if m == n {
                    0
                } else {
                    consistency_proof_len(m, n)
                };
                assert_eq!(proof.len(), expected, "{m} to {n}");
                assert_eq!(
                    verify_consistency(m, n, &proof, tree.roots[m as usize], root),
                    Ok(())
                );
            }
        }
    }

    /// Every changed, added, removed or reordered hash makes a proof fail, and so does every
    /// other index, size or root.
    #[test]
    fn corrupted_proofs_are_rejected() {
        let tree = Tree::of(40);
        let flips = |proof: &[Hash]| -> Vec<Vec<Hash>> {
            let mut edits = Vec::new();
            for i in 0..proof.len() {
                for bit in [0, 9, 255] {
                    let mut edited = proof.to_vec();
                    edited[i].0[bit / 8] ^= 1 << (bit % 8);
                    edits.push(edited);
                }
                let mut removed = proof.to_vec();
                removed.remove(i);
                edits.push(removed);
                if i + 1 < proof.len() && proof[i] != proof[i + 1] {
                    let mut swapped = proof.to_vec();
                    swapped.swap(i, i + 1);
                    edits.push(swapped);
                }
            }
            edits.push([proof, &[record_hash(b"foreign")]].concat());
            edits
        };
        for n in [1u64, 2, 3, 7, 8, 9, 31, 40] {
            let root = tree.roots[n as usize];
            for m in 0..n {
                let leaf = tree.leaves[m as usize];
                let path = tree.inclusion(m, n);
                for edited in flips(&path) {
                    assert!(verify_inclusion(leaf, m, n, &edited, root).is_err());
                }
                for other in (0..n).filter(|&o| o != m) {
                    assert!(verify_inclusion(leaf, other, n, &path, root).is_err());
                }
                assert!(verify_inclusion(leaf, m, n, &path, tree.roots[n as usize - 1]).is_err());
            }
            for m in 1..n {
                let proof = tree.consistency(m, n);
                let old = tree.roots[m as usize];
                for edited in flips(&proof) {
                    assert!(verify_consistency(m, n, &edited, old, root).is_err());
                }
                assert!(
                    verify_consistency(m, n, &proof, tree.roots[m as usize - 1], root).is_err()
                );
                assert!(verify_consistency(m, n, &proof, old, tree.roots[n as usize - 1]).is_err());
            }
        }
    }

    #[test]
    fn proof_errors() {
        let tree = Tree::of(8);
        let leaf = tree.leaves[5];
        let path = tree.inclusion(5, 8);
        let check = |result: Result<(), ProofError>, expected: &str| {
            let actual = match result {
                Ok(()) => "ok".to_owned(),
                Err(e) => e.to_string(),
            };
            assert_eq!(actual, expected);
        };
        check(verify_inclusion(leaf, 5, 8, &path, tree.roots[8]), "ok");
        // The limit the module documentation states: the path of leaf 0 in the tree of 5
        // leaves, with that tree's root, verifies as if the tree had 6, 7 or 8 leaves.
        let path_in_5 = tree.inclusion(0, 5);
        for tree_size in [5, 6, 7, 8] {
            let result = verify_inclusion(tree.leaves[0], 0, tree_size, &path_in_5, tree.roots[5]);
            check(result, "ok");
        }
        check(
            verify_inclusion(leaf, 8, 8, &path, tree.roots[8]),
            "leaf index 8 is outside a tree of 8 leaves (indices start at 0)",
        );
        check(
            verify_inclusion(leaf, 0, 0, &[], EMPTY_HASH),
            "leaf index 0 is outside a tree of 0 leaves (indices start at 0)",
        );
        check(
            verify_inclusion(leaf, 5, 8, &path[1..], tree.roots[8]),
            "the proof has 2 hashes but needs exactly 3: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );
        check(
            verify_inclusion(leaf, 5, 8, &path, tree.roots[7]),
            "the proof does not lead to the root: the leaf hash, its index, the tree size or a \
             hash in the proof is wrong, or the root is not this tree's",
        );
        check(
            verify_inclusion(leaf, 0, u64::MAX, &path, tree.roots[8]),
            "the proof has 3 hashes but needs exactly 64: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );
        // Sizes far beyond any ledger are refused by length, never run.
        check(
            verify_inclusion(leaf, u64::MAX - 1, u64::MAX, &path, tree.roots[8]),
            "the proof has 3 hashes but needs exactly 63: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );

        let proof = tree.consistency(3, 8);
        let roots = &tree.roots;
        check(verify_consistency(3, 8, &proof, roots[3], roots[8]), "ok");
        check(
            verify_consistency(0, 8, &proof, roots[0], roots[8]),
            "a consistency proof starts from a tree of at least 1 leaf: every tree extends the \
             empty tree, so there is nothing to prove",
        );
        check(
            verify_consistency(8, 3, &proof, roots[8], roots[3]),
            "the first tree has 8 leaves, more than the second's 3: a log only grows, so give \
             the older, smaller head first",
        );
        check(
            verify_consistency(3, 8, &proof, roots[2], roots[8]),
            "the proof does not lead from the first root to the second: the second tree does \
             not extend the first (the log was rewritten), or a size, a root or a hash in the \
             proof is wrong",
        );
        check(
            verify_consistency(8, 8, &[], roots[7], roots[8]),
            "two heads of the same size 8 have different roots: one of them is not this log's, \
             or the log was rewritten",
        );
        check(
            verify_consistency(8, 8, &proof, roots[8], roots[8]),
            "the proof has 4 hashes but needs exactly 0: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );
        check(
            verify_consistency(1, u64::MAX, &proof, roots[1], roots[8]),
            "the proof has 4 hashes but needs exactly 64: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );
    }

    proptest::proptest! {
        /// Whatever sizes, indices and hashes a proof file holds, checking it returns: it
        /// never reaches an assertion of `tlog_tiles`, and the closed-form lengths never
        /// overflow.
        #[test]
        fn any_proof_is_checked_without_panicking(
            index in proptest::prelude::any::<u64>(),
            size in proptest::prelude::any::<u64>(),
            small in 0u64..300,
            length in 0usize..70,
            byte in proptest::prelude::any::<u8>(),
        ) {
            let path = vec![Hash([byte; HASH_SIZE]); length];
            let root = Hash([byte ^ 1; HASH_SIZE]);
            for (i, n) in [(index, size), (small, size), (index % 300, small), (0, size)] {
                let _ = verify_inclusion(root, i, n, &path, root);
                let _ = verify_consistency(i, n, &path, root, root);
                let _ = verify_consistency(i.min(n), n, &path, root, root);
            }
        }
    }

    /// A frontier read back from stored hashes goes on as the one that wrote them.
    #[test]
    fn a_frontier_read_from_stored_hashes_continues() {
        let tree = Tree::of(70);
        for size in 0..70u64 {
            let count = tlog_tiles::stored_hash_count(size) as usize;
            let mut frontier = Frontier::read(size, &VecHashes(&tree.stored[..count])).unwrap();
            assert_eq!(frontier.root(), tree.roots[size as usize]);
            let next: Vec<Hash> = frontier
                .push(tree.leaves[size as usize])
                .map(|(_, _, h)| h)
                .collect();
            let end = tlog_tiles::stored_hash_count(size + 1) as usize;
            assert_eq!(next, tree.stored[count..end], "{size}");
        }
    }

    #[test]
    fn hash_text() {
        let hash = record_hash(b"x");
        let text = to_hex(&hash);
        assert_eq!(text.len(), 64);
        assert_eq!(parse_hex(&text), Ok(hash));
        for bad in [
            &text.to_uppercase()[..],
            &text[1..],
            &format!("{text}0"),
            "g".repeat(64).as_str(),
            "",
            &"é".repeat(32),
        ] {
            assert!(parse_hex(bad).is_err(), "{bad}");
        }
    }

    /// The paths of c2sp.org/tlog-tiles, with its own examples.
    #[test]
    fn tile_paths() {
        assert_eq!(tile_path(0, 0, 256), "tile/0/000");
        assert_eq!(tile_path(0, 1_234_067, 256), "tile/0/x001/x234/067");
        assert_eq!(tile_path(1, 1_234_067, 1), "tile/1/x001/x234/067.p/1");
        assert_eq!(tile_path(2, 999, 255), "tile/2/999.p/255");
        assert_eq!(tile_path(0, 1000, 256), "tile/0/x001/000");
        assert_eq!(entry_bundle_path(0, 256), "tile/entries/000");
        assert_eq!(
            entry_bundle_path(1_234_067, 8),
            "tile/entries/x001/x234/067.p/8"
        );
    }
}
