//! Matrix product in the canonical order: each output is a sequential dot product.
//!
//! Contract: NUMERICS.md §5.1. For every output element
//! `c[i][j] = (((+0 + a[i][0]·b[0][j]) + a[i][1]·b[1][j]) + …) + a[i][k-1]·b[k-1][j]`,
//! every product and every sum rounded to f32, k ascending. The blocked loop below keeps
//! MR×NR such sums in registers at once and advances them together over k; lanes hold
//! different j, so vectorising never reorders a single sum and no FMA is ever formed (Rust
//! does not contract `a * b + c`).

/// Columns per register block: two 4-lane or one 8-lane f32 vector register per row.
const NR: usize = 8;

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

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])`, every sum in the canonical order of §5.1.
///
/// Contract: NUMERICS.md §5.1. The sum starts at `zero` and adds one product at a time with
/// `step(acc, a, b)` (for f32: `acc + a·b`, rounded; for fixed point: exact). `finish` turns
/// the finished sum of column `j` into the stored value (adds a bias, narrows a format).
///
/// # Panics
/// If a slice is too short for `shape` (a caller bug; the kernel's layouts size them).
#[inline(always)]
pub fn matmul_with<X: Copy, Y: Copy, Acc: Copy, Out>(
    shape: MatmulShape,
    a: &[X],
    b: &[Y],
    c: &mut [Out],
    zero: Acc,
    step: impl Fn(Acc, X, Y) -> Acc,
    finish: impl Fn(usize, Acc) -> Out,
) {
    // Rows per register block: 4×8 f32 accumulators fill 8 SSE registers; 64-bit
    // accumulators take twice the room, so they get half the rows. The block shape never
    // changes a result, only which sums advance together.
    if core::mem::size_of::<Acc>() > 4 {
        blocked::<2, X, Y, Acc, Out>(shape, a, b, c, zero, step, finish)
    } else {
        blocked::<4, X, Y, Acc, Out>(shape, a, b, c, zero, step, finish)
    }
}

#[inline(always)]
fn blocked<const MR: usize, X: Copy, Y: Copy, Acc: Copy, Out>(
    shape: MatmulShape,
    a: &[X],
    b: &[Y],
    c: &mut [Out],
    zero: Acc,
    step: impl Fn(Acc, X, Y) -> Acc,
    finish: impl Fn(usize, Acc) -> Out,
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
            // One MR×NR block of outputs, accumulated in registers.
            let mut acc = [[zero; NR]; MR];
            for p in 0..k {
                let b_row: &[Y; NR] = b[p * n + j0..][..NR].try_into().unwrap();
                for (r, acc_row) in acc.iter_mut().enumerate() {
                    let a_ip = a[(i0 + r) * ars + p * acs];
                    for (acc_ij, b_pj) in acc_row.iter_mut().zip(b_row) {
                        *acc_ij = step(*acc_ij, a_ip, *b_pj);
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
            edge(shape, a, b, c, i, full_cols..n, zero, &step, &finish);
        }
    }
    for i in full_rows..m {
        edge(shape, a, b, c, i, 0..n, zero, &step, &finish);
    }
}

/// Outputs left over by the blocking: one row, the given columns, same order of operations.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn edge<X: Copy, Y: Copy, Acc: Copy, Out>(
    s: MatmulShape,
    a: &[X],
    b: &[Y],
    c: &mut [Out],
    i: usize,
    cols: core::ops::Range<usize>,
    zero: Acc,
    step: &impl Fn(Acc, X, Y) -> Acc,
    finish: &impl Fn(usize, Acc) -> Out,
) {
    for j in cols {
        let mut acc = zero;
        for p in 0..s.k {
            acc = step(acc, a[i * s.a_row_stride + p * s.a_col_stride], b[p * s.n + j]);
        }
        c[i * s.n + j] = finish(j, acc);
    }
}

/// `c ← a · b` in f32 (overwrites `c`), every element summed in the canonical order of §5.1.
///
/// Contract: NUMERICS.md §5.1.
pub fn matmul(shape: MatmulShape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul_with(shape, a, b, c, 0.0f32, |acc, x, y| acc + x * y, |_, acc| acc);
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
        for (m, n, k) in [
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
        ] {
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
