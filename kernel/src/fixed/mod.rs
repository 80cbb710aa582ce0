//! Fixed-point formats and integer arithmetic for the fixed path (NUMERICS.md §13).
//!
//! Values are stored as the `fixed` crate's types; every operation on them is spelled out in
//! integers here (products in a wide integer, one narrowing with round-half-to-even and
//! saturation), so no floating-point unit is involved and sums are exact in any order.

pub mod math;
pub mod narrow;

/// Inputs, activations, logits and losses: Q16.16, range [−32768, 32768), step 2⁻¹⁶.
pub type Act = fixed::types::I16F16;
/// Weights, biases, gradients, deltas, momentum: Q8.24, range [−128, 128), step 2⁻²⁴.
pub type Param = fixed::types::I8F24;
/// Hyper-parameters and probabilities: Q2.30, range [−2, 2), step 2⁻³⁰.
pub type Scalar = fixed::types::I2F30;

/// Fractional bits of [`Act`].
pub const ACT_FRAC: u32 = 16;
/// Fractional bits of [`Param`].
pub const PARAM_FRAC: u32 = 24;
/// Fractional bits of [`Scalar`] and of probabilities.
pub const SCALAR_FRAC: u32 = 30;
