//! Square root for Adam and weight initialisation. Origin: `libm::sqrtf` 0.2.16 without the
//! `arch` feature: a software, correctly rounded square root.
//!
//! Contract: NUMERICS.md §4.5. IEEE 754 requires sqrt to be correctly rounded, so this gives
//! the same bits as a hardware `sqrtss`; `core` has no `f32::sqrt`, and libm's software
//! version also runs on soft-float targets and under miri.

/// √x, correctly rounded.
///
/// Contract: NUMERICS.md §4.5.
#[inline]
pub fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(sqrt(4.0), 2.0);
        assert_eq!(sqrt(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(sqrt(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(sqrt(-1.0).is_nan());
        assert_eq!(sqrt(f32::INFINITY), f32::INFINITY);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    #[allow(clippy::disallowed_methods)] // the hardware sqrt is the reference here
    fn correctly_rounded_against_hardware() {
        // std's f32::sqrt is the hardware instruction, which IEEE 754 requires to be
        // correctly rounded: both must agree bit for bit, denormals included.
        let mut bits = 0u32;
        while bits < 0x7f80_0000 {
            let x = f32::from_bits(bits);
            assert_eq!(sqrt(x).to_bits(), x.sqrt().to_bits(), "sqrt({x:e})");
            bits += 9_973;
        }
    }
}
