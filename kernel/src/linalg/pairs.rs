//! The fixed path's products on x86-64: 16-bit operands multiplied two at a time with SSE2.
//!
//! Contract: NUMERICS.md §13.2. Every sum of the fixed path is exact, so any grouping gives the
//! same bits; this loop groups the products of k-steps `p` and `p + 1` in one `pmaddwd`
//! (`_mm_madd_epi16`: `a_p·b_pj + a_{p+1}·b_{p+1,j}` in each 32-bit lane), sums 16 such pairs
//! (32 products, the run of [`crate::fixed::PRODUCT_BLOCK`]) in i32 lanes and adds each run to
//! an i64 sum. The portable loop of [`super::matmul_with`] gives the same results (tests below).
//!
//! SSE2 is part of every x86-64 target, so these instructions are always available. Rust still
//! counts a call into `#[target_feature]` code from ordinary code as `unsafe`, and so is an
//! unaligned vector load from a slice: these two, each with its reason, are the only `unsafe`
//! in the kernel.

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

/// Eight consecutive operands as one register.
#[target_feature(enable = "sse2")]
#[inline]
fn load8(s: &[i16]) -> __m128i {
    let s: &[i16; 8] = s[..8].try_into().unwrap();
    // SAFETY: `s` is 16 readable bytes; `_mm_loadu_si128` has no alignment requirement.
    // (Built from eight scalars instead, the compiler emits one insert per element.)
    #[allow(unsafe_code)]
    unsafe {
        _mm_loadu_si128(s.as_ptr().cast())
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
/// are padded with zeros (which add nothing) rather than left to a scalar loop. Shapes that are not whole blocks
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

/// Pairs of `a` kept per row block (4 KiB on the stack): k up to 1024; longer sums take the
/// portable loop.
const MAX_PAIRS: usize = 512;

#[target_feature(enable = "sse2")]
#[inline]
fn matmul_i16_sse2<Out>(shape: MatmulShape, a: &[i16], b: &[i16], c: &mut [Out], finish: impl Fn(usize, i64) -> Out) {
    let MatmulShape { m, n, k, a_row_stride: ars, a_col_stride: acs } = shape;
    assert!(c.len() >= m * n && b.len() >= k * n, "matmul: output or b too short");
    if m > 0 && k > 0 {
        assert!(a.len() > (m - 1) * ars + (k - 1) * acs, "matmul: a too short");
    }
    // `a[i][p]`, and 0 past the end so that an odd k pairs its last step with nothing.
    let a_at = |i: usize, p: usize| if p < k { a[i * ars + p * acs] } else { 0 };
    let pairs = k.div_ceil(2);
    let mut kept = [[0u32; MAX_PAIRS]; MR];
    for i0 in (0..m).step_by(MR) {
        let rows = MR.min(m - i0);
        // `(a[i][2q], a[i][2q+1])` as the 32 bits `pmaddwd` multiplies by a pair of b, gathered
        // once per row block and used by every column block; 0 for rows past m.
        for (r, row) in kept.iter_mut().enumerate() {
            for (q, bits) in row[..pairs].iter_mut().enumerate() {
                let i = i0 + r;
                *bits =
                    if r < rows { a_at(i, 2 * q) as u16 as u32 | (a_at(i, 2 * q + 1) as u16 as u32) << 16 } else { 0 };
            }
        }
        row_block(k, n, b, i0, rows, c, &finish, kept.each_ref().map(|row| &row[..pairs]));
    }
}

/// Up to eight operands of `s` as one register, zeros after them.
#[target_feature(enable = "sse2")]
#[inline]
fn load_upto8(s: &[i16], count: usize) -> __m128i {
    if count >= 8 {
        load8(s)
    } else {
        let mut padded = [0i16; 8];
        padded[..count].copy_from_slice(&s[..count]);
        load8(&padded)
    }
}

/// The pairs `(b[p][j..j+8], b[p+1][j..j+8])` interleaved: columns j..j+4, then j+4..j+8;
/// `count` columns (zeros after them), and zeros for row `p + 1` when `last` (odd k).
#[target_feature(enable = "sse2")]
#[inline]
fn b_pairs(b: &[i16], n: usize, p: usize, j: usize, count: usize, last: bool) -> [__m128i; 2] {
    let b0 = load_upto8(&b[p * n + j..], count);
    let b1 = if last { _mm_setzero_si128() } else { load_upto8(&b[(p + 1) * n + j..], count) };
    [_mm_unpacklo_epi16(b0, b1), _mm_unpackhi_epi16(b0, b1)]
}

/// Rows `i0..i0 + rows` (at most MR) of the product, all columns; `a_pairs[r][q]` holds the
/// pair bits of row `i0 + r` for k-steps `2q, 2q + 1`. The last column block may be narrower
/// than NR: its missing columns are zeros in b and are not stored.
#[target_feature(enable = "sse2")]
#[inline]
#[allow(clippy::too_many_arguments)]
fn row_block<Out>(
    k: usize,
    n: usize,
    b: &[i16],
    i0: usize,
    rows: usize,
    c: &mut [Out],
    finish: &impl Fn(usize, i64) -> Out,
    a_pairs: [&[u32]; MR],
) {
    let zero = _mm_setzero_si128();
    for j0 in (0..n).step_by(NR) {
        let width = NR.min(n - j0);
        let mut acc = [[0i64; NR]; MR];
        for run0 in (0..k).step_by(PRODUCT_BLOCK) {
            let run_end = k.min(run0 + PRODUCT_BLOCK);
            let (q0, q1) = (run0 / 2, run_end.div_ceil(2));
            let mut inner = [[zero; NV]; MR];
            let a_run = a_pairs.map(|row| &row[q0..q1]);
            for (t, q) in (q0..q1).enumerate() {
                let p = 2 * q;
                let b_row = b_pairs(b, n, p, j0, width, p + 1 == k);
                for (inner_row, a_row) in inner.iter_mut().zip(&a_run) {
                    let a_pair = _mm_set1_epi32(a_row[t] as i32);
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
        for (r, acc_row) in acc[..rows].iter().enumerate() {
            for (jj, (out, sum)) in c[(i0 + r) * n + j0..][..width].iter_mut().zip(acc_row).enumerate() {
                *out = finish(j0 + jj, *sum);
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
        // k = 1025 takes the path that does not keep the pairs of a.
        for (m, n, k) in [
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
            (5, 9, 1025),
        ] {
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
