//! Where everything lives in the caller's buffers.

use super::MlpSpec;
use crate::linalg::chunk_count;

/// How many elements each caller-provided buffer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferSizes {
    /// All weights and biases: layer 1 weights, layer 1 biases, layer 2 weights, …
    pub params: usize,
    /// Same layout as `params`.
    pub grads: usize,
    /// Optimizer state, `state_per_param` elements per parameter, interleaved.
    pub opt_state: usize,
    /// Activation-format temporaries: the gathered batch, every layer's output, row losses.
    pub act_scratch: usize,
    /// Parameter-format temporaries: two delta buffers.
    pub param_scratch: usize,
    /// Product-operand temporaries: one transposed weight matrix and, on a path whose operands
    /// are copies (fixed point, NUMERICS.md §13.2), every layer's input, the weights and one
    /// layer's deltas as operands.
    pub operand_scratch: usize,
    /// Accumulator temporaries: one partial sum per chunk of the batch for every parameter.
    pub acc_scratch: usize,
}

/// Lengths of the scratch regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ScratchPlan {
    /// The gathered input batch: `max_batch × inputs`.
    pub input: usize,
    /// Each delta buffer: `max_batch ×` the widest layer output.
    pub delta: usize,
    /// Transposed weight operands of one layer: the largest `inputs × outputs` of layers 2…L.
    pub transposed: usize,
    /// Every layer's input as operands, `max_batch × inputs` each (0 without copies).
    pub act_operands: usize,
    /// The weights as operands, laid out like the parameters (0 without copies).
    pub weight_operands: usize,
    /// One layer's deltas as operands: `max_batch ×` the widest output (0 without copies).
    pub delta_operands: usize,
    /// One partial sum per chunk of the batch for every parameter (§5.2).
    pub partials: usize,
    /// One loss per row.
    pub loss_rows: usize,
    /// All layer outputs, `max_batch × outputs` each.
    pub activations: usize,
}

impl ScratchPlan {
    /// `copies`: whether the path's product operands are copies of the values
    /// ([`crate::arith::Arithmetic::COPIES_OPERANDS`]).
    pub fn new<const L: usize>(spec: &MlpSpec<L>, max_batch: usize, copies: bool) -> Self {
        let layers = spec.layers();
        let widest = layers.iter().map(|l| l.dense.outputs).max().unwrap_or(0);
        let if_copies = |n: usize| if copies { n } else { 0 };
        Self {
            act_operands: if_copies(layers.iter().map(|l| max_batch * l.dense.inputs).sum()),
            weight_operands: if_copies(spec.params_len()),
            delta_operands: if_copies(max_batch * widest),
            input: max_batch * spec.inputs(),
            delta: max_batch * widest,
            transposed: layers[1..].iter().map(|l| l.dense.weights_len()).max().unwrap_or(0),
            partials: chunk_count(max_batch) * spec.params_len(),
            loss_rows: max_batch,
            activations: layers.iter().map(|l| max_batch * l.dense.outputs).sum(),
        }
    }
}

impl BufferSizes {
    /// Sizes for `spec` trained with batches of at most `max_batch` rows and an optimizer
    /// keeping `state_per_param` elements per parameter, on a path whose product operands are
    /// copies or not (`copies`).
    pub fn new<const L: usize>(spec: &MlpSpec<L>, max_batch: usize, state_per_param: usize, copies: bool) -> Self {
        let params = spec.params_len();
        let plan = ScratchPlan::new(spec, max_batch, copies);
        Self {
            params,
            grads: params,
            opt_state: params * state_per_param,
            act_scratch: plan.input + plan.activations + plan.loss_rows,
            param_scratch: 2 * plan.delta,
            operand_scratch: plan.transposed + plan.act_operands + plan.weight_operands + plan.delta_operands,
            acc_scratch: plan.partials,
        }
    }
}
