//! Natural logarithm for the cross-entropy. Origin: `libm::logf` 0.2.16 (musl's `logf`).
//!
//! Contract: NUMERICS.md §4.2.

/// ln(x), as computed by the pinned `libm::logf`.
///
/// Contract: NUMERICS.md §4.2. Used by the softmax cross-entropy (§6.3) on the softmax
/// denominator, which is always in [1, classes].
#[inline]
pub fn ln(x: f32) -> f32 {
    libm::logf(x)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::math::testing::ulps;

    #[test]
    fn special_values() {
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f32::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert_eq!(ln(f32::INFINITY), f32::INFINITY);
        assert!(ln(f32::from_bits(1)).is_finite(), "smallest denormal");
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn within_one_ulp_of_f64_on_softmax_denominators() {
        let mut x = 1.0f32;
        while x < 4096.0 {
            let want = (x as f64).ln() as f32;
            assert!(ulps(ln(x), want) <= 1, "ln({x})");
            x *= 1.000_37;
        }
    }
}
