//! Hyperbolic tangent activation. Origin: `libm::tanhf` 0.2.16 (musl's `tanhf`).
//!
//! Contract: NUMERICS.md §4.3.

/// tanh(x), as computed by the pinned `libm::tanhf`.
///
/// Contract: NUMERICS.md §4.3. Used by the Tanh activation (§6.2).
#[inline]
pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::math::testing::ulps;

    #[test]
    fn special_values_and_symmetry() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh(20.0), 1.0);
        let mut x = 0.0f32;
        while x < 12.0 {
            assert_eq!(tanh(-x), -tanh(x));
            x += 0.013;
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn within_two_ulps_of_f64() {
        let mut x = -12.0f32;
        while x < 12.0 {
            let want = (x as f64).tanh() as f32;
            assert!(ulps(tanh(x), want) <= 2, "tanh({x})");
            x += 0.000_93;
        }
    }
}
