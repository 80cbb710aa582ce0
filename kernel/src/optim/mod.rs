//! Optimizers: element-wise parameter updates.
//!
//! Contract: NUMERICS.md §7. Each update is a fixed sequence of rounded operations per
//! parameter, independent of every other parameter, so an executor may split the parameter
//! vector anywhere. State is stored per parameter, interleaved (`STATE_PER_PARAM` floats per
//! parameter), so that a block of parameters and its state are one contiguous block each.

mod adam;
mod sgd;

pub use adam::{Adam, AdamStep};
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
    /// Floats of optimizer state per parameter.
    pub const fn state_per_param(&self) -> usize {
        match self {
            Optimizer::Sgd(_) => Sgd::STATE_PER_PARAM,
            Optimizer::Adam(_) => Adam::STATE_PER_PARAM,
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
