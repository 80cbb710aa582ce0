//! The float product's tiles on aarch64 NEON (4 lanes).
//!
//! Contract: NUMERICS.md §5.1 (see `f32_tiles`). `fmul` then `fadd` — never `fmla`, which would
//! round once instead of twice.

use core::arch::aarch64::*;

use super::f32_tiles::{matmul, Lanes};
use super::MatmulShape;

#[derive(Clone, Copy)]
pub(super) struct Neon(float32x4_t);

impl Lanes for Neon {
    const W: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Self(vdupq_n_f32(0.0))
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Self(vdupq_n_f32(x))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller's pointer covers 4 values.
        Self(unsafe { vld1q_f32(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, len: usize) -> Self {
        let mut lanes = [0.0f32; 4];
        // SAFETY: the caller's pointer covers `len < 4` values.
        unsafe { core::ptr::copy_nonoverlapping(p, lanes.as_mut_ptr(), len) };
        // SAFETY: `lanes` holds 4 values.
        Self(unsafe { vld1q_f32(lanes.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        Self(vaddq_f32(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        Self(vmulq_f32(self.0, other.0))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller's pointer covers 4 values.
        unsafe { vst1q_f32(p, self.0) }
    }
}

/// NEON has 32 registers: 4 rows × 4 registers of sums (16 in flight), 4 of b, the broadcast a
/// and a product.
///
/// # Safety
/// The processor has NEON; the slices passed `check_shape`.
#[target_feature(enable = "neon")]
pub(super) unsafe fn matmul_neon<Out>(
    s: MatmulShape,
    a: &[f32],
    b: &[f32],
    c: &mut [Out],
    f: &impl Fn(usize, f32) -> Out,
) {
    // SAFETY: forwarded from the caller.
    unsafe { matmul::<Neon, 4, 4, Out>(s, a, b, c, f) }
}
