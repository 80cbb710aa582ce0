//! The float path with the platform's transcendental functions: `samebits train --math
//! platform`.
//!
//! It exists only to show the divergence the contract removes (NUMERICS.md §3–§4): Rust's
//! `f32::exp`, `f32::ln` and `f32::tanh` call the target's C math library (glibc on Linux, the
//! MinGW-w64 runtime on Windows, wasi-libc on WebAssembly), whose results are not correctly
//! rounded and differ between libraries and versions, so a run's digest depends on the machine.
//! The kernel never calls them; its own float path is [`samebits::arith::Float`].

use samebits::arith::FloatWith;
use samebits::math::ElementaryF32;

/// The target's C library's `expf`, `logf` and `tanhf` (the sigmoid is the contract's formula
/// over this `exp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlatformMath;

impl ElementaryF32 for PlatformMath {
    #[inline]
    fn exp(x: f32) -> f32 {
        x.exp()
    }
    #[inline]
    fn ln(x: f32) -> f32 {
        x.ln()
    }
    #[inline]
    fn tanh(x: f32) -> f32 {
        x.tanh()
    }
}

/// The float path with [`PlatformMath`]: the same orders and roundings as
/// [`samebits::arith::Float`], other `exp`, `ln` and `tanh`.
pub type PlatformFloat = FloatWith<PlatformMath>;

#[cfg(test)]
mod tests {
    use super::*;
    use samebits::math::Portable;

    #[test]
    fn same_functions_up_to_rounding() {
        for x in [-20.0f32, -1.5, -0.1, 0.0, 0.3, 1.0, 7.25] {
            let close = |a: f32, b: f32| (a - b).abs() <= 4.0 * f32::EPSILON * a.abs().max(b.abs());
            assert!(close(PlatformMath::exp(x), Portable::exp(x)), "exp({x})");
            assert!(close(PlatformMath::tanh(x), Portable::tanh(x)), "tanh({x})");
            assert!(close(PlatformMath::sigmoid(x), Portable::sigmoid(x)), "sigmoid({x})");
            if x > 0.0 {
                assert!(close(PlatformMath::ln(x), Portable::ln(x)), "ln({x})");
            }
        }
    }
}
