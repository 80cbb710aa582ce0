//! The float product's tiles on x86: SSE2 (4 lanes), AVX2 (8) and AVX-512 (16).
//!
//! Contract: NUMERICS.md §5.1 (see `f32_tiles`). Only `mulps`/`addps` and their wider forms are
//! used — never an FMA instruction, even where the processor has one — and they round every lane
//! as the scalar `*` and `+` do, under the same MXCSR (round to nearest, subnormals kept).

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use super::f32_tiles::{matmul, Lanes};
use super::MatmulShape;

#[derive(Clone, Copy)]
pub(super) struct Sse2(__m128);

impl Lanes for Sse2 {
    const W: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(_mm_setzero_ps())
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Self(_mm_set1_ps(x))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller's pointer covers 4 values; no alignment needed.
        Self(unsafe { _mm_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, len: usize) -> Self {
        let mut lanes = [0.0f32; 4];
        // SAFETY: the caller's pointer covers `len < 4` values.
        unsafe { core::ptr::copy_nonoverlapping(p, lanes.as_mut_ptr(), len) };
        // SAFETY: `lanes` holds 4 values.
        Self(unsafe { _mm_loadu_ps(lanes.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        Self(_mm_add_ps(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        Self(_mm_mul_ps(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller's pointer covers 4 values.
        unsafe { _mm_storeu_ps(p, self.0) }
    }
}

#[derive(Clone, Copy)]
pub(super) struct Avx2(__m256);

impl Lanes for Avx2 {
    const W: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(_mm256_setzero_ps())
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Self(_mm256_set1_ps(x))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller's pointer covers 8 values; no alignment needed.
        Self(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, len: usize) -> Self {
        // Lanes below `len` are read; masked-off lanes are neither read nor able to fault.
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(len as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        // SAFETY: the caller's pointer covers the `len` unmasked values.
        Self(unsafe { _mm256_maskload_ps(p, mask) })
    }
    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        Self(_mm256_add_ps(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        Self(_mm256_mul_ps(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller's pointer covers 8 values.
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
}

#[derive(Clone, Copy)]
pub(super) struct Avx512(__m512);

impl Lanes for Avx512 {
    const W: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(_mm512_setzero_ps())
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Self(_mm512_set1_ps(x))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller's pointer covers 16 values; no alignment needed.
        Self(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, len: usize) -> Self {
        // Masked-off lanes are zero and never read (no fault past `len`).
        // SAFETY: the caller's pointer covers the `len` unmasked values.
        Self(unsafe { _mm512_maskz_loadu_ps(((1u32 << len) - 1) as u16, p) })
    }
    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        Self(_mm512_add_ps(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        Self(_mm512_mul_ps(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller's pointer covers 16 values.
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
}

// Tile shapes: as many sums as the register file holds with room for the row of b, the
// broadcast a and one product. SSE2 and AVX2 have 16 registers: 4 rows × 2 registers; AVX-512
// has 32: 8 rows × 2 registers (16 sums in flight, enough to hide the adds' latency on two ports).

/// # Safety
/// The processor has SSE2; the slices passed `check_shape`.
#[target_feature(enable = "sse2")]
pub(super) unsafe fn matmul_sse2<Out>(
    s: MatmulShape,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    f: &impl Fn(usize, f32) -> Out,
) {
    // SAFETY: forwarded from the caller.
    unsafe { matmul::<Sse2, 4, 2, Out>(s, a, b, c, f) }
}

/// # Safety
/// The processor has AVX2; the slices passed `check_shape`.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn matmul_avx2<Out>(
    s: MatmulShape,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    f: &impl Fn(usize, f32) -> Out,
) {
    // SAFETY: forwarded from the caller.
    unsafe { matmul::<Avx2, 4, 2, Out>(s, a, b, c, f) }
}

/// # Safety
/// The processor has AVX-512 F; the slices passed `check_shape`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn matmul_avx512<Out>(
    s: MatmulShape,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    f: &impl Fn(usize, f32) -> Out,
) {
    // SAFETY: forwarded from the caller.
    unsafe { matmul::<Avx512, 8, 2, Out>(s, a, b, c, f) }
}
