//! The float product's register tiles, written once over a vector type.
//!
//! Contract: NUMERICS.md §5.1. A tile holds `R` rows × `NV` vectors of output sums in
//! registers and advances all of them together, one k-step at a time, k ascending: for each
//! `p`, every sum gets `sum + (a[i][p] · b[p][j])` — one rounded multiply, then one rounded add,
//! never fused. Lanes hold different columns `j`, so no sum is ever split or reordered and every
//! output is bit for bit the sequential dot product of §5.1, whatever `R`, `NV` or the lane
//! width. Each sum starts from +0, as in the portable loop.

use super::MatmulShape;

/// One register of `W` f32 lanes and the few operations a tile needs.
///
/// Every method is `unsafe` because it executes the unit's instructions: the caller guarantees
/// the processor has them (the unit's `#[target_feature]` entry point), and that pointers are
/// valid for the lanes read or written.
pub(super) trait Lanes: Copy {
    /// Lanes per register.
    const W: usize;
    /// All lanes +0.
    unsafe fn zero() -> Self;
    /// All lanes `x`.
    unsafe fn splat(x: f32) -> Self;
    /// `W` values from `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// `len < W` values from `p`, the other lanes +0; reads nothing past `p + len`.
    unsafe fn load_part(p: *const f32, len: usize) -> Self;
    /// Lane-wise rounded addition.
    unsafe fn add(self, other: Self) -> Self;
    /// Lane-wise rounded multiplication.
    unsafe fn mul(self, other: Self) -> Self;
    /// Stores `W` values at `p`.
    unsafe fn store(self, p: *mut f32);
}

/// Widest tile row in f32 values (`NV · W`), the size of the stack row a tile is stored into.
const MAX_TILE_COLS: usize = 32;

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])` with tiles of `R` rows × `NV` registers; rows
/// left over take one-row tiles, columns left over one-register tiles and a partial register.
///
/// # Safety
/// The processor has `V`'s instructions; the slices passed [`super::check_shape`].
#[inline(always)]
pub(super) unsafe fn matmul<V: Lanes, const R: usize, const NV: usize, Out>(
    shape: MatmulShape,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    finish: &impl Fn(usize, f32) -> Out,
) {
    debug_assert!(NV * V::W <= MAX_TILE_COLS);
    let m = shape.m;
    let full_rows = m - m % R;
    let mut i0 = 0;
    while i0 < full_rows {
        // SAFETY: rows i0..i0 + R < m, and the caller's guarantees.
        unsafe { row_block::<V, R, NV, Out>(shape, i0, a, b, c, finish) };
        i0 += R;
    }
    while i0 < m {
        // SAFETY: row i0 < m, and the caller's guarantees.
        unsafe { row_block::<V, 1, NV, Out>(shape, i0, a, b, c, finish) };
        i0 += 1;
    }
}

/// The rows `i0..i0 + R` of the product, every column.
///
/// # Safety
/// As [`matmul`], and `i0 + R <= m`.
#[inline(always)]
unsafe fn row_block<V: Lanes, const R: usize, const NV: usize, Out>(
    shape: MatmulShape,
    i0: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    finish: &impl Fn(usize, f32) -> Out,
) {
    let n = shape.n;
    let mut j0 = 0;
    // SAFETY (all three): the tile's columns j0..j0 + width lie in 0..n, and the caller's guarantees.
    while j0 + NV * V::W <= n {
        unsafe { tile::<V, R, NV, false, Out>(shape, i0, j0, NV * V::W, a, b, c, finish) };
        j0 += NV * V::W;
    }
    while j0 + V::W <= n {
        unsafe { tile::<V, R, 1, false, Out>(shape, i0, j0, V::W, a, b, c, finish) };
        j0 += V::W;
    }
    if j0 < n {
        unsafe { tile::<V, R, 1, true, Out>(shape, i0, j0, n - j0, a, b, c, finish) };
    }
}

/// One tile: rows `i0..i0 + R`, columns `j0..j0 + width` (`width = NV · W`, or `< W` for the
/// partial register when `PART`).
///
/// # Safety
/// As [`matmul`]; `i0 + R <= m`, `j0 + width <= n`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn tile<V: Lanes, const R: usize, const NV: usize, const PART: bool, Out>(
    shape: MatmulShape,
    i0: usize,
    j0: usize,
    width: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    finish: &impl Fn(usize, f32) -> Out,
) {
    let MatmulShape { n, k, a_row_stride: ars, a_col_stride: acs, .. } = shape;
    // SAFETY: every vector operation below needs only V's instructions (caller). Reads of a are
    // at (i0 + r)·ars + p·acs with i0 + r < m and p < k, inside `a` by check_shape; reads of b
    // are row p < k, columns j0..j0 + width ≤ n (a partial load reads exactly `width`), inside
    // `b` by check_shape.
    unsafe {
        let mut acc = [[V::zero(); NV]; R];
        let a_rows = a.as_ptr().add(i0 * ars);
        let b_cols = b.as_ptr().add(j0);
        for p in 0..k {
            let b_row = b_cols.add(p * n);
            let mut bv = [V::zero(); NV];
            for (v, bv) in bv.iter_mut().enumerate() {
                *bv = if PART { V::load_part(b_row, width) } else { V::load(b_row.add(v * V::W)) };
            }
            let a_col = a_rows.add(p * acs);
            for (r, acc_row) in acc.iter_mut().enumerate() {
                let x = V::splat(*a_col.add(r * ars));
                for (sum, bv) in acc_row.iter_mut().zip(&bv) {
                    *sum = sum.add(x.mul(*bv));
                }
            }
        }
        for (r, acc_row) in acc.iter().enumerate() {
            let mut row = [0.0f32; MAX_TILE_COLS];
            for (v, sum) in acc_row.iter().enumerate() {
                sum.store(row.as_mut_ptr().add(v * V::W));
            }
            let out = &mut c[(i0 + r) * n + j0..][..width];
            for (jj, (o, s)) in out.iter_mut().zip(&row).enumerate() {
                *o = finish(j0 + jj, *s);
            }
        }
    }
}
