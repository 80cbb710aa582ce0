/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* origin: splitmix64.c, Sebastiano Vigna 2015, public domain
 * (https://prng.di.unimi.it/splitmix64.c), itself a fixed-increment
 * version of Java 8's SplittableRandom generator: G. L. Steele, D. Lea,
 * C. H. Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014. Constants and shifts are those of the reference code. */

/// SplitMix64: a 64-bit generator used only to expand a `u64` seed into
/// generator state.
///
/// Contract: NUMERICS.md §8.1 (seeding). Its outputs are the reference
/// `splitmix64.c` outputs bit for bit, for every seed.
///
/// It is not the training RNG: its statistical quality is fine, but its
/// job in samebits is seeding [`Xoshiro128PlusPlus`](super::Xoshiro128PlusPlus),
/// where it turns nearby seeds (0, 1, 2, ...) into unrelated states. Every
/// seed, including 0, is valid: the state is a plain counter.
///
/// Deliberately not `Copy`: silently duplicating a generator duplicates
/// its stream. `Clone` is there for when that is what you mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The golden gamma, 2^64 / φ rounded to odd: the counter's increment.
    /// Odd, so the counter visits all 2^64 states before repeating.
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    /// Creates a generator whose first output is `mix(seed + GAMMA)`.
    ///
    /// Contract: NUMERICS.md §8.1. Any `u64` is a valid seed.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Advances the counter by the golden gamma and returns the mixed value.
    ///
    /// Contract: NUMERICS.md §8.1. Equal to `next()` of the reference C
    /// code; all arithmetic is modulo 2^64 (wrapping), as in C.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        // Two xor-shift-multiply rounds (Stafford's "Mix13" variant) and a
        // final xor-shift: a bijection on u64 with good avalanche, so the
        // consecutive counter values come out looking unrelated.
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    // Golden outputs were produced by compiling Vigna's reference
    // splitmix64.c (transcribed from https://prng.di.unimi.it/splitmix64.c)
    // with gcc and printing the first five outputs after setting `x = seed`.

    fn first5(seed: u64) -> [u64; 5] {
        let mut g = SplitMix64::new(seed);
        [g.next_u64(), g.next_u64(), g.next_u64(), g.next_u64(), g.next_u64()]
    }

    #[test]
    fn reference_seed_0() {
        assert_eq!(
            first5(0),
            [0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec, 0x1b39896a51a8749b,]
        );
    }

    #[test]
    fn reference_seed_1234567() {
        assert_eq!(
            first5(1234567),
            [0x599ed017fb08fc85, 0x2c73f08458540fa5, 0x883ebce5a3f27c77, 0x3fbef740e9177b3f, 0xe3b8346708cb5ecd,]
        );
    }

    /// The counter must wrap rather than overflow-panic in debug builds:
    /// `u64::MAX + GAMMA` overflows on the very first call.
    #[test]
    fn reference_seed_u64_max_wraps() {
        assert_eq!(
            first5(u64::MAX),
            [0xe4d971771b652c20, 0xe99ff867dbf682c9, 0x382ff84cb27281e9, 0x6d1db36ccba982d2, 0xb4a0472e578069ae,]
        );
    }

    /// The state is a counter: n steps from seed s land where one step from
    /// s + (n-1)·GAMMA lands. This pins the "counter + stateless mix"
    /// structure, independent of the golden values above.
    #[test]
    fn counter_structure() {
        let seed = 0x0123_4567_89ab_cdef_u64;
        let mut g = SplitMix64::new(seed);
        for n in 1..=100u64 {
            let got = g.next_u64();
            let skip = seed.wrapping_add((n - 1).wrapping_mul(SplitMix64::GAMMA));
            assert_eq!(got, SplitMix64::new(skip).next_u64(), "step {n}");
        }
    }

    /// GAMMA must be odd for the counter to have full period 2^64.
    #[test]
    fn gamma_is_odd() {
        assert_eq!(SplitMix64::GAMMA & 1, 1);
    }

    /// `new` is usable in constant context (e.g. a `static` seeder).
    #[test]
    fn const_new() {
        const G: SplitMix64 = SplitMix64::new(0);
        let mut g = G;
        assert_eq!(g.next_u64(), 0xe220a8397b1dcdaf);
    }

    /// Cloning forks the stream at the same point; the original is
    /// unaffected by draws from the clone.
    #[test]
    fn clone_forks_stream() {
        let mut a = SplitMix64::new(7);
        a.next_u64();
        let mut b = a.clone();
        assert_eq!(a, b);
        let xb = b.next_u64();
        assert_ne!(a, b);
        assert_eq!(a.next_u64(), xb);
    }
}
