//! The inner loops of the vector index: f32 dot products (centroids,
//! re-ranking, exact search, k-means) and int8 dot products (the scan of
//! the quantised codes).
//!
//! The release build targets plain x86-64 (SSE2), which leaves most of a
//! modern core unused. On CPUs with AVX2 and FMA (checked at run time) the
//! loops use them explicitly: fused multiply-adds on 8 floats, and int8
//! products through `vpmaddwd` (sign-extended to i16, pairs added into
//! i32); other CPUs and architectures use portable loops. The int8 sums
//! are exact either way; f32 sums differ between the paths only in the
//! last bits of rounding.
//!
//! Calling a `#[target_feature]` function is `unsafe` (the caller promises
//! the CPU has the feature); that promise is kept by checking
//! `is_x86_feature_detected!` first, in this module only.
#![allow(unsafe_code)]

/// Lanes of the f32 accumulators: two AVX registers, enough independent
/// sums to hide the latency of the additions.
const F32_LANES: usize = 16;
/// Lanes of the int8 accumulators.
const I8_LANES: usize = 32;

#[inline(always)]
fn dot_f32_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; F32_LANES];
    let mut chunks_a = a.chunks_exact(F32_LANES);
    let mut chunks_b = b.chunks_exact(F32_LANES);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for lane in 0..F32_LANES {
            acc[lane] += ca[lane] * cb[lane];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        tail += x * y;
    }
    let mut sum = 0.0f32;
    for value in acc {
        sum += value;
    }
    sum + tail
}

#[inline(always)]
fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; I8_LANES];
    let mut chunks_a = a.chunks_exact(I8_LANES);
    let mut chunks_b = b.chunks_exact(I8_LANES);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for lane in 0..I8_LANES {
            acc[lane] += i32::from(ca[lane]) * i32::from(cb[lane]);
        }
    }
    let mut sum: i32 = acc.iter().sum();
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        sum += i32::from(*x) * i32::from(*y);
    }
    sum
}

/// `out[i] = query · rows[i]` for consecutive rows of `dimension` floats.
#[inline(always)]
fn dots_f32_portable(query: &[f32], rows: &[f32], dimension: usize, out: &mut Vec<f32>) {
    out.clear();
    if dimension == 0 {
        return;
    }
    out.extend(
        rows.chunks_exact(dimension)
            .map(|row| dot_f32_portable(query, row)),
    );
}

/// `out[i] = query · codes[i]` for consecutive int8 codes of `dimension`.
#[inline(always)]
fn dots_i8_portable(query: &[i8], codes: &[i8], dimension: usize, out: &mut Vec<i32>) {
    out.clear();
    if dimension == 0 {
        return;
    }
    out.extend(
        codes
            .chunks_exact(dimension)
            .map(|code| dot_i8_portable(query, code)),
    );
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Adds the 8 lanes of `v`.
    #[target_feature(enable = "avx2,fma")]
    fn sum_f32(v: __m256) -> f32 {
        let pairs = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let pairs = _mm_add_ps(pairs, _mm_movehl_ps(pairs, pairs));
        let single = _mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1));
        _mm_cvtss_f32(single)
    }

    /// Adds the 8 lanes of `v`.
    #[target_feature(enable = "avx2")]
    fn sum_i32(v: __m256i) -> i32 {
        let pairs = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        let pairs = _mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0b01_00_11_10));
        let single = _mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0b10_11_00_01));
        _mm_cvtsi128_si32(single)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads below): `i + 8 <= n` (or `i + 32 <= n`) before
        // every unaligned load of 8 floats at `i`, and both slices have at
        // least `n` floats.
        while i + 32 <= n {
            for (lane, sum) in acc.iter_mut().enumerate() {
                let at = i + lane * 8;
                let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at))) };
                *sum = _mm256_fmadd_ps(x, y, *sum);
            }
            i += 32;
        }
        while i + 8 <= n {
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i))) };
            acc[0] = _mm256_fmadd_ps(x, y, acc[0]);
            i += 8;
        }
        let total = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut sum = sum_f32(total);
        for j in i..n {
            sum += a[j] * b[j];
        }
        sum
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dots_f32(query: &[f32], rows: &[f32], dimension: usize, out: &mut Vec<f32>) {
        out.clear();
        if dimension == 0 {
            return;
        }
        out.extend(rows.chunks_exact(dimension).map(|row| dot_f32(query, row)));
    }

    /// The dot products of four rows with each of `columns`, into `out`
    /// (4 per column, row-major by column): the rows stay in registers'
    /// reach (L1) while each column is read once for all four.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dots4_f32(
        rows: [&[f32]; 4],
        columns: &[f32],
        dimension: usize,
        out: &mut Vec<f32>,
    ) {
        out.clear();
        if dimension == 0 || rows.iter().any(|row| row.len() < dimension) {
            return;
        }
        let pointers = rows.map(<[f32]>::as_ptr);
        for column in columns.chunks_exact(dimension) {
            let pc = column.as_ptr();
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut i = 0;
            while i + 8 <= dimension {
                // SAFETY: `i + 8 <= dimension` and every row and the column
                // have at least `dimension` floats (checked above).
                let c = unsafe { _mm256_loadu_ps(pc.add(i)) };
                for (sum, pointer) in acc.iter_mut().zip(pointers) {
                    let x = unsafe { _mm256_loadu_ps(pointer.add(i)) };
                    *sum = _mm256_fmadd_ps(x, c, *sum);
                }
                i += 8;
            }
            for (sum, row) in acc.iter().zip(rows) {
                let mut total = sum_f32(*sum);
                for j in i..dimension {
                    total += row[j] * column[j];
                }
                out.push(total);
            }
        }
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_si256(); 2];
        let mut i = 0;
        // Sign-extend 16 bytes to 16 i16, multiply pairwise and add
        // neighbours into 8 i32 (vpmaddwd): no overflow, |a·b| <= 2^15.
        while i + 32 <= n {
            for (lane, sum) in acc.iter_mut().enumerate() {
                let at = i + lane * 16;
                // SAFETY: `i + 32 <= n`, so 16 bytes at `at` are in both slices.
                let (x, y) = unsafe {
                    (
                        _mm_loadu_si128(pa.add(at).cast::<__m128i>()),
                        _mm_loadu_si128(pb.add(at).cast::<__m128i>()),
                    )
                };
                let product = _mm256_madd_epi16(_mm256_cvtepi8_epi16(x), _mm256_cvtepi8_epi16(y));
                *sum = _mm256_add_epi32(*sum, product);
            }
            i += 32;
        }
        let mut sum = sum_i32(_mm256_add_epi32(acc[0], acc[1]));
        for j in i..n {
            sum += i32::from(a[j]) * i32::from(b[j]);
        }
        sum
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn dots_i8(query: &[i8], codes: &[i8], dimension: usize, out: &mut Vec<i32>) {
        out.clear();
        if dimension == 0 {
            return;
        }
        out.extend(
            codes
                .chunks_exact(dimension)
                .map(|code| dot_i8(query, code)),
        );
    }

    pub(super) fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
}

/// The dot products of four rows with each of `columns` (row-major,
/// `dimension` floats each), into `out`: four per column, in row order.
/// For k-means, where the same columns (centroids) meet many rows.
pub(crate) fn dots4_f32(rows: [&[f32]; 4], columns: &[f32], dimension: usize, out: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        unsafe { x86::dots4_f32(rows, columns, dimension, out) };
        return;
    }
    out.clear();
    if dimension == 0 {
        return;
    }
    for column in columns.chunks_exact(dimension) {
        out.extend(rows.iter().map(|row| dot_f32_portable(row, column)));
    }
}

/// The dot product of two f32 slices (over the shorter length).
pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { x86::dot_f32(a, b) };
    }
    dot_f32_portable(a, b)
}

/// The dot products of `query` with each row of `rows` (row-major,
/// `dimension` floats each), into `out` (cleared first).
pub(crate) fn dots_f32(query: &[f32], rows: &[f32], dimension: usize, out: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        unsafe { x86::dots_f32(query, rows, dimension, out) };
        return;
    }
    dots_f32_portable(query, rows, dimension, out);
}

/// The int8 dot products of `query` with each code of `codes` (`dimension`
/// bytes each), into `out` (cleared first).
pub(crate) fn dots_i8(query: &[i8], codes: &[i8], dimension: usize, out: &mut Vec<i32>) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2() {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { x86::dots_i8(query, codes, dimension, out) };
        return;
    }
    dots_i8_portable(query, codes, dimension, out);
}

/// Symmetric int8 quantisation of one vector: `code = round(x * 127 / m)`
/// with `m = max |x|`; returns the factor that turns a code back into
/// values (`m / 127`, 0 for a zero vector).
pub(crate) fn quantize(values: &[f32], codes: &mut [i8]) -> f32 {
    let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        codes.iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    let factor = 127.0 / max;
    for (code, value) in codes.iter_mut().zip(values) {
        // In range by construction: |value * factor| <= 127.
        *code = (value * factor).round().clamp(-127.0, 127.0) as i8;
    }
    max / 127.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn dispatched_kernels_match_the_plain_sums() {
        for dimension in [1, 7, 16, 33, 64, 384, 1024] {
            let a = pseudo_random(dimension, 1);
            let rows = pseudo_random(dimension * 3, 2);
            let expected: Vec<f64> = rows
                .chunks_exact(dimension)
                .map(|row| {
                    a.iter()
                        .zip(row)
                        .map(|(x, y)| f64::from(*x) * f64::from(*y))
                        .sum()
                })
                .collect();
            let mut out = Vec::new();
            dots_f32(&a, &rows, dimension, &mut out);
            assert_eq!(out.len(), 3);
            for (got, want) in out.iter().zip(&expected) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-4,
                    "dimension {dimension}"
                );
            }
            assert!((f64::from(dot_f32(&a, &rows[..dimension])) - expected[0]).abs() < 1e-4);

            let mut qa = vec![0i8; dimension];
            let mut qb = vec![0i8; dimension * 3];
            quantize(&a, &mut qa);
            for (row, code) in rows
                .chunks_exact(dimension)
                .zip(qb.chunks_exact_mut(dimension))
            {
                quantize(row, code);
            }
            let mut out = Vec::new();
            dots_i8(&qa, &qb, dimension, &mut out);
            for (index, code) in qb.chunks_exact(dimension).enumerate() {
                let want: i32 = qa
                    .iter()
                    .zip(code)
                    .map(|(x, y)| i32::from(*x) * i32::from(*y))
                    .sum();
                assert_eq!(out[index], want, "dimension {dimension}");
            }
        }
    }

    #[test]
    fn four_rows_at_once_match_one_at_a_time() {
        for dimension in [3, 8, 21, 64, 384] {
            let rows = pseudo_random(dimension * 4, 3);
            let columns = pseudo_random(dimension * 5, 4);
            let rows: Vec<&[f32]> = rows.chunks_exact(dimension).collect();
            let mut out = Vec::new();
            dots4_f32(
                [rows[0], rows[1], rows[2], rows[3]],
                &columns,
                dimension,
                &mut out,
            );
            assert_eq!(out.len(), 20);
            for (index, got) in out.iter().enumerate() {
                let (column, row) = (index / 4, index % 4);
                let want = dot_f32(
                    rows[row],
                    &columns[column * dimension..(column + 1) * dimension],
                );
                assert!(
                    (got - want).abs() < 1e-4,
                    "dimension {dimension}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn quantisation_keeps_the_extremes_and_zero() {
        let mut codes = [0i8; 3];
        let factor = quantize(&[0.5, -0.25, 0.0], &mut codes);
        assert_eq!(codes, [127, -64, 0]);
        assert!((factor - 0.5 / 127.0).abs() < 1e-9);
        assert_eq!(quantize(&[0.0, 0.0, 0.0], &mut codes), 0.0);
        assert_eq!(codes, [0, 0, 0]);
    }
}
