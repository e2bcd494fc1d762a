//! The memory map of an index file and the views of its sections as
//! typed slices. The only other place besides `kernels.rs` with `unsafe`.
#![allow(unsafe_code)]

use std::fs::File;
use std::ops::Range;

use memmap2::Mmap;

/// A read-only memory map of a whole file.
pub(crate) struct Mapped {
    map: Mmap,
}

impl Mapped {
    /// Maps `file` read-only.
    pub(crate) fn new(file: &File) -> std::io::Result<Mapped> {
        // SAFETY: the map is read-only and private to this process. Its
        // bytes could still change if another process wrote the file in
        // place; cradle never does (indexes are written to a temporary
        // file and renamed over the old one, which leaves this mapping on
        // the old inode), and every value read from the map is validated
        // or used only as plain numbers, so even a concurrent writer could
        // only produce wrong results, never reads out of bounds.
        let map = unsafe { Mmap::map(file)? };
        Ok(Mapped { map })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Tells the kernel the vectors will be read at random (the re-ranking
    /// touches a few hundred rows per query), so it does not read ahead
    /// megabytes for each of them.
    pub(crate) fn advise_random(&self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        #[cfg(unix)]
        {
            // Advice only: failing to give it changes nothing but speed.
            let _ = self
                .map
                .advise_range(memmap2::Advice::Random, range.start, range.len());
        }
    }
}

/// Plain numbers that any bit pattern of their size is a valid value of.
pub(crate) trait Plain: Copy {}
impl Plain for f32 {}
impl Plain for i8 {}
impl Plain for u32 {}
impl Plain for u64 {}

/// Views `bytes` as a slice of `T`, or `None` if the bytes are not aligned
/// for `T` or not a whole number of `T`s.
pub(crate) fn cast<T: Plain>(bytes: &[u8]) -> Option<&[T]> {
    // SAFETY: `T` is one of the `Plain` types above: every bit pattern is a
    // valid value, they have no padding and no drop. `align_to` only puts
    // whole, aligned `T`s in the middle part; requiring the prefix and the
    // suffix to be empty means every byte is covered exactly once.
    let (prefix, middle, suffix) = unsafe { bytes.align_to::<T>() };
    (prefix.is_empty() && suffix.is_empty()).then_some(middle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_bytes(words: &[u32]) -> &[u8] {
        // SAFETY: u8 has alignment 1, any byte is valid, and the length is
        // the size of `words` in bytes.
        unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), size_of_val(words)) }
    }

    #[test]
    fn casts_need_alignment_and_whole_values() {
        let words = [1u32, 2, 3, 4];
        let bytes = as_bytes(&words);
        assert_eq!(cast::<u32>(bytes), Some(&words[..]));
        assert_eq!(cast::<u32>(&bytes[4..12]), Some(&words[1..3]));
        assert!(cast::<u32>(&bytes[1..5]).is_none(), "misaligned");
        assert!(cast::<u32>(&bytes[0..6]).is_none(), "not whole values");
        assert_eq!(cast::<i8>(&bytes[0..3]).map(<[i8]>::len), Some(3));
    }
}
