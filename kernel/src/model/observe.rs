//! Watching a training step layer by layer, for traces that locate where two runs part.
//!
//! [`Trainer::train_step_observed`](super::Trainer::train_step_observed) calls a
//! [`StepObserver`] after each layer operation of NUMERICS.md §9, in the step's order:
//! the forward output of layers 1…L, the output gradient `dL/dz` of layers L…1, the combined
//! parameter gradients of layers 1…L, and the updated parameters of layers 1…L. Observing
//! changes nothing: the observer runs between operations, on one thread, and the default
//! methods do nothing (so [`Trainer::train_step`](super::Trainer::train_step), which passes
//! [`NoObserver`], compiles to the unobserved step).
//!
//! The observer gets `&mut` access to each tensor. A trace never writes through it; it exists
//! for fault-injection tests, which change one bit of one tensor to check that a trace
//! comparison names that tensor, operation and step.

use crate::arith::Arithmetic;

/// A layer operation of the training step (NUMERICS.md §9), in the order the step runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// The layer's output: `rows × outputs` activations after its activation function
    /// (logits for the output layer).
    Forward,
    /// `dL/dz` of the layer's output before its activation: `rows × outputs` values
    /// (for the output layer, the softmax cross-entropy gradient).
    Backward,
    /// The layer's weight gradients then bias gradients, combined over the batch (§5.2).
    Gradients,
    /// The layer's weights then biases after the optimizer update (§7).
    Update,
}

impl Op {
    /// Every operation, in the order of a step.
    pub const ALL: [Op; 4] = [Op::Forward, Op::Backward, Op::Gradients, Op::Update];

    /// Name used in messages and traces.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Forward => "forward",
            Op::Backward => "backward",
            Op::Gradients => "gradients",
            Op::Update => "update",
        }
    }

    /// The operation called `name` (see [`Op::name`]).
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// Called by [`Trainer::train_step_observed`](super::Trainer::train_step_observed) after each
/// layer operation; `step` counts from 1 and `layer` from 1.
pub trait StepObserver<N: Arithmetic> {
    /// An activation-format tensor ([`Op::Forward`]).
    fn activations(&mut self, _step: u64, _layer: usize, _op: Op, _values: &mut [N::Act]) {}
    /// A parameter-format tensor ([`Op::Backward`], [`Op::Gradients`], [`Op::Update`]).
    fn params(&mut self, _step: u64, _layer: usize, _op: Op, _values: &mut [N::Param]) {}
}

/// Observes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<N: Arithmetic> StepObserver<N> for NoObserver {}
