//! Weight initialisation as explicit operations on the RNG stream.
//!
//! Contract: NUMERICS.md §8.5.

use crate::math;
use crate::rng::unit_f32;
use rand_core::RngCore;

/// Uniform initialisation schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Glorot/Xavier uniform (Keras' default): limit `sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform,
    /// He uniform (for ReLU): limit `sqrt(6 / fan_in)`.
    HeUniform,
}

impl Init {
    /// Lower-case name as used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Init::GlorotUniform => "glorot",
            Init::HeUniform => "he",
        }
    }

    /// Parses a lower-case name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Init::GlorotUniform, Init::HeUniform].into_iter().find(|i| i.name() == name)
    }

    /// The bound `limit` of U(−limit, limit).
    ///
    /// Contract: NUMERICS.md §8.5 — `sqrt(6 / n)` with `n` converted exactly to f32, one
    /// rounded division, one correctly rounded square root.
    pub fn limit(self, fan_in: usize, fan_out: usize) -> f32 {
        let n = match self {
            Init::GlorotUniform => fan_in + fan_out,
            Init::HeUniform => fan_in,
        };
        math::sqrt(6.0 / n as f32)
    }

    /// Fills `weights` in memory order with `(2u − 1) · limit`, `u = unit_f32(next_u32())`.
    ///
    /// Contract: NUMERICS.md §8.5 — `2u − 1` is exact (u is a multiple of 2^-24 in [0, 1)),
    /// so the only rounding is the final multiply.
    pub fn fill<R: RngCore + ?Sized>(self, rng: &mut R, weights: &mut [f32], fan_in: usize, fan_out: usize) {
        let limit = self.limit(fan_in, fan_out);
        for w in weights {
            let u = unit_f32(rng.next_u32());
            *w = (u + u - 1.0) * limit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Xoshiro128PlusPlus;
    use rand_core::SeedableRng;

    #[test]
    fn limits() {
        assert_eq!(Init::GlorotUniform.limit(3, 3), 1.0);
        assert_eq!(Init::HeUniform.limit(6, 100), 1.0);
    }

    #[test]
    fn values_lie_in_range_and_use_the_stream_in_order() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
        let mut w = [0.0f32; 1000];
        Init::GlorotUniform.fill(&mut rng, &mut w, 64, 128);
        let limit = Init::GlorotUniform.limit(64, 128);
        assert!(w.iter().all(|v| v.abs() <= limit));
        let mut again = Xoshiro128PlusPlus::seed_from_u64(7);
        let u = unit_f32(again.next_u32());
        assert_eq!(w[0], (u + u - 1.0) * limit);
    }
}
