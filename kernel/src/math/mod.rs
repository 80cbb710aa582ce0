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

#[cfg(test)]
pub(crate) mod testing {
    /// Distance in units in the last place between two finite f32 values of the same sign.
    pub fn ulps(a: f32, b: f32) -> u32 {
        let (ia, ib) = (a.to_bits() as i64, b.to_bits() as i64);
        (ia - ib).unsigned_abs() as u32
    }
}
