//! Elementary functions used by the kernel, one per file.
//!
//! Contract: NUMERICS.md §4. Every transcendental function the kernel evaluates comes from
//! here, and each one is either the pinned `libm` crate (pure Rust, no platform library, no
//! `arch` feature) or a formula built only from correctly rounded IEEE operations. Nothing
//! here calls `std`, the C library or a compiler intrinsic, so the bits are the same on every
//! target, including soft-float microcontrollers and `miri`.

mod exp;
mod ln;
mod sigmoid;
mod sqrt;
mod tanh;

pub use exp::exp;
pub use ln::ln;
pub use sigmoid::sigmoid;
pub use sqrt::sqrt;
pub use tanh::tanh;

use core::fmt::Debug;

/// The transcendental functions of the float path: the ones whose bits differ between math
/// libraries (NUMERICS.md §4). The kernel's only implementation is [`Portable`], the functions
/// of this module; [`crate::arith::Float`] uses it.
///
/// The float path is generic over them ([`crate::arith::FloatWith`]) so that a program with
/// `std` can train with other functions — for instance to show how a platform's C library
/// changes the digest — without the kernel ever calling them.
pub trait ElementaryF32: Copy + Debug + Default + PartialEq + Eq + Send + Sync + 'static {
    /// `e^x`.
    fn exp(x: f32) -> f32;
    /// Natural logarithm.
    fn ln(x: f32) -> f32;
    /// Hyperbolic tangent.
    fn tanh(x: f32) -> f32;
    /// Logistic sigmoid, `1 / (1 + exp(−x))` with this set's `exp` (NUMERICS.md §4.4).
    #[inline]
    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + Self::exp(-x))
    }
}

/// The contract's functions, the same bits on every target: [`exp`], [`ln`], [`tanh`],
/// [`sigmoid`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Portable;

impl ElementaryF32 for Portable {
    #[inline]
    fn exp(x: f32) -> f32 {
        exp(x)
    }
    #[inline]
    fn ln(x: f32) -> f32 {
        ln(x)
    }
    #[inline]
    fn tanh(x: f32) -> f32 {
        tanh(x)
    }
    #[inline]
    fn sigmoid(x: f32) -> f32 {
        sigmoid(x)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    /// Distance in units in the last place between two finite f32 values of the same sign.
    pub fn ulps(a: f32, b: f32) -> u32 {
        let (ia, ib) = (a.to_bits() as i64, b.to_bits() as i64);
        (ia - ib).unsigned_abs() as u32
    }
}
