//! Narrowing a wide exact result to a stored format: round half to even, then saturate.
//!
//! Contract: NUMERICS.md §13.3. Every fixed-point operation is exact in a wide integer until it
//! is narrowed here, once, so the only rounding in the fixed path is this function's.

use core::sync::atomic::{AtomicU32, Ordering};

/// `x / 2^shift` rounded to the nearest integer, ties to even.
///
/// Contract: NUMERICS.md §13.3. Exact integer arithmetic: the same result on every target.
#[inline]
pub const fn round_shift(x: i64, shift: u32) -> i64 {
    if shift == 0 {
        return x;
    }
    // Branch-free, in 64 bits: the floor plus one exactly when the remainder is above half,
    // or equal to half with an odd floor (then remainder + 1 is above half).
    // Unsigned, so that shift 63 neither overflows the mask nor `rest + 1`.
    let floor = x >> shift;
    let rest = x as u64 & ((1u64 << shift) - 1);
    let half = 1u64 << (shift - 1);
    floor + ((rest + (floor & 1) as u64) > half) as i64
}

/// `x / 2^shift` for a 128-bit product, rounded half to even, as an i128.
///
/// Contract: NUMERICS.md §13.3.
#[inline]
pub const fn round_shift_i128(x: i128, shift: u32) -> i128 {
    if shift == 0 {
        return x;
    }
    // As `round_shift`, branch-free: unsigned, so that neither the mask nor `rest + 1` overflows.
    let floor = x >> shift;
    let rest = x as u128 & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    floor + ((rest + (floor & 1) as u128) > half) as i128
}

/// Saturation events of one task, added to a shared counter once at the end.
///
/// Counting per task keeps atomic operations out of inner loops; the total is the same
/// whichever thread counted what.
#[derive(Debug, Default)]
pub struct Saturations(core::cell::Cell<u32>);

impl Saturations {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self(core::cell::Cell::new(0))
    }

    /// Clamps `x` to i32, counting a clamp.
    #[inline]
    pub fn clamp(&self, x: i64) -> i32 {
        // Written with 32-bit halves (does `x` equal its low half sign-extended?) rather than
        // 64-bit comparisons, which SSE2 lacks, so that loops of it vectorise.
        let low = x as i32;
        let fits = low as i64 == x;
        // Counted only when it happens: where the counter lives in memory (a caller's, seen
        // through a closure) an unconditional update would chain every element through it;
        // where it is a local in a register, the compiler turns this into a select.
        if !fits {
            self.0.set(self.0.get().wrapping_add(1));
        }
        if fits {
            low
        } else if x < 0 {
            i32::MIN
        } else {
            i32::MAX
        }
    }

    /// Clamps `x` to `[min, max]`, counting a clamp.
    #[inline]
    pub fn clamp_to(&self, x: i64, min: i64, max: i64) -> i64 {
        let clamped = x.clamp(min, max);
        // Branch-free count, so that loops of conversions vectorise. (A task counts at most one
        // event per value it narrows, far below 2³².)
        if clamped != x {
            self.0.set(self.0.get().wrapping_add(1));
        }
        clamped
    }

    /// `round_shift(x, shift)` clamped to i32 (NUMERICS.md §13.3).
    #[inline]
    pub fn narrow(&self, x: i64, shift: u32) -> i32 {
        self.clamp(round_shift(x, shift))
    }

    /// Counts `n` more events.
    #[inline]
    pub fn add(&self, n: u32) {
        self.0.set(self.0.get().saturating_add(n));
    }

    /// Events counted so far.
    pub fn get(&self) -> u32 {
        self.0.get()
    }

    /// Adds this task's count to `total`.
    pub fn add_to(&self, total: &AtomicU32) {
        if self.0.get() > 0 {
            total.fetch_add(self.0.get(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn ties_go_to_even() {
        // x / 4 for x = 2, 6, -2, -6: exactly .5 each.
        assert_eq!(round_shift(2, 2), 0);
        assert_eq!(round_shift(6, 2), 2);
        assert_eq!(round_shift(-2, 2), 0);
        assert_eq!(round_shift(-6, 2), -2);
        assert_eq!(round_shift(10, 2), 2);
        assert_eq!(round_shift(14, 2), 4);
    }

    #[test]
    fn matches_f64_rounding_everywhere_it_is_exact() {
        // f64 represents these quotients exactly, and rounds ties to even itself. (A shorter
        // range under miri, which interprets every operation.)
        let r = if cfg!(miri) { 300 } else { 5000 };
        for x in -r..r {
            for shift in 0..6 {
                let want = (x as f64 / (1u64 << shift) as f64).round_ties_even() as i64;
                assert_eq!(round_shift(x, shift), want, "{x} >> {shift}");
                assert_eq!(round_shift_i128(x as i128, shift), want as i128);
            }
        }
    }

    /// The branch-free roundings against the definition, written with comparisons: the
    /// remainder above half, or exactly half with an odd floor, rounds up.
    #[test]
    fn branch_free_rounding_equals_the_definition() {
        let reference = |x: i128, shift: u32| {
            let floor = x >> shift;
            let rest = x.wrapping_sub(floor << shift);
            let half = 1i128 << (shift - 1);
            if rest > half || (rest == half && floor & 1 == 1) {
                floor + 1
            } else {
                floor
            }
        };
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for shift in 1..127u32 {
            let half = 1i128 << (shift - 1);
            let mut values = std::vec![i128::MIN, i128::MAX, 0, -1, 1, half, -half, 3 * half, -3 * half];
            for _ in 0..if cfg!(miri) { 3 } else { 2000 } {
                let x = ((next() as i128) << 64 | next() as i128) >> (next() % 127);
                let y = x >> 2; // room for ± half
                values.extend([x, (y >> shift << shift) + half, (y >> shift << shift) - half]);
            }
            for x in values {
                assert_eq!(round_shift_i128(x, shift), reference(x, shift), "{x} >> {shift}");
                if shift < 64 {
                    let x = x as i64;
                    assert_eq!(round_shift(x, shift) as i128, reference(x as i128, shift), "{x} >> {shift}");
                }
            }
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        assert_eq!(round_shift(-1, 63), 0, "−2⁻⁶³ rounds to 0");
        assert_eq!(round_shift(i64::MAX, 63), 1);
        assert_eq!(round_shift(i64::MIN, 63), -1);
        assert_eq!(round_shift(i64::MIN, 1), i64::MIN / 2);
    }

    #[test]
    fn saturation_is_counted() {
        let s = Saturations::new();
        assert_eq!(s.narrow(1 << 40, 4), i32::MAX);
        assert_eq!(s.narrow(-(1 << 40), 4), i32::MIN);
        assert_eq!(s.narrow(1 << 20, 4), 1 << 16);
        assert_eq!(s.get(), 2);
        let total = AtomicU32::new(5);
        s.add_to(&total);
        assert_eq!(total.into_inner(), 7);
    }
}

/// `n / d` for `d > 0`, rounded to nearest, ties to even, in 128 bits.
///
/// Contract: NUMERICS.md §13.3.
pub const fn div_round_i128(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    if d <= 0 {
        return 0;
    }
    // q is the floor (d > 0) and r in [0, d); r is compared with d − r, in (0, d], rather than
    // 2r with d, which overflows for d > 2¹²⁶.
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    let rest = d - r;
    if r > rest || (r == rest && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod div_tests {
    use super::div_round_i128;

    #[test]
    fn rounds_half_to_even() {
        assert_eq!(div_round_i128(5, 2), 2);
        assert_eq!(div_round_i128(7, 2), 4);
        assert_eq!(div_round_i128(-5, 2), -2);
        assert_eq!(div_round_i128(-7, 2), -4);
        assert_eq!(div_round_i128(10, 3), 3);
        assert_eq!(div_round_i128(11, 3), 4);
        assert_eq!(div_round_i128(-11, 3), -4);
        // The largest divisors, where a doubled remainder would overflow.
        assert_eq!(div_round_i128(i128::MAX - 1, i128::MAX), 1);
        assert_eq!(div_round_i128(i128::MAX / 2, i128::MAX), 0);
        assert_eq!(div_round_i128(i128::MAX / 2 + 1, i128::MAX), 1);
        assert_eq!(div_round_i128(i128::MIN, i128::MAX), -1);
        let r = if cfg!(miri) { 60 } else { 300 }; // fewer under miri
        for n in -r..r {
            for d in 1i128..17 {
                let want = (n as f64 / d as f64).round_ties_even() as i128;
                assert_eq!(div_round_i128(n, d), want, "{n}/{d}");
            }
        }
    }
}
