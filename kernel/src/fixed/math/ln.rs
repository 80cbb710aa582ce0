//! Natural logarithm, from a Q30 value held in an i64 to Q16, with integer operations only.
//!
//! Contract: NUMERICS.md §13.4.
//!
//! Origin: the argument reduction of musl's `log` family that `libm` ports (NUMERICS.md §4.2):
//! s = 2^k·m with m ∈ [√2/2, √2), then ln s = k·ln 2 + ln m, and ln m from the series
//! ln m = 2·atanh(u) = 2(u + u³/3 + u⁵/5 + …), u = (m − 1)/(m + 1) (Abramowitz & Stegun 4.1.27,
//! as in fdlibm's `e_log.c`), carried out in fixed point at Q62.

use super::div_round;
use crate::fixed::narrow::round_shift_i128;

/// Fractional bits of the internal fixed-point values.
const Q: u32 = 62;
/// 1 in Q62.
const ONE: i64 = 1 << Q;
/// ln(2) in Q62: round(ln(2)·2^62) = 3196577161300663915, from 400-bit `mpmath`
/// (`int(nint(log(2) * 2**62))`). Error ≤ 2^−63. (The same constant as in `exp.rs`.)
const LN2_Q62: i64 = 0x2c5c_85fd_f473_de6b;
/// √2 in Q62, round(√2·2^62) from `mpmath`. It only chooses between m and m/2 (both series
/// converge on either side), so its last bits do not affect the accuracy.
const SQRT2_Q62: i64 = 0x5a82_7999_fcef_3242;
/// Series coefficients 1/(2i + 1) in Q62 for i = 0..=8, each round(2^62 / (2i + 1)).
/// With |u| ≤ (√2 − 1)/(√2 + 1) < 0.1716, the first omitted term, 2·u¹⁹/19, is below 2^−51.
const INV_ODD: [i64; 9] = [
    ONE,
    div_round(ONE, 3),
    div_round(ONE, 5),
    div_round(ONE, 7),
    div_round(ONE, 9),
    div_round(ONE, 11),
    div_round(ONE, 13),
    div_round(ONE, 15),
    div_round(ONE, 17),
];

/// ln(s / 2^30) in Q16, for `s > 0`: the logarithm of a Q30 value held in an i64.
///
/// Contract: NUMERICS.md §13.4. The softmax cross-entropy passes its denominator, a sum of
/// Q30 probability weights in [2^30, classes·2^30]; every positive i64 is accepted, and the
/// result lies in [−1362783, 1499061] (ln 2^−30 to ln((2^63 − 1)/2^30), in Q16), well inside i32.
/// `s ≤ 0` has no logarithm: the result is `i32::MIN`, a value no positive input can produce.
/// `ln_q30_to_q16(2^30) = 0` exactly.
///
/// Algorithm (every step exact integer arithmetic or one rounding to nearest, ties to even):
/// 1. p = 63 − `leading_zeros(s)`, the position of the top bit; m = s / 2^p ∈ [1, 2) in Q62,
///    `s << (62 − p)`, exact.
/// 2. If m > √2, use m/2 and p + 1 instead, so that m ∈ (√2/2, √2]; k = p − 30 is then the
///    exponent of s/2^30 = 2^k·m.
/// 3. u = (m − 1)/(m + 1), |u| < 0.1716, as one i128 division rounded to Q62.
/// 4. ln m = 2u·Σ u^(2i)/(2i + 1), i = 0..=8, by Horner's rule in u² at Q62.
/// 5. ln(s/2^30) = k·ln 2 + ln m at Q62, narrowed once to Q16 by `round_shift_i128`.
///
/// Error: the omitted series terms (< 2^−51.6), the constants (≤ 33·2^−63 for k·ln 2) and the
/// eleven Q62 roundings (< 2^−58) stay below 2^−51 before the final rounding, i.e. below 2^−35
/// units of Q16. The result is the correctly rounded ln(s/2^30)·2^16 except within 2^−35 of a
/// rounding boundary; its error is at most 0.5 + 2^−35 units of Q16. Measured against f64 on
/// the sampled sweeps (about 2.5 million inputs over all positive i64 in release builds):
/// maximum 0.4999994 units; on the opt-in extended sweep (about 220 million inputs): maximum
/// 0.49999999 units, i.e. every result checked is the nearest Q16 value.
///
/// Monotonic: non-decreasing in s on every input tested, but not proven for s above about
/// 2^51, where consecutive inputs differ in ln by less than the 2^−51 error bound, so that a
/// decrease by one unit is conceivable where two of them straddle a rounding boundary.
pub fn ln_q30_to_q16(s: i64) -> i32 {
    if s <= 0 {
        return i32::MIN;
    }
    // 1. s = 2^p·m, m ∈ [1, 2) in Q62: p ≤ 62, so the shift is exact and m < 2^63.
    let p = 63 - s.leading_zeros();
    let m = i128::from(s << (Q - p));
    // 2–3. u = (m − 1)/(m + 1), or (m/2 − 1)/(m/2 + 1) = (m − 2)/(m + 2) when m > √2.
    let (k, num, den) = if m > i128::from(SQRT2_Q62) {
        (p as i32 - 29, m - 2 * i128::from(ONE), m + 2 * i128::from(ONE))
    } else {
        (p as i32 - 30, m - i128::from(ONE), m + i128::from(ONE))
    };
    // |num| < 0.18·2^63 and den > 2^62: num·2^62 / den rounded to nearest, ties to even
    // (`div_round`'s rule, in i128 because num·2^62 needs 124 bits).
    let wide = num << Q;
    let (q, r) = (wide.div_euclid(den), wide.rem_euclid(den));
    let u = if r > den - r || (r == den - r && q & 1 == 1) { q + 1 } else { q };
    // 4. ln m = 2u·(1 + u²/3 + u⁴/5 + … + u¹⁶/17); the sum stays in [1, 1.01]·2^62.
    let u2 = round_shift_i128(u * u, Q);
    let mut sum = i128::from(INV_ODD[8]);
    let mut i = 8;
    while i > 0 {
        i -= 1;
        sum = i128::from(INV_ODD[i]) + round_shift_i128(sum * u2, Q);
    }
    let ln_m = round_shift_i128(sum * u, Q - 1); // 2·sum·u in Q62
                                                 // 5. k·ln 2 + ln m, |…| < 23·2^62, then the single narrowing to Q16.
    let total = i128::from(k) * i128::from(LN2_Q62) + ln_m;
    round_shift_i128(total, Q - 16) as i32
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// The exact ln(s/2^30)·2^16 from f64. `s as f64` rounds s to 53 bits (relative 2^−53, so
    /// 2^−53 absolute in the logarithm) and `ln` is within an ulp: together below 2^−30 units
    /// of Q16.
    fn want(s: i64) -> f64 {
        (s as f64 / (1u64 << 30) as f64).ln() * 65536.0
    }

    /// Proven 0.5 + 2^−35 plus the reference's error. Measured: 0.4999994 (release sweeps).
    const BOUND: f64 = 0.5 + 1.0 / (1u64 << 24) as f64;

    /// Largest |error| over `inputs` (sorted), and the number of decreases between them.
    fn check(mut inputs: Vec<i64>) -> (f64, i64, u64) {
        inputs.sort_unstable();
        inputs.dedup();
        let (mut max_err, mut worst, mut decreases) = (0.0f64, 0i64, 0u64);
        let mut prev = i32::MIN;
        for s in inputs {
            let got = ln_q30_to_q16(s);
            let err = (f64::from(got) - want(s)).abs();
            assert!(!err.is_nan(), "{s}");
            if err > max_err {
                (max_err, worst) = (err, s);
            }
            if got < prev {
                decreases += 1;
            }
            prev = got;
        }
        (max_err, worst, decreases)
    }

    /// Positive i64 on a log scale: s grows by about s/2^`bits` plus a prime, so every binade
    /// gets about 2^`bits`·ln 2 samples at unrelated low bits; each sample comes with s ± 1.
    fn log_sweep(bits: u32) -> Vec<i64> {
        let mut v = Vec::new();
        let mut s = 1i64;
        loop {
            v.extend([s - 1, s, s + 1]);
            match s.checked_add((s >> bits) + 7_919) {
                Some(next) => s = next,
                None => break,
            }
        }
        v.retain(|&s| s > 0);
        v.extend([i64::MAX, i64::MAX - 1]);
        v
    }

    #[test]
    fn exact_points() {
        assert_eq!(ln_q30_to_q16(1 << 30), 0);
        assert_eq!(ln_q30_to_q16(0), i32::MIN);
        assert_eq!(ln_q30_to_q16(-1), i32::MIN);
        assert_eq!(ln_q30_to_q16(i64::MIN), i32::MIN);
        // Powers of two: k·ln 2 alone (m = 1, u = 0), rounded to Q16.
        for k in 0..63 {
            let s = 1i64 << k;
            assert_eq!(f64::from(ln_q30_to_q16(s)), want(s).round(), "2^{k}");
        }
        // The ends of the range, from 400-bit mpmath: ln(2^−30)·2^16 = −1362782.809 and
        // ln((2^63 − 1)/2^30)·2^16 = 1499061.090.
        assert_eq!(ln_q30_to_q16(1), -1_362_783);
        assert_eq!(ln_q30_to_q16(i64::MAX), 1_499_061);
        // ln 2 = 45426.0936 / 2^16.
        assert_eq!(ln_q30_to_q16(1 << 31), 45_426);
    }

    #[test]
    fn constants_match_their_definitions() {
        let ulp = ONE as f64 * f64::EPSILON;
        assert!((LN2_Q62 as f64 - core::f64::consts::LN_2 * ONE as f64).abs() <= ulp);
        assert!((SQRT2_Q62 as f64 - core::f64::consts::SQRT_2 * ONE as f64).abs() <= ulp);
        // √2 squared is 2 within the rounding of √2 (≤ 1/2 unit times 2√2, plus the product's).
        let sq = round_shift_i128(i128::from(SQRT2_Q62) * i128::from(SQRT2_Q62), Q);
        assert!((sq - 2 * i128::from(ONE)).abs() <= 2, "{sq}");
        for (i, &c) in INV_ODD.iter().enumerate() {
            let odd = 2 * i as i64 + 1;
            assert!((c * odd - ONE).abs() <= odd / 2, "1/{odd}");
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn small_inputs_exhaustively() {
        // Every s in [1, 2^16] (2^18 in release): the coarsest part of the domain, where
        // consecutive inputs are far apart in ln.
        let top = if cfg!(debug_assertions) { 1 << 16 } else { 1 << 18 };
        let (err, worst, decreases) = check((1..=top).collect());
        std::println!("ln_q30_to_q16, [1, {top}]: max err {err} at {worst}");
        assert!(err <= BOUND, "{err} at {worst}");
        assert_eq!(decreases, 0);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn log_scale_sweep_over_all_positive_i64() {
        let bits = if cfg!(debug_assertions) { 10 } else { 14 };
        let inputs = log_sweep(bits);
        let n = inputs.len();
        let (err, worst, decreases) = check(inputs);
        std::println!("ln_q30_to_q16, log sweep 2^-{bits} ({n} inputs): max err {err} at {worst}");
        assert!(err <= BOUND, "{err} at {worst}");
        assert_eq!(decreases, 0);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn dense_on_softmax_denominators() {
        // The softmax denominator is in [2^30, classes·2^30]; sweep [2^30, 2^40] with a prime
        // stride so that the low bits vary.
        let stride = if cfg!(debug_assertions) { 7_340_033 } else { 1_048_573 };
        let inputs: Vec<i64> = ((1i64 << 30)..=(1i64 << 40)).step_by(stride).collect();
        let (err, worst, decreases) = check(inputs);
        std::println!("ln_q30_to_q16, [2^30, 2^40] / {stride}: max err {err} at {worst}");
        assert!(err <= BOUND, "{err} at {worst}");
        assert_eq!(decreases, 0);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn around_the_sqrt2_switch() {
        // m = √2 switches between the two forms of u; check both sides in several binades.
        let mut inputs = Vec::new();
        for p in [0u32, 1, 20, 30, 31, 45, 61, 62] {
            let c = (round_shift_i128(i128::from(SQRT2_Q62), Q - p)) as i64;
            inputs.extend((c - 300).max(1)..=c + 300);
        }
        let (err, worst, decreases) = check(inputs);
        assert!(err <= BOUND, "{err} at {worst}");
        assert_eq!(decreases, 0);
    }

    #[test]
    #[ignore = "extended: run with --release -- --ignored"]
    fn extended_sweep() {
        // The log-scale sweep at 2^−20 steps (~140 million inputs over all positive i64), and
        // 2^23 inputs in each binade of the softmax denominators [2^30, 2^40], with the odd
        // stride 2^(b−23) − 1 in [2^b, 2^(b+1)] (~84 million inputs, one binade at a time).
        let (err, worst, decreases) = check(log_sweep(20));
        std::println!("ln_q30_to_q16, log sweep 2^-20: max err {err} at {worst}");
        assert!(err <= BOUND, "{err} at {worst}");
        assert_eq!(decreases, 0);
        for b in 30..40 {
            let stride = (1usize << (b - 23)) - 1;
            let (err, worst, decreases) = check(((1i64 << b)..=(1i64 << (b + 1))).step_by(stride).collect());
            std::println!("ln_q30_to_q16, [2^{b}, 2^{}] / {stride}: max err {err} at {worst}", b + 1);
            assert!(err <= BOUND, "{err} at {worst}");
            assert_eq!(decreases, 0);
        }
    }
}
