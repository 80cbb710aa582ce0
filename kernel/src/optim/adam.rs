//! Adam (Kingma & Ba, 2015) with bias correction and L2 weight decay.
//!
//! Contract: NUMERICS.md §7.2. The bias-correction powers β^t are running products updated
//! once per step (never `powf`), so they are the same rounded values everywhere.

use crate::math;

/// Adam hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam {
    /// Learning rate η.
    pub lr: f32,
    /// First-moment decay β1.
    pub beta1: f32,
    /// Second-moment decay β2.
    pub beta2: f32,
    /// ε added to the square root.
    pub eps: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
}

impl Adam {
    /// First and second moment per parameter, interleaved `[m, v]`.
    pub const STATE_PER_PARAM: usize = 2;

    /// Keras' and PyTorch's defaults with the given learning rate.
    pub const fn with_lr(lr: f32) -> Self {
        Self { lr, beta1: 0.9, beta2: 0.999, eps: 1.0e-7, weight_decay: 0.0 }
    }

    /// Updates a block of parameters; `moments` holds `[m, v]` per parameter.
    ///
    /// Contract: NUMERICS.md §7.2, per parameter, in this order:
    /// `g ← grad + (λ · w)`; `m ← (β1 · m) + ((1 − β1) · g)`; `v ← (β2 · v) + ((1 − β2) · (g · g))`;
    /// `w ← w − ((η · (m / c1)) / (sqrt(v / c2) + ε))` with `c1, c2` from [`AdamStep`].
    pub fn update(&self, step: &AdamStep, params: &mut [f32], grads: &[f32], moments: &mut [f32]) {
        let one_minus_b1 = 1.0 - self.beta1;
        let one_minus_b2 = 1.0 - self.beta2;
        let (c1, c2) = (step.correction1(), step.correction2());
        for ((w, g), mv) in params.iter_mut().zip(grads).zip(moments.chunks_exact_mut(2)) {
            let g = *g + self.weight_decay * *w;
            let m = self.beta1 * mv[0] + one_minus_b1 * g;
            let v = self.beta2 * mv[1] + one_minus_b2 * (g * g);
            mv[0] = m;
            mv[1] = v;
            *w = *w - (self.lr * (m / c1)) / (math::sqrt(v / c2) + self.eps);
        }
    }
}

/// The per-step scalars of Adam: `β1^t` and `β2^t` as running products.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// β1ᵗ.
    pub beta1_power: f32,
    /// β2ᵗ.
    pub beta2_power: f32,
}

impl AdamStep {
    /// Before the first step: `β^0 = 1`.
    pub const START: AdamStep = AdamStep { beta1_power: 1.0, beta2_power: 1.0 };

    /// Advances to the next step: `β^t ← β^(t−1) · β`, one rounded multiply each.
    ///
    /// Contract: NUMERICS.md §7.2.
    pub fn advance(&mut self, adam: &Adam) {
        self.beta1_power = self.beta1_power * adam.beta1;
        self.beta2_power = self.beta2_power * adam.beta2;
    }

    /// `c1 = 1 − β1^t`.
    pub fn correction1(&self) -> f32 {
        1.0 - self.beta1_power
    }

    /// `c2 = 1 − β2^t`.
    pub fn correction2(&self) -> f32 {
        1.0 - self.beta2_power
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_about_lr() {
        // With bias correction, step 1 gives m̂ = g and v̂ = g², so Δw ≈ −η·sign(g).
        let adam = Adam::with_lr(0.01);
        let mut step = AdamStep::START;
        step.advance(&adam);
        let mut w = [1.0f32, -1.0];
        let mut mv = [0.0f32; 4];
        adam.update(&step, &mut w, &[0.5, -2.0], &mut mv);
        assert!((w[0] - 0.99).abs() < 1e-6 && (w[1] + 0.99).abs() < 1e-6, "{w:?}");
        assert_eq!(mv[0], (1.0f32 - 0.9) * 0.5, "(1 − β1) is rounded once");
    }

    #[test]
    fn powers_are_running_products() {
        let adam = Adam::with_lr(0.001);
        let mut step = AdamStep::START;
        let mut p = 1.0f32;
        for _ in 0..100 {
            step.advance(&adam);
            p = p * 0.999;
        }
        assert_eq!(step.beta2_power, p);
    }
}
