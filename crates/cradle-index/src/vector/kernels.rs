//! The inner loops of the vector index: f32 dot products (centroids,
//! re-ranking, exact search, k-means) and int8 dot products (the scan of
//! the quantised codes).
//!
//! The release build targets plain x86-64 (SSE2), which leaves most of a
//! modern core unused. The same portable loops are compiled a second time
//! with AVX2 and FMA enabled and chosen at run time when the CPU has them
//! (about 3x faster on the scan here); other CPUs and architectures use the
//! portable loops. Both compute the same sums in the same order of lanes,
//! so results differ at most in the last bits of f32 rounding.
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
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        super::dot_f32_portable(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dots_f32(query: &[f32], rows: &[f32], dimension: usize, out: &mut Vec<f32>) {
        super::dots_f32_portable(query, rows, dimension, out);
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn dots_i8(query: &[i8], codes: &[i8], dimension: usize, out: &mut Vec<i32>) {
        super::dots_i8_portable(query, codes, dimension, out);
    }

    pub(super) fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
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
                .map(|row| a.iter().zip(row).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum())
                .collect();
            let mut out = Vec::new();
            dots_f32(&a, &rows, dimension, &mut out);
            assert_eq!(out.len(), 3);
            for (got, want) in out.iter().zip(&expected) {
                assert!((f64::from(*got) - want).abs() < 1e-4, "dimension {dimension}");
            }
            assert!((f64::from(dot_f32(&a, &rows[..dimension])) - expected[0]).abs() < 1e-4);

            let mut qa = vec![0i8; dimension];
            let mut qb = vec![0i8; dimension * 3];
            quantize(&a, &mut qa);
            for (row, code) in rows.chunks_exact(dimension).zip(qb.chunks_exact_mut(dimension)) {
                quantize(row, code);
            }
            let mut out = Vec::new();
            dots_i8(&qa, &qb, dimension, &mut out);
            for (index, code) in qb.chunks_exact(dimension).enumerate() {
                let want: i32 = qa.iter().zip(code).map(|(x, y)| i32::from(*x) * i32::from(*y)).sum();
                assert_eq!(out[index], want, "dimension {dimension}");
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
