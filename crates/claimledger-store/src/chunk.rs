//! Log chunks: how entries are packed into sled values (docs/FORMAT.md §5).
//!
//! A chunk holds up to [`ENTRIES_PER_CHUNK`] consecutive entries as a run of blocks of up to
//! [`ENTRIES_PER_BLOCK`] entries each. A block is stored as `u32 BE length ‖ zstd frame`; the
//! frame decompresses to the block's entries, each framed as `u32 BE length ‖ entry bytes`.
//! Every block but a chunk's last holds exactly [`ENTRIES_PER_BLOCK`] entries, so entry `i` of a
//! chunk is entry `i % 16` of block `i / 16`: one entry is read by decompressing one block.
//! Compression is a storage matter only: entries are hashed, chained and exported as the bytes
//! the frames hold.

use claimledger_core::ENTRY_LEN_MAX;

/// Entries per sled value of the log.
pub const ENTRIES_PER_CHUNK: u64 = 128;

/// Entries per compressed block: the unit one read decompresses.
pub const ENTRIES_PER_BLOCK: usize = 16;

/// Blocks per chunk.
pub const BLOCKS_PER_CHUNK: usize = ENTRIES_PER_CHUNK as usize / ENTRIES_PER_BLOCK;

/// zstd's level for new blocks. On the benchmark's entries in blocks of 16, level 1 compresses
/// as well as the default, 3 (to 25.1% against 25.0% of the bytes), in three quarters of the
/// time, and decompresses faster (docs/PERFORMANCE.md).
const ZSTD_LEVEL: i32 = 1;

/// The most a block can decompress to: its entries at their longest, framed.
const BLOCK_LEN_MAX: usize = ENTRIES_PER_BLOCK * (ENTRY_LEN_MAX + 4);

/// What is wrong with a chunk, and at which of its entries (by position in the chunk).
pub type ChunkError = (usize, String);

/// The compressed blocks of a chunk value, in order, without decompressing them.
pub fn split_blocks(value: &[u8]) -> Result<Vec<&[u8]>, ChunkError> {
    let mut blocks = Vec::with_capacity(BLOCKS_PER_CHUNK);
    let mut rest = value;
    while !rest.is_empty() {
        let position = blocks.len() * ENTRIES_PER_BLOCK;
        if blocks.len() == BLOCKS_PER_CHUNK {
            return Err((
                position,
                format!("the log chunk holds more than {BLOCKS_PER_CHUNK} blocks"),
            ));
        }
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err((
                position,
                "the log chunk ends inside a block's length".into(),
            ));
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > tail.len() {
            return Err((
                position,
                format!("the block's length {len} runs past the end of its log chunk"),
            ));
        }
        blocks.push(&tail[..len]);
        rest = &tail[len..];
    }
    Ok(blocks)
}

thread_local! {
    /// Each thread's decompression context, made once: making one per block cost more than a
    /// tenth of a listing's time.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Entries read out of log blocks: their bytes one after another in one buffer, and where
/// each lies, so that reading a block allocates nothing per entry.
#[derive(Debug, Default)]
pub struct Entries {
    data: Vec<u8>,
    /// Each entry's start in `data` and its length.
    spans: Vec<(usize, usize)>,
}

impl Entries {
    pub fn new() -> Entries {
        Entries::default()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Entry number `i`, counting from the first read since the last clear.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(i)?;
        self.data.get(start..start + len)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.spans
            .iter()
            .map(|&(start, len)| &self.data[start..start + len])
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
    }

    /// Keeps the first `n` entries (their bytes stay in the buffer until it is cleared).
    pub fn truncate(&mut self, n: usize) {
        self.spans.truncate(n);
    }

    /// Drops the first `n` entries from the listing.
    pub fn skip(&mut self, n: usize) {
        self.spans.drain(..n.min(self.spans.len()));
    }
}

/// Decompresses block number `block` of a chunk and appends its entries to `out`. A block that
/// is not the chunk's last must be full (`last` says which it is). On an error, `out` is left
/// as it was.
pub fn decode_block_into(
    compressed: &[u8],
    block: usize,
    last: bool,
    out: &mut Entries,
) -> Result<(), ChunkError> {
    let (data_len, spans_len) = (out.data.len(), out.spans.len());
    let result = split_block(compressed, block, last, out);
    if result.is_err() {
        out.data.truncate(data_len);
        out.spans.truncate(spans_len);
    }
    result
}

fn split_block(
    compressed: &[u8],
    block: usize,
    last: bool,
    out: &mut Entries,
) -> Result<(), ChunkError> {
    let position = block * ENTRIES_PER_BLOCK;
    let size = zstd::zstd_safe::get_frame_content_size(compressed)
        .ok()
        .flatten()
        .ok_or_else(|| {
            (
                position,
                "a log block is not a zstd frame with its size".to_owned(),
            )
        })?;
    if size > BLOCK_LEN_MAX as u64 {
        return Err((
            position,
            format!("a log block says it holds {size} bytes, more than {BLOCK_LEN_MAX}"),
        ));
    }
    let start = out.data.len();
    out.data.reserve(size as usize);
    let decompressed = DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let decompressor = match &mut *cell {
            Some(decompressor) => decompressor,
            empty => empty.insert(zstd::bulk::Decompressor::new()?),
        };
        let mut cursor = std::io::Cursor::new(&mut out.data);
        cursor.set_position(start as u64);
        decompressor.decompress_to_buffer(compressed, &mut cursor)
    });
    let decompressed =
        decompressed.map_err(|e| (position, format!("a log block does not decompress: {e}")))?;
    if decompressed as u64 != size || out.data.len() != start + decompressed {
        return Err((
            position,
            "a log block decompresses to another size than it says".into(),
        ));
    }
    let mut at = start;
    let end = out.data.len();
    let mut count = 0;
    while at < end {
        let entry = position + count;
        if count == ENTRIES_PER_BLOCK {
            return Err((
                entry,
                format!("a log block holds more than {ENTRIES_PER_BLOCK} entries"),
            ));
        }
        let Some(len) = out.data.get(at..at + 4) else {
            return Err((entry, "the log block ends inside an entry's length".into()));
        };
        let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
        if len > end - at - 4 {
            return Err((
                entry,
                format!("the entry's length {len} runs past the end of its log block"),
            ));
        }
        out.spans.push((at + 4, len));
        at += 4 + len;
        count += 1;
    }
    if !last && count < ENTRIES_PER_BLOCK {
        return Err((
            position + count,
            format!(
                "a log block before the chunk's last holds {count} entries, not \
                 {ENTRIES_PER_BLOCK}"
            ),
        ));
    }
    Ok(())
}

/// Decompresses block number `block` of a chunk and splits it into its entries. A block that
/// is not the chunk's last must be full (`last` says which it is).
pub fn decode_block(
    compressed: &[u8],
    block: usize,
    last: bool,
) -> Result<Vec<Vec<u8>>, ChunkError> {
    let mut entries = Entries::new();
    decode_block_into(compressed, block, last, &mut entries)?;
    Ok(entries.iter().map(<[u8]>::to_vec).collect())
}

/// Every entry of a chunk value, in order.
pub fn decode_chunk(value: &[u8]) -> Result<Vec<Vec<u8>>, ChunkError> {
    let blocks = split_blocks(value)?;
    let mut entries = Vec::with_capacity(ENTRIES_PER_CHUNK as usize);
    for (i, block) in blocks.iter().enumerate() {
        entries.extend(decode_block(block, i, i + 1 == blocks.len())?);
    }
    Ok(entries)
}

/// What a thread compresses blocks with, made once per thread: a zstd context (making one per
/// block cost a fifth of the compression), and the buffers of the block framed and compressed.
struct BlockCompressor {
    context: zstd::bulk::Compressor<'static>,
    framed: Vec<u8>,
    compressed: Vec<u8>,
}

thread_local! {
    static COMPRESSOR: std::cell::RefCell<Option<BlockCompressor>> =
        const { std::cell::RefCell::new(None) };
}

/// Compresses up to [`ENTRIES_PER_BLOCK`] entries into a block, and appends it to `value`
/// with its length.
pub fn push_block<B: AsRef<[u8]>>(value: &mut Vec<u8>, entries: &[B]) {
    assert!(
        entries.len() <= ENTRIES_PER_BLOCK,
        "a block holds at most 16 entries"
    );
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let BlockCompressor {
            context,
            framed,
            compressed,
        } = cell.get_or_insert_with(|| BlockCompressor {
            context: zstd::bulk::Compressor::new(ZSTD_LEVEL).expect("zstd makes a context"),
            framed: Vec::new(),
            compressed: Vec::new(),
        });
        framed.clear();
        for entry in entries {
            let len =
                u32::try_from(entry.as_ref().len()).expect("entries are far smaller than 4 GiB");
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(entry.as_ref());
        }
        compressed.clear();
        compressed.reserve(zstd::zstd_safe::compress_bound(framed.len()));
        context
            .compress_to_buffer(framed.as_slice(), compressed)
            .expect("zstd compresses into a buffer of its bound");
        push_compressed(value, compressed);
    });
}

/// Appends an already compressed block to `value` with its length.
pub fn push_compressed(value: &mut Vec<u8>, compressed: &[u8]) {
    let len = u32::try_from(compressed.len()).expect("blocks are far smaller than 4 GiB");
    value.extend_from_slice(&len.to_be_bytes());
    value.extend_from_slice(compressed);
}

/// A chunk value holding `entries` (at most [`ENTRIES_PER_CHUNK`]).
pub fn encode_chunk<B: AsRef<[u8]>>(entries: &[B]) -> Vec<u8> {
    assert!(
        entries.len() as u64 <= ENTRIES_PER_CHUNK,
        "a chunk holds at most 128 entries"
    );
    let mut value = Vec::new();
    for block in entries.chunks(ENTRIES_PER_BLOCK) {
        push_block(&mut value, block);
    }
    value
}

/// The chunk value holding the first `keep` entries of `value`, then `more`: its full blocks
/// among the kept ones copied as they are, the rest compressed anew.
pub fn extend_chunk<B: AsRef<[u8]>>(
    value: &[u8],
    keep: usize,
    more: &[B],
) -> Result<Vec<u8>, ChunkError> {
    let blocks = split_blocks(value)?;
    let full = keep / ENTRIES_PER_BLOCK;
    if blocks.len() < full {
        return Err((
            blocks.len() * ENTRIES_PER_BLOCK,
            "the log chunk lacks entries".into(),
        ));
    }
    let mut out = Vec::with_capacity(value.len() + more.len() * 256);
    for block in &blocks[..full] {
        push_compressed(&mut out, block);
    }
    let mut tail: Vec<&[u8]> = Vec::with_capacity(ENTRIES_PER_CHUNK as usize);
    let partial;
    if !keep.is_multiple_of(ENTRIES_PER_BLOCK) {
        let block = blocks
            .get(full)
            .ok_or_else(|| (keep, "the log chunk lacks entries".to_owned()))?;
        partial = decode_block(block, full, true)?;
        if partial.len() < keep % ENTRIES_PER_BLOCK {
            return Err((keep, "the log chunk lacks entries".into()));
        }
        tail.extend(
            partial[..keep % ENTRIES_PER_BLOCK]
                .iter()
                .map(Vec::as_slice),
        );
    }
    tail.extend(more.iter().map(AsRef::as_ref));
    if keep as u64 + more.len() as u64 > ENTRIES_PER_CHUNK {
        return Err((
            keep,
            "the log chunk would hold more than 128 entries".into(),
        ));
    }
    for block in tail.chunks(ENTRIES_PER_BLOCK) {
        push_block(&mut out, block);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("{{\"entry\":{i}}}").into_bytes())
            .collect()
    }

    #[test]
    fn chunks_round_trip_at_every_size() {
        for n in [0, 1, 15, 16, 17, 127, 128] {
            let all = entries(n);
            assert_eq!(
                decode_chunk(&encode_chunk(&all)).unwrap(),
                all,
                "{n} entries"
            );
        }
    }

    #[test]
    fn extending_keeps_a_prefix_and_appends() {
        let all = entries(128);
        for keep in [1, 16, 20, 100] {
            for more in [0, 1, 5, 28] {
                // A chunk holding more than is kept: what is past `keep` is dropped.
                let value = encode_chunk(&all[..(keep + 3).min(128)]);
                let extended = extend_chunk(&value, keep, &all[keep..keep + more]).unwrap();
                assert_eq!(
                    decode_chunk(&extended).unwrap(),
                    all[..keep + more].to_vec()
                );
            }
        }
    }

    #[test]
    fn damage_is_reported_not_panicked() {
        let value = encode_chunk(&entries(40));
        for cut in 0..value.len() {
            let _ = decode_chunk(&value[..cut]);
        }
        for at in 0..value.len() {
            let mut bad = value.clone();
            bad[at] ^= 0x40;
            let _ = decode_chunk(&bad);
        }
        assert!(decode_chunk(&value[..value.len() - 1]).is_err());
    }

    #[test]
    fn a_short_block_before_the_last_is_refused() {
        let mut value = Vec::new();
        push_block(&mut value, &entries(3));
        push_block(&mut value, &entries(3));
        let error = decode_chunk(&value).unwrap_err();
        assert_eq!(error.0, 3, "{error:?}");
    }
}
