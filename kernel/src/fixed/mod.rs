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

/// A product operand (§13.2): an activation, weight or delta narrowed to a short format so
/// that every product fits 26 bits and a run of [`PRODUCT_BLOCK`] products fits an i32.
pub type Operand = i16;
/// Fractional bits of an activation operand: Q5.10 over all of i16, range [−32, 32).
pub const ACT_OPERAND_FRAC: u32 = 10;
/// Fractional bits of a weight operand: Q1.10 in [−2047, 2047], range ±2.
pub const WEIGHT_OPERAND_FRAC: u32 = 10;
/// Fractional bits of a delta operand: Q−3.14 in [−2047, 2047], range ±1/8.
pub const DELTA_OPERAND_FRAC: u32 = 14;
/// Largest magnitude of a weight or delta operand (12 bits with the sign).
pub const SHORT_OPERAND_MAX: i64 = 2047;
/// Products summed in an i32 before it is added to the i64 sum: every product of an
/// activation operand (|a| ≤ 2¹⁵) and a weight or delta operand (|b| ≤ 2047) is below 2²⁶,
/// and 32 of them below 2³¹.
pub const PRODUCT_BLOCK: usize = 32;

/// Fractional bits of [`Act`].
pub const ACT_FRAC: u32 = 16;
/// Fractional bits of [`Param`].
pub const PARAM_FRAC: u32 = 24;
/// Fractional bits of [`Scalar`] and of probabilities.
pub const SCALAR_FRAC: u32 = 30;
