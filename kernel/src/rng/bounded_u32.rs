/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* origin: D. Lemire, "Fast Random Integer Generation in an Interval",
 * ACM Trans. Model. Comput. Simul. 29(1), 2019, Algorithm 5 ("nearly
 * divisionless"), transcribed for 32-bit words. */

use rand_core::RngCore;

/// Draws an integer uniformly from `[0, n)`, `n ≥ 1`.
///
/// Contract: NUMERICS.md §8.3. Lemire's nearly
/// divisionless method, exactly as below; the outputs and the number of
/// words consumed are part of the contract:
///
/// ```text
/// x = next_u32(); m = x · n (64-bit); l = m mod 2^32
/// if l < n:
///     t = 2^32 mod n            (computed as n.wrapping_neg() % n)
///     while l < t: x = next_u32(); m = x · n; l = m mod 2^32
/// return m >> 32
/// ```
///
/// One word per call, plus one per rejection. A rejection happens with
/// probability `(2^32 mod n) / 2^32 < n / 2^32`: never for powers of two,
/// negligibly for small `n`, and at worst just under 1/2 (for `n` just
/// above 2^31).
///
/// # Why it is exactly uniform
///
/// `m >> 32 = k` for the `x` in a run of consecutive values where
/// `x · n` lies in `[k·2^32, (k+1)·2^32)`; along that run `l = x·n - k·2^32`
/// steps up by `n` from a start below `n`. Rejecting `l < t` removes the
/// start of each run so that exactly `floor(2^32 / n)` values of `x`
/// remain for every `k`. The division is only needed when `l < n`, which
/// is rare, hence "nearly divisionless".
///
/// # `n = 0`
///
/// There is no integer in `[0, 0)`, so `n = 0` is a caller bug: it panics
/// in debug builds, and in release builds returns 0 without consuming any
/// randomness.
pub fn bounded_u32<R: RngCore + ?Sized>(rng: &mut R, n: u32) -> u32 {
    debug_assert!(n != 0, "bounded_u32: empty range [0, 0)");
    if n == 0 {
        return 0;
    }
    let mut m = u64::from(rng.next_u32()) * u64::from(n);
    let mut l = m as u32;
    if l < n {
        // 2^32 mod n, in 32-bit arithmetic: (2^32 - n) mod n.
        let t = n.wrapping_neg() % n;
        while l < t {
            m = u64::from(rng.next_u32()) * u64::from(n);
            l = m as u32;
        }
    }
    (m >> 32) as u32
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::bounded_u32;
    use crate::rng::Xoshiro128PlusPlus;
    use rand_core::{RngCore, SeedableRng};

    /// A fake generator that replays a fixed list of words and counts how
    /// many were drawn; running out is a test failure.
    struct Replay<'a> {
        words: &'a [u32],
        drawn: usize,
    }

    impl<'a> Replay<'a> {
        fn new(words: &'a [u32]) -> Self {
            Replay { words, drawn: 0 }
        }
    }

    impl RngCore for Replay<'_> {
        fn next_u32(&mut self) -> u32 {
            let x = self.words[self.drawn];
            self.drawn += 1;
            x
        }
        fn next_u64(&mut self) -> u64 {
            unreachable!("bounded_u32 draws only u32 words")
        }
        fn fill_bytes(&mut self, _: &mut [u8]) {
            unreachable!("bounded_u32 draws only u32 words")
        }
    }

    /// `u32::MAX` is accepted for every `n`: its `l` is `2^32 - n`, which is
    /// `≥ n > t` when `n ≤ 2^31`, and equal to `t` when `n > 2^31`
    /// (then `2^32 = 1·n + (2^32 - n)`). It maps to `n - 1`.
    const ALWAYS_ACCEPTED: u32 = u32::MAX;

    /// What a single word `x` does for bound `n`: `Some(value)` if it is
    /// accepted, `None` if it is rejected (the function then drew the
    /// always-accepted backstop).
    fn one_word(n: u32, x: u32) -> Option<u32> {
        let words = [x, ALWAYS_ACCEPTED];
        let mut r = Replay::new(&words);
        let v = bounded_u32(&mut r, n);
        match r.drawn {
            1 => Some(v),
            2 => {
                assert_eq!(v, n - 1, "backstop word");
                None
            }
            d => panic!("drew {d} words"),
        }
    }

    #[test]
    fn always_accepted_word() {
        for n in [1, 2, 3, 7, 1 << 31, (1 << 31) + 1, u32::MAX - 1, u32::MAX] {
            assert_eq!(one_word(n, ALWAYS_ACCEPTED), Some(n - 1), "n = {n}");
        }
    }

    #[test]
    fn n_one_is_always_zero_with_one_draw() {
        for x in [0, 1, 2, 0x8000_0000, u32::MAX - 1, u32::MAX] {
            assert_eq!(one_word(1, x), Some(0), "x = {x:#x}");
        }
    }

    /// Powers of two never reject (`2^32 mod n = 0`) and return the top
    /// bits of `x`.
    #[test]
    fn powers_of_two_are_top_bits() {
        for b in 0..32 {
            let n = 1u32 << b;
            for x in [0, 1, 0x1234_5678, 0x8000_0000, u32::MAX] {
                let want = if b == 0 { 0 } else { x >> (32 - b) };
                assert_eq!(one_word(n, x), Some(want), "n = 2^{b}, x = {x:#x}");
            }
        }
    }

    /// `n = u32::MAX`: `t = 1`, so only `x = 0` is rejected, and `x ≥ 1`
    /// maps to `x - 1`.
    #[test]
    fn n_max() {
        let n = u32::MAX;
        assert_eq!(one_word(n, 0), None);
        assert_eq!(one_word(n, 1), Some(0));
        assert_eq!(one_word(n, 2), Some(1));
        assert_eq!(one_word(n, 0x8000_0000), Some(0x7FFF_FFFF));
        assert_eq!(one_word(n, u32::MAX), Some(u32::MAX - 1));
    }

    /// The rejection loop really runs, and as many times as needed. For
    /// `n = 3`, `t = 2^32 mod 3 = 1` and only `x = 0` has `l < 1`.
    #[test]
    fn rejection_path() {
        let mut r = Replay::new(&[0, 5]);
        // 5·3 = 15 < 2^32, so the value is 0, from the second word.
        assert_eq!(bounded_u32(&mut r, 3), 0);
        assert_eq!(r.drawn, 2);

        let mut r = Replay::new(&[0, 0, 0, u32::MAX]);
        assert_eq!(bounded_u32(&mut r, 3), 2);
        assert_eq!(r.drawn, 4);

        // l < n but l ≥ t: the slow path computes t and keeps the word.
        // n = 5, x = 0x3333_3334: x·5 = 0x1_0000_0004, so l = 4 < 5, and
        // t = 2^32 mod 5 = 1 ≤ 4: kept, value 1.
        assert_eq!(one_word(5, 0x3333_3334), Some(1));
    }

    /// `n = 3·2^30` is where skipping the rejection would be most visible:
    /// `floor(3x / 4)` maps `x = 4a + {0,1,2,3}` to `3a + {0,0,1,2}`, so
    /// multiples of 3 would be hit twice as often. Lemire's `t = 2^30`
    /// rejects exactly `x ≡ 0 (mod 4)`.
    #[test]
    fn three_quarters_exhaustive_pattern() {
        let n = 3 << 30;
        let len = if cfg!(miri) { 256 } else { 4096 }; // fewer under miri
        for x in 0u32..len {
            let want = match x % 4 {
                0 => None,
                b => Some(3 * (x / 4) + b - 1),
            };
            assert_eq!(one_word(n, x), want, "x = {x}");
        }
        // And at the top of the range.
        for x in (u32::MAX - (len - 1))..=u32::MAX {
            let want = match x % 4 {
                0 => None,
                b => Some(3 * (x / 4) + b - 1),
            };
            assert_eq!(one_word(n, x), want, "x = {x}");
        }
    }

    /// The same effect measured with the real generator: with rejection,
    /// residues mod 3 are equally likely; without it, 0 would have
    /// probability 1/2.
    #[test]
    #[cfg_attr(miri, ignore)] // Statistics need many draws; under miri the exact tests cover the same code.
    fn three_quarters_statistics() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(7);
        let n = 3 << 30;
        let draws = 30_000;
        let mut count = [0u32; 3];
        for _ in 0..draws {
            let v = bounded_u32(&mut g, n);
            assert!(v < n);
            count[(v % 3) as usize] += 1;
        }
        // Expected 10 000 each, sd ≈ 82; biased would be 15 000 for 0.
        for c in count {
            assert!(c.abs_diff(draws / 3) < 600, "{count:?}");
        }
    }

    /// The uniformity argument, checked at the boundaries of every output
    /// value for a range of `n`.
    ///
    /// For output `k`, the words `x` with `floor(x·n / 2^32) = k` form the
    /// run `[ceil(k·2^32 / n), ceil((k+1)·2^32 / n))`, along which
    /// `l = x·n - k·2^32` increases. So the accepted words for `k` are the
    /// run from `lo = ceil((k·2^32 + t) / n)` to `hi = ceil((k+1)·2^32 / n) - 1`.
    /// We check with the real function that `lo` and `hi` map to `k`, that
    /// `lo - 1` and `hi + 1` do not, and that `hi - lo + 1 = floor(2^32 / n)`,
    /// the same for every `k`. Exhaustive over `k` for small `n`; for large
    /// `n`, the first and last 300 values of `k` and a stride through
    /// the rest.
    #[test]
    fn accepted_runs_have_equal_length() {
        let two32: u64 = 1 << 32;
        // Under miri, which interprets every operation: exhaustive up to 40, 20 values at each
        // end and 50 in between.
        let (small, edge, between) = if cfg!(miri) { (40, 20, 50) } else { (300, 300, 1000) };
        let mut ns: Vec<u32> = (1..=small).collect();
        ns.extend([
            641, // a factor of 2^32 + 1
            1000,
            65_535,
            65_537,
            (1 << 31) - 1,
            1 << 31,
            (1 << 31) + 1,
            3 << 30,
            0xAAAA_AAAB,
            u32::MAX - 1,
            u32::MAX,
        ]);
        for n in ns {
            let n64 = u64::from(n);
            let t = two32 % n64;
            let per_value = two32 / n64;
            let ks: Vec<u64> = if n <= small.max(edge) {
                (0..n64).collect()
            } else {
                let (edge, stride) = (u64::from(edge), (n64 / between).max(1));
                (0..edge).chain((edge..n64 - edge).step_by(stride as usize)).chain(n64 - edge..n64).collect()
            };
            for k in ks {
                let lo = (k * two32 + t).div_ceil(n64);
                let hi = ((k + 1) * two32).div_ceil(n64) - 1;
                assert_eq!(hi + 1 - lo, per_value, "n = {n}, k = {k}");
                assert_eq!(one_word(n, lo as u32), Some(k as u32), "n = {n}, k = {k}, lo");
                assert_eq!(one_word(n, hi as u32), Some(k as u32), "n = {n}, k = {k}, hi");
                if lo > 0 {
                    assert_ne!(one_word(n, lo as u32 - 1), Some(k as u32), "n = {n}, k = {k}");
                }
                if hi < u64::from(u32::MAX) {
                    assert_ne!(one_word(n, hi as u32 + 1), Some(k as u32), "n = {n}, k = {k}");
                }
            }
        }
    }

    /// Golden values from the reference C code (Lemire's algorithm as
    /// transcribed from the paper, driven by the reference xoshiro128++
    /// seeded like `seed_from_u64(42)`), compiled with gcc.
    #[test]
    fn reference_seed_42() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(42);
        let got: [u32; 10] = core::array::from_fn(|_| bounded_u32(&mut g, 6));
        assert_eq!(got, [3, 2, 2, 1, 4, 5, 5, 4, 3, 5]);

        let mut g = Xoshiro128PlusPlus::seed_from_u64(42);
        let got: [u32; 4] = core::array::from_fn(|_| bounded_u32(&mut g, u32::MAX));
        assert_eq!(got, [2643743424, 1762251839, 1632151182, 1417845338]);
    }

    /// Always in range, for bounds with high rejection rates too.
    #[test]
    fn in_range() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(3);
        for n in [1, 2, 3, 10, 1000, (1 << 31) + 1, u32::MAX] {
            for _ in 0..if cfg!(miri) { 100 } else { 2000 } {
                assert!(bounded_u32(&mut g, n) < n);
            }
        }
    }

    /// Works through `dyn RngCore` (the `?Sized` bound).
    #[test]
    fn dyn_rng() {
        let words = [u32::MAX];
        let mut r = Replay::new(&words);
        let d: &mut dyn RngCore = &mut r;
        assert_eq!(bounded_u32(d, 10), 9);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "empty range")]
    fn n_zero_panics_in_debug() {
        let mut r = Replay::new(&[1]);
        bounded_u32(&mut r, 0);
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn n_zero_returns_zero_without_drawing_in_release() {
        let mut r = Replay::new(&[]);
        assert_eq!(bounded_u32(&mut r, 0), 0);
        assert_eq!(r.drawn, 0);
    }
}
