//! Logistic sigmoid, Q16 to Q16, with integer operations only.
//!
//! Contract: NUMERICS.md §13.4.
//!
//! Origin: σ(x) = 1/(1 + e^(−x)) = e^x/(1 + e^x), choosing for each sign of x the form whose
//! exponential does not grow (the usual overflow-free evaluation, as in PyTorch's and JAX's
//! sigmoid), on top of the fixed-point [`exp_q16_to_q30`].

use super::{div_round, exp_q16_to_q30};

/// 1 in Q30, the scale of [`exp_q16_to_q30`]'s result.
const ONE_Q30: i64 = 1 << 30;

/// σ(x / 2^16) = 1/(1 + e^(−x/2^16)) in Q16.
///
/// Contract: NUMERICS.md §13.4. The result is in [0, 2^16], non-decreasing in x, exactly 2^15
/// at 0, 0 for x ≤ −772240 and 2^16 for x ≥ 772240 (|x| ≳ 11.783, where σ is within 2^−17
/// of 0 or 1, up to the Q30 quantisation of E: the exact σ first rounds to 1 at 772244, and
/// the four inputs before it round up with an error ≤ 0.50003 units).
///
/// Algorithm: with E = e^(−|x|) in Q30 from [`exp_q16_to_q30`] (−|x| is always an i32),
/// - x ≥ 0: σ(x) = 1/(1 + E), i.e. `div_round(2^30·2^16, 2^30 + E)`;
/// - x < 0: σ(x) = E/(1 + E), i.e. `div_round(E·2^16, 2^30 + E)`.
///
/// Each is one exact rational rounded once, to nearest with ties to even.
///
/// Symmetry: σ(x) and σ(−x) use the same E, and their exact rationals add up to 2^16; rounding
/// to nearest with ties to even keeps that sum (on a tie k + 1/2, the two results are the even
/// one of k, k + 1 and the even one of 2^16 − k − 1, 2^16 − k, which sum to 2^16). So
/// `sigmoid_q16(x) + sigmoid_q16(−x) == 2^16` for every x > i32::MIN, and also
/// `sigmoid_q16(i32::MIN) + sigmoid_q16(i32::MAX) == 0 + 2^16`.
///
/// Error: E carries at most (0.5 + 2^−20.8)·2^−30 and |dσ/dE| = 1/(1 + E)² ≤ 1, so before the
/// one rounding the error is below 2^−31·(1 + 2^−19.8), i.e. 2^−15 units of Q16; the result's
/// error is at most 0.5 + 2^−15 (= 0.5000305) units of Q16, and is the nearest Q16 value
/// except within 2^−15 of a rounding boundary. Measured against f64 on all 2^32 inputs:
/// maximum 0.5000236 units (at x = 772240, the first input that saturates to 2^16).
pub fn sigmoid_q16(x: i32) -> i32 {
    if x >= 0 {
        let e = i64::from(exp_q16_to_q30(-x));
        div_round(ONE_Q30 << 16, ONE_Q30 + e) as i32
    } else {
        let e = i64::from(exp_q16_to_q30(x));
        div_round(e << 16, ONE_Q30 + e) as i32
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::fixed::math::testing::{check_i32, exhaustive_i32, range_i32, sweep_i32};

    /// The exact σ(x/2^16)·2^16 from f64, in the stable form for each sign (error below 2^−35
    /// units of Q16).
    fn want(x: i32) -> f64 {
        let x = f64::from(x) / 65536.0;
        let s = if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) };
        s * 65536.0
    }

    fn pair(x: i32) -> (i32, f64) {
        (sigmoid_q16(x), want(x))
    }

    /// Proven: 0.5 + 2^−15·(1 + 2^−19.8), plus the reference's error (2^−35).
    /// Measured: 0.5000236 on all 2^32 inputs.
    const BOUND: f64 = 0.5 + 1.0 / 32768.0 * 1.000_01;

    #[test]
    fn exact_points() {
        assert_eq!(sigmoid_q16(0), 1 << 15);
        assert_eq!(sigmoid_q16(i32::MAX), 1 << 16);
        assert_eq!(sigmoid_q16(i32::MIN), 0);
        assert_eq!(f64::from(sigmoid_q16(1)), want(1).round());
        assert_eq!(f64::from(sigmoid_q16(-1)), want(-1).round());
        // σ(1) = 0.7310585786 → 47910.9 in Q16.
        assert_eq!(sigmoid_q16(1 << 16), 47_911);
        assert_eq!(sigmoid_q16(-(1 << 16)), (1 << 16) - 47_911);
    }

    #[test]
    fn saturation_thresholds() {
        // From 400-bit mpmath: σ(x/2^16)·2^16 = 65535.4999993 at x = 772243 and 65535.5000069 at
        // 772244, so the exact function first rounds to 2^16 at 772244. E is about 4096 units
        // of Q30 there, known to ±1/2 unit (2^−15 units of Q16), and the function saturates at
        // 772240, four inputs early; by the symmetry the lower end mirrors it.
        assert!(want(772_244) > 65535.5 && want(772_243) < 65535.5);
        assert_eq!(sigmoid_q16(772_239), (1 << 16) - 1);
        assert_eq!(sigmoid_q16(772_240), 1 << 16);
        assert_eq!(sigmoid_q16(-772_239), 1);
        assert_eq!(sigmoid_q16(-772_240), 0);
        for x in (772_230..772_250).flat_map(|x| [x, -x]) {
            assert!((f64::from(sigmoid_q16(x)) - want(x)).abs() <= BOUND, "{x}");
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn halves_add_up_to_one_bit_for_bit() {
        let stride = if cfg!(debug_assertions) { 16_381 } else { 4_093 };
        for x in sweep_i32(stride).into_iter().chain(-70_000..70_000) {
            if x != i32::MIN {
                assert_eq!(sigmoid_q16(x) + sigmoid_q16(-x), 1 << 16, "{x}");
            }
        }
        assert_eq!(sigmoid_q16(i32::MIN) + sigmoid_q16(i32::MAX), 1 << 16);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn sampled_sweep_over_all_of_i32() {
        let stride = if cfg!(debug_assertions) { 16_381 } else { 4_093 };
        let r = check_i32(sweep_i32(stride), pair);
        std::println!("sigmoid_q16, all i32 / {stride}: {r:?}");
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn dense_over_the_unsaturated_range() {
        let stride = if cfg!(debug_assertions) { 5 } else { 1 };
        let r = check_i32(range_i32(-773_000, 773_000, stride), pair);
        std::println!("sigmoid_q16, [-773000, 773000] / {stride}: {r:?}");
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[ignore = "exhaustive: run with --release -- --ignored"]
    fn exhaustive_all_i32() {
        let r = exhaustive_i32(pair);
        std::println!("sigmoid_q16, all 2^32 inputs: {r:?}");
        assert_eq!(r.count, 1 << 32);
        r.assert_monotone_within(BOUND);
    }
}
