//! Logistic sigmoid. Origin: our own formula over `exp` (§4.1) and one IEEE division.
//!
//! Contract: NUMERICS.md §4.4.

use super::exp;

/// σ(x) = 1 / (1 + exp(−x)), evaluated exactly in that order.
///
/// Contract: NUMERICS.md §4.4. For x < −88.7 `exp(−x)` overflows to +∞ and the result is
/// +0, never NaN; for large x it is exactly 1.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
        assert_eq!(sigmoid(-100.0), 0.0);
        assert_eq!(sigmoid(30.0), 1.0);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn close_to_f64_reference() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            let got = sigmoid(x) as f64;
            assert!((got - want).abs() <= 3.0 * f32::EPSILON as f64 * want, "sigmoid({x})");
            x += 0.0011;
        }
    }
}
