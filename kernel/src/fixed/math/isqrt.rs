//! Integer square roots of a u64: floor and round to nearest.
//!
//! Contract: NUMERICS.md §13.4.
//!
//! Origin: the digit-by-digit ("long division") square root in base 2, as in Wikipedia's
//! "Methods of computing square roots: binary numeral system (base 2)" and Hacker's Delight
//! (H. S. Warren, 2nd ed., §11-1, `isqrt4`). It determines one bit of the root per step, from
//! the top, with a subtraction and shifts only: no multiplication, no division, no float.

/// ⌊√x⌋, exactly, for every u64.
///
/// Contract: NUMERICS.md §13.4. The result is at most ⌊√(2^64 − 1)⌋ = 2^32 − 1, so it always
/// fits a u32; `isqrt_u64(0) = 0`.
///
/// Algorithm: `bit` runs over the powers of four 4^i from the largest not above x down to 1.
/// Let Y be the part of the root found so far (its bits above bit i); `root` holds Y·2^(i+1)
/// and `rem` holds x − Y². The root has bit i exactly when (Y + 2^i)² ≤ x, i.e. when
/// (Y + 2^i)² − Y² = Y·2^(i+1) + 4^i = `root + bit` fits in `rem`. Moving on to bit i − 1
/// halves `root` and, when the bit was taken, adds `bit`: (Y + 2^i)·2^i = Y·2^i + 4^i. After
/// bit 0, `root` = Y·2^0 is ⌊√x⌋ and `rem` = x − ⌊√x⌋².
///
/// No overflow: Y ≤ ⌊√x⌋ < 2^32, so `root` < 2^(33+i) and `root + bit` < 2^63 + 2^60 for
/// i ≤ 30; at i = 31 (x ≥ 2^62) the first step has `root` = 0.
pub const fn isqrt_u64(x: u64) -> u32 {
    if x == 0 {
        return 0;
    }
    // The largest power of four not above x: 4^⌊log4 x⌋.
    let mut bit = 1u64 << ((63 - x.leading_zeros()) & !1);
    let mut rem = x;
    let mut root = 0u64;
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root as u32
}

/// √x rounded to the nearest integer, for every u64 (saturating at `u32::MAX`, see below).
///
/// Contract: NUMERICS.md §13.4.
///
/// Algorithm: with r = ⌊√x⌋ from [`isqrt_u64`], √x rounds up exactly when x ≥ (r + 1/2)² =
/// r² + r + 1/4, i.e., for integers, when x − r² ≥ r + 1, i.e. x − r² > r. The remainder
/// x − r² ≤ 2r is exact in u64 (r² ≤ x).
///
/// No ties: √x is never exactly halfway between two integers, because (r + 1/2)² = r² + r + 1/4
/// is never an integer. So "to nearest" needs no tie rule, and the result is the same under
/// every rounding-to-nearest convention.
///
/// Saturation: for x ≥ 2^64 − 2^32 + 1 the nearest integer to √x is 2^32, which a u32 cannot
/// hold; the result is then `u32::MAX` = 2^32 − 1, ⌊√x⌋ itself (error < 1). Every other input
/// gives the exact nearest integer.
pub const fn sqrt_round_u64(x: u64) -> u32 {
    let r = isqrt_u64(x);
    let rem = x - (r as u64) * (r as u64);
    if rem > r as u64 {
        r.saturating_add(1)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// r = ⌊√x⌋ exactly when r² ≤ x < (r + 1)², checked in u128 (no overflow, no float).
    fn is_floor_root(x: u64, r: u32) -> bool {
        let (x, r) = (u128::from(x), u128::from(r));
        r * r <= x && x < (r + 1) * (r + 1)
    }

    /// The nearest integer to √x, from the floor root: round up when (2r + 1)² < 4x (never equal).
    fn nearest_root(x: u64) -> u64 {
        let r = u128::from(x.isqrt());
        let up = (2 * r + 1) * (2 * r + 1) < 4 * u128::from(x);
        (r + u128::from(up)) as u64
    }

    fn check(x: u64) {
        let r = isqrt_u64(x);
        assert!(is_floor_root(x, r), "isqrt_u64({x}) = {r}");
        assert_eq!(u64::from(r), x.isqrt(), "core's isqrt, {x}");
        let n = nearest_root(x);
        let got = sqrt_round_u64(x);
        if n <= u64::from(u32::MAX) {
            assert_eq!(u64::from(got), n, "sqrt_round_u64({x})");
        } else {
            assert_eq!(got, u32::MAX, "saturated sqrt_round_u64({x})");
        }
    }

    #[test]
    fn small_values() {
        let floors = [0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4];
        let nearest = [0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4];
        for x in 0..=16u64 {
            assert_eq!(isqrt_u64(x), floors[x as usize], "{x}");
            assert_eq!(sqrt_round_u64(x), nearest[x as usize], "{x}");
        }
    }

    #[test]
    fn extremes() {
        assert_eq!(isqrt_u64(u64::MAX), u32::MAX);
        assert_eq!(sqrt_round_u64(u64::MAX), u32::MAX, "saturated: √(2^64 − 1) ≈ 2^32 − 2^−33");
        let top = u64::from(u32::MAX) * u64::from(u32::MAX); // (2^32 − 1)²
        assert_eq!(isqrt_u64(top), u32::MAX);
        assert_eq!(isqrt_u64(top - 1), u32::MAX - 1);
        // The last input that rounds to 2^32 − 1 and the first that would round to 2^32.
        let last = top + u64::from(u32::MAX); // 2^64 − 2^32
        assert_eq!(last, u64::MAX - u64::from(u32::MAX));
        assert_eq!(sqrt_round_u64(last), u32::MAX);
        assert_eq!(nearest_root(last + 1), 1 << 32);
        assert_eq!(sqrt_round_u64(last + 1), u32::MAX);
        for k in 0..64 {
            check(1u64 << k);
            check((1u64 << k) - 1);
            check((1u64 << k) + 1);
        }
    }

    #[test]
    fn usable_in_const_context() {
        const R: u32 = isqrt_u64(1 << 62);
        const N: u32 = sqrt_round_u64(12);
        assert_eq!((R, N), (1 << 31, 3));
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn exhaustive_below_2_pow_24() {
        // All 2^24 inputs in debug builds too (under 2 s): nothing is skipped.
        for x in 0..1u64 << 24 {
            let r = isqrt_u64(x);
            // r² ≤ x < (r + 1)² without overflow: r < 2^12 here.
            assert!(u64::from(r * r) <= x && x < u64::from((r + 1) * (r + 1)), "{x}");
            let n = sqrt_round_u64(x);
            // Nearest: |n − √x| < 1/2 ⟺ (2n − 1)² < 4x < (2n + 1)² (strict: no ties).
            let (x4, n2) = (4 * x, 2 * u64::from(n));
            assert!((n == 0 || (n2 - 1) * (n2 - 1) < x4) && x4 < (n2 + 1) * (n2 + 1), "{x}");
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn around_every_sampled_square_up_to_2_pow_64() {
        // Roots r sampled with a prime stride over all of [0, 2^32); for each, the squares'
        // neighbourhood and the rounding boundary r² + r / r² + r + 1.
        let stride = if cfg!(debug_assertions) { 65_521 } else { 4_093 };
        let roots: Vec<u64> = (0..1u64 << 32).step_by(stride).chain([u64::from(u32::MAX)]).collect();
        for r in roots {
            let sq = r * r;
            for x in [sq.wrapping_sub(1), sq, sq + 1, sq + r, sq.saturating_add(r + 1)] {
                if r > 0 || x == sq || x == 1 {
                    check(x);
                }
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn near_u64_max_and_on_a_log_scale() {
        for x in (u64::MAX - (1 << 16))..=u64::MAX {
            check(x);
        }
        for x in (u64::MAX - (1 << 33))..=(u64::MAX - (1 << 33) + 1000) {
            check(x);
        }
        // Geometric steps of about 2^−12 with an odd offset: every binade, unrelated low bits.
        let mut x = 1u64;
        while let Some(next) = x.checked_add((x >> 12) + 7_919) {
            check(x);
            x = next;
        }
    }
}
