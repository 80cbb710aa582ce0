//! The two arithmetic paths the layers are written over: IEEE f32 and fixed point.
//!
//! Every layer, the optimizers and the training step are generic over [`Arithmetic`], so each
//! is written once. A path supplies the element types and the handful of operations whose
//! rounding differs: a product accumulated into a sum, the narrowing of a finished sum to a
//! stored format, the elementary functions, and the softmax cross-entropy of one row (whose
//! intermediate values need formats of their own in fixed point).
//!
//! - [`Float`]: NUMERICS.md §2–§12. The accumulator is f32 and every step rounds, so sums
//!   follow the written orders of §5.
//! - [`Fixed`]: NUMERICS.md §13. The accumulator is a wide integer and every sum is exact,
//!   so any order gives the same bits; rounding happens once, when a result is narrowed.

mod fixed;
mod float;

pub use self::fixed::Fixed;
pub use self::float::Float;

use crate::fixed::narrow::Saturations;
use crate::optim::{Adam, AdamStep};
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

    /// The accumulator's starting value (+0).
    fn acc_zero() -> Self::Acc;
    /// `acc + a·p`: forward products and weight gradients.
    fn acc_act_param(acc: Self::Acc, a: Self::Act, p: Self::Param) -> Self::Acc;
    /// `acc + a·b`: input gradients.
    fn acc_param_param(acc: Self::Acc, a: Self::Param, b: Self::Param) -> Self::Acc;
    /// `acc + p`: bias gradients.
    fn acc_param(acc: Self::Acc, p: Self::Param) -> Self::Acc;
    /// `acc + l`: loss sums.
    fn acc_act(acc: Self::Acc, l: Self::Act) -> Self::Acc;
    /// `a + b` of two partial sums (the chunk tree of §5.2).
    fn acc_add(a: Self::Acc, b: Self::Acc) -> Self::Acc;

    /// A dense layer's output: the finished dot product plus the bias.
    fn forward_out(acc: Self::Acc, bias: Self::Param, sat: &Saturations) -> Self::Act;
    /// A finished weight-gradient sum (of `acc_act_param` products).
    fn weight_grad(acc: Self::Acc, sat: &Saturations) -> Self::Param;
    /// A finished bias-gradient sum (of `acc_param` terms).
    fn bias_grad(acc: Self::Acc, sat: &Saturations) -> Self::Param;
    /// A finished input-gradient sum (of `acc_param_param` products).
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
    /// Whether a parameter, gradient or loss is a real number (always, in fixed point).
    fn param_is_finite(p: Self::Param) -> bool;
    /// Whether a loss is a real number.
    fn act_is_finite(a: Self::Act) -> bool;
    /// An input value, or `None` if it is outside this path's input range.
    fn act_from_f32(x: f32) -> Option<Self::Act>;
    /// A value for reports (never fed back into training).
    fn act_to_f64(a: Self::Act) -> f64;
    /// A parameter for reports.
    fn param_to_f64(p: Self::Param) -> f64;
}
