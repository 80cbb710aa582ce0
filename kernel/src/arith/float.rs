//! The IEEE binary32 path: NUMERICS.md §2–§12.
//!
//! Every operation is one correctly rounded f32 operation, written in the order the contract
//! gives; nothing saturates, and non-finite values are caught by the training step (§10). The
//! transcendental functions come from a [`ElementaryF32`] set: the contract's ([`Portable`])
//! in [`Float`], the path every caller of the kernel uses.

use super::Arithmetic;
use crate::digest::canonical_bits;
use crate::fixed::narrow::Saturations;
use crate::layers::softmax_cross_entropy_row_with;
use crate::linalg::{MatmulShape, VectorUnit};
use crate::math::{self, ElementaryF32, Portable};
use crate::optim::{adam_update_f32, Adam, AdamStep};
use crate::rng::unit_f32;
use core::marker::PhantomData;

/// IEEE binary32 arithmetic with the contract's fixed orders and the contract's functions.
pub type Float = FloatWith<Portable>;

/// IEEE binary32 arithmetic with the contract's fixed orders and the transcendental functions
/// of `M`. Only `FloatWith<Portable>` ([`Float`]) follows the contract (NUMERICS.md §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FloatWith<M: ElementaryF32>(PhantomData<M>);

impl<M: ElementaryF32> Arithmetic for FloatWith<M> {
    type Act = f32;
    type Param = f32;
    type Acc = f32;
    type Scalar = f32;

    const NAME: &'static str = "float";
    const ADAM_STATE_PER_PARAM: usize = 2;

    type Operand = f32;
    type Inner = f32;
    /// One run per dot product: the sum of §5.1 is a single sequence of rounded additions.
    const PRODUCT_BLOCK: usize = usize::MAX;
    const COPIES_OPERANDS: bool = false;
    const EXACT_SUMS: bool = false;

    #[inline(always)]
    fn acc_zero() -> f32 {
        0.0
    }
    #[inline(always)]
    fn inner_zero() -> f32 {
        0.0
    }
    /// §5.1: the product rounded, then the sum rounded (never fused).
    #[inline(always)]
    fn inner_mul_add(inner: f32, a: f32, b: f32) -> f32 {
        inner + a * b
    }
    /// The only run is the whole dot product, started from +0: it is the sum.
    #[inline(always)]
    fn flush(_acc: f32, inner: f32) -> f32 {
        inner
    }
    /// The same sums on `unit`'s vector code (`linalg::simd`, tested bit for bit against the
    /// portable loop).
    #[inline(always)]
    fn matmul<Out>(
        unit: VectorUnit,
        shape: MatmulShape,
        a: &[f32],
        b: &[f32],
        c: &mut [Out],
        finish: impl Fn(usize, f32) -> Out,
    ) {
        crate::linalg::matmul_f32_with(unit, shape, a, b, c, finish)
    }
    #[inline(always)]
    fn act_operand(a: f32, _: &Saturations) -> f32 {
        a
    }
    #[inline(always)]
    fn weight_operand(w: f32, _: &Saturations) -> f32 {
        w
    }
    #[inline(always)]
    fn delta_operand(d: f32, _: &Saturations) -> f32 {
        d
    }
    fn act_operands(a: &[f32]) -> Option<&[f32]> {
        Some(a)
    }
    fn param_operands(p: &[f32]) -> Option<&[f32]> {
        Some(p)
    }
    #[inline(always)]
    fn acc_param(acc: f32, p: f32) -> f32 {
        acc + p
    }
    #[inline(always)]
    fn acc_act(acc: f32, l: f32) -> f32 {
        acc + l
    }
    #[inline(always)]
    fn acc_add(a: f32, b: f32) -> f32 {
        a + b
    }

    /// §6.1: the bias is added once, after the dot product.
    #[inline(always)]
    fn forward_out(acc: f32, bias: f32, _: &Saturations) -> f32 {
        acc + bias
    }
    #[inline(always)]
    fn weight_grad(acc: f32, _: &Saturations) -> f32 {
        acc
    }
    #[inline(always)]
    fn bias_grad(acc: f32, _: &Saturations) -> f32 {
        acc
    }
    #[inline(always)]
    fn input_grad(acc: f32, _: &Saturations) -> f32 {
        acc
    }
    /// §5.4: one division by the row count.
    fn loss_mean(sum: f32, rows: usize) -> f32 {
        sum / rows as f32
    }

    /// §6.2: `z > 0 ? z : +0`.
    #[inline(always)]
    fn relu(z: f32) -> f32 {
        if z > 0.0 {
            z
        } else {
            0.0
        }
    }
    #[inline]
    fn tanh(z: f32) -> f32 {
        M::tanh(z)
    }
    #[inline]
    fn sigmoid(z: f32) -> f32 {
        M::sigmoid(z)
    }
    #[inline(always)]
    fn relu_grad(a: f32, da: f32) -> f32 {
        if a > 0.0 {
            da
        } else {
            0.0
        }
    }
    /// §6.2: `da · (1 − a·a)`.
    #[inline(always)]
    fn tanh_grad(a: f32, da: f32, _: &Saturations) -> f32 {
        da * (1.0 - a * a)
    }
    /// §6.2: `da · (a · (1 − a))`.
    #[inline(always)]
    fn sigmoid_grad(a: f32, da: f32, _: &Saturations) -> f32 {
        da * (a * (1.0 - a))
    }

    /// §6.3, computed in place on a copy of the logits.
    fn softmax_cross_entropy_row(z: &[f32], label: usize, batch: usize, dz: &mut [f32], _: &Saturations) -> f32 {
        dz.copy_from_slice(z);
        softmax_cross_entropy_row_with::<M>(dz, label, batch)
    }

    fn scalar(x: f32) -> f32 {
        x
    }
    /// §7: `c · x`, one rounded multiply.
    #[inline(always)]
    fn scale(x: f32, c: f32, _: &Saturations) -> f32 {
        c * x
    }
    #[inline(always)]
    fn add(a: f32, b: f32, _: &Saturations) -> f32 {
        a + b
    }
    #[inline(always)]
    fn sub(a: f32, b: f32, _: &Saturations) -> f32 {
        a - b
    }
    /// §7.2: `β^t ← β^(t−1) · β`.
    fn adam_advance(step: &mut AdamStep<f32>, adam: &Adam) {
        step.beta1_power = step.beta1_power * adam.beta1;
        step.beta2_power = step.beta2_power * adam.beta2;
    }
    fn adam_start() -> AdamStep<f32> {
        AdamStep { beta1_power: 1.0, beta2_power: 1.0 }
    }
    fn adam_update(
        adam: &Adam,
        step: &AdamStep<f32>,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        _: &Saturations,
    ) {
        adam_update_f32(adam, step, params, grads, state);
    }

    /// §8.5: `sqrt(6 / n)`, `n` exact in f32.
    fn init_limit(n: usize) -> f32 {
        math::sqrt(6.0 / n as f32)
    }
    /// §8.5: `(u + u − 1) · limit`, the only rounding the multiply.
    fn init_weight(word: u32, limit: f32) -> f32 {
        let u = unit_f32(word);
        (u + u - 1.0) * limit
    }

    fn param_bits(p: f32) -> u32 {
        canonical_bits(p)
    }
    fn param_from_bits(bits: u32) -> f32 {
        f32::from_bits(bits)
    }
    fn scalar_bits(s: f32) -> u32 {
        s.to_bits()
    }
    fn scalar_from_bits(bits: u32) -> f32 {
        f32::from_bits(bits)
    }
    fn act_bits(a: f32) -> u32 {
        canonical_bits(a)
    }
    fn param_is_finite(p: f32) -> bool {
        p.is_finite()
    }
    /// A value is NaN or infinite exactly when its exponent bits are all ones, and then adding
    /// one to the exponent field carries into the sign bit: one OR of such carries per block,
    /// which vectorises with SSE2 alone (an early-exit search does not vectorise at all).
    fn all_finite(values: &[f32]) -> bool {
        const EXPONENT: u32 = 0x7f80_0000;
        const EXPONENT_ONE: u32 = 0x0080_0000;
        values.chunks(1024).all(|block| {
            block.iter().fold(0u32, |carries, v| carries | ((v.to_bits() & EXPONENT) + EXPONENT_ONE)) >> 31 == 0
        })
    }
    fn act_is_finite(a: f32) -> bool {
        a.is_finite()
    }
    fn act_from_f32(x: f32) -> Option<f32> {
        x.is_finite().then_some(x)
    }
    fn act_to_f64(a: f32) -> f64 {
        a as f64
    }
    fn param_to_f64(p: f32) -> f64 {
        p as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finite_agrees_with_is_finite_at_every_edge() {
        let edges = [
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            -f32::from_bits(0x007f_ffff),
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7f80_0001),
            f32::from_bits(0xffc0_0000),
        ];
        for (i, edge) in edges.into_iter().enumerate() {
            // The edge at every position of a block and past the first block of 1024.
            for at in [0, 1, 17, 1023, 1024, 2047] {
                let mut values = [1.5f32; 2048];
                values[at] = edge;
                assert_eq!(Float::all_finite(&values), edge.is_finite(), "edge {i} ({edge:?}) at {at}");
            }
        }
        assert!(Float::all_finite(&[]));
    }
}
