//! Property tests of kernel invariants, on inputs drawn at random by `proptest`:
//!
//! 1. `rng::shuffle` is a permutation, and the order is a function of the seed and the length
//!    only (NUMERICS.md §8.4);
//! 2. the digest changes when any one bit of any parameter word changes, and only then
//!    (§11, §13.8);
//! 3. fixed-point narrowing rounds half to even and saturates with counting, against references
//!    written here in exact integer arithmetic (§13.3);
//! 4. every vector unit this processor has gives the portable loop's bits, on the f32 and the
//!    16-bit (fixed path) products (§5.1, §13.2).
//!
//! The unit tests beside each module pin golden values and hand-picked edge cases; these look
//! for the cases nobody picked. A failure prints the shrunk input. Case counts are modest so
//! that the file runs in a few seconds in a debug build.

// Not under miri (scripts/matrix-miri.sh runs the kernel's tests there): thousands of generated
// cases, many with thousands of operations each, are far too slow interpreted. The kernel's unit
// tests cover the same code under miri with smaller fixed inputs.
#![cfg(not(miri))]
// `sum = sum + a * b` is written out, as in the kernel (lib.rs), so that it reads like §5.1's formula.
#![allow(clippy::assign_op_pattern)]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use rand_core::SeedableRng;
use samebits::digest::{canonical_bits, digest_params, digest_words, to_hex, Digest, Sha256};
use samebits::fixed::narrow::{div_round_i128, round_shift, round_shift_i128, Saturations};
use samebits::linalg::{matmul_f32_with, matmul_i16_with, matmul_on, MatmulShape, UnitKind, VectorUnit};
use samebits::rng::{shuffle, Xoshiro128PlusPlus};
use std::sync::atomic::AtomicU32;

/// `cases` random cases; no regression files written into the source tree (the failing input is
/// in the panic message), which also keeps the cross-targets (wasm32-wasip1, wine) away from the
/// file system.
fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

// ---------------------------------------------------------------------------------------------
// 1. Shuffle (NUMERICS.md §8.4)
// ---------------------------------------------------------------------------------------------

/// Items mostly distinct (random u32) or with many repeats (eight values), so that the sorted
/// comparison checks both identities and multiplicities.
fn items() -> impl Strategy<Value = Vec<u32>> {
    prop_oneof![
        prop::collection::vec(any::<u32>(), 0..=2000),
        prop::collection::vec(0u32..8, 0..=2000),
        // The short lengths, where off-by-one bounds show.
        prop::collection::vec(any::<u32>(), 0..=4),
    ]
}

proptest! {
    #![proptest_config(config(64))]

    /// The shuffled items, sorted, are the input sorted; the same seed gives the same order and
    /// leaves the generator in the same state (the same number of words drawn); and the order
    /// depends only on the seed and the length: it is the shuffle of the identity applied to the
    /// items.
    #[test]
    fn shuffle_is_a_permutation_fixed_by_the_seed(seed in any::<u64>(), input in items()) {
        let mut g = Xoshiro128PlusPlus::seed_from_u64(seed);
        let mut shuffled = input.clone();
        shuffle(&mut g, &mut shuffled);

        let mut sorted_in = input.clone();
        sorted_in.sort_unstable();
        let mut sorted_out = shuffled.clone();
        sorted_out.sort_unstable();
        prop_assert_eq!(&sorted_out, &sorted_in, "not a permutation (len {})", input.len());

        let mut g2 = Xoshiro128PlusPlus::seed_from_u64(seed);
        let mut again = input.clone();
        shuffle(&mut g2, &mut again);
        prop_assert_eq!(&again, &shuffled, "same seed, different order");
        prop_assert_eq!(&g2, &g, "same seed, different number of words drawn");
        if input.len() <= 1 {
            prop_assert_eq!(&g, &Xoshiro128PlusPlus::seed_from_u64(seed), "{} items, words drawn", input.len());
        }

        let mut order: Vec<usize> = (0..input.len()).collect();
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(seed), &mut order);
        let applied: Vec<u32> = order.iter().map(|&i| input[i]).collect();
        prop_assert_eq!(&applied, &shuffled, "the order depends on the items' values");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Digest (NUMERICS.md §11, §13.8)
// ---------------------------------------------------------------------------------------------

/// Word vectors from empty to a few 256-byte buffers of `digest_words` (64 words each) and
/// SHA-256 blocks (16 words), so that flips land on either side of every boundary.
fn words() -> impl Strategy<Value = Vec<u32>> {
    prop_oneof![
        prop::collection::vec(any::<u32>(), 0..=300),
        // Mostly zeros: a flipped bit is then often the only one set.
        prop::collection::vec(prop_oneof![4 => Just(0u32), 1 => any::<u32>()], 0..=140),
    ]
}

/// An f32 parameter's bits: any pattern, NaNs (with payloads) and signed zeros included.
fn float_bits() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => any::<u32>(),
        1 => Just(0x7fc0_0000u32),
        1 => (any::<bool>(), 1u32..0x0080_0000).prop_map(|(s, payload)| u32::from(s) << 31 | 0x7f80_0000 | payload),
        1 => prop_oneof![Just(0u32), Just(0x8000_0000u32)],
    ]
}

proptest! {
    #![proptest_config(config(128))]

    /// The same words give the same digest; flipping any single bit of any word changes it;
    /// appending a word (even a zero) changes it.
    #[test]
    fn digest_words_sees_every_bit(w in words(), index in any::<Index>(), bit in 0u32..32) {
        let d = digest_words(w.iter().copied());
        prop_assert_eq!(digest_words(w.clone().into_iter()), d, "same words, different digest");
        if !w.is_empty() {
            let i = index.index(w.len());
            let mut flipped = w.clone();
            flipped[i] ^= 1 << bit;
            prop_assert_ne!(digest_words(flipped.into_iter()), d, "bit {} of word {} of {} not seen", bit, i, w.len());
        }
        let mut longer = w.clone();
        longer.push(0);
        prop_assert_ne!(digest_words(longer.into_iter()), d, "an appended zero word not seen");
    }

    /// The digest is SHA-256 of the words' little-endian bytes, whichever way the bytes are
    /// split into `update` calls, and prints as the 64 lowercase hex digits of its bytes.
    #[test]
    fn digest_words_is_sha256_of_little_endian_bytes(w in words(), cuts in prop::collection::vec(any::<Index>(), 0..6)) {
        let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut h = Sha256::new();
        let mut from = 0;
        for cut in cuts {
            h.update(&bytes[from..cut]);
            from = cut;
        }
        h.update(&bytes[from..]);
        let d = digest_words(w.iter().copied());
        prop_assert_eq!(d, Digest(h.finalize()));
        let hex: String = d.0.iter().map(|b| format!("{b:02x}")).collect();
        prop_assert_eq!(d.to_string(), hex.clone());
        prop_assert_eq!(&to_hex(&d.0)[..], hex.as_bytes());
    }

    /// On f32 parameters, flipping one bit changes the digest except where the value is a NaN
    /// before and after (every NaN hashes alike); +0 and −0 differ.
    #[test]
    fn digest_params_sees_every_bit_but_nan_payloads(
        bits in prop::collection::vec(float_bits(), 1..=150),
        index in any::<Index>(),
        bit in 0u32..32,
    ) {
        let params: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
        let d = digest_params(&params);
        prop_assert_eq!(digest_params(&params.clone()), d);
        prop_assert_eq!(digest_words(params.iter().map(|&p| canonical_bits(p))), d);
        let i = index.index(params.len());
        let mut flipped = params.clone();
        flipped[i] = f32::from_bits(bits[i] ^ 1 << bit);
        let both_nan = params[i].is_nan() && flipped[i].is_nan();
        prop_assert_eq!(digest_params(&flipped) == d, both_nan, "bit {} of {:#010x}", bit, bits[i]);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Narrowing (NUMERICS.md §13.3)
// ---------------------------------------------------------------------------------------------

/// The reference rounding, written differently from the kernel's (which rounds the floor up):
/// sign and magnitude, the magnitude rounded half to even (rounding to nearest with ties to even
/// is symmetric about zero, so the sign is put back afterwards), all in exact unsigned integers.
fn reference_div(x: i128, d: u128) -> i128 {
    let magnitude = x.unsigned_abs();
    let (q, r) = (magnitude / d, magnitude % d);
    // Remainder against half the divisor, doubled so that odd divisors stay exact (r < d ≤ 2¹²⁷,
    // so 2r fits in u128).
    let up = match (2 * r).cmp(&d) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q % 2 == 1,
        std::cmp::Ordering::Less => false,
    };
    let q = q + u128::from(up);
    // |result| ≤ 2¹²⁷, and exactly 2¹²⁷ only for x = i128::MIN, d = 1: wraps to i128::MIN.
    if x < 0 {
        (q as i128).wrapping_neg()
    } else {
        q as i128
    }
}

/// `x / 2^shift`, rounded half to even: the reference for `round_shift` and `round_shift_i128`.
fn reference_shift(x: i128, shift: u32) -> i128 {
    reference_div(x, 1u128 << shift)
}

/// Values of `x` for dividing by `2^shift` (shift < bits): anything, exact ties (an odd multiple
/// of half the divisor), their neighbours, and the smallest and largest values.
fn shifted_i64(shift: u32) -> impl Strategy<Value = i64> {
    let half = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
    // Quotients q whose q·2^shift ± half and ± 1 stay within i64.
    let (lo, hi) = ((i64::MIN >> shift) / 2, (i64::MAX >> shift) / 2);
    prop_oneof![
        3 => any::<i64>(),
        3 => (lo..=hi, prop_oneof![Just(-1i64), Just(1)], -1i64..=1)
            .prop_map(move |(q, side, nudge)| (q << shift) + side * half + nudge),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(i64::MIN + 1), Just(-1i64), Just(0i64), Just(1i64)],
        2 => -4096i64..4096,
    ]
}

/// Values whose `x / 2^shift` lies near a bound of i32 (the saturation thresholds), within a
/// few units and a remainder either way; where that leaves i64, the nearest end of i64.
fn near_saturation(shift: u32) -> impl Strategy<Value = i64> {
    let step = 1i128 << shift;
    (prop_oneof![Just(i128::from(i32::MIN)), Just(i128::from(i32::MAX))], -3i128..=3, -step..=step).prop_map(
        move |(bound, units, rest)| {
            let x = (bound + units) * step + rest;
            i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
        },
    )
}

fn shift_and_x() -> impl Strategy<Value = (u32, i64)> {
    (0u32..=63).prop_flat_map(|shift| (Just(shift), prop_oneof![shifted_i64(shift), near_saturation(shift)]))
}

fn shift_and_x_i128() -> impl Strategy<Value = (u32, i128)> {
    (0u32..=127).prop_flat_map(|shift| {
        let half = if shift == 0 { 0 } else { 1i128 << (shift - 1) };
        let (lo, hi) = ((i128::MIN >> shift) / 2, (i128::MAX >> shift) / 2);
        let x = prop_oneof![
            3 => any::<i128>(),
            // Values of every magnitude, not only ones near 2¹²⁷.
            2 => (any::<i128>(), 0u32..128).prop_map(|(x, s)| x >> s),
            3 => (lo..=hi, prop_oneof![Just(-1i128), Just(1)], -1i128..=1)
                .prop_map(move |(q, side, nudge)| (q << shift) + side * half + nudge),
            1 => prop_oneof![Just(i128::MIN), Just(i128::MAX), Just(-1i128), Just(0i128), Just(1i128)],
        ];
        (Just(shift), x)
    })
}

/// `x` clamped to i32 and whether that clamped: the reference for `Saturations::clamp`.
fn reference_clamp(x: i128) -> (i32, bool) {
    match i32::try_from(x) {
        Ok(v) => (v, false),
        Err(_) => (if x < 0 { i32::MIN } else { i32::MAX }, true),
    }
}

proptest! {
    #![proptest_config(config(2048))]

    /// `round_shift` is `x / 2^shift` rounded to nearest, ties to even, for every shift it takes.
    #[test]
    fn round_shift_rounds_half_to_even((shift, x) in shift_and_x()) {
        let want = reference_shift(i128::from(x), shift);
        prop_assert_eq!(i128::from(round_shift(x, shift)), want, "{} / 2^{}", x, shift);
    }

    /// `round_shift_i128` likewise, over all of i128 and every shift below 128.
    #[test]
    fn round_shift_i128_rounds_half_to_even((shift, x) in shift_and_x_i128()) {
        prop_assert_eq!(round_shift_i128(x, shift), reference_shift(x, shift), "{} / 2^{}", x, shift);
    }

    /// `div_round_i128` is `n / d` rounded half to even, ties included (`n` a multiple of `d`
    /// plus half of an even `d`), over every positive divisor: small ones like the kernel's
    /// constants, and the largest, where a doubled remainder would overflow i128 (this found
    /// n = i128::MAX − 1, d = i128::MAX failing before the remainder was compared with d − r).
    #[test]
    fn div_round_i128_rounds_half_to_even(
        d in prop_oneof![1i128..=16, 1i128..=(1i128 << 40), 1i128..=i128::MAX, (i128::MAX - 16)..=i128::MAX],
        n in any::<i128>(),
        tie in any::<bool>(),
        q in any::<i64>(),
    ) {
        let n = if tie && d % 2 == 0 {
            // An exact tie q + 1/2 (or n itself, where that product leaves i128).
            i128::from(q).checked_mul(d).and_then(|m| m.checked_add(d / 2)).unwrap_or(n)
        } else {
            n
        };
        prop_assert_eq!(div_round_i128(n, d), reference_div(n, d as u128), "{} / {}", n, d);
    }

    /// `Saturations::narrow` is the rounded quotient clamped to i32, and counts exactly the
    /// values that did not fit; `clamp` likewise without the division.
    #[test]
    fn narrow_rounds_then_saturates_and_counts((shift, x) in shift_and_x(), y in any::<i64>()) {
        let s = Saturations::new();
        let (want, clamped) = reference_clamp(reference_shift(i128::from(x), shift));
        prop_assert_eq!(s.narrow(x, shift), want, "{} / 2^{}", x, shift);
        prop_assert_eq!(s.get(), u32::from(clamped), "count after {} / 2^{}", x, shift);

        let (want_y, clamped_y) = reference_clamp(i128::from(y));
        prop_assert_eq!(s.clamp(y), want_y);
        prop_assert_eq!(s.get(), u32::from(clamped) + u32::from(clamped_y));

        let total = AtomicU32::new(7);
        s.add_to(&total);
        prop_assert_eq!(total.into_inner(), 7 + s.get());
    }

    /// `Saturations::clamp_to` clamps to the range the operand narrowings use (and to random
    /// ranges) and counts exactly the values outside.
    #[test]
    fn clamp_to_clamps_and_counts(
        (min, max) in prop_oneof![
            Just((i64::from(i16::MIN), i64::from(i16::MAX))),
            Just((-2047i64, 2047i64)),
            (any::<i64>(), any::<i64>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
        ],
        xs in prop::collection::vec(prop_oneof![any::<i64>(), -40_000i64..40_000], 1..20),
        // Near u32::MAX as often as not, so that the sum overflows.
        extra in prop_oneof![any::<u32>(), (u32::MAX - 40)..=u32::MAX],
    ) {
        let s = Saturations::new();
        let mut outside = 0u32;
        for &x in &xs {
            let want = if x < min { min } else if x > max { max } else { x };
            outside += u32::from(want != x);
            prop_assert_eq!(s.clamp_to(x, min, max), want, "{} into [{}, {}]", x, min, max);
        }
        prop_assert_eq!(s.get(), outside);
        // `add` saturates rather than wrapping: a count is never lost to an overflow.
        s.add(extra);
        prop_assert_eq!(s.get(), outside.saturating_add(extra));
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Vector units against the portable loop (NUMERICS.md §5.1, §13.2)
// ---------------------------------------------------------------------------------------------

/// Every unit this processor can run: the portable loops, the target's baseline, the kinds
/// whose code this build lacks (they run the portable loops), and the vector units std's
/// run-time detection confirms.
fn units() -> Vec<VectorUnit> {
    let mut units = vec![VectorUnit::PORTABLE, VectorUnit::baseline()];
    for kind in UnitKind::ALL {
        if !kind.has_code() {
            // SAFETY: a kind without code in this build runs the portable loops, which use no
            // special instructions (`VectorUnit::new_unchecked`'s contract says so).
            units.push(unsafe { VectorUnit::new_unchecked(kind) });
        }
    }
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    for (kind, present) in [
        (UnitKind::Sse2, std::arch::is_x86_feature_detected!("sse2")),
        (UnitKind::Avx2, std::arch::is_x86_feature_detected!("avx2")),
        (
            UnitKind::Avx512,
            std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw"),
        ),
    ] {
        if present {
            // SAFETY: std's run-time detection has just confirmed the kind's instructions.
            units.push(unsafe { VectorUnit::new_unchecked(kind) });
        }
    }
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("neon") {
        // SAFETY: std's run-time detection has just confirmed NEON.
        units.push(unsafe { VectorUnit::new_unchecked(UnitKind::Neon) });
    }
    let mut distinct = Vec::new();
    for unit in units {
        if !distinct.contains(&unit) {
            distinct.push(unit);
        }
    }
    distinct
}

/// A dimension: 1 and small odd sizes often (every remainder of every register block), up to 70
/// (more than one 32-product run and several AVX-512 widths), sometimes 0.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 2 => Just(1usize), 4 => 1usize..=9, 4 => 1usize..=70]
}

/// A product's shape with `k` drawn from `k`, `a` row-major or transposed.
fn shape(k: impl Strategy<Value = usize>) -> impl Strategy<Value = MatmulShape> {
    (dim(), dim(), k, any::<bool>()).prop_map(|(m, n, k, transposed)| {
        if transposed {
            MatmulShape::transposed_a(m, n, k)
        } else {
            MatmulShape::row_major(m, n, k)
        }
    })
}

/// f32 operands of mixed sign and magnitude (so that another summation order would round
/// differently), signed zeros, subnormals, and tiny normals whose products underflow to
/// subnormals (a unit that flushed them to zero would differ).
fn float_operand() -> impl Strategy<Value = f32> + Clone {
    prop_oneof![
        4 => -1.0e4f32..1.0e4,
        3 => -2.0f32..2.0,
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
        1 => (any::<bool>(), 1u32..0x0080_0000).prop_map(|(s, m)| f32::from_bits(u32::from(s) << 31 | m)),
        1 => -1.0e-19f32..1.0e-19,
    ]
}

/// Operands of §13.2's ranges: activations over all of i16, weights and deltas within ±2047,
/// their extremes often.
fn activation_operand() -> impl Strategy<Value = i16> + Clone {
    prop_oneof![1 => Just(i16::MIN), 1 => Just(i16::MAX), 3 => any::<i16>(), 1 => -8i16..8]
}

fn short_operand() -> impl Strategy<Value = i16> + Clone {
    prop_oneof![1 => Just(-2047i16), 1 => Just(2047i16), 3 => -2047i16..=2047, 1 => -8i16..8]
}

/// A shape with operands: `a` has m·k elements in either layout, `b` k·n.
fn product<T: std::fmt::Debug>(
    k: impl Strategy<Value = usize>,
    a: impl Strategy<Value = T> + Clone,
    b: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = (MatmulShape, Vec<T>, Vec<T>)> {
    shape(k).prop_flat_map(move |s| {
        (Just(s), prop::collection::vec(a.clone(), s.m * s.k), prop::collection::vec(b.clone(), s.k * s.n))
    })
}

/// `a[i][p]` in `s`'s layout.
fn a_at<T: Copy>(s: MatmulShape, a: &[T], i: usize, p: usize) -> T {
    a[i * s.a_row_stride + p * s.a_col_stride]
}

proptest! {
    #![proptest_config(config(40))]

    /// Every unit gives the bits of the portable unit, which gives §5.1's sums written out here
    /// (from +0, k ascending, every product and sum rounded), and passes each column's index to
    /// `finish`.
    #[test]
    fn f32_units_equal_the_portable_loop((s, a, b) in product(dim(), float_operand(), float_operand())) {
        let (m, n, k) = (s.m, s.n, s.k);
        let mut want = vec![(usize::MAX, 0u32); m * n];
        for i in 0..m {
            for j in 0..n {
                let mut sum = 0.0f32;
                for p in 0..k {
                    sum = sum + a_at(s, &a, i, p) * b[p * n + j];
                }
                want[i * n + j] = (j, sum.to_bits());
            }
        }
        for unit in units() {
            let mut got = vec![(usize::MAX, u32::MAX); m * n];
            matmul_f32_with(unit, s, &a, &b, &mut got, |j, sum| (j, sum.to_bits()));
            prop_assert_eq!(&got, &want, "{} on {:?}", unit, s);
            let mut plain = vec![f32::NAN; m * n];
            matmul_on(unit, s, &a, &b, &mut plain);
            let plain: Vec<(usize, u32)> = plain.iter().enumerate().map(|(e, x)| (e % n, x.to_bits())).collect();
            prop_assert_eq!(&plain, &want, "matmul_on {} on {:?}", unit, s);
        }
    }

    /// Every unit gives the portable unit's exact sums of 16-bit products, which are the sums
    /// computed here in i64, and passes each column's index to `finish`.
    /// k = 0 included: it found the x86-64 units slicing an empty `b` at a column block's start.
    #[test]
    fn i16_units_equal_the_portable_loop((s, a, b) in product(dim(), activation_operand(), short_operand())) {
        let (m, n, k) = (s.m, s.n, s.k);
        let mut want = vec![(usize::MAX, 0i64); m * n];
        for i in 0..m {
            for j in 0..n {
                let sum: i64 = (0..k).map(|p| i64::from(a_at(s, &a, i, p)) * i64::from(b[p * n + j])).sum();
                want[i * n + j] = (j, sum);
            }
        }
        for unit in units() {
            let mut got = vec![(usize::MAX, i64::MIN); m * n];
            matmul_i16_with(unit, s, &a, &b, &mut got, |j, sum| (j, sum));
            prop_assert_eq!(&got, &want, "{} on {:?}", unit, s);
        }
    }
}
