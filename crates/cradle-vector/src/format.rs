//! The file format of a vector index, version 1. All numbers are little
//! endian; every section starts at a multiple of 64 bytes, so the memory
//! map can be viewed as typed slices without copying.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "CRDLVEC\0"
//!      8     4  format version (1)
//!     12     4  header size in bytes (256)
//!     16     4  dimension d
//!     20     4  lists (IVF partitions) L
//!     24     8  vectors n
//!     32     4  default lists probed per query
//!     36     4  default candidates re-ranked per query
//!     40     8  reserved (0)
//!     48   144  9 sections: (offset u64, length in bytes u64) each, in the
//!               order of [`Section`]
//!    192     8  FNV-1a 64 of bytes 0..192
//!    200    56  reserved (0)
//! ```
//!
//! Vectors are stored in list order ("positions"): the rows of list `l`
//! are positions `list_starts[l] .. list_starts[l + 1]`, and `rows[p]`
//! is the row (the index into the keys given at build time) at position
//! `p`. Keys and the model description stay in row order.

use std::ops::Range;

pub(crate) const MAGIC: [u8; 8] = *b"CRDLVEC\0";
pub(crate) const VERSION: u32 = 1;
pub(crate) const HEADER_BYTES: usize = 256;
pub(crate) const ALIGN: usize = 64;
const CHECKSUM_AT: usize = 192;

/// The sections of the file, in the order of the header's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// `L × d` f32: the unit-length list centroids.
    Centroids,
    /// `L + 1` u32: the first position of each list, then `n`.
    ListStarts,
    /// `n` f32: per position, the factor that turns its int8 code back
    /// into values.
    Scales,
    /// `n × d` i8: per position, the quantised vector.
    Codes,
    /// `n × d` f32: per position, the vector as given.
    Vectors,
    /// `n` u32: per position, its row.
    Rows,
    /// `n + 1` u64: per row, where its key starts in `KeyBytes`, then the
    /// total length.
    KeyStarts,
    /// The keys, UTF-8, concatenated.
    KeyBytes,
    /// The model description, UTF-8 (JSON by convention), verbatim.
    Meta,
}

impl Section {
    pub(crate) const ALL: [Section; 9] = [
        Section::Centroids,
        Section::ListStarts,
        Section::Scales,
        Section::Codes,
        Section::Vectors,
        Section::Rows,
        Section::KeyStarts,
        Section::KeyBytes,
        Section::Meta,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Section::Centroids => "centroids",
            Section::ListStarts => "list starts",
            Section::Scales => "code scales",
            Section::Codes => "codes",
            Section::Vectors => "vectors",
            Section::Rows => "rows",
            Section::KeyStarts => "key starts",
            Section::KeyBytes => "keys",
            Section::Meta => "meta",
        }
    }

    pub(crate) fn index(self) -> usize {
        Section::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The fixed header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) dimension: u32,
    pub(crate) lists: u32,
    pub(crate) count: u64,
    pub(crate) default_probes: u32,
    pub(crate) default_rerank: u32,
    pub(crate) sections: [Range<u64>; 9],
}

/// What is wrong with a header, for [`super::VectorError::Corrupt`].
pub(crate) type Problem = String;

impl Header {
    /// The expected length in bytes of each section, from the counts.
    pub(crate) fn expected_lengths(
        dimension: u64,
        lists: u64,
        count: u64,
        key_bytes: u64,
        meta_bytes: u64,
    ) -> Option<[u64; 9]> {
        let vectors = count.checked_mul(dimension)?;
        Some([
            lists.checked_mul(dimension)?.checked_mul(4)?,
            lists.checked_add(1)?.checked_mul(4)?,
            count.checked_mul(4)?,
            vectors,
            vectors.checked_mul(4)?,
            count.checked_mul(4)?,
            count.checked_add(1)?.checked_mul(8)?,
            key_bytes,
            meta_bytes,
        ])
    }

    /// Lays the sections out one after another from the end of the header,
    /// each at a multiple of [`ALIGN`]; returns the ranges and the file size.
    pub(crate) fn layout(lengths: &[u64; 9]) -> ([Range<u64>; 9], u64) {
        let mut at = HEADER_BYTES as u64;
        let sections = lengths.map(|length| {
            let start = at.next_multiple_of(ALIGN as u64);
            at = start + length;
            start..at
        });
        (sections, at)
    }

    pub(crate) fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        bytes[0..8].copy_from_slice(&MAGIC);
        bytes[8..12].copy_from_slice(&VERSION.to_le_bytes());
        bytes[12..16].copy_from_slice(&(HEADER_BYTES as u32).to_le_bytes());
        bytes[16..20].copy_from_slice(&self.dimension.to_le_bytes());
        bytes[20..24].copy_from_slice(&self.lists.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.count.to_le_bytes());
        bytes[32..36].copy_from_slice(&self.default_probes.to_le_bytes());
        bytes[36..40].copy_from_slice(&self.default_rerank.to_le_bytes());
        for (index, range) in self.sections.iter().enumerate() {
            let at = 48 + index * 16;
            bytes[at..at + 8].copy_from_slice(&range.start.to_le_bytes());
            bytes[at + 8..at + 16].copy_from_slice(&(range.end - range.start).to_le_bytes());
        }
        let checksum = fnv1a(&bytes[..CHECKSUM_AT]);
        bytes[CHECKSUM_AT..CHECKSUM_AT + 8].copy_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Decodes and checks the header of a file of `file_len` bytes: magic,
    /// version, checksum, and that every section lies inside the file,
    /// aligned, with the length its counts call for.
    pub(crate) fn decode(bytes: &[u8], file_len: u64) -> Result<Header, Problem> {
        if bytes.len() < HEADER_BYTES {
            return Err(format!(
                "the file has {} bytes, fewer than the {HEADER_BYTES}-byte header",
                bytes.len()
            ));
        }
        if bytes[0..8] != MAGIC {
            return Err(format!(
                "it does not start with the magic bytes {:?} of a cradle vector index",
                String::from_utf8_lossy(&MAGIC[..7])
            ));
        }
        let version = u32_at(bytes, 8);
        if version != VERSION {
            return Err(format!(
                "format version {version}; this build reads version {VERSION}"
            ));
        }
        let stored = u64_at(bytes, CHECKSUM_AT);
        let computed = fnv1a(&bytes[..CHECKSUM_AT]);
        if stored != computed {
            return Err(format!(
                "the header checksum does not match (stored {stored:#018x}, computed {computed:#018x})"
            ));
        }
        let header_bytes = u32_at(bytes, 12) as usize;
        if header_bytes != HEADER_BYTES {
            return Err(format!(
                "header size {header_bytes}, expected {HEADER_BYTES}"
            ));
        }
        let header = Header {
            dimension: u32_at(bytes, 16),
            lists: u32_at(bytes, 20),
            count: u64_at(bytes, 24),
            default_probes: u32_at(bytes, 32),
            default_rerank: u32_at(bytes, 36),
            sections: std::array::from_fn(|index| {
                let start = u64_at(bytes, 48 + index * 16);
                let length = u64_at(bytes, 56 + index * 16);
                start..start.saturating_add(length)
            }),
        };
        header.check(file_len)?;
        Ok(header)
    }

    fn check(&self, file_len: u64) -> Result<(), Problem> {
        if self.dimension == 0 {
            return Err("dimension 0".to_string());
        }
        if self.count > u64::from(u32::MAX) {
            return Err(format!("{} vectors, more than rows can number", self.count));
        }
        if (self.count == 0) != (self.lists == 0) || u64::from(self.lists) > self.count.max(1) {
            return Err(format!("{} lists for {} vectors", self.lists, self.count));
        }
        let key_bytes = self.length(Section::KeyBytes);
        let meta_bytes = self.length(Section::Meta);
        let expected = Header::expected_lengths(
            u64::from(self.dimension),
            u64::from(self.lists),
            self.count,
            key_bytes,
            meta_bytes,
        )
        .ok_or_else(|| "the section sizes overflow".to_string())?;
        let mut previous_end = HEADER_BYTES as u64;
        for (section, (range, want)) in Section::ALL.iter().zip(self.sections.iter().zip(expected))
        {
            let length = range.end - range.start;
            if length != want {
                return Err(format!(
                    "section {} has {length} bytes, expected {want}",
                    section.name()
                ));
            }
            if range.start % ALIGN as u64 != 0 || range.start < previous_end {
                return Err(format!(
                    "section {} starts at {}, not after the previous one on a {ALIGN}-byte boundary",
                    section.name(),
                    range.start
                ));
            }
            if range.end > file_len || range.end == u64::MAX {
                return Err(format!(
                    "section {} ends at byte {}, past the end of the file ({file_len} bytes): \
                     the file is truncated",
                    section.name(),
                    range.end
                ));
            }
            previous_end = range.end;
        }
        Ok(())
    }

    pub(crate) fn length(&self, section: Section) -> u64 {
        let range = &self.sections[section.index()];
        range.end - range.start
    }

    pub(crate) fn range(&self, section: Section) -> Range<usize> {
        let range = &self.sections[section.index()];
        // In bounds of the (mapped, so addressable) file: checked in `check`.
        range.start as usize..range.end as usize
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// FNV-1a, 64 bit: enough to notice a damaged header, not a defence
/// against deliberate tampering.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Header, u64) {
        let lengths = Header::expected_lengths(4, 2, 3, 10, 2).unwrap();
        let (sections, file_len) = Header::layout(&lengths);
        let header = Header {
            dimension: 4,
            lists: 2,
            count: 3,
            default_probes: 1,
            default_rerank: 3,
            sections,
        };
        (header, file_len)
    }

    #[test]
    fn a_header_round_trips() {
        let (header, file_len) = sample();
        let bytes = header.encode();
        assert_eq!(Header::decode(&bytes, file_len), Ok(header));
    }

    #[test]
    fn damaged_headers_are_refused() {
        let (header, file_len) = sample();
        let bytes = header.encode();
        let problem = Header::decode(&bytes, file_len - 1).unwrap_err();
        assert!(problem.contains("truncated"), "{problem}");
        for at in [0, 9, 17, 50, 100, 195] {
            let mut damaged = bytes;
            damaged[at] ^= 0x40;
            assert!(Header::decode(&damaged, file_len).is_err(), "byte {at}");
        }
        assert!(Header::decode(&bytes[..100], file_len).is_err());
    }
}
