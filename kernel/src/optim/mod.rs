//! Optimizers: element-wise parameter updates.
//!
//! Contract: NUMERICS.md §7. Each update is a fixed sequence of rounded operations per
//! parameter, independent of every other parameter, so an executor may split the parameter
//! vector anywhere. State is stored per parameter, interleaved (`state_per_param` elements per
//! parameter), so that a block of parameters and its state are one contiguous block each.

use crate::arith::Arithmetic;

mod adam;
mod sgd;

pub use adam::{adam_update_f32, Adam, AdamStep};
pub use sgd::Sgd;

/// The optimizer of a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// SGD with momentum (§7.1).
    Sgd(Sgd),
    /// Adam (§7.2).
    Adam(Adam),
}

impl Optimizer {
    /// Elements of optimizer state per parameter on path `N`.
    pub const fn state_per_param<N: Arithmetic>(&self) -> usize {
        match self {
            Optimizer::Sgd(_) => Sgd::STATE_PER_PARAM,
            Optimizer::Adam(_) => N::ADAM_STATE_PER_PARAM,
        }
    }

    /// Lower-case name as used on the command line.
    pub const fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd(_) => "sgd",
            Optimizer::Adam(_) => "adam",
        }
    }
}
