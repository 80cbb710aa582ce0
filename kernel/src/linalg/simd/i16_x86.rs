//! The fixed path's products on x86-64: 16-bit operands multiplied two at a time with SSE2.
//!
//! Contract: NUMERICS.md §13.2. Every sum of the fixed path is exact, so any grouping gives the
//! same bits; this loop groups the products of k-steps `p` and `p + 1` in one `pmaddwd`
//! (`_mm_madd_epi16`: `a_p·b_pj + a_{p+1}·b_{p+1,j}` in each 32-bit lane), sums 16 such pairs
//! (32 products, the run of [`crate::fixed::PRODUCT_BLOCK`]) in i32 lanes and adds each run to
//! an i64 sum. The portable loop of [`super::matmul_with`] gives the same results (tests below).
//!
//! SSE2 is part of every x86-64 target, so these instructions are always available. Rust still
//! counts a call into `#[target_feature]` code from ordinary code as `unsafe`, and so are vector
//! loads from a slice: these, each with its reason next to it, are the only `unsafe` in the
//! kernel.

use super::MatmulShape;
use crate::fixed::PRODUCT_BLOCK;
use core::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16, _mm_set1_epi32, _mm_setzero_si128,
    _mm_shuffle_epi32, _mm_unpackhi_epi16, _mm_unpacklo_epi16,
};

/// Rows per register block.
const MR: usize = 4;
/// Columns per register block: two 4-lane registers of 32-bit sums per row (eight sum
/// registers, two of b pairs, one of a and one temporary: 12 of SSE2's 16, no spills).
const NR: usize = 8;
/// 32-bit sum registers per row.
const NV: usize = NR / 4;

/// `b[at..at + 8]` as one register, without a bounds check: the caller has checked that
/// `at + 8 <= b.len()` for every `at` it passes (see [`block`]).
#[target_feature(enable = "sse2")]
#[inline]
fn load8_at(b: &[i16], at: usize) -> __m128i {
    debug_assert!(at + 8 <= b.len());
    // SAFETY: `at + 8 <= b.len()` (the caller's check), so the 16 bytes read are inside `b`;
    // `_mm_loadu_si128` has no alignment requirement.
    #[allow(unsafe_code)]
    unsafe {
        _mm_loadu_si128(b.as_ptr().add(at).cast())
    }
}

/// The four 32-bit lanes of `v`.
#[target_feature(enable = "sse2")]
#[inline]
fn lanes(v: __m128i) -> [i32; 4] {
    [
        _mm_cvtsi128_si32(v),
        _mm_cvtsi128_si32(_mm_shuffle_epi32::<0b01>(v)),
        _mm_cvtsi128_si32(_mm_shuffle_epi32::<0b10>(v)),
        _mm_cvtsi128_si32(_mm_shuffle_epi32::<0b11>(v)),
    ]
}

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])`, exact, for 16-bit operands whose products are
/// below 2²⁶ (§13.2). Layouts as in [`super::matmul_with`]. Shapes that are not whole blocks
/// are padded with zeros (which add nothing) rather than left to a scalar loop.
///
/// # Panics
/// If a slice is too short for `shape`.
#[inline(always)]
pub fn matmul_i16<Out>(shape: MatmulShape, a: &[i16], b: &[i16], c: &mut [Out], finish: impl Fn(usize, i64) -> Out) {
    if shape.k > 2 * MAX_PAIRS {
        return super::matmul_with::<crate::arith::Fixed, Out>(shape, a, b, c, finish);
    }
    // SAFETY: `matmul_i16_sse2` needs only SSE2, which every x86-64 processor has (it is in the
    // baseline of all x86_64 targets), so calling it cannot execute an unsupported instruction.
    #[allow(unsafe_code)]
    unsafe {
        matmul_i16_sse2(shape, a, b, c, finish)
    }
}

/// Pairs of `a` kept per row block at most (8 KiB on the stack, with 16 KiB of padded last
/// columns of b): k up to 1024; longer sums take the portable loop.
const MAX_PAIRS: usize = 512;
/// The buffers' size for the usual short sums (k up to 128), which are zeroed on every call.
const FEW_PAIRS: usize = 64;

#[target_feature(enable = "sse2")]
#[inline]
fn matmul_i16_sse2<Out>(shape: MatmulShape, a: &[i16], b: &[i16], c: &mut [Out], finish: impl Fn(usize, i64) -> Out) {
    if shape.k <= 2 * FEW_PAIRS {
        matmul_with_buffers::<FEW_PAIRS, { 2 * FEW_PAIRS }, Out>(shape, a, b, c, finish)
    } else {
        matmul_with_buffers::<MAX_PAIRS, { 2 * MAX_PAIRS }, Out>(shape, a, b, c, finish)
    }
}

/// The product with stack buffers for up to `P` pairs of k-steps (`K = 2P` steps).
#[target_feature(enable = "sse2")]
#[inline]
fn matmul_with_buffers<const P: usize, const K: usize, Out>(
    shape: MatmulShape,
    a: &[i16],
    b: &[i16],
    c: &mut [Out],
    finish: impl Fn(usize, i64) -> Out,
) {
    let MatmulShape { m, n, k, a_row_stride: ars, a_col_stride: acs } = shape;
    assert!(c.len() >= m * n && b.len() >= k * n, "matmul: output or b too short");
    if m > 0 && k > 0 {
        assert!(a.len() > (m - 1) * ars + (k - 1) * acs, "matmul: a too short");
    }
    let full_cols = n - n % NR;
    if full_cols == n {
        return row_blocks::<P, Out>(shape, a, b, &[], c, finish);
    }
    // The last columns (fewer than NR) copied once into rows of NR padded with zeros, so that
    // every block loads whole registers. Only here is this buffer made (and zeroed).
    let mut tail = [[0i16; NR]; K];
    for (p, row) in tail[..k].iter_mut().enumerate() {
        row[..n - full_cols].copy_from_slice(&b[p * n + full_cols..][..n - full_cols]);
    }
    row_blocks::<P, Out>(shape, a, b, tail[..k].as_flattened(), c, finish)
}

/// Every row block of the product; `tail` holds the last `n % NR` columns of b padded to NR.
#[target_feature(enable = "sse2")]
#[inline]
fn row_blocks<const P: usize, Out>(
    shape: MatmulShape,
    a: &[i16],
    b: &[i16],
    tail: &[i16],
    c: &mut [Out],
    finish: impl Fn(usize, i64) -> Out,
) {
    let MatmulShape { m, n, k, a_row_stride: ars, a_col_stride: acs } = shape;
    // `a[i][p]`, and 0 past the end so that an odd k pairs its last step with nothing.
    let a_at = |i: usize, p: usize| if p < k { a[i * ars + p * acs] } else { 0 };
    let pairs = k.div_ceil(2);
    let full_cols = n - n % NR;
    let mut kept = [[0u32; MR]; P];
    for i0 in (0..m).step_by(MR) {
        let rows = MR.min(m - i0);
        // `(a[i][2q], a[i][2q+1])` as the 32 bits `pmaddwd` multiplies by a pair of b, gathered
        // once per row block (the MR rows of one q side by side) and used by every column
        // block; 0 for rows past m.
        for (q, bits) in kept[..pairs].iter_mut().enumerate() {
            for (r, bits) in bits.iter_mut().enumerate() {
                let i = i0 + r;
                *bits =
                    if r < rows { a_at(i, 2 * q) as u16 as u32 | (a_at(i, 2 * q + 1) as u16 as u32) << 16 } else { 0 };
            }
        }
        let a_pairs = &kept[..pairs];
        let mut sums = [[0i64; NR]; MR];
        for j0 in (0..full_cols).step_by(NR) {
            block(k, &b[j0..], n, a_pairs, &mut sums);
            store(&sums, c, n, i0, rows, j0, NR, &finish);
        }
        if full_cols < n {
            block(k, tail, NR, a_pairs, &mut sums);
            store(&sums, c, n, i0, rows, full_cols, n - full_cols, &finish);
        }
    }
}

/// `c[i0 + r][j0 + jj] ← finish(j0 + jj, sums[r][jj])` for the block's valid rows and columns.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn store<Out>(
    sums: &[[i64; NR]; MR],
    c: &mut [Out],
    n: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    width: usize,
    finish: &impl Fn(usize, i64) -> Out,
) {
    for (r, sum_row) in sums[..rows].iter().enumerate() {
        for (jj, (out, sum)) in c[(i0 + r) * n + j0..][..width].iter_mut().zip(sum_row).enumerate() {
            *out = finish(j0 + jj, *sum);
        }
    }
}

/// One MR×NR block of sums into `acc`: `b[p * stride + jj]` for jj < NR is row p of the
/// block's columns; `a_pairs[q][r]` holds the pair bits of row r for k-steps `2q, 2q + 1`.
#[target_feature(enable = "sse2")]
#[inline]
fn block(k: usize, b: &[i16], stride: usize, a_pairs: &[[u32; MR]], acc: &mut [[i64; NR]; MR]) {
    assert!(k == 0 || b.len() >= (k - 1) * stride + NR, "matmul: b too short");
    assert!(a_pairs.len() == k.div_ceil(2), "matmul: pairs of a");
    let zero = _mm_setzero_si128();
    *acc = [[0; NR]; MR];
    for run0 in (0..k).step_by(PRODUCT_BLOCK) {
        let run_end = k.min(run0 + PRODUCT_BLOCK);
        let (q0, q1) = (run0 / 2, run_end.div_ceil(2));
        let mut inner = [[zero; NV]; MR];
        for (q, a_q) in (q0..q1).zip(&a_pairs[q0..q1]) {
            let p = 2 * q;
            // In bounds: rows p and p + 1 < k start at most (k − 1)·stride into b, and b holds NR
            // more values from there (asserted above).
            let b0 = load8_at(b, p * stride);
            // The last step of an odd k is paired with zeros.
            let b1 = if p + 1 < k { load8_at(b, (p + 1) * stride) } else { zero };
            // (b[p][j], b[p+1][j]) pairs: columns 0..4, then 4..8.
            let b_row = [_mm_unpacklo_epi16(b0, b1), _mm_unpackhi_epi16(b0, b1)];
            for (inner_row, a) in inner.iter_mut().zip(a_q) {
                let a_pair = _mm_set1_epi32(*a as i32);
                for (sum, b_pair) in inner_row.iter_mut().zip(&b_row) {
                    *sum = _mm_add_epi32(*sum, _mm_madd_epi16(a_pair, *b_pair));
                }
            }
        }
        for (acc_row, inner_row) in acc.iter_mut().zip(&inner) {
            for (acc4, sum) in acc_row.chunks_exact_mut(4).zip(inner_row) {
                for (acc_ij, run_ij) in acc4.iter_mut().zip(lanes(*sum)) {
                    *acc_ij = acc_ij.wrapping_add(run_ij as i64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::arith::Fixed;
    use crate::fixed::SHORT_OPERAND_MAX;
    use crate::linalg::matmul_with;
    use std::vec::Vec;

    /// Operands in `[lo, hi]`, at the extremes as often as in between (§13.2: activations over
    /// all of i16, weights and deltas in ±2047).
    fn operands(len: usize, seed: u32, lo: i16, hi: i16) -> Vec<i16> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                match x % 4 {
                    0 => hi,
                    1 => lo,
                    _ => (lo as i32 + ((x >> 8) % (hi as i32 - lo as i32 + 1) as u32) as i32) as i16,
                }
            })
            .collect()
    }

    #[test]
    fn equals_the_portable_loop_on_odd_shapes_and_extreme_operands() {
        // k ≤ 128 and k = 301 take the two buffer sizes; k = 1025 the portable loop. Under miri,
        // which interprets every operation, the largest shapes are left out or made narrow.
        let shapes: &[(usize, usize, usize)] = if cfg!(miri) {
            &[(1, 1, 1), (3, 7, 5), (4, 8, 1), (4, 8, 33), (5, 9, 13), (8, 16, 3), (4, 8, 0), (2, 3, 301), (1, 3, 1025)]
        } else {
            &[
                (1, 1, 1),
                (3, 7, 5),
                (4, 8, 1),
                (4, 8, 33),
                (5, 9, 13),
                (8, 16, 64),
                (13, 31, 17),
                (32, 128, 64),
                (19, 29, 37),
                (4, 8, 0),
                (3, 5, 301),
                (5, 9, 1025),
            ]
        };
        for &(m, n, k) in shapes {
            for transposed in [false, true] {
                let s = if transposed { MatmulShape::transposed_a(m, n, k) } else { MatmulShape::row_major(m, n, k) };
                let a = operands(m * k, 1 + m as u32, i16::MIN, i16::MAX);
                let short = SHORT_OPERAND_MAX as i16;
                let b = operands(k * n, 7 + n as u32, -short, short);
                let mut got = std::vec![i64::MIN; m * n];
                let mut want = std::vec![i64::MAX; m * n];
                matmul_i16(s, &a, &b, &mut got, |_, acc| acc);
                matmul_with::<Fixed, i64>(s, &a, &b, &mut want, |_, acc| acc);
                assert_eq!(got, want, "{m}x{n}x{k} transposed {transposed}");
            }
        }
    }
}
