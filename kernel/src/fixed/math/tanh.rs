//! Hyperbolic tangent, Q16 to Q16, with integer operations only.
//!
//! Contract: NUMERICS.md §13.4.
//!
//! Origin: the identity tanh|x| = (1 − e^(−2|x|)) / (1 + e^(−2|x|)) (the form musl's and
//! fdlibm's `tanh` use for moderate |x|, there with `expm1`), on top of the fixed-point
//! [`exp_q16_to_q30`], with odd symmetry imposed by computing on |x| and restoring the sign.

use super::{div_round, exp_q16_to_q30};

/// 1 in Q30, the scale of [`exp_q16_to_q30`]'s result.
const ONE_Q30: i64 = 1 << 30;

/// tanh(x / 2^16) in Q16.
///
/// Contract: NUMERICS.md §13.4. The result is in [−2^16, 2^16], exactly odd
/// (`tanh_q16(−x) == −tanh_q16(x)` bit for bit) and non-decreasing in x. It is 0 only at 0,
/// and ±2^16 for |x| ≥ 408831 (|x| ≳ 6.2382). The exact tanh|x| first rounds to 1 at
/// |x| = 408835; at the four inputs before it 1 − tanh|x| exceeds 2^−17 by less than the
/// Q30 quantisation of E can resolve, and the result rounds up (error ≤ 0.50006 units).
///
/// Algorithm:
/// 1. E = e^(−2|x|) in Q30 by [`exp_q16_to_q30`] on −2|x| in Q16. For |x| ≥ 2^30 the
///    argument −2|x| does not fit an i32 and saturates to `i32::MIN`: E is 0 there anyway
///    (it already is for 2|x| ≥ 1408209, |x| ≳ 10.74).
/// 2. tanh|x| = (1 − E)/(1 + E) as one exact rational, narrowed to Q16 by
///    [`div_round()`] ((2^30 − E)·2^16 / (2^30 + E), round to nearest, ties to even).
/// 3. The sign of x is put back on the magnitude.
///
/// `x = i32::MIN` has no positive counterpart; |x| = 2^31 saturates like every |x| ≥ 2^30, so
/// `tanh_q16(i32::MIN) = −tanh_q16(i32::MAX) = −2^16`, keeping the odd symmetry there too.
///
/// Error: E carries at most (0.5 + 2^−20.8)·2^−30, and |d tanh / dE| = 2/(1 + E)² ≤ 2, so
/// before the one rounding in step 2 the error is below 2^−30·(1 + 2^−19.8), i.e. 2^−14 units
/// of Q16. The result's error is at most 0.5 + 2^−14 (= 0.5000610) units of Q16, and it is the
/// nearest Q16 value except within 2^−14 of a rounding boundary. Measured against f64 on all
/// 2^32 inputs: maximum 0.5000567 units (at x = ±408831, the first saturated input).
pub fn tanh_q16(x: i32) -> i32 {
    let a = x.unsigned_abs(); // |x| ≤ 2^31, exact as u32
    let arg = if a >= 1 << 30 { i32::MIN } else { -2 * a as i32 };
    let e = i64::from(exp_q16_to_q30(arg)); // [0, 2^30]
    let t = div_round((ONE_Q30 - e) << 16, ONE_Q30 + e) as i32; // [0, 2^16]
    if x < 0 {
        -t
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::fixed::math::testing::{check_i32, exhaustive_i32, range_i32, sweep_i32};

    /// The exact tanh(x/2^16)·2^16 from f64 (error below 2^−35 units of Q16).
    fn pair(x: i32) -> (i32, f64) {
        (tanh_q16(x), (f64::from(x) / 65536.0).tanh() * 65536.0)
    }

    /// Proven: 0.5 + 2^−14·(1 + 2^−19.8), plus the reference's error (2^−35).
    /// Measured: 0.5000567 on all 2^32 inputs.
    const BOUND: f64 = 0.5 + 1.0 / 16384.0 * 1.000_01;

    #[test]
    fn exact_points() {
        assert_eq!(tanh_q16(0), 0);
        assert_eq!(tanh_q16(i32::MAX), 1 << 16);
        assert_eq!(tanh_q16(i32::MIN), -(1 << 16));
        assert_eq!(tanh_q16(i32::MIN + 1), -(1 << 16));
        assert_eq!(tanh_q16(1 << 30), 1 << 16, "first saturated argument");
        assert_eq!(tanh_q16((1 << 30) - 1), 1 << 16);
        // tanh(x) ≈ x − x³/3 near 0: one Q16 unit maps to one unit.
        assert_eq!(tanh_q16(1), 1);
        assert_eq!(tanh_q16(-1), -1);
    }

    #[test]
    fn saturation_threshold() {
        // From 400-bit mpmath: tanh(x/2^16)·2^16 = 65535.4999890 at x = 408834 and 65535.5000043
        // at 408835, so the exact function first rounds to 2^16 at 408835. The E of those inputs
        // is about 4096 units of Q30, known to ±1/2 unit: 2^−14 units of Q16 of uncertainty,
        // and the function saturates at 408831 (exact 65535.49994), four inputs early.
        let at = |x: i32| (f64::from(x) / 65536.0).tanh() * 65536.0;
        assert!(at(408_835) > 65535.5 && at(408_834) < 65535.5);
        assert_eq!(tanh_q16(408_830), (1 << 16) - 1);
        assert_eq!(tanh_q16(408_831), 1 << 16);
        assert_eq!(tanh_q16(-408_831), -(1 << 16));
        for x in 408_820..408_840 {
            assert!((f64::from(tanh_q16(x)) - at(x)).abs() <= BOUND, "{x}");
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn odd_symmetry_bit_for_bit() {
        let stride = if cfg!(debug_assertions) { 16_381 } else { 4_093 };
        for x in sweep_i32(stride).into_iter().chain(-70_000..70_000) {
            if x != i32::MIN {
                assert_eq!(tanh_q16(-x), -tanh_q16(x), "{x}");
            }
        }
        assert_eq!(tanh_q16(i32::MIN), -tanh_q16(i32::MAX));
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn sampled_sweep_over_all_of_i32() {
        let stride = if cfg!(debug_assertions) { 16_381 } else { 4_093 };
        let r = check_i32(sweep_i32(stride), pair);
        std::println!("tanh_q16, all i32 / {stride}: {r:?}");
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn dense_over_the_unsaturated_range() {
        let stride = if cfg!(debug_assertions) { 3 } else { 1 };
        let r = check_i32(range_i32(-409_000, 409_000, stride), pair);
        std::println!("tanh_q16, [-409000, 409000] / {stride}: {r:?}");
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[ignore = "exhaustive: run with --release -- --ignored"]
    fn exhaustive_all_i32() {
        let r = exhaustive_i32(pair);
        std::println!("tanh_q16, all 2^32 inputs: {r:?}");
        assert_eq!(r.count, 1 << 32);
        r.assert_monotone_within(BOUND);
    }
}
