//! Weight initialisation as explicit operations on the RNG stream.
//!
//! Contract: NUMERICS.md §8.5.

use crate::arith::Arithmetic;
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

    /// Fills `weights` in memory order with `(2u − 1) · limit`, one generator word each.
    ///
    /// Contract: NUMERICS.md §8.5 (float: `limit = sqrt(6 / n)` in f32, `u = unit_f32(word)`,
    /// `2u − 1` exact, one rounded multiply) and §13.6 (fixed: the same in Q24 integers).
    pub fn fill<N: Arithmetic, R: RngCore + ?Sized>(
        self,
        rng: &mut R,
        weights: &mut [N::Param],
        fan_in: usize,
        fan_out: usize,
    ) {
        let limit = N::init_limit(self.fan(fan_in, fan_out));
        for w in weights {
            *w = N::init_weight(rng.next_u32(), limit);
        }
    }

    /// `n` in `sqrt(6 / n)`: fan-in plus fan-out (Glorot) or fan-in (He).
    pub const fn fan(self, fan_in: usize, fan_out: usize) -> usize {
        match self {
            Init::GlorotUniform => fan_in + fan_out,
            Init::HeUniform => fan_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::{Fixed, Float};
    use crate::rng::{unit_f32, Xoshiro128PlusPlus};
    use rand_core::SeedableRng;

    #[test]
    fn limits() {
        assert_eq!(Float::init_limit(Init::GlorotUniform.fan(3, 3)), 1.0);
        assert_eq!(Float::init_limit(Init::HeUniform.fan(6, 100)), 1.0);
        assert_eq!(Fixed::init_limit(6).to_num::<f64>(), 1.0);
        assert_eq!(Fixed::init_limit(24).to_num::<f64>(), 0.5);
    }

    #[test]
    fn values_lie_in_range_and_use_the_stream_in_order() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
        let mut w = [0.0f32; 1000];
        Init::GlorotUniform.fill::<Float, _>(&mut rng, &mut w, 64, 128);
        let limit = Float::init_limit(192);
        assert!(w.iter().all(|v| v.abs() <= limit));
        let mut again = Xoshiro128PlusPlus::seed_from_u64(7);
        let u = unit_f32(again.next_u32());
        assert_eq!(w[0], (u + u - 1.0) * limit);
    }

    #[test]
    fn fixed_weights_are_the_float_weights_rounded() {
        // Same stream, same formula: the Q24 weight is within one rounding of the f32 one.
        let mut a = Xoshiro128PlusPlus::seed_from_u64(9);
        let mut b = Xoshiro128PlusPlus::seed_from_u64(9);
        let mut wf = [0.0f32; 500];
        let mut wq = [crate::fixed::Param::ZERO; 500];
        Init::HeUniform.fill::<Float, _>(&mut a, &mut wf, 64, 10);
        Init::HeUniform.fill::<Fixed, _>(&mut b, &mut wq, 64, 10);
        for (f, q) in wf.iter().zip(&wq) {
            assert!((*f as f64 - q.to_num::<f64>()).abs() < 2.0 / (1u64 << 24) as f64, "{f} {q}");
        }
    }
}
