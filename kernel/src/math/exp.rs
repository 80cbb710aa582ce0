//! e^x for the softmax. Origin: `libm::expf` 0.2.16 (a port of musl's `expf`), pinned exactly.
//!
//! Contract: NUMERICS.md §4.1.

/// e^x, as computed by the pinned `libm::expf`.
///
/// Contract: NUMERICS.md §4.1. Used by the softmax (§6.3) and the sigmoid (§4.4).
#[inline]
pub fn exp(x: f32) -> f32 {
    libm::expf(x)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::math::testing::ulps;

    #[test]
    fn special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        // Overflow and underflow thresholds: the softmax relies on exp(x <= 0) <= 1 and on
        // large negative inputs giving 0 or a denormal, never NaN.
        assert_eq!(exp(89.0), f32::INFINITY);
        assert_eq!(exp(-104.0), 0.0);
        assert!(exp(-100.0) > 0.0 && exp(-100.0) < f32::MIN_POSITIVE, "denormal kept");
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn within_one_ulp_of_f64_over_softmax_range() {
        // The softmax evaluates exp on z - max <= 0; sweep [-104, 1] densely.
        let mut x = -104.0f32;
        while x < 1.0 {
            let want = (x as f64).exp() as f32;
            let got = exp(x);
            if want >= f32::MIN_POSITIVE {
                assert!(ulps(got, want) <= 1, "exp({x}) = {got}, f64 says {want}");
            }
            x += 0.000_731;
        }
    }
}
