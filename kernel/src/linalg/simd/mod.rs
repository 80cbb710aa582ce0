//! Vector code for the matrix products, and the choice of which to run.
//!
//! Contract: NUMERICS.md §5.1 and §13.2. Every function here computes exactly what the portable
//! loop [`super::matmul_with`] computes — the same sums in the same order, or (fixed point) the
//! same exact integer sums — only faster; the tests below check each unit against it on random
//! shapes with remainders in every dimension. Which unit runs is chosen by whoever runs the
//! kernel ([`crate::exec::Executor::vector_unit`]), not by the kernel, which cannot ask the
//! processor without std.
//!
//! This module holds all of the kernel's `unsafe` code: vector loads and stores through raw
//! pointers, and calls into `#[target_feature]` functions. Every block says why it is sound;
//! bounds are checked once per product, before any vector code runs ([`check_shape`]).
#![allow(unsafe_code)]

#[cfg(target_arch = "aarch64")]
mod f32_neon;
// The tiles are written once for every vector type; only targets with vector code use them.
#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
mod f32_tiles;
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
mod f32_x86;
#[cfg(target_arch = "x86_64")]
mod i16_x86;
mod unit;

pub use unit::{UnitKind, VectorUnit};

use super::{matmul_with, MatmulShape};
use crate::arith::{Fixed, Float};

/// Panics unless the slices are long enough for `shape` (the same checks as the portable loop).
fn check_shape<T, Out>(shape: MatmulShape, a: &[T], b: &[T], c: &[Out]) {
    let MatmulShape { m, n, k, a_row_stride: ars, a_col_stride: acs } = shape;
    assert!(c.len() >= m * n && b.len() >= k * n, "matmul: output or b too short");
    if m > 0 && k > 0 {
        assert!(a.len() > (m - 1) * ars + (k - 1) * acs, "matmul: a too short");
    }
}

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])` in f32 on `unit`, every sum in the canonical order
/// of §5.1: bit for bit [`super::matmul_with`]`::<Float, _>`.
///
/// Contract: NUMERICS.md §5.1.
///
/// # Panics
/// If a slice is too short for `shape` (a caller bug; the kernel's layouts size them).
#[inline]
pub fn matmul_f32_with<Out>(
    unit: VectorUnit,
    shape: MatmulShape,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    finish: impl Fn(usize, f32) -> Out,
) {
    check_shape(shape, a, b, c);
    match unit.kind() {
        // SAFETY (x86 arms): a VectorUnit of an x86 kind is only made for a processor that has
        // its instructions (`VectorUnit::baseline`, or the caller of `new_unchecked`), and the
        // slices were checked above.
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        UnitKind::Avx512 => unsafe { f32_x86::matmul_avx512(shape, a, b, c, &finish) },
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        UnitKind::Avx2 => unsafe { f32_x86::matmul_avx2(shape, a, b, c, &finish) },
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        UnitKind::Sse2 => unsafe { f32_x86::matmul_sse2(shape, a, b, c, &finish) },
        // SAFETY: as above, for NEON.
        #[cfg(target_arch = "aarch64")]
        UnitKind::Neon => unsafe { f32_neon::matmul_neon(shape, a, b, c, &finish) },
        _ => matmul_with::<Float, Out>(shape, a, b, c, finish),
    }
}

/// A piece of element-wise work that [`vectorised`] compiles for a vector unit.
///
/// Implementations mark [`Work::run`] `#[inline(always)]`: it is then compiled inside the unit's
/// entry point, with the unit's instructions, together with everything it inlines. (A closure
/// would not do: the compiler declines to inline a large closure called from several places.)
pub trait Work {
    /// What the work returns.
    type Output;
    /// Does the work.
    fn run(self) -> Self::Output;
}

/// Runs `work` compiled for `unit`: the element-wise loops inlined into it (an optimizer update,
/// operand conversions) are vectorised as wide as `unit` allows.
///
/// Contract: NUMERICS.md §3 and §5. Compiling for a wider unit changes no result: Rust never
/// contracts `a * b + c` into an FMA or reorders floating-point operations, whatever the target
/// features, and integer arithmetic is exact in any width.
#[inline(always)]
pub fn vectorised<W: Work>(unit: VectorUnit, work: W) -> W::Output {
    match unit.kind() {
        // SAFETY (x86 arms): a VectorUnit of these kinds is only made for a processor that has
        // their instructions (see `matmul_f32_with`).
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        UnitKind::Avx512 => unsafe { with_avx512(work) },
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        UnitKind::Avx2 => unsafe { with_avx2(work) },
        _ => work.run(),
    }
}

/// # Safety
/// The processor has AVX-512 F and BW.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn with_avx512<W: Work>(work: W) -> W::Output {
    work.run()
}

/// # Safety
/// The processor has AVX2.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2<W: Work>(work: W) -> W::Output {
    work.run()
}

/// `c ← a · b` in f32 on `unit` (overwrites `c`): [`matmul_f32_with`] storing the sums.
///
/// Contract: NUMERICS.md §5.1.
pub fn matmul_on(unit: VectorUnit, shape: MatmulShape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul_f32_with(unit, shape, a, b, c, |_, sum| sum);
}

/// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])` over the fixed path's 16-bit operands on `unit`:
/// exact sums (§13.2), so bit for bit [`super::matmul_with`]`::<Fixed, _>`.
///
/// Contract: NUMERICS.md §13.2.
///
/// # Panics
/// If a slice is too short for `shape`.
#[inline]
pub fn matmul_i16_with<Out>(
    unit: VectorUnit,
    shape: MatmulShape,
    a: &[i16],
    b: &[i16],
    c: &mut [Out],
    finish: impl Fn(usize, i64) -> Out,
) {
    check_shape(shape, a, b, c);
    match unit.kind() {
        #[cfg(target_arch = "x86_64")]
        kind @ (UnitKind::Sse2 | UnitKind::Avx2 | UnitKind::Avx512) => {
            i16_x86::matmul_i16(kind, shape, a, b, c, finish)
        }
        _ => matmul_with::<Fixed, Out>(shape, a, b, c, finish),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Values of mixed magnitude and sign, so that any change of summation order would round
    /// differently; some exact zeros of both signs and subnormals too.
    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                match x % 16 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => f32::from_bits(x >> 10), // subnormal or tiny
                    _ => {
                        let mantissa = (x >> 9) as f32 / (1 << 23) as f32 - 0.5;
                        mantissa * [1.0e-3, 1.0, 37.0, 1.0e4][(x >> 4 & 3) as usize]
                    }
                }
            })
            .collect()
    }

    /// Every unit this processor can run: the portable loops, the compile target's baseline and,
    /// on x86, every unit std's detection confirms (the tests link std).
    fn units() -> Vec<VectorUnit> {
        // Only x86 adds detected units below.
        #[cfg_attr(not(any(target_arch = "x86_64", target_arch = "x86")), allow(unused_mut))]
        let mut units = std::vec![VectorUnit::PORTABLE, VectorUnit::baseline()];
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        for (kind, present) in [
            (UnitKind::Sse2, std::arch::is_x86_feature_detected!("sse2")),
            (UnitKind::Avx2, std::arch::is_x86_feature_detected!("avx2")),
            (
                UnitKind::Avx512,
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw"),
            ),
        ] {
            if present {
                // SAFETY: std's run-time detection has just confirmed the instructions.
                units.push(unsafe { VectorUnit::new_unchecked(kind) });
            }
        }
        units
    }

    #[test]
    fn every_unit_equals_the_portable_loop_bitwise() {
        let shapes: &[(usize, usize, usize)] = if cfg!(miri) {
            &[(1, 1, 1), (3, 7, 5), (9, 33, 3), (0, 4, 3), (4, 0, 3), (4, 4, 0)]
        } else {
            &[
                (1, 1, 1),
                (3, 7, 5),
                (4, 8, 1),
                (5, 9, 13),
                (8, 16, 64),
                (13, 31, 17),
                (9, 33, 70),
                (17, 50, 3),
                (32, 10, 64),
                (0, 4, 3),
                (4, 0, 3),
                (4, 4, 0),
            ]
        };
        for unit in units() {
            for &(m, n, k) in shapes {
                for transposed in [false, true] {
                    let s =
                        if transposed { MatmulShape::transposed_a(m, n, k) } else { MatmulShape::row_major(m, n, k) };
                    let a = values(m * k, 1 + m as u32);
                    let b = values(k * n, 7 + n as u32);
                    let mut got = std::vec![f32::NAN; m * n];
                    let mut want = std::vec![f32::NAN; m * n];
                    matmul_on(unit, s, &a, &b, &mut got);
                    matmul_with::<Float, f32>(s, &a, &b, &mut want, |_, acc| acc);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "{unit} {m}x{n}x{k} transposed {transposed}");
                }
            }
        }
    }

    #[test]
    fn every_unit_equals_the_portable_loop_on_random_shapes() {
        // Shapes drawn from a fixed generator, so that a failure reproduces: sizes 1 to 70 in
        // every dimension leave every kind of remainder for every tile width.
        let mut x = 0x9E37_79B9u32;
        let mut next = |limit: u32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % limit) as usize + 1
        };
        let cases = if cfg!(miri) { 3 } else { 60 };
        for case in 0..cases {
            let (m, n, k) = (next(70), next(70), next(70));
            let transposed = case % 2 == 1;
            let s = if transposed { MatmulShape::transposed_a(m, n, k) } else { MatmulShape::row_major(m, n, k) };
            let a = values(m * k, 100 + case);
            let b = values(k * n, 200 + case);
            let mut want = std::vec![f32::NAN; m * n];
            matmul_with::<Float, f32>(s, &a, &b, &mut want, |_, acc| acc);
            for unit in units() {
                let mut got = std::vec![f32::NAN; m * n];
                matmul_on(unit, s, &a, &b, &mut got);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{unit} {m}x{n}x{k} transposed {transposed}");
            }
        }
    }

    #[test]
    fn finish_sees_each_column_index() {
        let (m, n, k) = (5, 21, 3);
        let a = values(m * k, 3);
        let b = values(k * n, 4);
        for unit in units() {
            let mut c = std::vec![(0usize, 0.0f32); m * n];
            matmul_f32_with(unit, MatmulShape::row_major(m, n, k), &a, &b, &mut c, |j, s| (j, s));
            for (idx, (j, _)) in c.iter().enumerate() {
                assert_eq!(*j, idx % n, "{unit}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for kind in UnitKind::ALL {
            assert_eq!(UnitKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(UnitKind::from_name("avx"), None);
    }
}
