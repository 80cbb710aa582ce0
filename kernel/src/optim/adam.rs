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
    /// Keras' and PyTorch's defaults with the given learning rate.
    pub const fn with_lr(lr: f32) -> Self {
        Self { lr, beta1: 0.9, beta2: 0.999, eps: 1.0e-7, weight_decay: 0.0 }
    }
}

/// Adam's f32 update of a block of parameters; `moments` holds `[m, v]` per parameter.
///
/// Contract: NUMERICS.md §7.2, per parameter, in this order:
/// `g ← grad + (λ · w)`; `m ← (β1 · m) + ((1 − β1) · g)`; `v ← (β2 · v) + ((1 − β2) · (g · g))`;
/// `w ← w − ((η · (m / c1)) / (sqrt(v / c2) + ε))` with `c1 = 1 − β1ᵗ`, `c2 = 1 − β2ᵗ`.
pub fn adam_update_f32(adam: &Adam, step: &AdamStep<f32>, params: &mut [f32], grads: &[f32], moments: &mut [f32]) {
    let one_minus_b1 = 1.0 - adam.beta1;
    let one_minus_b2 = 1.0 - adam.beta2;
    let (c1, c2) = (1.0 - step.beta1_power, 1.0 - step.beta2_power);
    for ((w, g), mv) in params.iter_mut().zip(grads).zip(moments.chunks_exact_mut(2)) {
        let g = *g + adam.weight_decay * *w;
        let m = adam.beta1 * mv[0] + one_minus_b1 * g;
        let v = adam.beta2 * mv[1] + one_minus_b2 * (g * g);
        mv[0] = m;
        mv[1] = v;
        *w = *w - (adam.lr * (m / c1)) / (math::sqrt(v / c2) + adam.eps);
    }
}

/// The per-step scalars of Adam: `β1ᵗ` and `β2ᵗ` as running products, in the path's scalar
/// format (advanced by [`crate::arith::Arithmetic::adam_advance`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep<S> {
    /// β1ᵗ.
    pub beta1_power: S,
    /// β2ᵗ.
    pub beta2_power: S,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::{Arithmetic, Fixed, Float};
    use crate::fixed::narrow::Saturations;
    use crate::fixed::Param;

    #[test]
    fn first_step_moves_each_weight_by_about_lr() {
        // With bias correction, step 1 gives m̂ = g and v̂ = g², so Δw ≈ −η·sign(g).
        let adam = Adam::with_lr(0.01);
        let mut step = Float::adam_start();
        Float::adam_advance(&mut step, &adam);
        let mut w = [1.0f32, -1.0];
        let mut mv = [0.0f32; 4];
        adam_update_f32(&adam, &step, &mut w, &[0.5, -2.0], &mut mv);
        assert!((w[0] - 0.99).abs() < 1e-6 && (w[1] + 0.99).abs() < 1e-6, "{w:?}");
        assert_eq!(mv[0], (1.0f32 - 0.9) * 0.5, "(1 − β1) is rounded once");
    }

    #[test]
    fn fixed_first_step_moves_each_weight_by_about_lr() {
        let adam = Adam::with_lr(0.01);
        let mut step = Fixed::adam_start();
        Fixed::adam_advance(&mut step, &adam);
        let mut w = [Param::from_num(1.0), Param::from_num(-1.0)];
        let grads = [Param::from_num(0.5), Param::from_num(-2.0)];
        let mut state = [Param::ZERO; 6];
        let sat = Saturations::new();
        Fixed::adam_update(&adam, &step, &mut w, &grads, &mut state, &sat);
        let (w0, w1) = (w[0].to_num::<f64>(), w[1].to_num::<f64>());
        assert!((w0 - 0.99).abs() < 1e-6 && (w1 + 0.99).abs() < 1e-6, "{w0} {w1}");
        assert_eq!(sat.get(), 0);
    }

    #[test]
    fn powers_are_running_products() {
        let adam = Adam::with_lr(0.001);
        let mut step = Float::adam_start();
        let mut p = 1.0f32;
        for _ in 0..100 {
            Float::adam_advance(&mut step, &adam);
            p = p * 0.999;
        }
        assert_eq!(step.beta2_power, p);
        let mut fixed = Fixed::adam_start();
        for _ in 0..100 {
            Fixed::adam_advance(&mut fixed, &adam);
        }
        // Each step rounds once to Q30 (2⁻³¹ at most): 100 steps stay within 1e-7 of the
        // exact power of the Q30 value of β2.
        let beta2 = Fixed::scalar(0.999).to_num::<f64>();
        assert!((fixed.beta2_power.to_num::<f64>() - beta2.powi(100)).abs() < 1e-7);
    }
}
