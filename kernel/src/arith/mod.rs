//! The two arithmetic paths the layers are written over: IEEE f32 and fixed point.
//!
//! Every layer, the optimizers and the training step are generic over [`Arithmetic`], so each
//! is written once. A path supplies the element types and the handful of operations whose
//! rounding differs: a product accumulated into a sum, the narrowing of a finished sum to a
//! stored format, the elementary functions, and the softmax cross-entropy of one row (whose
//! intermediate values need formats of their own in fixed point).
//!
//! - [`Float`]: NUMERICS.md §2–§12. The accumulator is f32 and every step rounds, so sums
//!   follow the written orders of §5. ([`FloatWith`] is the same path with other
//!   transcendental functions, for programs that compare them; the contract is [`Float`].)
//! - [`Fixed`]: NUMERICS.md §13. The accumulator is a wide integer and every sum is exact,
//!   so any order gives the same bits; rounding happens once, when a result is narrowed.

mod fixed;
mod float;

pub use self::fixed::Fixed;
pub use self::float::{Float, FloatWith};

use crate::fixed::narrow::Saturations;
use crate::linalg::{matmul_with, MatmulShape, VectorUnit};
use crate::optim::{Adam, AdamStep, Sgd};
use core::fmt::Debug;

/// Element types and rounding rules of one arithmetic path.
pub trait Arithmetic: Copy + Debug + Default + Send + Sync + 'static {
    /// Inputs, activations, logits and per-row losses.
    type Act: Copy + Debug + Default + PartialOrd + Send + Sync;
    /// Weights, biases, gradients, deltas and optimizer state.
    type Param: Copy + Debug + Default + PartialEq + Send + Sync;
    /// Dot-product and batch-sum accumulator.
    type Acc: Copy + Debug + Default + Send + Sync;
    /// Optimizer hyper-parameters (learning rate, momentum, …).
    type Scalar: Copy + Debug + Send + Sync;

    /// `"float"` or `"fixed"`.
    const NAME: &'static str;
    /// Optimizer-state elements per parameter that Adam needs on this path.
    const ADAM_STATE_PER_PARAM: usize;

    /// What dot products multiply: on the float path the stored f32 values themselves; on the
    /// fixed path each operand narrowed once to a short product format (NUMERICS.md §13.2), so
    /// that products fit 32-bit sums.
    type Operand: Copy + Debug + Default + Send + Sync;
    /// A sum of at most [`Arithmetic::PRODUCT_BLOCK`] products.
    type Inner: Copy + Debug + Default + Send + Sync;
    /// Longest run of products summed in [`Arithmetic::Inner`] before it is added to the
    /// accumulator: unbounded (one run per dot product) on the float path; on the fixed path as
    /// many as an i32 holds without overflow whatever the operands (§13.2).
    const PRODUCT_BLOCK: usize;
    /// Whether product operands are copies in their own format (fixed point) rather than the
    /// values themselves (float, where [`Arithmetic::act_operands`] returns the values).
    const COPIES_OPERANDS: bool;
    /// Whether every sum of gradients is exact (fixed point: integer sums, §13.2), so that the
    /// batch's chunk partials and their tree (§5.2) may be computed as one sum over all rows:
    /// the same bits, far fewer partial sums written and read.
    const EXACT_SUMS: bool;

    /// The accumulator's starting value (+0).
    fn acc_zero() -> Self::Acc;
    /// The inner sum's starting value (+0).
    fn inner_zero() -> Self::Inner;
    /// `inner + a·b`: every product of the forward pass and both gradients.
    fn inner_mul_add(inner: Self::Inner, a: Self::Operand, b: Self::Operand) -> Self::Inner;
    /// Adds a finished run of products to the accumulator. On the float path, whose run is the
    /// whole dot product, this is the run itself (no extra rounding).
    fn flush(acc: Self::Acc, inner: Self::Inner) -> Self::Acc;

    /// `c[i][j] ← finish(j, Σ_p a[i][p]·b[p][j])` over operands, in the order of §5.1 (runs of
    /// §13.2): the loop of [`crate::linalg::matmul_with`], unless a path has a faster one with
    /// the same results on `unit` ([`crate::linalg::simd`]).
    #[inline(always)]
    fn matmul<Out>(
        unit: VectorUnit,
        shape: MatmulShape,
        a: &[Self::Operand],
        b: &[Self::Operand],
        c: &mut [Out],
        finish: impl Fn(usize, Self::Acc) -> Out,
    ) {
        let _ = unit;
        matmul_with::<Self, Out>(shape, a, b, c, finish)
    }

    /// An activation as a product operand.
    fn act_operand(a: Self::Act, sat: &Saturations) -> Self::Operand;
    /// A weight as a product operand.
    fn weight_operand(w: Self::Param, sat: &Saturations) -> Self::Operand;
    /// A delta (`dL/dz`) as a product operand.
    fn delta_operand(d: Self::Param, sat: &Saturations) -> Self::Operand;
    /// `dst[i] ← act_operand(src[i])` (a path may have a faster loop with the same results).
    #[inline]
    fn act_operands_into(src: &[Self::Act], dst: &mut [Self::Operand], sat: &Saturations) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = Self::act_operand(*v, sat);
        }
    }
    /// `dst[i] ← weight_operand(src[i])`.
    #[inline]
    fn weight_operands_into(src: &[Self::Param], dst: &mut [Self::Operand], sat: &Saturations) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = Self::weight_operand(*v, sat);
        }
    }
    /// `dst[i] ← delta_operand(src[i])`.
    #[inline]
    fn delta_operands_into(src: &[Self::Param], dst: &mut [Self::Operand], sat: &Saturations) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = Self::delta_operand(*v, sat);
        }
    }
    /// The activations themselves, where they are already operands (float path): no copy.
    fn act_operands(a: &[Self::Act]) -> Option<&[Self::Operand]>;
    /// The parameters themselves, where they are already operands (float path): no copy.
    fn param_operands(p: &[Self::Param]) -> Option<&[Self::Operand]>;

    /// `acc + p`: bias gradients.
    fn acc_param(acc: Self::Acc, p: Self::Param) -> Self::Acc;
    /// `acc + l`: loss sums.
    fn acc_act(acc: Self::Acc, l: Self::Act) -> Self::Acc;
    /// `a + b` of two partial sums (the chunk tree of §5.2).
    fn acc_add(a: Self::Acc, b: Self::Acc) -> Self::Acc;

    /// A dense layer's output: the finished dot product plus the bias.
    fn forward_out(acc: Self::Acc, bias: Self::Param, sat: &Saturations) -> Self::Act;
    /// A finished weight-gradient sum (activation × delta products).
    fn weight_grad(acc: Self::Acc, sat: &Saturations) -> Self::Param;
    /// A finished bias-gradient sum (of `acc_param` terms).
    fn bias_grad(acc: Self::Acc, sat: &Saturations) -> Self::Param;
    /// A finished input-gradient sum (delta × weight products).
    fn input_grad(acc: Self::Acc, sat: &Saturations) -> Self::Param;
    /// The batch-mean loss from the sum of `rows` row losses.
    fn loss_mean(sum: Self::Acc, rows: usize) -> Self::Act;

    /// ReLU.
    fn relu(z: Self::Act) -> Self::Act;
    /// Hyperbolic tangent.
    fn tanh(z: Self::Act) -> Self::Act;
    /// Logistic sigmoid.
    fn sigmoid(z: Self::Act) -> Self::Act;
    /// `dz` from `da` through ReLU, given its output `a`.
    fn relu_grad(a: Self::Act, da: Self::Param) -> Self::Param;
    /// `dz = da · (1 − a²)` through tanh.
    fn tanh_grad(a: Self::Act, da: Self::Param, sat: &Saturations) -> Self::Param;
    /// `dz = da · a·(1 − a)` through the sigmoid.
    fn sigmoid_grad(a: Self::Act, da: Self::Param, sat: &Saturations) -> Self::Param;

    /// Softmax cross-entropy of one row of logits: writes `dL/dz` (for the mean over `batch`
    /// rows) and returns the row's loss.
    fn softmax_cross_entropy_row(
        z: &[Self::Act],
        label: usize,
        batch: usize,
        dz: &mut [Self::Param],
        sat: &Saturations,
    ) -> Self::Act;

    /// A hyper-parameter in this path's scalar format.
    fn scalar(x: f32) -> Self::Scalar;
    /// `c · x`.
    fn scale(x: Self::Param, c: Self::Scalar, sat: &Saturations) -> Self::Param;
    /// `a + b`.
    fn add(a: Self::Param, b: Self::Param, sat: &Saturations) -> Self::Param;
    /// `a − b`.
    fn sub(a: Self::Param, b: Self::Param, sat: &Saturations) -> Self::Param;
    /// SGD's update of a block of parameters (NUMERICS.md §7.1, §13.7), per parameter:
    /// `g ← grad + λ·w`; `v ← μ·v + g`; `w ← w − η·v`, in this path's `scale`, `add`, `sub`.
    /// A path may have a faster loop with the same results.
    #[inline(always)]
    fn sgd_update(
        sgd: &Sgd,
        params: &mut [Self::Param],
        grads: &[Self::Param],
        velocity: &mut [Self::Param],
        sat: &Saturations,
    ) {
        let (lr, momentum, decay) = (Self::scalar(sgd.lr), Self::scalar(sgd.momentum), Self::scalar(sgd.weight_decay));
        for ((w, g), v) in params.iter_mut().zip(grads).zip(velocity.iter_mut()) {
            let g = Self::add(*g, Self::scale(*w, decay, sat), sat);
            *v = Self::add(Self::scale(*v, momentum, sat), g, sat);
            *w = Self::sub(*w, Self::scale(*v, lr, sat), sat);
        }
    }
    /// Advances Adam's bias-correction powers by one step.
    fn adam_advance(step: &mut AdamStep<Self::Scalar>, adam: &Adam);
    /// The powers before the first step (β⁰ = 1).
    fn adam_start() -> AdamStep<Self::Scalar>;
    /// Adam's update of a block of parameters; `state` holds `ADAM_STATE_PER_PARAM` per parameter.
    fn adam_update(
        adam: &Adam,
        step: &AdamStep<Self::Scalar>,
        params: &mut [Self::Param],
        grads: &[Self::Param],
        state: &mut [Self::Param],
        sat: &Saturations,
    );

    /// The bound of uniform initialisation, `sqrt(6 / n)`.
    fn init_limit(n: usize) -> Self::Param;
    /// One initial weight from one generator word: `(2u − 1) · limit`, `u` from the word.
    fn init_weight(word: u32, limit: Self::Param) -> Self::Param;

    /// The 32 bits a parameter is hashed as (NUMERICS.md §11).
    fn param_bits(p: Self::Param) -> u32;
    /// The parameter whose raw bits are `bits` (the inverse of [`Arithmetic::param_bits`]
    /// except for NaN payloads), for reading saved values back.
    fn param_from_bits(bits: u32) -> Self::Param;
    /// The 32 bits of an activation: its IEEE bits (NaN as in §11), or its raw fixed-point word.
    fn act_bits(a: Self::Act) -> u32;
    /// The raw 32 bits of a hyper-parameter scalar (Adam's running powers in a checkpoint).
    fn scalar_bits(s: Self::Scalar) -> u32;
    /// The scalar whose raw bits are `bits` (the exact inverse of [`Arithmetic::scalar_bits`]).
    fn scalar_from_bits(bits: u32) -> Self::Scalar;
    /// Whether a parameter, gradient or loss is a real number (always, in fixed point).
    fn param_is_finite(p: Self::Param) -> bool;
    /// Whether every value is finite: [`Arithmetic::param_is_finite`] over the slice (a path may
    /// have a faster loop; this runs on every parameter and gradient after every step).
    #[inline]
    fn all_finite(values: &[Self::Param]) -> bool {
        values.iter().all(|v| Self::param_is_finite(*v))
    }
    /// Whether a loss is a real number.
    fn act_is_finite(a: Self::Act) -> bool;
    /// An input value, or `None` if it is outside this path's input range.
    fn act_from_f32(x: f32) -> Option<Self::Act>;
    /// A value for reports (never fed back into training).
    fn act_to_f64(a: Self::Act) -> f64;
    /// A parameter for reports.
    fn param_to_f64(p: Self::Param) -> f64;
}
