//! The fixed path's products on x86-64: 16-bit operands multiplied two at a time with
//! `pmaddwd`, in SSE2, AVX2 or AVX-512 BW registers.
//!
//! Contract: NUMERICS.md §13.2. Every sum of the fixed path is exact, so any grouping gives the
//! same bits; this loop groups the products of k-steps `p` and `p + 1` in one `pmaddwd`
//! (`a_p·b_pj + a_{p+1}·b_{p+1,j}` in each 32-bit lane), sums 16 such pairs (32 products, the run
//! of [`crate::fixed::PRODUCT_BLOCK`]) in i32 lanes and adds each run to an i64 sum. The portable
//! loop of [`super::matmul_with`] gives the same results (tests below and in `simd`).
//!
//! A register of `NR` 16-bit values holds one row of `NR` columns of b. Interleaving rows p and
//! p + 1 (`unpacklo`/`unpackhi`, which work within each 128-bit group of the register) gives two
//! registers of column pairs: in group `g`, the low one holds columns `8g..8g+4`, the high one
//! `8g+4..8g+8` ([`column`]). Columns left over after the widest blocks take SSE2 blocks of 8, the
//! very last ones padded with zeros (which add nothing).

use super::{MatmulShape, UnitKind};
use crate::fixed::PRODUCT_BLOCK;
use core::arch::x86_64::*;

/// Rows per register block.
const MR: usize = 4;
/// Widest block, in columns (AVX-512: 32 values of 16 bits).
const MAX_NR: usize = 32;
/// Columns of an SSE2 block, the width of the padded last columns.
const SSE2_NR: usize = 8;

/// A register of 16-bit operands and the 32-bit sums `pmaddwd` makes of them.
///
/// Every method is `unsafe` because it executes the unit's instructions (the caller's
/// `#[target_feature]` entry point guarantees them) and, for loads and stores, reads or writes
/// through a pointer the caller guarantees.
trait PairLanes: Copy {
    /// 16-bit values per register: the columns of one block.
    const NR: usize;
    unsafe fn zero() -> Self;
    /// `NR` values from `p`.
    unsafe fn load(p: *const i16) -> Self;
    /// Interleaves the low four 16-bit values of each 128-bit group of `a` and `b`.
    unsafe fn unpack_lo(a: Self, b: Self) -> Self;
    /// Interleaves the high four 16-bit values of each 128-bit group of `a` and `b`.
    unsafe fn unpack_hi(a: Self, b: Self) -> Self;
    /// The 32 bits of a pair of a-values in every lane.
    unsafe fn splat_pair(bits: u32) -> Self;
    /// `pmaddwd`: lane-wise `a₀·b₀ + a₁·b₁` of 16-bit pairs, into 32 bits (exact here, §13.2).
    unsafe fn madd(a: Self, b: Self) -> Self;
    /// Lane-wise 32-bit addition.
    unsafe fn add32(a: Self, b: Self) -> Self;
    /// The `NR / 2` 32-bit lanes, into the front of `out`.
    unsafe fn store32(self, out: &mut [i32; MAX_NR / 2]);
}

#[derive(Clone, Copy)]
struct Sse2(__m128i);

impl PairLanes for Sse2 {
    const NR: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(_mm_setzero_si128())
    }
    #[inline(always)]
    unsafe fn load(p: *const i16) -> Self {
        // SAFETY: the caller's pointer covers 8 values; no alignment needed.
        Self(unsafe { _mm_loadu_si128(p.cast()) })
    }
    #[inline(always)]
    unsafe fn unpack_lo(a: Self, b: Self) -> Self {
        Self(_mm_unpacklo_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn unpack_hi(a: Self, b: Self) -> Self {
        Self(_mm_unpackhi_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn splat_pair(bits: u32) -> Self {
        Self(_mm_set1_epi32(bits as i32))
    }
    #[inline(always)]
    unsafe fn madd(a: Self, b: Self) -> Self {
        Self(_mm_madd_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn add32(a: Self, b: Self) -> Self {
        Self(_mm_add_epi32(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn store32(self, out: &mut [i32; MAX_NR / 2]) {
        // SAFETY: `out` holds 16 ≥ 4 values; no alignment needed.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), self.0) }
    }
}

#[derive(Clone, Copy)]
struct Avx2(__m256i);

impl PairLanes for Avx2 {
    const NR: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(_mm256_setzero_si256())
    }
    #[inline(always)]
    unsafe fn load(p: *const i16) -> Self {
        // SAFETY: the caller's pointer covers 16 values; no alignment needed.
        Self(unsafe { _mm256_loadu_si256(p.cast()) })
    }
    #[inline(always)]
    unsafe fn unpack_lo(a: Self, b: Self) -> Self {
        Self(_mm256_unpacklo_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn unpack_hi(a: Self, b: Self) -> Self {
        Self(_mm256_unpackhi_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn splat_pair(bits: u32) -> Self {
        Self(_mm256_set1_epi32(bits as i32))
    }
    #[inline(always)]
    unsafe fn madd(a: Self, b: Self) -> Self {
        Self(_mm256_madd_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn add32(a: Self, b: Self) -> Self {
        Self(_mm256_add_epi32(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn store32(self, out: &mut [i32; MAX_NR / 2]) {
        // SAFETY: `out` holds 16 ≥ 8 values; no alignment needed.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), self.0) }
    }
}

#[derive(Clone, Copy)]
struct Avx512(__m512i);

impl PairLanes for Avx512 {
    const NR: usize = 32;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(_mm512_setzero_si512())
    }
    #[inline(always)]
    unsafe fn load(p: *const i16) -> Self {
        // SAFETY: the caller's pointer covers 32 values; no alignment needed.
        Self(unsafe { _mm512_loadu_si512(p.cast()) })
    }
    #[inline(always)]
    unsafe fn unpack_lo(a: Self, b: Self) -> Self {
        Self(_mm512_unpacklo_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn unpack_hi(a: Self, b: Self) -> Self {
        Self(_mm512_unpackhi_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn splat_pair(bits: u32) -> Self {
        Self(_mm512_set1_epi32(bits as i32))
    }
    #[inline(always)]
    unsafe fn madd(a: Self, b: Self) -> Self {
        Self(_mm512_madd_epi16(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn add32(a: Self, b: Self) -> Self {
        Self(_mm512_add_epi32(a.0, b.0))
    }
    #[inline(always)]
    unsafe fn store32(self, out: &mut [i32; MAX_NR / 2]) {
        // SAFETY: `out` holds exactly 16 values; no alignment needed.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), self.0) }
    }
}

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])`, exact, for 16-bit operands whose products are
/// below 2²⁶ (§13.2), with the widest blocks `kind` allows (SSE2 for any other kind). Layouts as
/// in [`super::matmul_with`].
///
/// # Panics
/// If a slice is too short for `shape`.
#[inline(always)]
pub fn matmul_i16<Out>(
    kind: UnitKind,
    shape: MatmulShape,
    a: &[i16],
    b: &[i16],
    c: &mut [Out],
    finish: impl Fn(usize, i64) -> Out,
) {
    // k = 0: every sum is 0, and `b` has no row for the column blocks to start in; the portable
    // loop writes `finish(j, 0)`.
    if shape.k > 2 * MAX_PAIRS || shape.k == 0 {
        return super::matmul_with::<crate::arith::Fixed, Out>(shape, a, b, c, finish);
    }
    // SAFETY: a unit of kind AVX-512 or AVX2 is only made for a processor that has those
    // instructions (`VectorUnit`'s contract; AVX-512 units need F and BW); SSE2 is in every
    // x86-64 processor (the baseline of all x86_64 targets).
    unsafe {
        match kind {
            UnitKind::Avx512 => matmul_avx512(shape, a, b, c, finish),
            UnitKind::Avx2 => matmul_avx2(shape, a, b, c, finish),
            _ => matmul_sse2(shape, a, b, c, finish),
        }
    }
}

/// Pairs of `a` kept per row block at most (8 KiB on the stack, with 16 KiB of padded last
/// columns of b): k up to 1024; longer sums take the portable loop.
const MAX_PAIRS: usize = 512;
/// The buffers' size for the usual short sums (k up to 128), which are zeroed on every call.
const FEW_PAIRS: usize = 64;

/// # Safety
/// The processor has AVX-512 F and BW.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn matmul_avx512<Out>(s: MatmulShape, a: &[i16], b: &[i16], c: &mut [Out], f: impl Fn(usize, i64) -> Out) {
    // SAFETY: the caller's guarantee.
    unsafe { with_buffers::<Avx512, Out>(s, a, b, c, f) }
}

/// # Safety
/// The processor has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn matmul_avx2<Out>(s: MatmulShape, a: &[i16], b: &[i16], c: &mut [Out], f: impl Fn(usize, i64) -> Out) {
    // SAFETY: the caller's guarantee.
    unsafe { with_buffers::<Avx2, Out>(s, a, b, c, f) }
}

/// # Safety
/// The processor has SSE2 (every x86-64 one does).
#[target_feature(enable = "sse2")]
unsafe fn matmul_sse2<Out>(s: MatmulShape, a: &[i16], b: &[i16], c: &mut [Out], f: impl Fn(usize, i64) -> Out) {
    // SAFETY: the caller's guarantee.
    unsafe { with_buffers::<Sse2, Out>(s, a, b, c, f) }
}

/// Picks stack buffers for the k of `shape`.
///
/// # Safety
/// The processor has `V`'s instructions (and SSE2).
#[inline(always)]
unsafe fn with_buffers<V: PairLanes, Out>(
    shape: MatmulShape,
    a: &[i16],
    b: &[i16],
    c: &mut [Out],
    finish: impl Fn(usize, i64) -> Out,
) {
    // SAFETY (both): the caller's guarantee.
    if shape.k <= 2 * FEW_PAIRS {
        unsafe { product::<V, FEW_PAIRS, { 2 * FEW_PAIRS }, Out>(shape, a, b, c, finish) }
    } else {
        unsafe { product::<V, MAX_PAIRS, { 2 * MAX_PAIRS }, Out>(shape, a, b, c, finish) }
    }
}

/// The product with stack buffers for up to `P` pairs of k-steps (`K = 2P` steps).
///
/// # Safety
/// The processor has `V`'s instructions (and SSE2).
#[inline(always)]
unsafe fn product<V: PairLanes, const P: usize, const K: usize, Out>(
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
    let full_cols = n - n % SSE2_NR;
    if full_cols == n {
        // SAFETY: the caller's guarantee; no tail.
        return unsafe { row_blocks::<V, P, Out>(shape, a, b, &[], c, finish) };
    }
    // The last columns (fewer than 8) copied once into rows of 8 padded with zeros, so that
    // every block loads whole registers. Only here is this buffer made (and zeroed).
    let mut tail = [[0i16; SSE2_NR]; K];
    for (p, row) in tail[..k].iter_mut().enumerate() {
        row[..n - full_cols].copy_from_slice(&b[p * n + full_cols..][..n - full_cols]);
    }
    // SAFETY: the caller's guarantee.
    unsafe { row_blocks::<V, P, Out>(shape, a, b, tail[..k].as_flattened(), c, finish) }
}

/// Every row block: columns in blocks of `V::NR`, then SSE2 blocks of 8, then the last `n % 8`
/// from `tail` (rows of 8 padded with zeros).
///
/// # Safety
/// The processor has `V`'s instructions (and SSE2); the slices passed `product`'s checks.
#[inline(always)]
unsafe fn row_blocks<V: PairLanes, const P: usize, Out>(
    shape: MatmulShape,
    a: &[i16],
    b: &[i16],
    tail: &[i16],
    c: &mut [Out],
    finish: impl Fn(usize, i64) -> Out,
) {
    let MatmulShape { m, n, k, a_row_stride: ars, a_col_stride: acs } = shape;
    let wide_cols = n - n % V::NR;
    let full_cols = n - n % SSE2_NR;
    // `a[i][p]`, and 0 past the end so that an odd k pairs its last step with nothing.
    let a_at = |i: usize, p: usize| if p < k { a[i * ars + p * acs] } else { 0 };
    let pairs = k.div_ceil(2);
    let mut kept = [[0u32; MR]; P];
    let mut sums = [[0i64; MAX_NR]; MR];
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
        // SAFETY (all three): each block reads rows 0..k of `NR` columns starting inside its
        // slice, which `block` checks; the instructions are V's or SSE2 (caller).
        for j0 in (0..wide_cols).step_by(V::NR) {
            unsafe { block::<V>(k, &b[j0..], n, a_pairs, &mut sums) };
            store(&sums, c, n, i0, rows, j0, V::NR, &finish);
        }
        for j0 in (wide_cols..full_cols).step_by(SSE2_NR) {
            unsafe { block::<Sse2>(k, &b[j0..], n, a_pairs, &mut sums) };
            store(&sums, c, n, i0, rows, j0, SSE2_NR, &finish);
        }
        if full_cols < n {
            unsafe { block::<Sse2>(k, tail, SSE2_NR, a_pairs, &mut sums) };
            store(&sums, c, n, i0, rows, full_cols, n - full_cols, &finish);
        }
    }
}

/// `c[i0 + r][j0 + jj] ← finish(j0 + jj, sums[r][jj])` for the block's valid rows and columns.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn store<Out>(
    sums: &[[i64; MAX_NR]; MR],
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
///
/// # Safety
/// The processor has `V`'s instructions.
#[inline(always)]
unsafe fn block<V: PairLanes>(
    k: usize,
    b: &[i16],
    stride: usize,
    a_pairs: &[[u32; MR]],
    acc: &mut [[i64; MAX_NR]; MR],
) {
    assert!(k == 0 || b.len() >= (k - 1) * stride + V::NR, "matmul: b too short");
    assert!(a_pairs.len() == k.div_ceil(2), "matmul: pairs of a");
    *acc = [[0; MAX_NR]; MR];
    // SAFETY: V's instructions are available (caller). Loads read NR values at row p < k, that
    // is at most (k − 1)·stride + NR ≤ b.len() (asserted above).
    unsafe {
        let zero = V::zero();
        for run0 in (0..k).step_by(PRODUCT_BLOCK) {
            let run_end = k.min(run0 + PRODUCT_BLOCK);
            let (q0, q1) = (run0 / 2, run_end.div_ceil(2));
            let mut inner = [[zero; 2]; MR];
            for (q, a_q) in (q0..q1).zip(&a_pairs[q0..q1]) {
                let p = 2 * q;
                let b0 = V::load(b.as_ptr().add(p * stride));
                // The last step of an odd k is paired with zeros.
                let b1 = if p + 1 < k { V::load(b.as_ptr().add((p + 1) * stride)) } else { zero };
                let b_pairs = [V::unpack_lo(b0, b1), V::unpack_hi(b0, b1)];
                for (inner_row, a) in inner.iter_mut().zip(a_q) {
                    let a_pair = V::splat_pair(*a);
                    for (sum, b_pair) in inner_row.iter_mut().zip(&b_pairs) {
                        *sum = V::add32(*sum, V::madd(a_pair, *b_pair));
                    }
                }
            }
            // Each run's i32 sums put in column order (four-lane groups moved whole) and widened
            // into the i64 sums: contiguous loops, which the compiler does with vector moves,
            // sign extensions and adds.
            for (acc_row, inner_row) in acc.iter_mut().zip(&inner) {
                let mut lanes = [[0i32; MAX_NR / 2]; 2];
                inner_row[0].store32(&mut lanes[0]);
                inner_row[1].store32(&mut lanes[1]);
                let mut by_column = [0i32; MAX_NR];
                for (g, eight) in by_column[..V::NR].chunks_exact_mut(8).enumerate() {
                    eight[..4].copy_from_slice(&lanes[0][4 * g..][..4]);
                    eight[4..].copy_from_slice(&lanes[1][4 * g..][..4]);
                }
                for (acc_j, run) in acc_row[..V::NR].iter_mut().zip(&by_column) {
                    *acc_j = acc_j.wrapping_add(*run as i64);
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

    /// SSE2, and the wider kinds where this processor has them (std's detection, test-only).
    fn kinds() -> Vec<UnitKind> {
        let mut kinds = std::vec![UnitKind::Sse2];
        if std::arch::is_x86_feature_detected!("avx2") {
            kinds.push(UnitKind::Avx2);
        }
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw") {
            kinds.push(UnitKind::Avx512);
        }
        kinds
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
                (7, 77, 45),
                (4, 40, 130),
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
                matmul_with::<Fixed, i64>(s, &a, &b, &mut want, |_, acc| acc);
                for kind in kinds() {
                    got.fill(i64::MIN);
                    matmul_i16(kind, s, &a, &b, &mut got, |_, acc| acc);
                    assert_eq!(got, want, "{kind} {m}x{n}x{k} transposed {transposed}");
                }
            }
        }
    }
}
