//! Matrix product in the canonical order: each output is a sequential dot product.
//!
//! Contract: NUMERICS.md §5.1. For every output element
//! `c[i][j] = (((+0 + a[i][0]·b[0][j]) + a[i][1]·b[1][j]) + …) + a[i][k-1]·b[k-1][j]`,
//! every product and every sum rounded to f32, k ascending. The blocked loop below keeps
//! MR×NR such sums in registers at once and advances them together over k; lanes hold
//! different j, so vectorising never reorders a single sum and no FMA is ever formed (Rust
//! does not contract `a * b + c`). The same loop serves the fixed path (§13.2), whose sums are
//! exact.

use crate::arith::{Arithmetic, Float};

/// Columns per register block: two 4-lane or one 8-lane register of 32-bit sums per row.
const NR: usize = 8;
/// Rows per register block: 4×8 32-bit sums (f32, or the fixed path's i32 runs) fill 8 SSE
/// registers. The block shape never changes a result, only which sums advance together.
const MR: usize = 4;

/// Shape and memory layout of `c = a · b`.
///
/// `a` is m×k addressed as `a[i * a_row_stride + p * a_col_stride]`, so both a row-major
/// matrix (`a_row_stride = k, a_col_stride = 1`) and the transpose of one
/// (`a_row_stride = 1, a_col_stride = m`) can be used without copying. `b` is k×n and `c` is
/// m×n, both row-major and dense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulShape {
    /// Rows of `a` and `c`.
    pub m: usize,
    /// Columns of `b` and `c`.
    pub n: usize,
    /// Length of each dot product (columns of `a`, rows of `b`).
    pub k: usize,
    /// Distance in `a` between consecutive rows.
    pub a_row_stride: usize,
    /// Distance in `a` between consecutive columns.
    pub a_col_stride: usize,
}

impl MatmulShape {
    /// `a` row-major m×k.
    pub const fn row_major(m: usize, n: usize, k: usize) -> Self {
        Self { m, n, k, a_row_stride: k, a_col_stride: 1 }
    }

    /// `a` given as the row-major k×m matrix whose transpose is used.
    pub const fn transposed_a(m: usize, n: usize, k: usize) -> Self {
        Self { m, n, k, a_row_stride: 1, a_col_stride: m }
    }
}

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])` on arithmetic path `N`, every sum in the
/// canonical order of §5.1.
///
/// Contract: NUMERICS.md §5.1 and §13.2. Each sum runs over p ascending in runs of at most
/// [`Arithmetic::PRODUCT_BLOCK`] products: a run starts at [`Arithmetic::inner_zero`], adds one
/// product at a time with [`Arithmetic::inner_mul_add`], and is added to the accumulator with
/// [`Arithmetic::flush`]. On the float path the run is the whole dot product (one sequence of
/// rounded f32 operations); on the fixed path runs are exact i32 sums, added exactly in i64.
/// `finish` turns the finished sum of column `j` into the stored value (adds a bias, narrows).
///
/// # Panics
/// If a slice is too short for `shape` (a caller bug; the kernel's layouts size them).
#[inline(always)]
pub fn matmul_with<N: Arithmetic, Out>(
    shape: MatmulShape,
    a: &[N::Operand],
    b: &[N::Operand],
    c: &mut [Out],
    finish: impl Fn(usize, N::Acc) -> Out,
) {
    let MatmulShape { m, n, k, a_row_stride: ars, a_col_stride: acs } = shape;
    assert!(c.len() >= m * n && b.len() >= k * n, "matmul: output or b too short");
    if m > 0 && k > 0 {
        assert!(a.len() > (m - 1) * ars + (k - 1) * acs, "matmul: a too short");
    }
    let full_rows = m - m % MR;
    let full_cols = n - n % NR;
    for i0 in (0..full_rows).step_by(MR) {
        for j0 in (0..full_cols).step_by(NR) {
            // One MR×NR block of outputs, summed in registers run by run.
            let mut acc = [[N::acc_zero(); NR]; MR];
            for run in runs::<N>(k) {
                let mut inner = [[N::inner_zero(); NR]; MR];
                for p in run {
                    let b_row: &[N::Operand; NR] = b[p * n + j0..][..NR].try_into().unwrap();
                    for (r, inner_row) in inner.iter_mut().enumerate() {
                        let a_ip = a[(i0 + r) * ars + p * acs];
                        for (inner_ij, b_pj) in inner_row.iter_mut().zip(b_row) {
                            *inner_ij = N::inner_mul_add(*inner_ij, a_ip, *b_pj);
                        }
                    }
                }
                for (acc_row, inner_row) in acc.iter_mut().zip(&inner) {
                    for (acc_ij, inner_ij) in acc_row.iter_mut().zip(inner_row) {
                        *acc_ij = N::flush(*acc_ij, *inner_ij);
                    }
                }
            }
            for (r, acc_row) in acc.iter().enumerate() {
                for (jj, (out, sum)) in c[(i0 + r) * n + j0..][..NR].iter_mut().zip(acc_row).enumerate() {
                    *out = finish(j0 + jj, *sum);
                }
            }
        }
        for i in i0..i0 + MR {
            edge::<N, Out>(shape, a, b, c, i, full_cols..n, &finish);
        }
    }
    for i in full_rows..m {
        edge::<N, Out>(shape, a, b, c, i, 0..n, &finish);
    }
}

/// The runs of at most `N::PRODUCT_BLOCK` consecutive indices that cover `0..k`, in order.
#[inline(always)]
fn runs<N: Arithmetic>(k: usize) -> impl Iterator<Item = core::ops::Range<usize>> {
    (0..k).step_by(N::PRODUCT_BLOCK.max(1)).map(move |p0| p0..k.min(p0.saturating_add(N::PRODUCT_BLOCK)))
}

/// Outputs left over by the blocking: one row, the given columns, same order of operations.
#[inline(always)]
fn edge<N: Arithmetic, Out>(
    s: MatmulShape,
    a: &[N::Operand],
    b: &[N::Operand],
    c: &mut [Out],
    i: usize,
    cols: core::ops::Range<usize>,
    finish: &impl Fn(usize, N::Acc) -> Out,
) {
    for j in cols {
        let mut acc = N::acc_zero();
        for run in runs::<N>(s.k) {
            let mut inner = N::inner_zero();
            for p in run {
                inner = N::inner_mul_add(inner, a[i * s.a_row_stride + p * s.a_col_stride], b[p * s.n + j]);
            }
            acc = N::flush(acc, inner);
        }
        c[i * s.n + j] = finish(j, acc);
    }
}

/// `c ← a · b` in f32 (overwrites `c`), every element summed in the canonical order of §5.1.
///
/// Contract: NUMERICS.md §5.1.
pub fn matmul(shape: MatmulShape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul_with::<Float, f32>(shape, a, b, c, |_, acc| acc);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// The order of §5.1 written as plainly as possible.
    fn reference(s: MatmulShape, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = std::vec![0.0; s.m * s.n];
        for i in 0..s.m {
            for j in 0..s.n {
                let mut acc = 0.0f32;
                for p in 0..s.k {
                    acc += a[i * s.a_row_stride + p * s.a_col_stride] * b[p * s.n + j];
                }
                c[i * s.n + j] = acc;
            }
        }
        c
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        // Values of mixed magnitude and sign, so that a different summation order would
        // round differently and the bitwise comparisons below would notice.
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let mantissa = (x >> 9) as f32 / (1 << 23) as f32 - 0.5;
                let scale = [1.0e-3, 1.0, 37.0, 1.0e4][(x & 3) as usize];
                mantissa * scale
            })
            .collect()
    }

    #[test]
    fn blocked_equals_reference_bitwise_on_odd_shapes() {
        // Under miri, which interprets every operation, shorter sums and fewer blocks.
        let shapes: &[(usize, usize, usize)] = if cfg!(miri) {
            &[(1, 1, 1), (3, 7, 5), (4, 8, 1), (5, 9, 13), (8, 16, 7), (13, 31, 3), (0, 4, 3), (4, 0, 3), (4, 4, 0)]
        } else {
            &[
                (1, 1, 1),
                (3, 7, 5),
                (4, 8, 1),
                (5, 9, 13),
                (8, 16, 64),
                (13, 31, 17),
                (32, 10, 64),
                (0, 4, 3),
                (4, 0, 3),
                (4, 4, 0),
            ]
        };
        for &(m, n, k) in shapes {
            let s = MatmulShape::row_major(m, n, k);
            let a = values(m * k, 1 + m as u32);
            let b = values(k * n, 7 + n as u32);
            let mut c = std::vec![f32::NAN; m * n];
            matmul(s, &a, &b, &mut c);
            let want = reference(s, &a, &b);
            assert_eq!(
                c.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{m}x{n}x{k}"
            );
        }
    }

    #[test]
    fn transposed_a_reads_the_transpose() {
        let (m, n, k) = (6, 9, 5);
        let at = values(k * m, 3); // k×m row-major
        let mut a = std::vec![0.0; m * k];
        for p in 0..k {
            for i in 0..m {
                a[i * k + p] = at[p * m + i];
            }
        }
        let b = values(k * n, 4);
        let mut c1 = std::vec![0.0; m * n];
        let mut c2 = std::vec![0.0; m * n];
        matmul(MatmulShape::transposed_a(m, n, k), &at, &b, &mut c1);
        matmul(MatmulShape::row_major(m, n, k), &a, &b, &mut c2);
        assert_eq!(c1, c2);
    }

    #[test]
    fn order_is_sequential_not_pairwise() {
        // 1e8 + 1 - 1e8 ... : sequential order loses the small terms, pairwise would not.
        let a = [1.0e8f32, 1.0, 1.0, -1.0e8];
        let b = [1.0f32; 4];
        let mut c = [0.0f32];
        matmul(MatmulShape::row_major(1, 1, 4), &a, &b, &mut c);
        assert_eq!(c[0], 0.0);
    }

    #[test]
    fn denormal_results_are_kept() {
        // 2^-70 · 2^-70 = 2^-140, below f32::MIN_POSITIVE (2^-126): flush-to-zero would give 0.
        let tiny = f32::from_bits((127 - 70) << 23);
        let mut c = [0.0f32; 8 * 4];
        matmul(MatmulShape::row_major(4, 8, 1), &[tiny; 4], &[tiny; 8], &mut c);
        assert!(c.iter().all(|v| *v == f32::from_bits(1 << (149 - 140))), "{c:?}");
    }

    #[test]
    fn starts_from_positive_zero() {
        let mut c = [1.0f32];
        matmul(MatmulShape::row_major(1, 1, 1), &[-0.0], &[1.0], &mut c);
        assert_eq!(c[0].to_bits(), 0.0f32.to_bits(), "+0 + -0 = +0");
    }
}
