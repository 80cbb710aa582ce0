//! Where everything lives in the caller's buffers.

use super::MlpSpec;
use crate::linalg::chunk_count;

/// How many floats each caller-provided buffer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferSizes {
    /// All weights and biases: layer 1 weights, layer 1 biases, layer 2 weights, …
    pub params: usize,
    /// Same layout as `params`.
    pub grads: usize,
    /// Optimizer state, `state_per_param` floats per parameter, interleaved.
    pub opt_state: usize,
    /// Activations, deltas, chunk partials and the other per-step temporaries.
    pub scratch: usize,
}

/// Lengths of the scratch regions, in the order they are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ScratchPlan {
    /// The gathered input batch: `max_batch × inputs`.
    pub input: usize,
    /// Largest activation buffer (each layer gets `max_batch × outputs`).
    pub delta: usize,
    /// Transposed weights of one layer: the largest `inputs × outputs` of layers 2…L.
    pub transposed: usize,
    /// One partial sum per chunk of the batch for every parameter (§5.2).
    pub partials: usize,
    /// One loss per row.
    pub loss_rows: usize,
}

impl ScratchPlan {
    pub fn new<const L: usize>(spec: &MlpSpec<L>, max_batch: usize) -> Self {
        let layers = spec.layers();
        let widest_hidden = layers[..layers.len() - 1].iter().map(|l| l.dense.outputs).max().unwrap_or(0);
        Self {
            input: max_batch * spec.inputs(),
            delta: max_batch * widest_hidden,
            transposed: layers[1..].iter().map(|l| l.dense.weights_len()).max().unwrap_or(0),
            partials: chunk_count(max_batch) * spec.params_len(),
            loss_rows: max_batch,
        }
    }

    /// Total scratch: input, one activation buffer per layer, two deltas, the rest.
    pub fn total<const L: usize>(&self, spec: &MlpSpec<L>, max_batch: usize) -> usize {
        let activations: usize = spec.layers().iter().map(|l| max_batch * l.dense.outputs).sum();
        self.input + activations + 2 * self.delta + self.transposed + self.partials + self.loss_rows
    }
}

impl BufferSizes {
    /// Sizes for `spec` trained with batches of at most `max_batch` rows and an optimizer
    /// keeping `state_per_param` floats per parameter.
    pub fn new<const L: usize>(spec: &MlpSpec<L>, max_batch: usize, state_per_param: usize) -> Self {
        let params = spec.params_len();
        Self {
            params,
            grads: params,
            opt_state: params * state_per_param,
            scratch: ScratchPlan::new(spec, max_batch).total(spec, max_batch),
        }
    }
}
