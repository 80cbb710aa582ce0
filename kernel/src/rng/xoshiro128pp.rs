/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* origin: xoshiro128plusplus.c 1.0, David Blackman and Sebastiano Vigna
 * 2019, public domain (https://prng.di.unimi.it/xoshiro128plusplus.c).
 * Paper: D. Blackman, S. Vigna, "Scrambled linear pseudorandom number
 * generators", ACM Trans. Math. Softw. 47(4), 2021.
 * Seeding (SplitMix64, two outputs, low word first) is samebits' own rule,
 * following the authors' advice to seed from a splitmix64 generator. */

use rand_core::{impls, RngCore, SeedableRng};

use super::SplitMix64;

/// xoshiro128++ 1.0: the one training RNG of samebits.
///
/// Contract: NUMERICS.md §8.1. `next_u32` equals `next()` of
/// the reference C code bit for bit from any given state; see the
/// [`RngCore`] and [`SeedableRng`] impls for how wider outputs, bytes and
/// seeds are derived.
///
/// 128 bits of state, period 2^128 - 1, 32-bit outputs. Chosen because
/// it needs only 32-bit adds, xors, shifts and rotates, which every target
/// (and every GPU) has, so a device kernel can reproduce the stream
/// exactly.
///
/// Invariant: the state is never all zero (the one fixed point of the
/// linear engine). Every constructor enforces it, and the step function,
/// being invertible, preserves it.
///
/// Deliberately not `Copy`: silently duplicating a generator duplicates
/// its stream. `Clone` is there for when that is what you mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro128PlusPlus {
    s: [u32; 4],
}

impl Xoshiro128PlusPlus {
    /// Restores a generator from a raw state, e.g. one saved by
    /// [`state`](Self::state) in a checkpoint.
    ///
    /// Contract: NUMERICS.md §8.1. `from_state(g.state())` continues
    /// exactly where `g` would. The all-zero state, which no generator
    /// ever reaches and xoshiro cannot use, is replaced by the state of
    /// `seed_from_u64(0)`, the same rule as for [`SeedableRng::from_seed`],
    /// so that every value of this type is a working generator.
    pub fn from_state(s: [u32; 4]) -> Self {
        if s == [0; 4] {
            return Self::seed_from_u64(0);
        }
        Self { s }
    }

    /// The raw state `[s0, s1, s2, s3]`, in the order of the reference C
    /// code's `s[4]`.
    ///
    /// Contract: NUMERICS.md §8.1. Never all zero; round-trips through
    /// [`from_state`](Self::from_state).
    pub const fn state(&self) -> [u32; 4] {
        self.s
    }
}

impl RngCore for Xoshiro128PlusPlus {
    /// One step of xoshiro128++.
    ///
    /// Contract: NUMERICS.md §8.1. Equal to the reference `next()`.
    #[inline]
    fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        // The "++" scrambler: the output is a nonlinear function of two
        // state words, which hides the linear engine's weak low bits.
        // C's unsigned arithmetic wraps; so must ours.
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);

        // The linear engine. The order of these xors matters: each line
        // reads words updated by the lines above it, exactly as in C.
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);

        result
    }

    /// Two `next_u32` draws, the first one in the low half.
    ///
    /// Contract: NUMERICS.md §8.1. This is
    /// `rand_core::impls::next_u64_via_u32`; we call it rather than copy
    /// it, and the tests pin the order so that a change there is caught.
    #[inline]
    fn next_u64(&mut self) -> u64 {
        impls::next_u64_via_u32(self)
    }

    /// Fills `dst` with little-endian words.
    ///
    /// Contract: NUMERICS.md §8.1. This is
    /// `rand_core::impls::fill_bytes_via_next`: whole 8-byte chunks come
    /// from `next_u64` (two words, low first); a tail of 5..=7 bytes
    /// consumes a whole `next_u64` and a tail of 1..=4 bytes a whole
    /// `next_u32`, the unused bytes being discarded. So `fill_bytes` of
    /// `n` bytes consumes `2·(n / 8) + w` words, where `w` is 0, 1 or 2
    /// for a tail of 0, 1..=4 or 5..=7 bytes.
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        impls::fill_bytes_via_next(self, dst)
    }
}

impl SeedableRng for Xoshiro128PlusPlus {
    /// Four little-endian `u32` words, `s0` first.
    type Seed = [u8; 16];

    /// Builds a generator from 16 seed bytes: bytes `4k..4k+4` are the
    /// little-endian word `s[k]`.
    ///
    /// Contract: NUMERICS.md §8.1. The all-zero seed would give a
    /// generator stuck at zero forever, so it is replaced by
    /// `seed_from_u64(0)`. Every other seed is used as is; prefer
    /// [`seed_from_u64`](Self::seed_from_u64) unless you are restoring
    /// bytes that came from a generator.
    fn from_seed(seed: [u8; 16]) -> Self {
        let mut s = [0u32; 4];
        for (word, bytes) in s.iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        Self::from_state(s)
    }

    /// The samebits seeding rule: `a`, `b` = the first two outputs of
    /// [`SplitMix64::new(seed)`](SplitMix64::new), and
    /// `s = [lo(a), hi(a), lo(b), hi(b)]`.
    ///
    /// Contract: NUMERICS.md §8.1. Overrides `rand_core`'s default (a PCG32
    /// expansion), because `rand_core`'s choice is not our contract and
    /// may change between its releases. Every `u64` is a valid seed: the
    /// result is all zero only if SplitMix64 produced two zero outputs in
    /// a row, and its mixing function is a bijection whose zero preimage
    /// is the state 0, which two consecutive counter values (differing by
    /// an odd gamma) cannot both be.
    fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let a = sm.next_u64();
        let b = sm.next_u64();
        // Not `from_state`: that would recurse here on an all-zero state,
        // which (see above) cannot happen.
        Self { s: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32] }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::Xoshiro128PlusPlus;
    use rand_core::{RngCore, SeedableRng};

    // Golden values were produced by compiling the reference C code with
    // gcc: xoshiro128plusplus.c transcribed from
    // https://prng.di.unimi.it/xoshiro128plusplus.c, plus Vigna's
    // splitmix64.c chained as in `seed_from_u64` (x = seed; a = next();
    // b = next(); s = {a, a >> 32, b, b >> 32}), printing `s` and the
    // first outputs of `next()`.

    const REF_1234: [u32; 8] =
        [0x00000281, 0x00180387, 0xc0183387, 0xd1ae3b02, 0x31e2310a, 0xfd275ab0, 0xe67f7cec, 0x50d07f0f];
    const SEED42_STATE: [u32; 4] = [0x2feb6e95, 0xbdd73226, 0xb266f103, 0x28efe333];
    const SEED42_OUT: [u32; 8] =
        [0x9d9452c1, 0x6909d440, 0x6148a68f, 0x54829a5b, 0xc648de34, 0xedc89aa6, 0xff162eb3, 0xab6356aa];
    const SEED0_STATE: [u32; 4] = [0x7b1dcdaf, 0xe220a839, 0xa1b965f4, 0x6e789e6a];
    const SEED0_OUT: [u32; 4] = [0x4653daa3, 0x73922b58, 0xb82b4add, 0xd9fabd3b];

    fn words<const N: usize>(g: &mut Xoshiro128PlusPlus) -> [u32; N] {
        core::array::from_fn(|_| g.next_u32())
    }

    fn g1234() -> Xoshiro128PlusPlus {
        Xoshiro128PlusPlus::from_state([1, 2, 3, 4])
    }

    #[test]
    fn reference_state_1234() {
        // First output by hand: rotl(1 + 4, 7) + 1 = 640 + 1 = 0x281.
        assert_eq!(words::<8>(&mut g1234()), REF_1234);
    }

    #[test]
    fn reference_seed_from_u64_42() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(42);
        assert_eq!(g.state(), SEED42_STATE);
        assert_eq!(words::<8>(&mut g), SEED42_OUT);
    }

    #[test]
    fn reference_seed_from_u64_0() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(0);
        assert_eq!(g.state(), SEED0_STATE);
        assert_eq!(words::<4>(&mut g), SEED0_OUT);
    }

    /// The seeding rule restated through `SplitMix64`, so that a change to
    /// either side is caught even without the golden values.
    #[test]
    fn seed_from_u64_is_two_splitmix_outputs() {
        for seed in [0, 1, 42, 1234567, u64::MAX, 1 << 63] {
            let mut sm = super::SplitMix64::new(seed);
            let (a, b) = (sm.next_u64(), sm.next_u64());
            let want = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
            assert_eq!(Xoshiro128PlusPlus::seed_from_u64(seed).state(), want);
        }
    }

    /// Guards against the default `rand_core` seeding sneaking back in
    /// (e.g. if the override were deleted, or the impl were
    /// feature-gated): our rule differs from PCG32 expansion.
    #[test]
    fn seed_from_u64_is_overridden() {
        struct Probe([u8; 16]);
        impl SeedableRng for Probe {
            type Seed = [u8; 16];
            fn from_seed(seed: [u8; 16]) -> Self {
                Probe(seed)
            }
        }
        let default_seed = Probe::seed_from_u64(42).0;
        assert_ne!(Xoshiro128PlusPlus::from_seed(default_seed).state(), SEED42_STATE);
    }

    #[test]
    fn from_seed_little_endian_words() {
        let mut seed = [0u8; 16];
        for (k, w) in [1u32, 2, 3, 4].iter().enumerate() {
            seed[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
        }
        assert_eq!(seed[0], 1, "s0's low byte comes first");
        let mut g = Xoshiro128PlusPlus::from_seed(seed);
        assert_eq!(g.state(), [1, 2, 3, 4]);
        assert_eq!(words::<8>(&mut g), REF_1234);

        // Bytes in a non-palindromic pattern, to catch a byte swap.
        let seed: [u8; 16] = core::array::from_fn(|i| i as u8 + 1);
        let g = Xoshiro128PlusPlus::from_seed(seed);
        assert_eq!(g.state(), [0x04030201, 0x08070605, 0x0c0b0a09, 0x100f0e0d]);
    }

    #[test]
    fn zero_seed_and_zero_state_are_replaced() {
        let want = Xoshiro128PlusPlus::seed_from_u64(0);
        assert_eq!(Xoshiro128PlusPlus::from_seed([0; 16]), want);
        assert_eq!(Xoshiro128PlusPlus::from_state([0; 4]), want);
        let mut g = Xoshiro128PlusPlus::from_seed([0; 16]);
        assert_eq!(words::<4>(&mut g), SEED0_OUT);
    }

    /// A seed with a single set bit anywhere is valid and used verbatim:
    /// only the exact all-zero seed is special.
    #[test]
    fn nearly_zero_seeds_are_kept() {
        for bit in 0..128 {
            let mut seed = [0u8; 16];
            seed[bit / 8] = 1 << (bit % 8);
            let mut want = [0u32; 4];
            want[bit / 32] = 1 << (bit % 32);
            assert_eq!(Xoshiro128PlusPlus::from_seed(seed).state(), want);
        }
    }

    /// Checkpoint round trip: restoring the saved state mid-stream
    /// continues the exact same stream.
    #[test]
    fn state_round_trip() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(42);
        for _ in 0..3 {
            g.next_u32();
        }
        let mut restored = Xoshiro128PlusPlus::from_state(g.state());
        assert_eq!(restored, g);
        assert_eq!(words::<5>(&mut restored), SEED42_OUT[3..]);
        assert_eq!(words::<5>(&mut g), SEED42_OUT[3..]);
    }

    /// The state never becomes zero, and `state` reflects each step.
    #[test]
    fn state_advances_and_stays_nonzero() {
        let mut g = g1234();
        let mut prev = g.state();
        for _ in 0..if cfg!(miri) { 500 } else { 10_000 } {
            g.next_u32();
            let s = g.state();
            assert_ne!(s, [0; 4]);
            assert_ne!(s, prev);
            prev = s;
        }
    }

    #[test]
    fn next_u64_is_low_word_first() {
        let mut g = g1234();
        let want: [u64; 4] =
            core::array::from_fn(|k| u64::from(REF_1234[2 * k]) | (u64::from(REF_1234[2 * k + 1]) << 32));
        assert_eq!(want[0], 0x0018_0387_0000_0281);
        let got: [u64; 4] = core::array::from_fn(|_| g.next_u64());
        assert_eq!(got, want);
    }

    /// next_u64 and next_u32 share one stream: mixing them consumes the
    /// words in order.
    #[test]
    fn mixed_draws_share_stream() {
        let mut g = g1234();
        assert_eq!(g.next_u32(), REF_1234[0]);
        assert_eq!(g.next_u64(), u64::from(REF_1234[1]) | (u64::from(REF_1234[2]) << 32));
        assert_eq!(g.next_u32(), REF_1234[3]);
    }

    /// The little-endian byte stream of the reference words.
    fn ref_bytes() -> Vec<u8> {
        REF_1234.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn fill_bytes_whole_words() {
        let mut g = g1234();
        let mut buf = [0u8; 32];
        g.fill_bytes(&mut buf);
        assert_eq!(&buf[..], &ref_bytes()[..]);
        assert_eq!(&buf[..4], &[0x81, 0x02, 0x00, 0x00]);
    }

    /// Every length 0..=24: the bytes are a prefix of the little-endian
    /// word stream, and exactly the documented number of words is consumed
    /// (checked by the next word drawn afterwards).
    #[test]
    fn fill_bytes_tail_layout_and_consumption() {
        let stream = ref_bytes();
        for n in 0..=24usize {
            let mut g = g1234();
            let mut buf = [0xAAu8; 24];
            g.fill_bytes(&mut buf[..n]);
            assert_eq!(&buf[..n], &stream[..n], "bytes, n = {n}");
            assert!(buf[n..].iter().all(|&b| b == 0xAA), "overrun, n = {n}");

            let tail_words = match n % 8 {
                0 => 0,
                1..=4 => 1,
                _ => 2,
            };
            let consumed = 2 * (n / 8) + tail_words;
            assert_eq!(g.next_u32(), REF_1234[consumed], "consumed, n = {n}");
        }
    }

    /// Works through `dyn RngCore`, which is how generic kernels may hold it.
    #[test]
    fn object_safe() {
        let mut g = g1234();
        let r: &mut dyn RngCore = &mut g;
        assert_eq!(r.next_u32(), REF_1234[0]);
    }

    /// Different nearby seeds give unrelated streams (a smoke test of the
    /// SplitMix64 expansion, not a statistical test).
    #[test]
    fn nearby_seeds_differ() {
        let first: Vec<u32> = (0..64u64).map(|s| Xoshiro128PlusPlus::seed_from_u64(s).next_u32()).collect();
        for i in 0..first.len() {
            for j in i + 1..first.len() {
                assert_ne!(first[i], first[j], "seeds {i} and {j}");
            }
        }
    }

    /// Each output bit is set about half the time. Crude, deterministic
    /// (fixed seed), and enough to catch a broken scrambler or a dropped
    /// rotate.
    #[test]
    #[cfg_attr(miri, ignore)] // Statistics need many draws; the reference streams run under miri.
    fn bit_balance() {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(1);
        let n = 20_000u32;
        let mut ones = [0u32; 32];
        for _ in 0..n {
            let x = g.next_u32();
            for (b, c) in ones.iter_mut().enumerate() {
                *c += (x >> b) & 1;
            }
        }
        // sd = sqrt(n)/2 ≈ 71; allow ~7 sd.
        for (b, &c) in ones.iter().enumerate() {
            assert!(c.abs_diff(n / 2) < 500, "bit {b}: {c} of {n}");
        }
    }
}
