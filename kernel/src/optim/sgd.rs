//! Stochastic gradient descent with momentum and L2 weight decay.
//!
//! Contract: NUMERICS.md §7.1. The formulation is PyTorch's (`g + λw`, `v ← μv + g`,
//! `w ← w − ηv`), written as explicit rounded operations.

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
    /// `g ← grad + (λ · w)`; `v ← (μ · v) + g`; `w ← w − (η · v)`.
    pub fn update(&self, params: &mut [f32], grads: &[f32], velocity: &mut [f32]) {
        for ((w, g), v) in params.iter_mut().zip(grads).zip(velocity.iter_mut()) {
            let g = *g + self.weight_decay * *w;
            *v = self.momentum * *v + g;
            *w = *w - self.lr * *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_by_hand() {
        let sgd = Sgd { lr: 0.5, momentum: 0.5, weight_decay: 0.25 };
        let (mut w, mut v) = ([1.0f32], [0.0f32]);
        sgd.update(&mut w, &[1.0], &mut v);
        // g = 1 + 0.25 = 1.25; v = 1.25; w = 1 - 0.625.
        assert_eq!((w, v), ([0.375], [1.25]));
        sgd.update(&mut w, &[0.0], &mut v);
        // g = 0.09375; v = 0.625 + 0.09375 = 0.71875; w = 0.375 - 0.359375.
        assert_eq!((w, v), ([0.015625], [0.71875]));
    }
}
