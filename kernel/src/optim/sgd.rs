//! Stochastic gradient descent with momentum and L2 weight decay.
//!
//! Contract: NUMERICS.md §7.1. The formulation is PyTorch's (`g + λw`, `v ← μv + g`,
//! `w ← w − ηv`), written as explicit rounded operations.

use crate::arith::Arithmetic;
use crate::fixed::narrow::Saturations;

/// SGD hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate η.
    pub lr: f32,
    /// Momentum μ.
    pub momentum: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
}

impl Sgd {
    /// One velocity per parameter.
    pub const STATE_PER_PARAM: usize = 1;

    /// Updates a block of parameters with their gradients and velocities.
    ///
    /// Contract: NUMERICS.md §7.1, per parameter, in this order:
    /// `g ← grad + (λ · w)`; `v ← (μ · v) + g`; `w ← w − (η · v)` — each operation one
    /// rounded f32 operation, or (fixed point, §13.7) one exact product narrowed to Q24 and
    /// saturating additions.
    #[inline(always)]
    pub fn update<N: Arithmetic>(
        &self,
        params: &mut [N::Param],
        grads: &[N::Param],
        velocity: &mut [N::Param],
        sat: &Saturations,
    ) {
        N::sgd_update(self, params, grads, velocity, sat);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::{Fixed, Float};
    use crate::fixed::Param;

    #[test]
    fn two_steps_by_hand() {
        let sgd = Sgd { lr: 0.5, momentum: 0.5, weight_decay: 0.25 };
        let (mut w, mut v) = ([1.0f32], [0.0f32]);
        sgd.update::<Float>(&mut w, &[1.0], &mut v, &Saturations::new());
        // g = 1 + 0.25 = 1.25; v = 1.25; w = 1 - 0.625.
        assert_eq!((w, v), ([0.375], [1.25]));
        sgd.update::<Float>(&mut w, &[0.0], &mut v, &Saturations::new());
        // g = 0.09375; v = 0.625 + 0.09375 = 0.71875; w = 0.375 - 0.359375.
        assert_eq!((w, v), ([0.015625], [0.71875]));
    }

    #[test]
    fn fixed_point_steps_are_exact_here() {
        // The same two steps: every value is a dyadic rational, so Q24 holds them exactly.
        let sgd = Sgd { lr: 0.5, momentum: 0.5, weight_decay: 0.25 };
        let q = |x: f64| Param::from_num(x);
        let (mut w, mut v) = ([q(1.0)], [q(0.0)]);
        let sat = Saturations::new();
        sgd.update::<Fixed>(&mut w, &[q(1.0)], &mut v, &sat);
        assert_eq!((w, v), ([q(0.375)], [q(1.25)]));
        sgd.update::<Fixed>(&mut w, &[q(0.0)], &mut v, &sat);
        assert_eq!((w, v), ([q(0.015625)], [q(0.71875)]));
        assert_eq!(sat.get(), 0);
    }

    #[test]
    fn fixed_point_saturates_and_counts() {
        let sgd = Sgd { lr: 1.0, momentum: 0.0, weight_decay: 0.0 };
        let (mut w, mut v) = ([Param::MIN], [Param::ZERO]);
        let sat = Saturations::new();
        sgd.update::<Fixed>(&mut w, &[Param::MAX], &mut v, &sat);
        assert_eq!(w, [Param::MIN]);
        assert_eq!(sat.get(), 1);
    }
}
