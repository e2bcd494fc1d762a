//! The numeric kernels of the encoder on plain `f32` slices: matrix
//! products (the `gemm` crate candle itself uses, called directly so that
//! strided views need no copies and each call chooses its own threading),
//! layer norm, GELU and softmax as single passes over memory.
//!
//! `gemm` takes raw pointers and strides; [`matmul`] checks that every
//! element it will touch lies inside the slices before calling it. This is
//! one of the crate's two unsafe modules (the other maps the weights).
#![allow(unsafe_code)]

/// A matrix inside a slice: element (i, j) is at
/// `i * row_stride + j * col_stride`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl View<'_> {
    /// The last index the view touches must be inside its slice.
    fn check(&self, what: &str) {
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        assert!(
            last < self.data.len(),
            "{what}: a {}×{} view with strides ({}, {}) needs {} values, the slice has {}",
            self.rows,
            self.cols,
            self.row_stride,
            self.col_stride,
            last + 1,
            self.data.len()
        );
    }
}

/// `dst[i * dst_row_stride + j] (+)= Σ_k lhs(i, k) · rhs(k, j)`: with
/// `accumulate` the product is added to what `dst` holds (a bias or a
/// residual put there first), else it replaces it. `threads > 1` lets the
/// product use that many threads of the current rayon pool.
pub(crate) fn matmul(
    dst: &mut [f32],
    dst_row_stride: usize,
    accumulate: bool,
    lhs: View,
    rhs: View,
    threads: usize,
) {
    assert_eq!(lhs.cols, rhs.rows, "matmul: inner dimensions differ");
    lhs.check("matmul lhs");
    rhs.check("matmul rhs");
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    if m == 0 || n == 0 {
        return;
    }
    let last = (m - 1) * dst_row_stride + (n - 1);
    assert!(
        last < dst.len(),
        "matmul dst: needs {} values, the slice has {}",
        last + 1,
        dst.len()
    );
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                dst[i * dst_row_stride..i * dst_row_stride + n].fill(0.0);
            }
        }
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above show that every element gemm reads
    // (lhs, rhs) or writes (dst) for these sizes and strides lies inside
    // its slice; `dst` is borrowed mutably, so it cannot alias the inputs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Normalises each row of `x` (rows of `weight.len()` values) to zero mean
/// and unit variance, then scales and shifts it.
pub(crate) fn layer_norm(x: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let width = weight.len();
    for row in x.chunks_exact_mut(width) {
        let mean = row.iter().sum::<f32>() / width as f32;
        let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
        let scale = 1.0 / (variance + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = (*v - mean) * scale * w + b;
        }
    }
}

/// e^x for f32, in a form the compiler vectorises (no libm call): x is
/// split into k·ln2 + r with |r| ≤ ln2/2, e^r comes from a degree-6
/// polynomial, 2^k from the exponent bits. Relative error below 2e-6;
/// inputs below -87 give 0.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E).round();
    let r = x - k * std::f32::consts::LN_2;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

/// erf for f32: Abramowitz and Stegun 7.1.26 (absolute error below
/// 1.5e-7), with the vectorisable [`exp`].
#[inline(always)]
fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_8) * t - 0.284_496_72) * t
            + 0.254_829_6)
            * t
            * exp(-a * a);
    sign * y
}

/// GELU with the exact (erf) form BERT's `gelu` means, in place.
pub(crate) fn gelu_erf(x: &mut [f32]) {
    for v in x {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// GELU with the tanh approximation (`gelu_new`), in place.
pub(crate) fn gelu_tanh(x: &mut [f32]) {
    const C: f32 = 0.797_884_6; // sqrt(2/pi)
    for v in x {
        let u = C * (*v + 0.044_715 * *v * *v * *v);
        // tanh(u) = 1 - 2/(e^{2u} + 1)
        let tanh = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
        *v = 0.5 * *v * (1.0 + tanh);
    }
}

pub(crate) fn relu(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

/// Softmax of each row of `x` (rows of `width` values), in place.
pub(crate) fn softmax_rows(x: &mut [f32], width: usize) {
    for row in x.chunks_exact_mut(width) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = exp(*v - max);
            sum += *v;
        }
        let inverse = 1.0 / sum;
        row.iter_mut().for_each(|v| *v *= inverse);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_are_accurate() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let e = exp(x);
            assert!(
                ((e - x.exp()) / x.exp()).abs() < 2e-6,
                "exp({x}) = {e}, not {}",
                x.exp()
            );
            let reference = libm_erf(f64::from(x));
            assert!((f64::from(erf(x)) - reference).abs() < 5e-7, "erf({x})");
        }
        assert_eq!(exp(-200.0), exp(-87.0));
        assert!(exp(-87.0) < 1e-37);
    }

    /// erf by its Taylor series (converges everywhere; enough terms for |x| ≤ 20
    /// in f64 only where it matters, |x| < 4; beyond, erf is ±1 in f32).
    fn libm_erf(x: f64) -> f64 {
        if x.abs() > 4.0 {
            return x.signum();
        }
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn matmul_with_strided_views_and_accumulation() {
        // lhs 2×3, rhs given transposed (3×2 read from a 2×3 buffer).
        let lhs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let rhs_t = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let mut dst = [10.0, 20.0, 30.0, 40.0];
        matmul(
            &mut dst,
            2,
            true,
            View {
                data: &lhs,
                rows: 2,
                cols: 3,
                row_stride: 3,
                col_stride: 1,
            },
            View {
                data: &rhs_t,
                rows: 3,
                cols: 2,
                row_stride: 1,
                col_stride: 3,
            },
            1,
        );
        assert_eq!(dst, [14.0, 22.0, 40.0, 45.0]);
    }

    #[test]
    #[should_panic(expected = "needs")]
    fn matmul_refuses_views_outside_their_slice() {
        let lhs = [1.0; 4];
        let mut dst = [0.0; 4];
        matmul(
            &mut dst,
            2,
            false,
            View {
                data: &lhs,
                rows: 2,
                cols: 3,
                row_stride: 3,
                col_stride: 1,
            },
            View {
                data: &lhs,
                rows: 3,
                cols: 2,
                row_stride: 2,
                col_stride: 1,
            },
            1,
        );
    }

    #[test]
    fn softmax_and_layer_norm() {
        let mut x = [1.0, 2.0, 3.0, 0.0, 0.0, -1e9];
        softmax_rows(&mut x, 3);
        assert!((x[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((x[3] - 0.5).abs() < 1e-6 && x[5] < 1e-30);
        let mut y = [1.0, 3.0];
        layer_norm(&mut y, &[1.0, 1.0], &[0.5, 0.5], 0.0);
        assert!((y[0] + 0.5).abs() < 1e-6 && (y[1] - 1.5).abs() < 1e-6);
    }
}
