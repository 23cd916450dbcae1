//! The published layout of c2sp.org/tlog-tiles: which objects a log of a given size has, what
//! they are called, and how an entry bundle holds its entries (docs/FORMAT.md §9).
//!
//! ```text
//! checkpoint                     the signed checkpoint, written last
//! tile/<L>/<N>[.p/<W>]           hashes of tree level 8·L, 256 to a full tile, W in a partial one
//! tile/entries/<N>[.p/<W>]       entries N·256+1 to N·256+W, each as u16 BE length ‖ bytes
//! ```
//!
//! `N` is written in groups of three digits, all but the last prefixed with `x`
//! (`x001/x234/067`). [`parse_path`] reads exactly the names [`ObjectName::path`] writes, and
//! nothing else.

use claimledger_core::merkle::{entry_bundle_path, tile_path, Tile, HASH_SIZE, TILE_HEIGHT};

/// The most hashes, and entries, one tile or bundle holds.
pub const TILE_WIDTH: u32 = 1 << TILE_HEIGHT;

/// The largest entry a bundle can hold: its length is a u16. The ledger refuses larger
/// entries at input, so every stored entry fits.
pub const ENTRY_LEN_MAX: usize = u16::MAX as usize;
const _: () = assert!(claimledger_core::ENTRY_LEN_MAX == ENTRY_LEN_MAX);

/// The largest tile: 256 hashes.
pub const TILE_LEN_MAX: usize = TILE_WIDTH as usize * HASH_SIZE;

/// The largest entry bundle: 256 entries of the largest size, with their length prefixes.
pub const BUNDLE_LEN_MAX: usize = TILE_WIDTH as usize * (2 + ENTRY_LEN_MAX);

/// The largest checkpoint read: a body of about 100 bytes and up to 100 signature lines of
/// about 150, with room to spare.
pub const CHECKPOINT_LEN_MAX: usize = 64 * 1024;

/// The name of the checkpoint object.
pub const CHECKPOINT_PATH: &str = "checkpoint";

/// The levels of tiles a tree of up to 2^64 leaves has (tree levels 0, 8, …, 56).
const TILE_LEVELS: u8 = 64 / TILE_HEIGHT;

/// One published object other than the checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectName {
    /// Tile `index` of tile level `level` holding its first `width` hashes.
    Tile { level: u8, index: u64, width: u32 },
    /// Entry bundle `index` holding its first `width` entries.
    Bundle { index: u64, width: u32 },
}

impl ObjectName {
    /// The object's path under the log's prefix.
    pub fn path(&self) -> String {
        match *self {
            ObjectName::Tile {
                level,
                index,
                width,
            } => tile_path(level, index, width),
            ObjectName::Bundle { index, width } => entry_bundle_path(index, width),
        }
    }

    /// The most bytes the object can hold.
    pub fn len_max(&self) -> usize {
        match *self {
            ObjectName::Tile { width, .. } => width as usize * HASH_SIZE,
            ObjectName::Bundle { width, .. } => width as usize * (2 + ENTRY_LEN_MAX),
        }
    }

    /// Whether the object is partial: it will be replaced by a wider one as the log grows.
    pub fn is_partial(&self) -> bool {
        match *self {
            ObjectName::Tile { width, .. } | ObjectName::Bundle { width, .. } => width < TILE_WIDTH,
        }
    }
}

impl std::fmt::Display for ObjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// The tiles and bundles a log of `new_size` entries publishes that one of `old_size` did not
/// (c2sp.org/tlog-tiles): each full tile completed since, the partial tile at each level's
/// end, and the same for the entry bundles; in tree order, lower levels first. A tile that was
/// partial at `old_size` is published again, wider or full. Empty tiles are never published.
///
/// # Panics
///
/// If `old_size` > `new_size`.
pub fn new_objects(old_size: u64, new_size: u64) -> Vec<ObjectName> {
    assert!(old_size <= new_size, "a log only grows");
    let mut objects = Vec::new();
    for tile in Tile::new_tiles(TILE_HEIGHT, old_size, new_size) {
        let (level, index, width) = (tile.level(), tile.level_index(), tile.width());
        if level == 0 {
            objects.push(ObjectName::Bundle { index, width });
        }
        objects.push(ObjectName::Tile {
            level,
            index,
            width,
        });
    }
    objects
}

/// Reads a c2sp.org/tlog-tiles path, strictly: only what [`ObjectName::path`] writes (no
/// leading zeros beyond the three digits, no empty or full `.p/` width, no level past 7).
pub fn parse_path(path: &str) -> Option<ObjectName> {
    // tile/entries/x018/x446/x744/x073/x709/x551/615.p/255 is the longest meaningful path.
    if path.len() > 64 {
        return None;
    }
    let rest = path.strip_prefix("tile/")?;
    let (level, rest) = rest.split_once('/')?;
    let level = match level {
        "entries" => None,
        digits => Some(parse_decimal(digits).filter(|l| *l < u64::from(TILE_LEVELS))? as u8),
    };
    let (groups, width) = match rest.split_once(".p/") {
        Some((groups, width)) => {
            let width = parse_decimal(width).filter(|w| (1..u64::from(TILE_WIDTH)).contains(w))?;
            (groups, width as u32)
        }
        None => (rest, TILE_WIDTH),
    };
    let mut index: u64 = 0;
    let parts: Vec<&str> = groups.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let digits = if last { *part } else { part.strip_prefix('x')? };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let group: u64 = digits.parse().ok()?;
        index = index.checked_mul(1000)?.checked_add(group)?;
    }
    let name = match level {
        None => ObjectName::Bundle { index, width },
        Some(level) => ObjectName::Tile {
            level,
            index,
            width,
        },
    };
    // Leading zero groups (x000/001) are another spelling of the same name: refused.
    (name.path() == path).then_some(name)
}

fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Why an entry bundle was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("entry {entry} of the bundle is {len} bytes; a bundle holds entries of at most {ENTRY_LEN_MAX}")]
    EntryTooLong { entry: usize, len: usize },
    #[error("the bundle ends inside the length of its entry {entry}")]
    TruncatedLength { entry: usize },
    #[error("the bundle ends inside its entry {entry}, which it says is {len} bytes")]
    TruncatedEntry { entry: usize, len: usize },
    #[error("the bundle holds {got} entries where its name says {expected}")]
    WrongCount { got: usize, expected: usize },
}

/// Writes entries as c2sp.org/tlog-tiles bundles them: each as its length (u16, big-endian)
/// then its bytes.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    let len: usize = entries.iter().map(|e| 2 + e.as_ref().len()).sum();
    let mut bytes = Vec::with_capacity(len);
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let prefix = u16::try_from(entry.len()).map_err(|_| BundleError::EntryTooLong {
            entry: i + 1,
            len: entry.len(),
        })?;
        bytes.extend_from_slice(&prefix.to_be_bytes());
        bytes.extend_from_slice(entry);
    }
    Ok(bytes)
}

/// Reads a bundle that must hold exactly `width` entries, and nothing after them.
pub fn decode_bundle(bytes: &[u8], width: usize) -> Result<Vec<&[u8]>, BundleError> {
    let mut entries = Vec::with_capacity(width.min(TILE_WIDTH as usize));
    let mut rest = bytes;
    while !rest.is_empty() {
        let entry = entries.len() + 1;
        let (prefix, after) = match rest {
            [high, low, after @ ..] => (usize::from(u16::from_be_bytes([*high, *low])), after),
            _ => return Err(BundleError::TruncatedLength { entry }),
        };
        if after.len() < prefix {
            return Err(BundleError::TruncatedEntry { entry, len: prefix });
        }
        let (bytes, after) = after.split_at(prefix);
        entries.push(bytes);
        rest = after;
        if entries.len() > width {
            break;
        }
    }
    if entries.len() != width {
        return Err(BundleError::WrongCount {
            got: entries.len(),
            expected: width,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_path(name: ObjectName, path: &str) {
        assert_eq!(name.path(), path);
        assert_eq!(parse_path(path), Some(name), "{path}");
    }

    #[test]
    fn paths_round_trip() {
        let tile = |level, index, width| ObjectName::Tile {
            level,
            index,
            width,
        };
        check_path(tile(0, 0, 256), "tile/0/000");
        check_path(tile(0, 0, 1), "tile/0/000.p/1");
        check_path(tile(1, 1_234_067, 255), "tile/1/x001/x234/067.p/255");
        check_path(tile(7, 1000, 256), "tile/7/x001/000");
        check_path(
            ObjectName::Bundle {
                index: 1_234_067,
                width: 8,
            },
            "tile/entries/x001/x234/067.p/8",
        );
        check_path(
            ObjectName::Bundle {
                index: u64::MAX >> 8,
                width: 255,
            },
            "tile/entries/x072/x057/x594/x037/x927/935.p/255",
        );
    }

    #[test]
    fn other_spellings_are_refused() {
        for path in [
            "tile/0/0",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/",
            "tile/00/001",
            "tile/8/001",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/01",
            "tile/0/001.p/",
            "tile/data/001",
            "tile/entries/x001",
            "tile/entries/y001/001",
            "tile/0/+01",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            "checkpoint",
            "",
        ] {
            assert_eq!(parse_path(path), None, "{path}");
        }
    }

    #[test]
    fn new_objects_follow_the_spec() {
        let names = |old, new| {
            new_objects(old, new)
                .iter()
                .map(ObjectName::path)
                .collect::<Vec<_>>()
        };
        assert!(names(0, 0).is_empty());
        assert_eq!(names(0, 3), ["tile/entries/000.p/3", "tile/0/000.p/3"]);
        assert!(names(256, 256).is_empty());
        assert_eq!(
            names(255, 257),
            [
                "tile/entries/000",
                "tile/0/000",
                "tile/entries/001.p/1",
                "tile/0/001.p/1",
                "tile/1/000.p/1"
            ]
        );
    }

    #[test]
    fn bundles_round_trip_and_refuse_what_does_not_fit() {
        let entries: Vec<Vec<u8>> = vec![b"{}".to_vec(), vec![], vec![7; 300]];
        let bytes = encode_bundle(&entries).expect("encodes");
        assert_eq!(&bytes[..4], &[0, 2, b'{', b'}']);
        assert_eq!(decode_bundle(&bytes, 3).expect("decodes"), entries);
        assert_eq!(
            decode_bundle(&bytes, 2),
            Err(BundleError::WrongCount {
                got: 3,
                expected: 2
            })
        );
        assert_eq!(
            decode_bundle(&bytes[..bytes.len() - 1], 3),
            Err(BundleError::TruncatedEntry { entry: 3, len: 300 })
        );
        assert_eq!(
            decode_bundle(&bytes[..5], 3),
            Err(BundleError::TruncatedLength { entry: 2 })
        );
        assert_eq!(
            encode_bundle(&[vec![0; ENTRY_LEN_MAX + 1]]),
            Err(BundleError::EntryTooLong {
                entry: 1,
                len: ENTRY_LEN_MAX + 1
            })
        );
    }
}
