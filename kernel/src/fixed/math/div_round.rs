//! Integer division rounded to nearest, ties to even.
//!
//! Contract: NUMERICS.md §13.4.

/// `n / d` rounded to the nearest integer, ties to even, for `d > 0`.
///
/// Contract: NUMERICS.md §13.4. This is the division of the fixed-point path: the same
/// rounding rule as [`round_shift`](crate::fixed::narrow::round_shift) (NUMERICS.md §13.3),
/// for any positive divisor instead of a power of two.
///
/// Algorithm: the Euclidean quotient `q = ⌊n / d⌋` and remainder `r ∈ [0, d)` are exact for
/// every `n` when `d > 0` (only `i64::MIN / −1` overflows, and `d > 0` excludes it). The exact
/// quotient is `q + r/d`, so it rounds up when `r/d > 1/2`, i.e. when `r > d − r`, and on a tie
/// (`r = d − r`) when `q` is odd. Comparing `r` with `d − r` instead of `2r` with `d` keeps the
/// comparison free of overflow, and `q + 1` cannot overflow either: it happens only when
/// `r > 0`, which needs `d ≥ 2` and then `q ≤ i64::MAX / 2`.
///
/// Edge cases: exact for all `n`, including `i64::MIN` and `i64::MAX`; the result always lies
/// between `⌊n/d⌋` and `⌈n/d⌉`.
///
/// `d ≤ 0` is a caller bug: it fails a `debug_assert!` in debug builds and returns 0 in release
/// builds (a defined value, never a panic or undefined behaviour).
#[inline]
pub const fn div_round(n: i64, d: i64) -> i64 {
    debug_assert!(d > 0, "div_round: the divisor must be positive");
    if d <= 0 {
        return 0;
    }
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d); // in [0, d)
    let rest = d - r; // in (0, d]: no overflow
    if r > rest || (r == rest && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// Reference: exact rational rounding in i128, written independently of the function.
    fn reference(n: i64, d: i64) -> i64 {
        let (n, d) = (i128::from(n), i128::from(d));
        // Nearest integer to n/d: compare 2n with (2q + 1)d for the floor q.
        let q = n.div_euclid(d);
        let twice_rest = 2 * (n - q * d);
        let r = match twice_rest.cmp(&d) {
            core::cmp::Ordering::Less => q,
            core::cmp::Ordering::Greater => q + 1,
            core::cmp::Ordering::Equal => q + (q & 1),
        };
        r as i64
    }

    #[test]
    fn ties_go_to_even() {
        assert_eq!(div_round(1, 2), 0);
        assert_eq!(div_round(3, 2), 2);
        assert_eq!(div_round(5, 2), 2);
        assert_eq!(div_round(-1, 2), 0);
        assert_eq!(div_round(-3, 2), -2);
        assert_eq!(div_round(-5, 2), -2);
        assert_eq!(div_round(15, 6), 2); // 2.5
        assert_eq!(div_round(21, 6), 4); // 3.5
        assert_eq!(div_round(-21, 6), -4);
    }

    #[test]
    fn rounds_to_nearest() {
        assert_eq!(div_round(7, 3), 2); // 2.33
        assert_eq!(div_round(8, 3), 3); // 2.67
        assert_eq!(div_round(-7, 3), -2);
        assert_eq!(div_round(-8, 3), -3);
        assert_eq!(div_round(0, 7), 0);
        assert_eq!(div_round(42, 1), 42);
    }

    #[test]
    fn matches_f64_where_f64_is_exact() {
        // Small quotients of small integers: f64 division then rounding is exact enough to
        // decide, and `round_ties_even` implements the same tie rule. (Fewer under miri.)
        let r = if cfg!(miri) { 50 } else { 300 };
        for n in -r..=r {
            for d in 1i64..=40 {
                let want = (n as f64 / d as f64).round_ties_even() as i64;
                assert_eq!(div_round(n, d), want, "{n} / {d}");
            }
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let ns = [i64::MIN, i64::MIN + 1, i64::MIN / 2, -1, 0, 1, i64::MAX / 2, i64::MAX - 1, i64::MAX];
        let ds = [1, 2, 3, 4, 5, 7, 1 << 30, (1 << 31) + 1, i64::MAX / 2, i64::MAX / 2 + 1, i64::MAX - 1, i64::MAX];
        for n in ns {
            for d in ds {
                assert_eq!(div_round(n, d), reference(n, d), "{n} / {d}");
            }
        }
        assert_eq!(div_round(i64::MIN, 1), i64::MIN);
        assert_eq!(div_round(i64::MAX, 1), i64::MAX);
        assert_eq!(div_round(i64::MIN, 2), i64::MIN / 2);
        assert_eq!(div_round(i64::MIN, i64::MAX), -1); // -1.0000000000000000001
        assert_eq!(div_round(i64::MAX, i64::MAX), 1);
        assert_eq!(div_round(i64::MAX / 2, i64::MAX), 0); // just below one half
        assert_eq!(div_round(i64::MAX / 2 + 1, i64::MAX), 1); // just above one half
    }

    #[test]
    fn matches_i128_reference_on_a_grid() {
        // A deterministic pseudo-random walk over the full ranges of n and d (SplitMix64).
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for i in 0..if cfg!(miri) { 400 } else { 20_000 } {
            let n = next() as i64;
            // Divisors of every size: shift a random positive value down by 0..63 bits.
            let d = ((next() >> 1) >> (i % 63)).max(1) as i64;
            assert_eq!(div_round(n, d), reference(n, d), "{n} / {d}");
            // And exact ties: n = d·q + d/2 for even d.
            let d2 = ((next() >> 34) as i64 & !1).max(2); // below 2^30
            let q = (next() as i64) >> 34; // |q| < 2^29: d2·q fits
            let n2 = d2 * q + d2 / 2;
            assert_eq!(div_round(n2, d2), q + (q & 1), "tie {n2} / {d2}");
        }
    }

    #[test]
    fn usable_in_const_context() {
        const HALF_Q30: i64 = div_round(1 << 30, 2);
        assert_eq!(HALF_Q30, 1 << 29);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "divisor must be positive")]
    fn non_positive_divisor_is_caught_in_debug() {
        let _ = div_round(1, 0);
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn non_positive_divisor_gives_zero_in_release() {
        assert_eq!(div_round(1, 0), 0);
        assert_eq!(div_round(i64::MIN, -1), 0);
    }
}
