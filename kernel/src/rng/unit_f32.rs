/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* origin: the "upper 24 bits times 2^-24" construction recommended in
 * S. Vigna, "Generating uniform doubles in the unit interval"
 * (https://prng.di.unimi.it/#remarks), there for doubles with 53 bits,
 * here for f32 with 24. */

/// Maps a random word to a float uniform on `[0, 1)`.
///
/// Contract: NUMERICS.md §8.2. Returns `(x >> 8) · 2^-24`:
/// one of the 2^24 multiples of 2^-24 in `[0, 1)`, each for exactly 256
/// values of `x`, so a uniform `x` gives an exactly uniform result.
///
/// There is no rounding anywhere, so the result is the same on every
/// platform regardless of rounding mode, FMA contraction or flush-to-zero:
/// `x >> 8 < 2^24` fits in the 24-bit significand of an `f32`, so the
/// conversion is exact, and multiplying by a power of two only changes
/// the exponent (the smallest nonzero result, 2^-24, is far from the
/// subnormal range). The largest result is `1 - 2^-24`, never `1.0`.
///
/// Why the *upper* bits: they are the best bits of most generators, and
/// with xoshiro128++ they are all fine anyway; why only 24: more bits
/// would have to be rounded, which would make some outputs more likely
/// than others and could round up to 1.0.
#[inline]
pub fn unit_f32(x: u32) -> f32 {
    // 1.0 / 16777216.0 is exactly 2^-24; written as a division so the
    // constant's origin is evident. It is evaluated at compile time.
    (x >> 8) as f32 * (1.0 / 16_777_216.0)
}

#[cfg(test)]
mod tests {
    use super::unit_f32;

    /// 2^-24, built from its bit pattern so it does not depend on the
    /// literal used in the implementation: biased exponent 127 - 24 = 103.
    fn ulp() -> f32 {
        f32::from_bits(103 << 23)
    }

    #[test]
    fn scale_is_two_to_minus_24() {
        assert_eq!(1.0f32 / 16_777_216.0, ulp());
    }

    #[test]
    fn zero() {
        assert_eq!(unit_f32(0).to_bits(), 0.0f32.to_bits(), "+0.0, not -0.0");
        // The low 8 bits are discarded.
        assert_eq!(unit_f32(0xFF).to_bits(), 0);
    }

    #[test]
    fn max_is_just_below_one() {
        let m = unit_f32(u32::MAX);
        assert_eq!(m, 1.0 - ulp());
        assert!(m < 1.0);
        // It is the largest f32 below 1.0: the next float up is 1.0.
        assert_eq!(f32::from_bits(m.to_bits() + 1), 1.0);
    }

    #[test]
    fn smallest_nonzero() {
        assert_eq!(unit_f32(1 << 8), ulp());
        assert!(ulp().is_normal());
    }

    #[test]
    fn half() {
        assert_eq!(unit_f32(0x8000_0000), 0.5);
        assert_eq!(unit_f32(0x7FFF_FFFF), 0.5 - ulp());
    }

    /// Every one of the 2^24 possible results, each reached from a value of
    /// `x` with different low bits: the result times 2^24 is exactly the
    /// integer `x >> 8`, and the results strictly increase. Strictly
    /// increasing means 2^24 distinct results, each hit by the same 256
    /// values of `x` (those sharing `x >> 8`): exact uniformity.
    #[test]
    #[cfg_attr(miri, ignore)] // 16.7M iterations: too slow under Miri.
    fn exhaustive_exact_and_strictly_increasing() {
        let scale = 16_777_216.0f32; // 2^24
        let mut prev = -1.0f32;
        for k in 0u32..1 << 24 {
            // Vary the discarded low byte too, so it is seen to be ignored.
            let x = (k << 8) | (k.wrapping_mul(0x9E) & 0xFF);
            let r = unit_f32(x);
            assert!((0.0..1.0).contains(&r), "x = {x:#x}: {r}");
            let scaled = r * scale; // exact: power-of-two scaling
            assert_eq!(scaled.fract(), 0.0, "x = {x:#x}");
            assert_eq!(scaled as u32, k, "x = {x:#x}");
            assert!(r > prev, "x = {x:#x}");
            prev = r;
        }
        assert_eq!(prev, 1.0 - ulp());
    }

    /// A cheap subset of the above that also runs under Miri.
    #[test]
    fn exact_on_samples() {
        for k in [0u32, 1, 2, 3, 255, 256, 4095, 65_535, 1 << 23, (1 << 24) - 1] {
            for low in [0u32, 1, 0x80, 0xFF] {
                let r = unit_f32((k << 8) | low);
                assert_eq!(r * 16_777_216.0, k as f32);
            }
        }
    }
}
