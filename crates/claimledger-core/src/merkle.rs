//! A Merkle tree over the log, built as Certificate Transparency v2 builds it (RFC 9162
//! section 2.1), so that a reader can check one entry, or that the log only grew between two
//! heads, from O(log n) hashes instead of from the whole log.
//!
//! The hash chain (`prev`) already makes the log tamper-evident, but to check that entry k is
//! in the log behind a head, or that a later head extends an earlier one, a reader needs every
//! entry in between. The Merkle tree answers both questions with an inclusion proof (the
//! audit path) and a consistency proof of at most about log2(n) hashes each.
//!
//! - [`TreeHash`] is the hash with RFC 9162's domain separation: a leaf is H(0x00 ‖ bytes) and
//!   an interior node H(0x01 ‖ left ‖ right), so that no leaf can pass for an interior node.
//!   [`Blake3Tree`] is the ledger's.
//! - [`root`] is the definition (MTH), over leaf hashes held in memory.
//! - [`Frontier`] computes the root incrementally from one perfect-subtree root per set bit of
//!   the size (a Merkle mountain range), so an append costs O(log n) hashes.
//! - [`NodeId`] addresses the perfect subtrees a store keeps. Each is written exactly once,
//!   when its last leaf is appended ([`nodes_completed_by_append`], [`Frontier::push`]), and
//!   never changes. A tree of n leaves has 2n − popcount(n) of them. [`stored_root`],
//!   [`inclusion_proof`] and [`consistency_proof`] read O(log n) of them, and for a size m
//!   only nodes within the first m leaves, so a proof about any earlier head stays available.
//! - [`verify_inclusion`] and [`verify_consistency`] are pure and need nothing but the proof:
//!   they are the RFC 9162 algorithms (2.1.3.2 and 2.1.4.2), with the proof length checked
//!   first so that a wrong length is reported as such.
//!
//! What verification cannot detect: RFC 9162 proofs do not commit to the tree size, only to
//! the root. A root quoted with the wrong size still verifies when the proof has the same
//! shape for both sizes (the audit path of leaf 0 is the same walk in trees of 5 to 8
//! leaves). A size and its root must therefore come together from one trusted place, such as
//! a signed checkpoint, never be combined by the reader.
//!
//! ```
//! use claimledger_core::merkle::{self, Blake3Tree, Frontier, LeafIndex, NodeId, TreeHash};
//! use std::collections::HashMap;
//!
//! let mut frontier = Frontier::<Blake3Tree>::new();
//! let mut stored = HashMap::new();
//! for entry in [&b"first entry"[..], b"second entry", b"third entry"] {
//!     for (node, hash) in frontier.push(Blake3Tree::leaf(entry)) {
//!         stored.insert(node, hash); // written once, never changed
//!     }
//! }
//! let root = frontier.root();
//! let mut fetch = |node: NodeId| stored.get(&node).copied().ok_or("node missing");
//!
//! let path = merkle::inclusion_proof::<Blake3Tree, _>(LeafIndex(1), 3, &mut fetch).unwrap();
//! let leaf = Blake3Tree::leaf(b"second entry");
//! merkle::verify_inclusion::<Blake3Tree>(&leaf, LeafIndex(1), 3, &path, &root).unwrap();
//!
//! let root_of_2 = merkle::stored_root::<Blake3Tree, _>(2, &mut fetch).unwrap();
//! let proof = merkle::consistency_proof::<Blake3Tree, _>(2, 3, &mut fetch).unwrap();
//! merkle::verify_consistency::<Blake3Tree>(2, 3, &proof, &root_of_2, &root).unwrap();
//! ```

use std::fmt;

/// The hash function of a Merkle tree, with RFC 9162's domain separation between leaves and
/// interior nodes.
pub trait TreeHash {
    type Digest: Copy + Eq + AsRef<[u8]> + fmt::Debug;

    /// The hash of a leaf: H(0x00 ‖ bytes).
    fn leaf(bytes: &[u8]) -> Self::Digest;

    /// The hash of an interior node: H(0x01 ‖ left ‖ right).
    fn node(left: &Self::Digest, right: &Self::Digest) -> Self::Digest;

    /// The root of the tree of no leaves: H of no bytes.
    fn empty() -> Self::Digest;
}

/// The ledger's tree hash: BLAKE3, the hash the entries are chained with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blake3Tree;

impl TreeHash for Blake3Tree {
    type Digest = NodeHash;

    fn leaf(bytes: &[u8]) -> NodeHash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[0x00]);
        hasher.update(bytes);
        NodeHash(*hasher.finalize().as_bytes())
    }

    fn node(left: &NodeHash, right: &NodeHash) -> NodeHash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[0x01]);
        hasher.update(&left.0);
        hasher.update(&right.0);
        NodeHash(*hasher.finalize().as_bytes())
    }

    fn empty() -> NodeHash {
        NodeHash(*blake3::hash(b"").as_bytes())
    }
}

/// A [`Blake3Tree`] hash: of a leaf, an interior node or a root. Not an
/// [`EntryHash`](crate::EntryHash): a leaf hash has the 0x00 prefix, so the two differ even
/// over the same bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeHash(pub [u8; 32]);

impl NodeHash {
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    /// Parses 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<NodeHash, String> {
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "{text:?} is not a Merkle tree hash: expected 64 lowercase hex digits"
            ));
        }
        blake3::Hash::from_hex(text)
            .map(|h| NodeHash(*h.as_bytes()))
            .map_err(|e| e.to_string())
    }
}

impl AsRef<[u8]> for NodeHash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for NodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for NodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeHash({})", self.to_hex())
    }
}

/// A leaf's position in the tree, counted from 0. A type of its own so that it cannot be
/// mixed up with a [`NodeId`]'s index, which counts nodes of one level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeafIndex(pub u64);

impl fmt::Display for LeafIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A perfect subtree, the unit a store keeps: at `level` l it is the root of the 2^l leaves
/// [index·2^l, (index+1)·2^l). Level 0 is a leaf. Levels run to 63, since a tree holds at
/// most u64::MAX leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn leaf(index: LeafIndex) -> NodeId {
        NodeId {
            level: 0,
            index: index.0,
        }
    }

    /// The two nodes this one is the hash of, for a store that checks a stored node against
    /// its children; `None` for a leaf.
    pub fn children(self) -> Option<(NodeId, NodeId)> {
        let level = self.level.checked_sub(1)?;
        let left = self
            .index
            .checked_mul(2)
            .expect("a node's children are numbered within u64");
        Some((
            NodeId { level, index: left },
            NodeId {
                level,
                index: left + 1,
            },
        ))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(level {}, index {})", self.level, self.index)
    }
}

/// The Merkle tree hash (MTH) of leaf hashes held in memory: the definition the incremental
/// and stored forms are tested against. The empty tree's root is H of no bytes.
pub fn root<H: TreeHash>(leaves: &[H::Digest]) -> H::Digest {
    match leaves.len() {
        0 => H::empty(),
        1 => leaves[0],
        count => {
            // The largest power of two smaller than count.
            let split = 1usize << (usize::BITS - 1 - (count - 1).leading_zeros());
            H::node(&root::<H>(&leaves[..split]), &root::<H>(&leaves[split..]))
        }
    }
}

/// The nodes that become complete when leaf `size_before` is appended, lowest level first:
/// the leaf itself, then one node per trailing 1 bit of `size_before`. Across appends every
/// node is yielded exactly once, so a store can write each one once and never change it.
///
/// Panics if `size_before` is u64::MAX: the tree would hold more leaves than a u64 counts.
pub fn nodes_completed_by_append(size_before: u64) -> impl Iterator<Item = NodeId> {
    assert!(
        size_before < u64::MAX,
        "a Merkle tree holds at most u64::MAX leaves"
    );
    (0..=size_before.trailing_ones()).map(move |level| NodeId {
        level: level as u8,
        index: size_before >> level,
    })
}

/// The perfect subtrees a tree of `tree_size` leaves is made of, left to right (largest
/// first), one per set bit of the size: the nodes whose hashes form its [`Frontier`].
pub fn frontier_nodes(tree_size: u64) -> impl Iterator<Item = NodeId> {
    (0..u64::BITS)
        .rev()
        .filter(move |&level| (tree_size >> level) & 1 == 1)
        .map(move |level| NodeId {
            level: level as u8,
            // tree_size >> level counts the subtrees of this height up to and including this
            // one.
            index: (tree_size >> level) - 1,
        })
}

/// The roots of the perfect subtrees of a tree, one per set bit of its size: enough to append
/// a leaf and to compute the root without the leaves. This is what a store keeps to append in
/// O(log n).
pub struct Frontier<H: TreeHash> {
    tree_size: u64,
    /// In the order of [`frontier_nodes`]: largest subtree first.
    peaks: Vec<H::Digest>,
}

impl<H: TreeHash> Frontier<H> {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier<H> {
        Frontier {
            tree_size: 0,
            peaks: Vec::new(),
        }
    }

    /// Rebuilds a frontier from its parts, as a store kept them. The peaks are in the order of
    /// [`frontier_nodes`].
    pub fn from_peaks(tree_size: u64, peaks: Vec<H::Digest>) -> Result<Frontier<H>, FrontierError> {
        let expected = tree_size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(FrontierError {
                tree_size,
                expected,
                got: peaks.len(),
            });
        }
        Ok(Frontier { tree_size, peaks })
    }

    /// Reads the frontier of a tree of `tree_size` leaves from stored nodes: one read per set
    /// bit of the size.
    pub fn from_stored<E>(
        tree_size: u64,
        fetch: &mut dyn FnMut(NodeId) -> Result<H::Digest, E>,
    ) -> Result<Frontier<H>, StoredTreeError<E>> {
        let peaks = frontier_nodes(tree_size)
            .map(|node| fetch_node(fetch, node))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Frontier { tree_size, peaks })
    }

    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The perfect-subtree roots, in the order of [`frontier_nodes`].
    pub fn peaks(&self) -> &[H::Digest] {
        &self.peaks
    }

    /// Appends a leaf and returns the nodes it completes with their hashes, in the order of
    /// [`nodes_completed_by_append`] for the size before: what a store writes.
    ///
    /// Panics if the tree already holds u64::MAX leaves.
    pub fn push(&mut self, leaf_hash: H::Digest) -> Vec<(NodeId, H::Digest)> {
        let size_before = self.tree_size;
        let mut completed = Vec::with_capacity(size_before.trailing_ones() as usize + 1);
        let mut hash = leaf_hash;
        for node in nodes_completed_by_append(size_before) {
            if node.level > 0 {
                // Each trailing 1 bit of the size is a peak of the same height as the subtree
                // built so far, directly to its left.
                let left = self
                    .peaks
                    .pop()
                    .expect("a frontier has one peak per set bit of its size");
                hash = H::node(&left, &hash);
            }
            completed.push((node, hash));
        }
        self.peaks.push(hash);
        self.tree_size = size_before + 1;
        debug_assert_eq!(self.peaks.len(), self.tree_size.count_ones() as usize);
        completed
    }

    /// The root of the tree: the peaks hashed together from the right, which is what MTH's
    /// split at the largest power of two comes to.
    pub fn root(&self) -> H::Digest {
        let mut peaks = self.peaks.iter().rev();
        let Some(&last) = peaks.next() else {
            return H::empty();
        };
        peaks.fold(last, |right, left| H::node(left, &right))
    }
}

impl<H: TreeHash> Default for Frontier<H> {
    fn default() -> Frontier<H> {
        Frontier::new()
    }
}

impl<H: TreeHash> Clone for Frontier<H> {
    fn clone(&self) -> Frontier<H> {
        Frontier {
            tree_size: self.tree_size,
            peaks: self.peaks.clone(),
        }
    }
}

impl<H: TreeHash> PartialEq for Frontier<H> {
    fn eq(&self, other: &Frontier<H>) -> bool {
        self.tree_size == other.tree_size && self.peaks == other.peaks
    }
}

impl<H: TreeHash> Eq for Frontier<H> {}

impl<H: TreeHash> fmt::Debug for Frontier<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frontier")
            .field("tree_size", &self.tree_size)
            .field("peaks", &self.peaks)
            .finish()
    }
}

/// A stored frontier whose size and number of peaks disagree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a Merkle frontier of {tree_size} leaves has {expected} peaks, one per set bit of the \
     size, but {got} were given: the stored size and peaks do not belong together"
)]
pub struct FrontierError {
    pub tree_size: u64,
    pub expected: usize,
    pub got: usize,
}

/// Why a root or proof could not be made from stored nodes.
#[derive(Debug, thiserror::Error)]
pub enum StoredTreeError<E> {
    #[error("leaf index {index} is outside the tree of {tree_size} leaves (indices start at 0)")]
    LeafIndexOutOfRange { index: LeafIndex, tree_size: u64 },
    #[error(
        "there is no consistency proof from tree size {size1} to {size2}: the first size \
         must be at least 1 and at most the second"
    )]
    SizesOutOfRange { size1: u64, size2: u64 },
    #[error("cannot read stored Merkle tree node {node}")]
    Fetch {
        node: NodeId,
        #[source]
        source: E,
    },
}

fn fetch_node<D, E>(
    fetch: &mut dyn FnMut(NodeId) -> Result<D, E>,
    node: NodeId,
) -> Result<D, StoredTreeError<E>> {
    fetch(node).map_err(|source| StoredTreeError::Fetch { node, source })
}

/// The root of the first `tree_size` leaves, from stored nodes: one read per set bit of the
/// size. Any size up to the current one can be asked for; the nodes it reads never change.
pub fn stored_root<H: TreeHash, E>(
    tree_size: u64,
    fetch: &mut dyn FnMut(NodeId) -> Result<H::Digest, E>,
) -> Result<H::Digest, StoredTreeError<E>> {
    range_root::<H, E>(0, tree_size, fetch)
}

/// The audit path of a leaf in the tree of the first `tree_size` leaves (RFC 9162 2.1.3.1),
/// lowest level first, from O(log n) stored nodes.
pub fn inclusion_proof<H: TreeHash, E>(
    index: LeafIndex,
    tree_size: u64,
    fetch: &mut dyn FnMut(NodeId) -> Result<H::Digest, E>,
) -> Result<Vec<H::Digest>, StoredTreeError<E>> {
    if index.0 >= tree_size {
        return Err(StoredTreeError::LeafIndexOutOfRange { index, tree_size });
    }
    // RFC 9162's recursive PATH, walked from the top: [start, end) is the subtree holding the
    // leaf, and the sibling of each half it goes into is one hash of the path. Only the first
    // right sibling can be an imperfect subtree; below it everything is perfect.
    let mut path = Vec::new();
    let (mut start, mut end) = (0, tree_size);
    while end - start > 1 {
        let split = start + split_point(end - start);
        if index.0 < split {
            path.push(range_root::<H, E>(split, end, fetch)?);
            end = split;
        } else {
            path.push(range_root::<H, E>(start, split, fetch)?);
            start = split;
        }
    }
    path.reverse();
    debug_assert_eq!(path.len(), inclusion_path_len(index.0, tree_size));
    Ok(path)
}

/// The proof that the tree of the first `size2` leaves extends the tree of the first `size1`
/// (RFC 9162 2.1.4.1), from O(log n) stored nodes. Empty when the sizes are equal.
pub fn consistency_proof<H: TreeHash, E>(
    size1: u64,
    size2: u64,
    fetch: &mut dyn FnMut(NodeId) -> Result<H::Digest, E>,
) -> Result<Vec<H::Digest>, StoredTreeError<E>> {
    if size1 == 0 || size1 > size2 {
        return Err(StoredTreeError::SizesOutOfRange { size1, size2 });
    }
    // RFC 9162's recursive SUBPROOF, walked from the top. `whole_first_tree` is its flag b:
    // while it holds, [start, end) starts at leaf 0 and the verifier already has the root of
    // the first tree, so it is left out of the proof.
    let mut proof = Vec::new();
    let (mut start, mut end) = (0, size2);
    let mut whole_first_tree = true;
    while size1 != end {
        let split = start + split_point(end - start);
        if size1 <= split {
            proof.push(range_root::<H, E>(split, end, fetch)?);
            end = split;
        } else {
            proof.push(range_root::<H, E>(start, split, fetch)?);
            start = split;
            whole_first_tree = false;
        }
    }
    if !whole_first_tree {
        proof.push(range_root::<H, E>(start, end, fetch)?);
    }
    proof.reverse();
    debug_assert!(size1 == size2 || proof.len() == consistency_proof_len(size1, size2));
    Ok(proof)
}

/// The largest power of two smaller than `count` (at least 2): where MTH splits a subtree.
fn split_point(count: u64) -> u64 {
    debug_assert!(count >= 2);
    1 << (u64::BITS - 1 - (count - 1).leading_zeros())
}

/// MTH of the leaves [start, end), from the perfect subtrees the range is made of, one per set
/// bit of its length. Only ranges that MTH's splits produce are asked for, and those start at
/// a multiple of the next power of two at or above their length, which makes every piece a
/// stored node.
fn range_root<H: TreeHash, E>(
    start: u64,
    end: u64,
    fetch: &mut dyn FnMut(NodeId) -> Result<H::Digest, E>,
) -> Result<H::Digest, StoredTreeError<E>> {
    let length = end - start;
    debug_assert!(length
        .checked_next_power_of_two()
        .map_or(start == 0, |aligned| start.is_multiple_of(aligned)));
    // From the right, smallest piece first, so the hashes fold without a buffer.
    let mut root: Option<H::Digest> = None;
    let mut piece_end = end;
    let mut remaining = length;
    while remaining != 0 {
        let level = remaining.trailing_zeros();
        let piece_start = piece_end - (1 << level);
        let node = NodeId {
            level: level as u8,
            index: piece_start >> level,
        };
        let hash = fetch_node(fetch, node)?;
        root = Some(match root {
            None => hash,
            Some(right) => H::node(&hash, &right),
        });
        piece_end = piece_start;
        remaining -= 1 << level;
    }
    Ok(root.unwrap_or_else(H::empty))
}

/// Why a proof was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of {tree_size} leaves (indices start at 0)")]
    LeafIndexOutOfRange { index: LeafIndex, tree_size: u64 },
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
        "the proof does not lead to the first root: the first size or root is wrong, or a hash \
         in the proof is"
    )]
    FirstRootMismatch,
    #[error(
        "the proof leads to the first root but not to the second: the second tree does not \
         extend the first (the log was rewritten), or the second size or root is wrong, or a \
         hash in the proof is"
    )]
    SecondRootMismatch,
}

/// One level of RFC 9162's walk up from a node to the root (2.1.3.2 step 4, 2.1.4.2 step 6):
/// whether the proof hash at this level is the left sibling. `node` and `last` are the RFC's
/// fn and sn, the positions of the node and of the last node on the current level. A right
/// edge with no sibling is climbed past at once.
fn climb(node: &mut u64, last: &mut u64) -> bool {
    let sibling_on_left = *node & 1 == 1 || *node == *last;
    if sibling_on_left {
        while *node & 1 == 0 && *node != 0 {
            *node >>= 1;
            *last >>= 1;
        }
    }
    *node >>= 1;
    *last >>= 1;
    sibling_on_left
}

/// The length of an audit path, found by walking the tree without hashing (index < size).
fn inclusion_path_len(index: u64, tree_size: u64) -> usize {
    let (mut node, mut last) = (index, tree_size - 1);
    let mut len = 0;
    while last != 0 {
        climb(&mut node, &mut last);
        len += 1;
    }
    len
}

/// The starting position of the walk of RFC 9162 2.1.4.2 (steps 3 and 4): the first tree's
/// last leaf, raised past the levels where it is a right child.
fn consistency_start(size1: u64, size2: u64) -> (u64, u64) {
    let (mut node, mut last) = (size1 - 1, size2 - 1);
    while node & 1 == 1 {
        node >>= 1;
        last >>= 1;
    }
    (node, last)
}

/// The length of a consistency proof for 0 < size1 < size2, found by walking without hashing.
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    // When size1 is a power of two its root is the starting hash and not in the proof.
    let mut len = usize::from(!size1.is_power_of_two());
    let (mut node, mut last) = consistency_start(size1, size2);
    while last != 0 {
        climb(&mut node, &mut last);
        len += 1;
    }
    len
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves whose root is
/// `root`, by the algorithm of RFC 9162 2.1.3.2. The size and root must come from one trusted
/// head: the proof does not commit to the size (see the module documentation).
pub fn verify_inclusion<H: TreeHash>(
    leaf_hash: &H::Digest,
    index: LeafIndex,
    tree_size: u64,
    path: &[H::Digest],
    root: &H::Digest,
) -> Result<(), ProofError> {
    if index.0 >= tree_size {
        return Err(ProofError::LeafIndexOutOfRange { index, tree_size });
    }
    let expected = inclusion_path_len(index.0, tree_size);
    let wrong_length = ProofError::WrongProofLength {
        got: path.len(),
        expected,
    };
    if path.len() != expected {
        return Err(wrong_length);
    }
    let (mut node, mut last) = (index.0, tree_size - 1);
    let mut hash = *leaf_hash;
    for sibling in path {
        // The RFC's own length checks; the check above already made them hold.
        if last == 0 {
            return Err(wrong_length);
        }
        hash = if climb(&mut node, &mut last) {
            H::node(sibling, &hash)
        } else {
            H::node(&hash, sibling)
        };
    }
    if last != 0 {
        return Err(wrong_length);
    }
    if hash != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
/// with root `root1`, by the algorithm of RFC 9162 2.1.4.2. Equal sizes need an empty proof and
/// equal roots. Each size and its root must come from one trusted head: the proof does not
/// commit to the sizes (see the module documentation).
pub fn verify_consistency<H: TreeHash>(
    size1: u64,
    size2: u64,
    proof: &[H::Digest],
    root1: &H::Digest,
    root2: &H::Digest,
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
    let wrong_length = ProofError::WrongProofLength {
        got: proof.len(),
        expected,
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    if size1 == size2 {
        if root1 != root2 {
            return Err(ProofError::SameSizeRootsDiffer { tree_size: size1 });
        }
        return Ok(());
    }
    // Step 2: when the first tree is perfect, the proof starts from its root.
    let (start, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        let Some((first, rest)) = proof.split_first() else {
            return Err(wrong_length);
        };
        (first, rest)
    };
    let (mut node, mut last) = consistency_start(size1, size2);
    let (mut first_root, mut second_root) = (*start, *start);
    for sibling in rest {
        if last == 0 {
            return Err(wrong_length);
        }
        if climb(&mut node, &mut last) {
            first_root = H::node(sibling, &first_root);
            second_root = H::node(sibling, &second_root);
        } else {
            second_root = H::node(&second_root, sibling);
        }
    }
    if last != 0 {
        return Err(wrong_length);
    }
    if first_root != *root1 {
        return Err(ProofError::FirstRootMismatch);
    }
    if second_root != *root2 {
        return Err(ProofError::SecondRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use sha2::{Digest as _, Sha256};
    use std::collections::{HashMap, HashSet};

    /// RFC 6962's test hash, so that published vectors can be checked.
    #[derive(Debug)]
    struct Sha256Tree;

    impl TreeHash for Sha256Tree {
        type Digest = [u8; 32];

        fn leaf(bytes: &[u8]) -> [u8; 32] {
            Sha256::new()
                .chain_update([0x00])
                .chain_update(bytes)
                .finalize()
                .into()
        }

        fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
            Sha256::new()
                .chain_update([0x01])
                .chain_update(left)
                .chain_update(right)
                .finalize()
                .into()
        }

        fn empty() -> [u8; 32] {
            Sha256::digest(b"").into()
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("node {0} is not stored")]
    struct Missing(NodeId);

    /// A tree grown leaf by leaf with a node store filled from [`Frontier::push`], as the
    /// real store is filled, and readers that count their reads and refuse nodes outside the
    /// size they were asked about.
    struct Tree<H: TreeHash> {
        leaves: Vec<H::Digest>,
        /// `roots[m]` is the root of the first m leaves.
        roots: Vec<H::Digest>,
        frontier: Frontier<H>,
        nodes: HashMap<NodeId, H::Digest>,
    }

    impl<H: TreeHash> Tree<H> {
        fn new() -> Tree<H> {
            Tree {
                leaves: vec![],
                roots: vec![H::empty()],
                frontier: Frontier::new(),
                nodes: HashMap::new(),
            }
        }

        fn of(leaf_count: u64) -> Tree<H> {
            let mut tree = Tree::new();
            for i in 0..leaf_count {
                tree.push(H::leaf(format!("entry {i}").as_bytes()));
            }
            tree
        }

        fn push(&mut self, leaf_hash: H::Digest) {
            let size_before = self.frontier.tree_size();
            let completed = self.frontier.push(leaf_hash);
            assert!(completed
                .iter()
                .map(|&(node, _)| node)
                .eq(nodes_completed_by_append(size_before)));
            for (node, hash) in completed {
                assert!(
                    self.nodes.insert(node, hash).is_none(),
                    "{node} written twice"
                );
            }
            self.leaves.push(leaf_hash);
            self.roots.push(self.frontier.root());
        }

        /// Runs `read` against the stored nodes as seen by a tree of `tree_size` leaves, and
        /// returns its result with the number of nodes it read.
        fn reading<R>(
            &self,
            tree_size: u64,
            read: impl FnOnce(&mut dyn FnMut(NodeId) -> Result<H::Digest, Missing>) -> R,
        ) -> (R, u64) {
            let mut reads = 0;
            let mut fetch = |node: NodeId| {
                reads += 1;
                assert!(
                    (node.index + 1) << node.level <= tree_size,
                    "{node} read for a tree of {tree_size} leaves"
                );
                self.nodes.get(&node).copied().ok_or(Missing(node))
            };
            let result = read(&mut fetch);
            (result, reads)
        }

        fn stored_root(&self, tree_size: u64) -> H::Digest {
            let (root, reads) = self.reading(tree_size, |f| stored_root::<H, _>(tree_size, f));
            assert_eq!(reads, u64::from(tree_size.count_ones()));
            root.unwrap()
        }

        fn inclusion(&self, index: u64, tree_size: u64) -> Vec<H::Digest> {
            let (path, reads) = self.reading(tree_size, |f| {
                inclusion_proof::<H, _>(LeafIndex(index), tree_size, f)
            });
            assert!(
                reads <= 2 * log2_ceil(tree_size),
                "{reads} reads for leaf {index} of {tree_size}"
            );
            path.unwrap()
        }

        fn consistency(&self, size1: u64, size2: u64) -> Vec<H::Digest> {
            let (proof, reads) =
                self.reading(size2, |f| consistency_proof::<H, _>(size1, size2, f));
            assert!(
                reads <= 2 * log2_ceil(size2) + 1,
                "{reads} reads for sizes {size1} to {size2}"
            );
            proof.unwrap()
        }
    }

    fn log2_ceil(n: u64) -> u64 {
        u64::from(u64::BITS - (n - 1).leading_zeros())
    }

    /// RFC 9162 2.1.3.1, word for word: the reference for the stored-node form.
    fn reference_path<H: TreeHash>(m: usize, leaves: &[H::Digest]) -> Vec<H::Digest> {
        let n = leaves.len();
        if n == 1 {
            return vec![];
        }
        let k = split_point(n as u64) as usize;
        if m < k {
            let mut path = reference_path::<H>(m, &leaves[..k]);
            path.push(root::<H>(&leaves[k..]));
            path
        } else {
            let mut path = reference_path::<H>(m - k, &leaves[k..]);
            path.push(root::<H>(&leaves[..k]));
            path
        }
    }

    /// RFC 9162 2.1.4.1, word for word.
    fn reference_subproof<H: TreeHash>(m: usize, leaves: &[H::Digest], b: bool) -> Vec<H::Digest> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![root::<H>(leaves)] };
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            let mut proof = reference_subproof::<H>(m, &leaves[..k], b);
            proof.push(root::<H>(&leaves[k..]));
            proof
        } else {
            let mut proof = reference_subproof::<H>(m - k, &leaves[k..], false);
            proof.push(root::<H>(&leaves[..k]));
            proof
        }
    }

    /// The order of hash operations a verifier performs for an audit path, from the recursive
    /// definition: for each hash, lowest first, whether it is the left sibling. Two (index,
    /// size) pairs with the same shape lead to the same root from the same hashes, so no
    /// verifier can tell them apart.
    fn inclusion_shape(m: u64, n: u64) -> Vec<bool> {
        if n == 1 {
            return vec![];
        }
        let k = split_point(n);
        let (mut shape, left) = if m < k {
            (inclusion_shape(m, k), false)
        } else {
            (inclusion_shape(m - k, n - k), true)
        };
        shape.push(left);
        shape
    }

    #[derive(Debug, PartialEq)]
    enum Role {
        /// The proof starts from the first root, which is not in it.
        FirstRootImplied,
        /// The root of the subtree where the first tree ends, in the proof.
        Start,
        /// A sibling on the left, in both trees.
        Left,
        /// A sibling on the right, in the second tree only.
        Right,
    }

    /// The same for a consistency proof, from SUBPROOF.
    fn consistency_shape(m: u64, n: u64, whole: bool) -> Vec<Role> {
        if m == n {
            return vec![if whole {
                Role::FirstRootImplied
            } else {
                Role::Start
            }];
        }
        let k = split_point(n);
        let mut shape = if m <= k {
            consistency_shape(m, k, whole)
        } else {
            consistency_shape(m - k, n - k, false)
        };
        shape.push(if m <= k { Role::Right } else { Role::Left });
        shape
    }

    fn hex32(text: &str) -> [u8; 32] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    /// The reference tree of RFC 6962's test suite (google/certificate-transparency,
    /// cpp/merkletree/merkle_tree_test.cc).
    fn rfc6962_tree() -> Tree<Sha256Tree> {
        let mut tree = Tree::new();
        for leaf in [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ] {
            tree.push(Sha256Tree::leaf(&hex::decode(leaf).unwrap()));
        }
        tree
    }

    #[test]
    fn rfc6962_roots() {
        let tree = rfc6962_tree();
        let check = |leaf_count: usize, expected: &str| {
            let expected = hex32(expected);
            assert_eq!(root::<Sha256Tree>(&tree.leaves[..leaf_count]), expected);
            let mut frontier = Frontier::<Sha256Tree>::new();
            for &leaf in &tree.leaves[..leaf_count] {
                frontier.push(leaf);
            }
            assert_eq!(frontier.root(), expected, "frontier of {leaf_count}");
            assert_eq!(tree.roots[leaf_count], expected, "frontier of {leaf_count}");
            assert_eq!(
                tree.stored_root(leaf_count as u64),
                expected,
                "stored {leaf_count}"
            );
        };
        check(
            0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        );
        check(
            1,
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        );
        check(
            2,
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        );
        check(
            3,
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        );
        check(
            4,
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        );
        check(
            5,
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        );
        check(
            6,
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        );
        check(
            7,
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        );
        check(
            8,
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        );
    }

    #[test]
    fn rfc6962_proofs() {
        let tree = rfc6962_tree();
        let check_inclusion = |m: u64, n: u64, expected: &[&str]| {
            let expected: Vec<_> = expected.iter().map(|h| hex32(h)).collect();
            assert_eq!(tree.inclusion(m, n), expected, "leaf {m} of {n}");
            let leaf = &tree.leaves[m as usize];
            let root = &tree.roots[n as usize];
            assert_eq!(
                verify_inclusion::<Sha256Tree>(leaf, LeafIndex(m), n, &expected, root),
                Ok(())
            );
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
            let (root1, root2) = (&tree.roots[m as usize], &tree.roots[n as usize]);
            assert_eq!(
                verify_consistency::<Sha256Tree>(m, n, &expected, root1, root2),
                Ok(())
            );
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

    /// Every size up to `size_max`: the three roots agree, and every audit path and every
    /// consistency proof (all pairs up to `all_pairs_max`, a sample above) verifies; up to
    /// `reference_max` the proofs equal the RFC's recursive definitions hash for hash.
    fn check_all_sizes<H: TreeHash>(size_max: u64, all_pairs_max: u64, reference_max: u64) {
        let tree = Tree::<H>::of(size_max);
        for n in 1..=size_max {
            let prefix = &tree.leaves[..n as usize];
            let root_n = root::<H>(prefix);
            assert_eq!(tree.roots[n as usize], root_n, "frontier root of {n}");
            assert_eq!(tree.stored_root(n), root_n, "stored root of {n}");
            let (frontier, _) = tree.reading(n, |f| Frontier::<H>::from_stored(n, f));
            let frontier = frontier.unwrap();
            assert_eq!(frontier.root(), root_n);
            assert_eq!(
                Frontier::<H>::from_peaks(n, frontier.peaks().to_vec()).as_ref(),
                Ok(&frontier)
            );

            for m in 0..n {
                let path = tree.inclusion(m, n);
                if n <= reference_max {
                    assert_eq!(path, reference_path::<H>(m as usize, prefix), "{m} of {n}");
                }
                let leaf = &tree.leaves[m as usize];
                assert_eq!(
                    verify_inclusion::<H>(leaf, LeafIndex(m), n, &path, &root_n),
                    Ok(()),
                    "leaf {m} of {n}"
                );
            }

            let sizes1: Vec<u64> = if n <= all_pairs_max {
                (1..=n).collect()
            } else {
                let mut sample = vec![1, 2, 3, n / 3, n / 2, n - 2, n - 1, n];
                sample.extend((0..9).map(|bit| 1 << bit).filter(|&m| m <= n));
                sample
            };
            for m in sizes1 {
                let proof = tree.consistency(m, n);
                if n <= reference_max {
                    let reference = reference_subproof::<H>(m as usize, prefix, true);
                    assert_eq!(proof, reference, "sizes {m} to {n}");
                }
                let root_m = &tree.roots[m as usize];
                assert_eq!(
                    verify_consistency::<H>(m, n, &proof, root_m, &root_n),
                    Ok(()),
                    "sizes {m} to {n}"
                );
            }
        }
    }

    #[test]
    fn all_sizes_blake3() {
        check_all_sizes::<Blake3Tree>(300, 300, 64);
    }

    #[test]
    fn all_sizes_sha256() {
        check_all_sizes::<Sha256Tree>(300, 128, 64);
    }

    /// Every single-hash corruption of an audit path is rejected; a wrong tree size is
    /// rejected exactly when it changes the proof's shape. Returns how many wrong sizes were
    /// accepted because the shape is the same.
    fn check_inclusion_rejects<H: TreeHash>(tree: &Tree<H>, m: u64, n: u64) -> usize
    where
        H::Digest: AsMut<[u8]>,
    {
        let path = tree.inclusion(m, n);
        let leaf = tree.leaves[m as usize];
        let root = tree.roots[n as usize];
        let verify = |leaf: &H::Digest, m: u64, n: u64, path: &[H::Digest], root: &H::Digest| {
            verify_inclusion::<H>(leaf, LeafIndex(m), n, path, root)
        };
        assert_eq!(verify(&leaf, m, n, &path, &root), Ok(()));
        let reject = |what: &str, result: Result<(), ProofError>| {
            assert!(result.is_err(), "leaf {m} of {n}: accepted {what}");
        };

        for (i, bit) in bit_flips(&path) {
            let mut bad = path.clone();
            flip(&mut bad[i], bit);
            reject(
                &format!("bit {bit} of hash {i} flipped"),
                verify(&leaf, m, n, &bad, &root),
            );
        }
        for bit in 0..leaf.as_ref().len() * 8 {
            let (mut bad_leaf, mut bad_root) = (leaf, root);
            flip(&mut bad_leaf, bit);
            flip(&mut bad_root, bit);
            reject("a wrong leaf", verify(&bad_leaf, m, n, &path, &root));
            reject("a wrong root", verify(&leaf, m, n, &path, &bad_root));
        }
        for bad in edits(&path, H::leaf(b"not in the tree")) {
            reject(&format!("path {bad:?}"), verify(&leaf, m, n, &bad, &root));
        }
        for wrong_m in [m.wrapping_sub(1), m + 1, n, n + 1, u64::MAX] {
            if wrong_m < n {
                assert_ne!(inclusion_shape(m, n), inclusion_shape(wrong_m, n));
            }
            if wrong_m != m {
                reject(
                    &format!("index {wrong_m}"),
                    verify(&leaf, wrong_m, n, &path, &root),
                );
            }
        }
        let mut same_shape = 0;
        for wrong_n in [n - 1, n + 1, 2 * n, u64::MAX] {
            let result = verify(&leaf, m, wrong_n, &path, &root);
            if m < wrong_n && inclusion_shape(m, n) == inclusion_shape(m, wrong_n) {
                assert_eq!(result, Ok(()), "leaf {m} of {n} as of {wrong_n}");
                same_shape += 1;
            } else {
                reject(&format!("size {wrong_n}"), result);
            }
        }
        same_shape
    }

    /// The same for consistency proofs.
    fn check_consistency_rejects<H: TreeHash>(tree: &Tree<H>, m: u64, n: u64) -> usize
    where
        H::Digest: AsMut<[u8]>,
    {
        let proof = tree.consistency(m, n);
        let (root1, root2) = (tree.roots[m as usize], tree.roots[n as usize]);
        let verify = |m: u64, n: u64, proof: &[H::Digest], root1: &H::Digest, root2: &H::Digest| {
            verify_consistency::<H>(m, n, proof, root1, root2)
        };
        assert_eq!(verify(m, n, &proof, &root1, &root2), Ok(()));
        let reject = |what: &str, result: Result<(), ProofError>| {
            assert!(result.is_err(), "sizes {m} to {n}: accepted {what}");
        };

        for (i, bit) in bit_flips(&proof) {
            let mut bad = proof.clone();
            flip(&mut bad[i], bit);
            let what = format!("bit {bit} of hash {i} flipped");
            reject(&what, verify(m, n, &bad, &root1, &root2));
        }
        for bit in 0..root1.as_ref().len() * 8 {
            let (mut bad1, mut bad2) = (root1, root2);
            flip(&mut bad1, bit);
            flip(&mut bad2, bit);
            reject("a wrong first root", verify(m, n, &proof, &bad1, &root2));
            reject("a wrong second root", verify(m, n, &proof, &root1, &bad2));
        }
        // Every root of another size is wrong too: a head older or newer than claimed.
        for (size, other) in tree.roots.iter().enumerate() {
            if size as u64 != m {
                reject("another first root", verify(m, n, &proof, other, &root2));
            }
            if size as u64 != n {
                reject("another second root", verify(m, n, &proof, &root1, other));
            }
        }
        for bad in edits(&proof, H::leaf(b"not in the tree")) {
            reject(
                &format!("proof {bad:?}"),
                verify(m, n, &bad, &root1, &root2),
            );
        }
        let mut same_shape = 0;
        let shape = consistency_shape(m, n, true);
        let sizes = [
            (m - 1, n),
            (m + 1, n),
            (m, n - 1),
            (m, n + 1),
            (m + 1, n + 1),
            (m, 2 * n),
        ];
        for (wrong_m, wrong_n) in sizes {
            let result = verify(wrong_m, wrong_n, &proof, &root1, &root2);
            // Equal sizes are checked by comparing the roots alone.
            let indistinguishable = if m == n {
                0 < wrong_m && wrong_m == wrong_n
            } else {
                0 < wrong_m
                    && wrong_m < wrong_n
                    && consistency_shape(wrong_m, wrong_n, true) == shape
            };
            if (wrong_m, wrong_n) != (m, n) && indistinguishable {
                assert_eq!(result, Ok(()), "sizes {m} to {n} as {wrong_m} to {wrong_n}");
                same_shape += 1;
            } else if (wrong_m, wrong_n) != (m, n) {
                reject(&format!("sizes {wrong_m} to {wrong_n}"), result);
            }
        }
        same_shape
    }

    /// Every (hash, bit) position of a proof.
    fn bit_flips<D: AsRef<[u8]>>(proof: &[D]) -> Vec<(usize, usize)> {
        let mut flips = vec![];
        for (i, hash) in proof.iter().enumerate() {
            flips.extend((0..hash.as_ref().len() * 8).map(|bit| (i, bit)));
        }
        flips
    }

    fn flip<D: AsMut<[u8]>>(hash: &mut D, bit: usize) {
        hash.as_mut()[bit / 8] ^= 1 << (bit % 8);
    }

    /// Each hash removed, each hash doubled, a foreign hash added at each end, and each
    /// adjacent pair swapped.
    fn edits<D: Copy + Eq + fmt::Debug>(proof: &[D], foreign: D) -> Vec<Vec<D>> {
        let mut edited = vec![];
        for i in 0..proof.len() {
            let mut removed = proof.to_vec();
            removed.remove(i);
            edited.push(removed);
            let mut doubled = proof.to_vec();
            doubled.insert(i, proof[i]);
            edited.push(doubled);
        }
        edited.push([&[foreign], proof].concat());
        edited.push([proof, &[foreign]].concat());
        for i in 1..proof.len() {
            assert_ne!(
                proof[i - 1],
                proof[i],
                "a swap of equal hashes changes nothing"
            );
            let mut swapped = proof.to_vec();
            swapped.swap(i - 1, i);
            edited.push(swapped);
        }
        edited
    }

    impl AsMut<[u8]> for NodeHash {
        fn as_mut(&mut self) -> &mut [u8] {
            &mut self.0
        }
    }

    #[test]
    fn corrupted_proofs_rejected() {
        let blake3 = Tree::<Blake3Tree>::of(300);
        let sha256 = Tree::<Sha256Tree>::of(300);
        let mut same_shape = 0;
        let mut check_inclusion = |m: u64, n: u64| {
            same_shape += check_inclusion_rejects(&blake3, m, n);
            same_shape += check_inclusion_rejects(&sha256, m, n);
        };
        check_inclusion(0, 1);
        check_inclusion(0, 2);
        check_inclusion(1, 2);
        check_inclusion(2, 3);
        check_inclusion(0, 5);
        check_inclusion(4, 5);
        check_inclusion(3, 7);
        check_inclusion(6, 7);
        check_inclusion(0, 8);
        check_inclusion(5, 8);
        check_inclusion(7, 8);
        check_inclusion(12, 13);
        check_inclusion(31, 32);
        check_inclusion(32, 33);
        check_inclusion(100, 257);
        check_inclusion(256, 257);
        check_inclusion(200, 299);
        // Leaf 0 walks the same way in trees of 5 to 8 leaves, and so on: the proof cannot
        // tell those sizes apart, only the root can (see the module documentation).
        assert!(same_shape > 0);

        let check_consistency = |m: u64, n: u64| {
            check_consistency_rejects(&blake3, m, n);
            check_consistency_rejects(&sha256, m, n);
        };
        check_consistency(1, 1);
        check_consistency(1, 2);
        check_consistency(2, 2);
        check_consistency(2, 3);
        check_consistency(3, 7);
        check_consistency(4, 5);
        check_consistency(4, 8);
        check_consistency(6, 8);
        check_consistency(7, 8);
        check_consistency(8, 9);
        check_consistency(5, 13);
        check_consistency(16, 17);
        check_consistency(31, 64);
        check_consistency(100, 257);
        check_consistency(256, 257);
        check_consistency(129, 299);
        check_consistency(299, 299);
    }

    #[test]
    fn proof_errors() {
        let tree = Tree::<Blake3Tree>::of(8);
        let leaf = &tree.leaves[5];
        let path = tree.inclusion(5, 8);
        let check = |result: Result<(), ProofError>, expected: &str| {
            let actual = match result {
                Ok(()) => "ok".to_owned(),
                Err(e) => e.to_string(),
            };
            assert_eq!(actual, expected);
        };
        let inclusion = |index: u64, tree_size: u64, path: &[NodeHash], root: &NodeHash| {
            verify_inclusion::<Blake3Tree>(leaf, LeafIndex(index), tree_size, path, root)
        };
        check(inclusion(5, 8, &path, &tree.roots[8]), "ok");
        // The limit the module documentation states: the path of leaf 0 in the tree of 5
        // leaves, with that tree's root, verifies as if the tree had 6, 7 or 8 leaves.
        let path_in_5 = tree.inclusion(0, 5);
        for tree_size in [5, 6, 7, 8] {
            let result = verify_inclusion::<Blake3Tree>(
                &tree.leaves[0],
                LeafIndex(0),
                tree_size,
                &path_in_5,
                &tree.roots[5],
            );
            check(result, "ok");
        }
        check(
            inclusion(8, 8, &path, &tree.roots[8]),
            "leaf index 8 is outside a tree of 8 leaves (indices start at 0)",
        );
        check(
            inclusion(5, 8, &path[1..], &tree.roots[8]),
            "the proof has 2 hashes but needs exactly 3: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );
        check(
            inclusion(5, 8, &path, &tree.roots[7]),
            "the proof does not lead to the root: the leaf hash, its index, the tree size or a \
             hash in the proof is wrong, or the root is not this tree's",
        );

        let proof = tree.consistency(3, 8);
        let consistency = |size1: u64, size2: u64, root1: &NodeHash, root2: &NodeHash| {
            verify_consistency::<Blake3Tree>(size1, size2, &proof, root1, root2)
        };
        let roots = &tree.roots;
        check(consistency(3, 8, &roots[3], &roots[8]), "ok");
        check(
            consistency(0, 8, &roots[0], &roots[8]),
            "a consistency proof starts from a tree of at least 1 leaf: every tree extends the \
             empty tree, so there is nothing to prove",
        );
        check(
            consistency(8, 3, &roots[8], &roots[3]),
            "the first tree has 8 leaves, more than the second's 3: a log only grows, so give \
             the older, smaller head first",
        );
        check(
            consistency(3, 8, &roots[2], &roots[8]),
            "the proof does not lead to the first root: the first size or root is wrong, or a \
             hash in the proof is",
        );
        check(
            consistency(3, 8, &roots[3], &roots[7]),
            "the proof leads to the first root but not to the second: the second tree does not \
             extend the first (the log was rewritten), or the second size or root is wrong, or \
             a hash in the proof is",
        );
        check(
            verify_consistency::<Blake3Tree>(8, 8, &[], &roots[7], &roots[8]),
            "two heads of the same size 8 have different roots: one of them is not this log's, \
             or the log was rewritten",
        );
        check(
            verify_consistency::<Blake3Tree>(8, 8, &proof, &roots[8], &roots[8]),
            "the proof has 4 hashes but needs exactly 0: it was made for another leaf index or \
             tree size, or hashes were added to it or lost from it",
        );

        let mut fetch = |node: NodeId| -> Result<NodeHash, Missing> { Err(Missing(node)) };
        let error = inclusion_proof::<Blake3Tree, _>(LeafIndex(3), 3, &mut fetch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "leaf index 3 is outside the tree of 3 leaves (indices start at 0)"
        );
        let error = consistency_proof::<Blake3Tree, _>(0, 3, &mut fetch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "there is no consistency proof from tree size 0 to 3: the first size must be at \
             least 1 and at most the second"
        );
        let error = stored_root::<Blake3Tree, _>(3, &mut fetch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read stored Merkle tree node (level 0, index 2)"
        );
        let source = std::error::Error::source(&error).unwrap();
        assert_eq!(source.to_string(), "node (level 0, index 2) is not stored");
        assert_eq!(
            Frontier::<Blake3Tree>::from_peaks(3, vec![tree.leaves[0]]),
            Err(FrontierError {
                tree_size: 3,
                expected: 2,
                got: 1
            })
        );
    }

    #[test]
    fn each_node_completed_once() {
        let size_max = 1100;
        let mut written = HashSet::new();
        for size_before in 0..size_max {
            for node in nodes_completed_by_append(size_before) {
                assert_eq!(
                    (node.index + 1) << node.level,
                    size_before + 1,
                    "{node} is not completed by leaf {size_before}"
                );
                assert!(written.insert(node), "{node} completed twice");
            }
            let size = size_before + 1;
            assert_eq!(
                written.len() as u64,
                2 * size - u64::from(size.count_ones())
            );
        }
        let mut perfect = HashSet::new();
        for level in 0..=10 {
            for index in 0..size_max >> level {
                perfect.insert(NodeId { level, index });
            }
        }
        assert_eq!(written, perfect);
        for node in perfect {
            if let Some((left, right)) = node.children() {
                assert!(written.contains(&left) && written.contains(&right));
            }
        }

        let check = |size_before: u64, expected: &[(u8, u64)]| {
            let expected: Vec<_> = expected
                .iter()
                .map(|&(level, index)| NodeId { level, index })
                .collect();
            let actual: Vec<_> = nodes_completed_by_append(size_before).collect();
            assert_eq!(actual, expected, "append to {size_before}");
        };
        check(0, &[(0, 0)]);
        check(1, &[(0, 1), (1, 0)]);
        check(2, &[(0, 2)]);
        check(3, &[(0, 3), (1, 1), (2, 0)]);
        check(10, &[(0, 10)]);
        check(11, &[(0, 11), (1, 5), (2, 2)]);
        let last: Vec<_> = nodes_completed_by_append(u64::MAX - 1).collect();
        assert_eq!(last, [NodeId::leaf(LeafIndex(u64::MAX - 1))]);
        let top = nodes_completed_by_append((1 << 63) - 1).last();
        assert_eq!(
            top,
            Some(NodeId {
                level: 63,
                index: 0
            })
        );
    }

    #[test]
    fn frontier_nodes_cover_the_tree() {
        for size in [0, 1, 2, 3, 7, 8, 300, 1 << 63, u64::MAX - 1, u64::MAX] {
            let mut next_leaf = 0u128;
            for node in frontier_nodes(size) {
                assert_eq!(
                    u128::from(node.index) << node.level,
                    next_leaf,
                    "size {size}"
                );
                next_leaf += 1 << node.level;
            }
            assert_eq!(next_leaf, u128::from(size));
        }
    }

    /// Proofs at the edge of u64, in a tree whose leaves are all the same so that every node of
    /// a level has the same hash and can be made up without storing it.
    #[test]
    fn huge_trees() {
        let mut level_hashes = vec![Blake3Tree::leaf(b"the same entry")];
        for level in 1..64 {
            let below = level_hashes[level - 1];
            level_hashes.push(Blake3Tree::node(&below, &below));
        }
        let mut fetch = |node: NodeId| -> Result<NodeHash, Missing> {
            Ok(level_hashes[usize::from(node.level)])
        };
        let leaf = level_hashes[0];
        for size in [
            u64::MAX,
            u64::MAX - 1,
            (1 << 63) + 12345,
            1 << 63,
            (1 << 40) + 3,
        ] {
            let root = stored_root::<Blake3Tree, _>(size, &mut fetch).unwrap();
            let frontier = Frontier::<Blake3Tree>::from_stored(size, &mut fetch).unwrap();
            assert_eq!(frontier.root(), root);
            for index in [0, 1, 1 << 39, size / 2, size - 2, size - 1] {
                let path =
                    inclusion_proof::<Blake3Tree, _>(LeafIndex(index), size, &mut fetch).unwrap();
                let verify = |path: &[NodeHash]| {
                    verify_inclusion::<Blake3Tree>(&leaf, LeafIndex(index), size, path, &root)
                };
                assert_eq!(verify(&path), Ok(()), "leaf {index} of {size}");
                let mut bad = path.clone();
                flip(&mut bad[0], 0);
                assert_eq!(verify(&bad), Err(ProofError::RootMismatch));
            }
            for size1 in [
                1,
                2,
                3,
                1 << 40,
                (1 << 40) + 1,
                size / 2 + 1,
                size - 1,
                size,
            ] {
                let proof = consistency_proof::<Blake3Tree, _>(size1, size, &mut fetch).unwrap();
                let root1 = stored_root::<Blake3Tree, _>(size1, &mut fetch).unwrap();
                assert_eq!(
                    verify_consistency::<Blake3Tree>(size1, size, &proof, &root1, &root),
                    Ok(()),
                    "sizes {size1} to {size}"
                );
            }
        }
        let mut frontier = Frontier::<Blake3Tree>::from_stored(u64::MAX - 1, &mut fetch).unwrap();
        frontier.push(leaf);
        assert_eq!(
            frontier.root(),
            stored_root::<Blake3Tree, _>(u64::MAX, &mut fetch).unwrap()
        );
    }

    #[test]
    fn node_hash_text() {
        let hash = Blake3Tree::empty();
        assert_eq!(NodeHash::parse(&hash.to_hex()), Ok(hash));
        assert_eq!(
            hash.to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert!(NodeHash::parse(&hash.to_hex().to_uppercase()).is_err());
        assert!(NodeHash::parse("af13").is_err());
    }
}
