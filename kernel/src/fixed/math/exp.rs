//! e^x for x ≤ 0, from Q16 to Q30, with integer operations only.
//!
//! Contract: NUMERICS.md §13.4.
//!
//! Origin: the table-driven reduction of P. T. P. Tang, "Table-driven implementation of the
//! exponential function in IEEE floating-point arithmetic", ACM TOMS 15(2), 1989, the scheme of
//! musl's `exp2f`/`expf` that `libm` ports (NUMERICS.md §4.1), carried out in fixed point:
//! e^x = 2^t with t = x·log2(e) split as t = −n + j/32 + r, so that
//! e^x = 2^−n · 2^(j/32) · e^(r·ln 2), where 2^(j/32) comes from a table and e^(r·ln 2), with
//! 0 ≤ r·ln 2 < ln(2)/32 ≈ 0.0217, from a short Taylor polynomial.

use super::div_round;
use crate::fixed::narrow::round_shift_i128;

/// Fractional bits of the internal fixed-point values.
const Q: u32 = 62;
/// 1 in Q62.
const ONE: i64 = 1 << Q;
/// log2(e) in Q62: round(log2(e)·2^62) = 6653256548922161246, from 400-bit `mpmath`
/// (`int(nint(log(e, 2) * 2**62))`). Error ≤ 2^−63.
const LOG2E_Q62: i64 = 0x5c55_1d94_ae0b_f85e;
/// ln(2) in Q62: round(ln(2)·2^62) = 3196577161300663915, from `mpmath` likewise. Error ≤ 2^−63.
const LN2_Q62: i64 = 0x2c5c_85fd_f473_de6b;
/// Bits of t's fraction that index [`EXP2_Q62`].
const TABLE_BITS: u32 = 5;
/// Fractional bits of t = d·log2(e): Q16 times Q62.
const T_FRAC: u32 = 16 + Q;
/// Taylor coefficients of e^y: 1/k! in Q62 for k = 0..=6, each round(2^62 / k!).
const INV_FACTORIAL: [i64; 7] =
    [ONE, ONE, div_round(ONE, 2), div_round(ONE, 6), div_round(ONE, 24), div_round(ONE, 120), div_round(ONE, 720)];
/// 2^(j/32) in Q62 for j = 0..32: round(2^(j/32)·2^62), from 400-bit `mpmath`
/// (`int(nint(mpf(2)**(mpf(j)/32) * 2**62))`). Each error ≤ 2^−63; all below 2^63.
const EXP2_Q62: [i64; 1 << TABLE_BITS] = [
    0x4000_0000_0000_0000, // 2^(0/32)
    0x4166_c34c_5615_d0ec, // 2^(1/32)
    0x42d5_61b3_e624_3d8a, // 2^(2/32)
    0x444c_0740_496d_4294, // 2^(3/32)
    0x45ca_e0f1_f545_eb73, // 2^(4/32)
    0x4752_1cc5_a2e6_a9e0, // 2^(5/32)
    0x48e1_e9b9_d588_e19b, // 2^(6/32)
    0x4a7a_77d4_7f7b_84b1, // 2^(7/32)
    0x4c1b_f828_c6dc_54b8, // 2^(8/32)
    0x4dc6_9cdc_eaa7_2a9c, // 2^(9/32)
    0x4f7a_9930_48d0_88d7, // 2^(10/32)
    0x5138_2181_8624_b40c, // 2^(11/32)
    0x52ff_6b54_d8a8_9c75, // 2^(12/32)
    0x54d0_ad5a_753e_077c, // 2^(13/32)
    0x56ac_1f75_2150_a563, // 2^(14/32)
    0x5891_fac0_e956_12c8, // 2^(15/32)
    0x5a82_7999_fcef_3242, // 2^(16/32)
    0x5c7d_d7a3_b17d_cf75, // 2^(17/32)
    0x5e84_51cf_ac06_1b5f, // 2^(18/32)
    0x6096_2665_3338_4a2b, // 2^(19/32)
    0x62b3_9508_aa83_6d6f, // 2^(20/32)
    0x64dc_dec3_3717_93d1, // 2^(21/32)
    0x6712_460a_8fc2_4072, // 2^(22/32)
    0x6954_0ec8_f895_722d, // 2^(23/32)
    0x6ba2_7e65_6b4e_b57a, // 2^(24/32)
    0x6dfd_dbcb_ed79_1bab, // 2^(25/32)
    0x7066_6f76_154a_7089, // 2^(26/32)
    0x72dc_8373_be41_a454, // 2^(27/32)
    0x7560_6373_ee92_1c97, // 2^(28/32)
    0x77f2_5ccd_ee6d_7ae6, // 2^(29/32)
    0x7a92_be8a_9243_6616, // 2^(30/32)
    0x7d41_d96d_b915_019d, // 2^(31/32)
];

/// e^(d / 2^16) in Q30, for `d ≤ 0` in Q16.
///
/// Contract: NUMERICS.md §13.4. The softmax calls it on `z − max ≤ 0`, so the result is a
/// probability weight in [0, 1]: `exp_q16_to_q30(0) = 2^30` exactly, and the result is 0 for
/// every `d ≤ −1408209` (e^x·2^30 < 1/2 there; `d = −1408208`, x ≈ −21.4876, still gives 1).
/// `d > 0` is outside the contract and is treated as 0 (the result is `2^30`), so the output is
/// always in [0, 2^30] and never overflows.
///
/// Algorithm, with x = d/2^16 (every step is exact integer arithmetic or one rounding by
/// `round_shift_i128`, NUMERICS.md §13.3):
/// 1. t = d·log2(e) as the exact i128 product `d · LOG2E_Q62` (Q78).
/// 2. Split t = −n + f with the integer n = −⌊t⌋ ≥ 1 and f ∈ [0, 1) (an arithmetic shift and
///    a subtraction, both exact). n ≥ 32 gives 0 at once: e^x·2^30 < 2^(31−n) ≤ 1/2.
/// 3. Split f = j/32 + r with j its top 5 bits and r ∈ [0, 1/32), again exactly.
/// 4. y = r·ln 2 ∈ [0, 0.02167), rounded to Q62.
/// 5. e^y = 1 + y + y²/2! + … + y⁶/6! by Horner's rule at Q62, rounding after each product.
/// 6. 2^f = `EXP2_Q62[j]` · e^y, rounded to Q62; it lies in [2^62, 2^63].
/// 7. The result 2^f · 2^−n in Q30 is `round_shift(2^f, 32 + n)`: the one rounding to Q30.
///
/// Error: the truncated Taylor term y⁷/7! < 2^−50.9 dominates; the constants (≤ 2^−63 each,
/// log2(e) scaled by |x| < 21.5) and the nine Q62 roundings add less than 2^−56, so before step
/// 7 the relative error is below 2^−50.8, i.e. below 2^−20.8 units of Q30 at the largest
/// output. The result is therefore the correctly rounded e^x·2^30 except within 2^−20.8 of a
/// rounding boundary, and its error is at most 0.5 + 2^−20.8 units of Q30. Measured against
/// f64 on all 2^32 inputs: maximum 0.4999997 units (at d = −125747), i.e. every result is the
/// nearest Q30 value to within the reference's own resolution (about 2^−22 units).
///
/// Monotonic: consecutive inputs change e^x by a factor e^(2^−16), far more than the relative
/// error, so the unrounded values strictly increase with d and the rounded ones never decrease
/// (checked on all 2^32 inputs).
pub fn exp_q16_to_q30(d: i32) -> i32 {
    if d >= 0 {
        return 1 << 30;
    }
    // 1. t in Q78. |d| ≤ 2^31 and LOG2E_Q62 < 2^63: the product fits in 94 bits.
    let t = i128::from(d) * i128::from(LOG2E_Q62);
    // 2. n = −⌊t⌋ ≥ 1 (t < 0), f = t + n ∈ [0, 1) in Q78.
    let n = -(t >> T_FRAC);
    if n >= 32 {
        return 0;
    }
    let f = t + (n << T_FRAC);
    // 3. f = j/32 + r, r ∈ [0, 2^73) in Q78: an exact split, not a rounding.
    let j = (f >> (T_FRAC - TABLE_BITS)) as usize;
    let r = f - ((j as i128) << (T_FRAC - TABLE_BITS));
    // 4. y = r·ln 2 in Q62: r to Q62 (≤ 2^57), then the product (< 2^119) back to Q62.
    let r = round_shift_i128(r, T_FRAC - Q);
    let y = round_shift_i128(r * i128::from(LN2_Q62), Q);
    // 5. e^y by Horner's rule, highest degree first; p stays in [1, 1.022] · 2^62.
    let mut p = i128::from(INV_FACTORIAL[6]);
    let mut k = 6;
    while k > 0 {
        k -= 1;
        p = i128::from(INV_FACTORIAL[k]) + round_shift_i128(p * y, Q);
    }
    // 6. 2^f in Q62: a product below 2^63 · 1.03 · 2^62 < 2^126.
    let two_f = round_shift_i128(i128::from(EXP2_Q62[j]) * p, Q);
    // 7. 2^f · 2^−n in Q30: at most 2^63 · 2^−33 = 2^30.
    round_shift_i128(two_f, (Q - 30) + n as u32) as i32
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::fixed::math::testing::{check_i32, exhaustive_i32, range_i32, sweep_i32};

    /// The exact e^(d/2^16)·2^30 from f64 (relative error about 2^−52, i.e. below 2^−22 units
    /// of Q30), with d > 0 clamped to 0 as the function documents.
    fn want(d: i32) -> f64 {
        (f64::from(d.min(0)) / 65536.0).exp() * (1u64 << 30) as f64
    }

    fn pair(d: i32) -> (i32, f64) {
        (exp_q16_to_q30(d), want(d))
    }

    /// Bound asserted by the sweeps: the proven 0.5 + 2^−20.8 units plus the f64 reference's own
    /// error (below 2^−22 units). Measured: 0.4999997 on all 2^32 inputs.
    const BOUND: f64 = 0.5 + 1.0 / (1u64 << 20) as f64;

    #[test]
    fn exact_points() {
        assert_eq!(exp_q16_to_q30(0), 1 << 30);
        assert_eq!(exp_q16_to_q30(1), 1 << 30, "d > 0 is treated as 0");
        assert_eq!(exp_q16_to_q30(i32::MAX), 1 << 30);
        assert_eq!(exp_q16_to_q30(i32::MIN), 0);
        assert_eq!(exp_q16_to_q30(i32::MIN + 1), 0);
        // -1 in Q16 is x = -2^-16: e^x·2^30 = 2^30 − 16384 + 0.125 − …, which rounds to 2^30 − 16384.
        assert_eq!(f64::from(exp_q16_to_q30(-1)), want(-1).round());
        assert_eq!(exp_q16_to_q30(-1), (1 << 30) - (1 << 14));
    }

    #[test]
    fn vanishes_exactly_where_the_result_drops_below_one_half() {
        // From the f64 reference: the last input whose e^x·2^30 ≥ 1/2, and the first below.
        let last_one = -1_408_208;
        assert!(want(last_one) > 0.5 && want(last_one - 1) < 0.5);
        assert_eq!(exp_q16_to_q30(last_one), 1);
        assert_eq!(exp_q16_to_q30(last_one - 1), 0);
        // n = 32 is the first integer part that returns 0 without evaluating the polynomial:
        // x·log2(e) < −31 means e^x·2^30 < 2^−1; the nearest input is d = ⌊−31·ln 2·2^16⌋.
        let d31 = (-31.0 * core::f64::consts::LN_2 * 65536.0).floor() as i32;
        assert!(want(d31) < 0.5 && want(d31 + 1) > 0.5);
        assert_eq!(exp_q16_to_q30(d31), 0);
        assert_eq!(exp_q16_to_q30(d31 + 1), 1);
    }

    #[test]
    fn round_numbers() {
        for x in [-1.0f64, -0.5, -2.0, -10.0, -20.0, -core::f64::consts::LN_2] {
            let d = (x * 65536.0).round() as i32;
            let got = exp_q16_to_q30(d);
            assert!((f64::from(got) - want(d)).abs() <= 0.5 + 1e-6, "exp({x}) = {got}, want {}", want(d));
        }
    }

    #[test]
    fn constants_match_their_definitions() {
        // log2(e)·ln(2) = 1: the two independently derived Q62 constants multiply to 2^124 within
        // their rounding errors (≤ 1/2 unit each, scaled by the other constant: < 2^62 in all).
        let prod = i128::from(LOG2E_Q62) * i128::from(LN2_Q62);
        assert!((prod - (1i128 << 124)).abs() < 1i128 << 62, "{prod}");
        let ulp = (ONE as f64) * f64::EPSILON; // f64's own resolution at this scale
        assert!((LOG2E_Q62 as f64 - core::f64::consts::LOG2_E * ONE as f64).abs() <= 2.0 * ulp);
        assert!((LN2_Q62 as f64 - core::f64::consts::LN_2 * ONE as f64).abs() <= ulp);
        for (k, &c) in INV_FACTORIAL.iter().enumerate() {
            let fact: i64 = (1..=k as i64).product();
            assert!((c * fact - ONE).abs() <= fact / 2, "1/{k}!");
        }
    }

    #[test]
    fn table_is_consistent() {
        // Each entry is 2^(j/32) rounded to Q62, so products of entries must agree with the
        // entry of the sum of exponents within a few units of Q62 (the errors: ≤ 1/2 unit in
        // each factor, times the other factor < 2, plus the product's rounding).
        let mul = |a: i128, b: i64| round_shift_i128(a * i128::from(b), Q);
        for i in 0..32 {
            for j in 0..32 {
                let p = mul(i128::from(EXP2_Q62[i]), EXP2_Q62[j]);
                let want = if i + j < 32 { i128::from(EXP2_Q62[i + j]) } else { 2 * i128::from(EXP2_Q62[i + j - 32]) };
                assert!((p - want).abs() <= 3, "2^({i}/32) · 2^({j}/32): {p} vs {want}");
            }
        }
        // And the ratio between entries is 2^(1/32): 32 steps of EXP2_Q62[1] give 2 (errors of
        // ~3 units per step, accumulated: far below the 2^40 units a wrong entry would cost).
        let mut acc = i128::from(ONE);
        for _ in 0..32 {
            acc = mul(acc, EXP2_Q62[1]);
        }
        assert!((acc - 2 * i128::from(ONE)).abs() <= 200, "{acc}");
        // Against f64, to its resolution.
        for (j, &e) in EXP2_Q62.iter().enumerate() {
            let f = libm::exp2(j as f64 / 32.0) * ONE as f64;
            assert!((e as f64 - f).abs() <= f * f64::EPSILON * 2.0, "2^({j}/32)");
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn sampled_sweep_over_all_of_i32() {
        let stride = if cfg!(debug_assertions) { 16_381 } else { 4_093 };
        let r = check_i32(sweep_i32(stride), pair);
        std::println!("exp_q16_to_q30, all i32 / {stride}: {r:?}");
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn dense_over_the_nonzero_range() {
        // Every input where the result is neither 0 nor d > 0, in debug every 3rd.
        let stride = if cfg!(debug_assertions) { 3 } else { 1 };
        let r = check_i32(range_i32(-1_408_300, 0, stride), pair);
        std::println!("exp_q16_to_q30, [-1408300, 0] / {stride}: {r:?}");
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn within_bound_near_every_rounding_step_of_n() {
        // Each integer part n changes where t crosses an integer: x = −n·ln 2. Check ±64 inputs
        // around each crossing, and around each table step x = −(n − j/32)·ln 2.
        let mut inputs = std::vec::Vec::new();
        for n in 0..33 {
            for j in 0..32 {
                let c = (-(f64::from(n) - f64::from(j) / 32.0) * core::f64::consts::LN_2 * 65536.0).round() as i32;
                inputs.extend((c - 64..=c + 64).filter(|&d| d <= 0));
            }
        }
        let r = check_i32(inputs, pair);
        r.assert_monotone_within(BOUND);
    }

    #[test]
    #[ignore = "exhaustive: run with --release -- --ignored"]
    fn exhaustive_all_i32() {
        let r = exhaustive_i32(pair);
        std::println!("exp_q16_to_q30, all 2^32 inputs: {r:?}");
        assert_eq!(r.count, 1 << 32);
        r.assert_monotone_within(BOUND);
    }
}
