//! One training step: forward, fused softmax cross-entropy, backward, checks, update.
//!
//! Contract: NUMERICS.md §9 gives the order of the whole step; each piece names its own rule.

use super::layout::ScratchPlan;
use super::{BufferSizes, Init, LayerSpec, MlpSpec, NonFinite, SetupError, Tensor, DEFAULT_MAX_LAYERS};
use crate::digest::{digest_params, Digest};
use crate::exec::Executor;
use crate::layers::{argmax, softmax_cross_entropy_row};
use crate::linalg::{chunk_count, tree_sum_into, BATCH_CHUNK};
use crate::optim::{AdamStep, Optimizer};
use rand_core::RngCore;

/// The caller's buffers, sized by [`Trainer::sizes`].
pub struct Buffers<'a> {
    /// Weights and biases, [`BufferSizes::params`] floats.
    pub params: &'a mut [f32],
    /// Gradients, [`BufferSizes::grads`] floats.
    pub grads: &'a mut [f32],
    /// Optimizer state, [`BufferSizes::opt_state`] floats.
    pub opt_state: &'a mut [f32],
    /// Per-step temporaries, [`BufferSizes::scratch`] floats.
    pub scratch: &'a mut [f32],
}

/// A batch: the rows `indices` of a row-major `features` matrix and their `labels`.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'d> {
    /// All samples, row-major, `inputs` floats per row.
    pub features: &'d [f32],
    /// Class of every sample.
    pub labels: &'d [u32],
    /// Rows of this batch, in order.
    pub indices: &'d [u32],
}

/// Trains an MLP of at most `L` layers in the caller's buffers.
pub struct Trainer<'a, const L: usize = DEFAULT_MAX_LAYERS> {
    spec: MlpSpec<L>,
    offsets: heapless::Vec<usize, L>,
    optimizer: Optimizer,
    adam_step: AdamStep,
    max_batch: usize,
    plan: ScratchPlan,
    steps: u64,
    bufs: Buffers<'a>,
}

/// The scratch buffer cut into its regions for one step.
struct Scratch<'s, const L: usize> {
    input: &'s mut [f32],
    acts: heapless::Vec<&'s mut [f32], L>,
    delta: [&'s mut [f32]; 2],
    transposed: &'s mut [f32],
    partials: &'s mut [f32],
    loss_rows: &'s mut [f32],
}

/// Cuts `scratch` into its regions (sizes from `plan`, one activation buffer per layer).
fn split_scratch<'s, const L: usize>(
    scratch: &'s mut [f32],
    spec: &MlpSpec<L>,
    plan: &ScratchPlan,
    max_batch: usize,
) -> Scratch<'s, L> {
    let mut rest = scratch;
    let input = take(&mut rest, plan.input);
    let mut acts = heapless::Vec::new();
    for layer in spec.layers() {
        // Cannot fail: `spec` holds at most L layers.
        let _ = acts.push(take(&mut rest, max_batch * layer.dense.outputs));
    }
    let delta = [take(&mut rest, plan.delta), take(&mut rest, plan.delta)];
    let transposed = take(&mut rest, plan.transposed);
    let partials = take(&mut rest, plan.partials);
    let loss_rows = take(&mut rest, plan.loss_rows);
    Scratch { input, acts, delta, transposed, partials, loss_rows }
}

fn take<'s>(rest: &mut &'s mut [f32], len: usize) -> &'s mut [f32] {
    let (head, tail) = core::mem::take(rest).split_at_mut(len);
    *rest = tail;
    head
}

impl<'a, const L: usize> Trainer<'a, L> {
    /// Buffer sizes for `spec`, `optimizer` and batches of at most `max_batch` rows.
    pub fn sizes(spec: &MlpSpec<L>, optimizer: &Optimizer, max_batch: usize) -> BufferSizes {
        BufferSizes::new(spec, max_batch, optimizer.state_per_param())
    }

    /// Takes the buffers, checks their sizes and zeroes gradients, optimizer state and scratch.
    /// Parameters are left as they are: call [`Trainer::init_params`] or load them.
    pub fn new(
        spec: MlpSpec<L>,
        optimizer: Optimizer,
        max_batch: usize,
        bufs: Buffers<'a>,
    ) -> Result<Self, SetupError> {
        if max_batch == 0 {
            return Err(SetupError::ZeroBatch);
        }
        let sizes = Self::sizes(&spec, &optimizer, max_batch);
        for (buffer, expected, found) in [
            ("parameter", sizes.params, bufs.params.len()),
            ("gradient", sizes.grads, bufs.grads.len()),
            ("optimizer state", sizes.opt_state, bufs.opt_state.len()),
            ("scratch", sizes.scratch, bufs.scratch.len()),
        ] {
            if expected != found {
                return Err(SetupError::BufferSize { buffer, expected, found });
            }
        }
        let mut offsets = heapless::Vec::new();
        let mut offset = 0;
        for layer in spec.layers() {
            // Cannot fail: `spec` holds at most L layers.
            let _ = offsets.push(offset);
            offset += layer.dense.params_len();
        }
        bufs.grads.fill(0.0);
        bufs.opt_state.fill(0.0);
        bufs.scratch.fill(0.0);
        let plan = ScratchPlan::new(&spec, max_batch);
        Ok(Self { spec, offsets, optimizer, adam_step: AdamStep::START, max_batch, plan, steps: 0, bufs })
    }

    /// Initialises every layer's weights from `rng` (layer 1 first, each in memory order) and
    /// sets biases to +0; resets optimizer state and the step count.
    ///
    /// Contract: NUMERICS.md §8.5.
    pub fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) {
        for (layer, &offset) in self.spec.layers().iter().zip(&self.offsets) {
            let d = layer.dense;
            let (w, b) = self.bufs.params[offset..offset + d.params_len()].split_at_mut(d.weights_len());
            init.fill(rng, w, d.inputs, d.outputs);
            b.fill(0.0);
        }
        self.bufs.opt_state.fill(0.0);
        self.adam_step = AdamStep::START;
        self.steps = 0;
    }

    /// The model's shape.
    pub fn spec(&self) -> &MlpSpec<L> {
        &self.spec
    }

    /// Largest batch the buffers were sized for.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Training steps taken since the parameters were initialised.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// All parameters (layer 1 weights, layer 1 biases, layer 2 weights, …).
    pub fn params(&self) -> &[f32] {
        self.bufs.params
    }

    /// All parameters, for loading saved values.
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.bufs.params
    }

    /// Gradients of the last step, in the layout of [`Trainer::params`].
    pub fn grads(&self) -> &[f32] {
        self.bufs.grads
    }

    /// Weights and biases of layer `layer` (counting from 0).
    pub fn layer_params(&self, layer: usize) -> (&[f32], &[f32]) {
        let d = self.spec.layers()[layer].dense;
        self.bufs.params[self.offsets[layer]..][..d.params_len()].split_at(d.weights_len())
    }

    /// SHA-256 of all parameters (NUMERICS.md §11).
    pub fn digest(&self) -> Digest {
        digest_params(self.bufs.params)
    }

    /// One step of mini-batch training on `batch`; returns the batch's mean loss.
    ///
    /// Contract: NUMERICS.md §9. Stops with [`NonFinite`] — leaving the parameters of the
    /// failed step in place for inspection — when the loss, a gradient or an updated
    /// parameter is NaN or infinite (§10).
    ///
    /// # Panics
    /// If the batch is empty or larger than `max_batch`, or an index or label is out of range
    /// (the harness validates data before training).
    pub fn train_step<E: Executor>(&mut self, exec: &E, batch: &Batch<'_>) -> Result<f32, NonFinite> {
        let rows = batch.indices.len();
        assert!(rows > 0 && rows <= self.max_batch, "batch of {rows} rows for buffers of {}", self.max_batch);
        let step = self.steps + 1;
        let nonfinite = |layer, tensor, index| NonFinite { step, layer, tensor, index };

        let inputs = self.spec.inputs();
        let mut s = split_scratch(self.bufs.scratch, &self.spec, &self.plan, self.max_batch);
        for (dst, &i) in s.input.chunks_exact_mut(inputs).zip(batch.indices) {
            dst.copy_from_slice(&batch.features[i as usize * inputs..][..inputs]);
        }
        let spec = &self.spec;
        let offsets = &self.offsets;
        let params: &[f32] = self.bufs.params;
        forward(exec, spec, offsets, params, &mut s, rows);

        let loss = loss_and_output_gradient(exec, spec.classes(), batch, &mut s, rows);
        if !loss.is_finite() {
            return Err(nonfinite(None, Tensor::Loss, 0));
        }

        backward(exec, spec, offsets, params, &mut s, rows);
        let partials: &[f32] = s.partials;
        let nchunks = chunk_count(rows);
        let stride = spec.params_len();
        // Work hints count memory-bound element updates as several operations; Adam's software
        // square root (§4.5) costs about a hundred.
        exec.for_each_row_block(self.bufs.grads, 1, 4 * nchunks, &|first, block| {
            tree_sum_into(block, partials, stride, first, nchunks);
        });
        if let Some((layer, tensor, index)) = first_nonfinite(spec.layers(), self.bufs.grads, true) {
            return Err(nonfinite(Some(layer), tensor, index));
        }

        let grads: &[f32] = self.bufs.grads;
        match self.optimizer {
            Optimizer::Sgd(sgd) => {
                exec.for_each_row_block2(self.bufs.params, 1, self.bufs.opt_state, 1, 16, &|first, w, v| {
                    sgd.update(w, &grads[first..][..w.len()], v);
                })
            }
            Optimizer::Adam(adam) => {
                self.adam_step.advance(&adam);
                let at = self.adam_step;
                exec.for_each_row_block2(self.bufs.params, 1, self.bufs.opt_state, 2, 128, &|first, w, mv| {
                    adam.update(&at, w, &grads[first..][..w.len()], mv);
                });
            }
        }
        self.steps = step;
        if let Some((layer, tensor, index)) = first_nonfinite(self.spec.layers(), self.bufs.params, false) {
            return Err(nonfinite(Some(layer), tensor, index));
        }
        Ok(loss)
    }

    /// Number of rows of `features` whose prediction (first maximal logit) equals the label.
    ///
    /// Contract: NUMERICS.md §6.3 (prediction). Rows are evaluated in blocks of `max_batch`;
    /// a row's logits do not depend on the other rows, so the block size changes nothing.
    pub fn count_correct<E: Executor>(&mut self, exec: &E, features: &[f32], labels: &[u32]) -> usize {
        let inputs = self.spec.inputs();
        let classes = self.spec.classes();
        let max_batch = self.max_batch;
        let mut correct = 0;
        for (x, y) in features.chunks(max_batch * inputs).zip(labels.chunks(max_batch)) {
            let rows = y.len();
            let mut s = split_scratch(self.bufs.scratch, &self.spec, &self.plan, max_batch);
            s.input[..x.len()].copy_from_slice(x);
            forward(exec, &self.spec, &self.offsets, self.bufs.params, &mut s, rows);
            let logits = &s.acts[s.acts.len() - 1][..rows * classes];
            correct += logits.chunks_exact(classes).zip(y).filter(|(z, y)| argmax(z) == **y as usize).count();
        }
        correct
    }
}

fn layer_params<'p>(params: &'p [f32], offset: usize, layer: &LayerSpec) -> (&'p [f32], &'p [f32]) {
    params[offset..][..layer.dense.params_len()].split_at(layer.dense.weights_len())
}

/// Forward pass of every layer over the gathered input, rows split by the executor.
fn forward<E: Executor, const L: usize>(
    exec: &E,
    spec: &MlpSpec<L>,
    offsets: &[usize],
    params: &[f32],
    s: &mut Scratch<'_, L>,
    rows: usize,
) {
    for (l, layer) in spec.layers().iter().enumerate() {
        let d = layer.dense;
        let (w, b) = layer_params(params, offsets[l], layer);
        let (before, after) = s.acts.split_at_mut(l);
        let x: &[f32] = if l == 0 { &s.input[..rows * d.inputs] } else { &before[l - 1][..rows * d.inputs] };
        exec.for_each_row_block(&mut after[0][..rows * d.outputs], d.outputs, 2 * d.weights_len(), &|first, z| {
            let n = z.len() / d.outputs;
            d.forward(&x[first * d.inputs..][..n * d.inputs], w, b, z);
            if let Some(activation) = layer.activation {
                activation.forward(z);
            }
        });
    }
}

/// Turns the logits into `dL/dz` in place and returns the mean loss (§6.3, §5.2).
fn loss_and_output_gradient<E: Executor, const L: usize>(
    exec: &E,
    classes: usize,
    batch: &Batch<'_>,
    s: &mut Scratch<'_, L>,
    rows: usize,
) -> f32 {
    let last = s.acts.len() - 1;
    let logits = &mut s.acts[last][..rows * classes];
    let losses = &mut s.loss_rows[..rows];
    exec.for_each_row_block2(logits, classes, losses, 1, 8 * classes, &|first, z, loss| {
        for (i, (z_row, loss_row)) in z.chunks_exact_mut(classes).zip(loss.iter_mut()).enumerate() {
            let label = batch.labels[batch.indices[first + i] as usize] as usize;
            *loss_row = softmax_cross_entropy_row(z_row, label, rows);
        }
    });
    // Chunk sums, rows ascending from +0, then the tree (§5.2); the mean is one division.
    let partials = &mut s.partials[..chunk_count(rows)];
    for (p, chunk) in partials.iter_mut().zip(s.loss_rows[..rows].chunks(BATCH_CHUNK)) {
        *p = chunk.iter().fold(0.0f32, |acc, v| acc + *v);
    }
    let mut total = [0.0f32];
    tree_sum_into(&mut total, partials, 1, 0, partials.len());
    total[0] / rows as f32
}

/// Backward pass: per layer, chunk partials of the parameter gradients, then the gradient of
/// the layer's input through the previous activation (§6.1, §6.2, §5.2).
fn backward<E: Executor, const L: usize>(
    exec: &E,
    spec: &MlpSpec<L>,
    offsets: &[usize],
    params: &[f32],
    s: &mut Scratch<'_, L>,
    rows: usize,
) {
    let layers = spec.layers();
    let stride = spec.params_len();
    let partials = &mut s.partials[..chunk_count(rows) * stride];
    let [delta_a, delta_b] = &mut s.delta;
    // `dz` of the layer being processed lives in the output activations for the last layer,
    // then alternates between the two delta buffers.
    let (mut dz_buf, mut next_buf): (&mut [f32], &mut [f32]) = (delta_a, delta_b);
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        let d = layer.dense;
        let dz: &[f32] =
            if l + 1 == layers.len() { &s.acts[l][..rows * d.outputs] } else { &dz_buf[..rows * d.outputs] };
        let x: &[f32] = if l == 0 { &s.input[..rows * d.inputs] } else { &s.acts[l - 1][..rows * d.inputs] };
        let offset = offsets[l];
        exec.for_each_row_block(partials, stride, 2 * BATCH_CHUNK * d.params_len(), &|first_chunk, block| {
            for (i, chunk) in block.chunks_exact_mut(stride).enumerate() {
                let r0 = (first_chunk + i) * BATCH_CHUNK;
                let r1 = rows.min(r0 + BATCH_CHUNK);
                let (dw, db) = chunk[offset..][..d.params_len()].split_at_mut(d.weights_len());
                d.backward_params(&x[r0 * d.inputs..r1 * d.inputs], &dz[r0 * d.outputs..r1 * d.outputs], dw, db);
            }
        });
        if l == 0 {
            break;
        }
        let (w, _) = layer_params(params, offset, layer);
        d.transpose(w, s.transposed);
        let wt: &[f32] = s.transposed;
        // Hidden layers always have an activation (MlpSpec::new).
        let activation = layers[l - 1].activation.expect("hidden layer without activation");
        exec.for_each_row_block(&mut next_buf[..rows * d.inputs], d.inputs, 2 * d.weights_len(), &|first, dx| {
            let n = dx.len() / d.inputs;
            d.backward_input(&dz[first * d.outputs..][..n * d.outputs], wt, dx);
            activation.backward(&x[first * d.inputs..][..n * d.inputs], dx);
        });
        core::mem::swap(&mut dz_buf, &mut next_buf);
    }
}

/// First NaN or infinity in `values` (parameters or gradients), as (layer from 1, tensor, index).
fn first_nonfinite(layers: &[LayerSpec], values: &[f32], gradients: bool) -> Option<(usize, Tensor, usize)> {
    let (weights, biases) =
        if gradients { (Tensor::WeightGradients, Tensor::BiasGradients) } else { (Tensor::Weights, Tensor::Biases) };
    let mut offset = 0;
    for (l, layer) in layers.iter().enumerate() {
        let (w, b) = values[offset..][..layer.dense.params_len()].split_at(layer.dense.weights_len());
        if let Some(i) = w.iter().position(|v| !v.is_finite()) {
            return Some((l + 1, weights, i));
        }
        if let Some(i) = b.iter().position(|v| !v.is_finite()) {
            return Some((l + 1, biases, i));
        }
        offset += layer.dense.params_len();
    }
    None
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::exec::Sequential;
    use crate::layers::Activation;
    use crate::optim::Sgd;
    use crate::rng::Xoshiro128PlusPlus;
    use rand_core::SeedableRng;
    use std::vec;

    /// One step of a 2-4-2 tanh model with `sgd` on `x`, after `tweak` edits the parameters.
    fn one_step(sgd: Sgd, x: [f32; 4], tweak: fn(&mut [f32])) -> (Result<f32, NonFinite>, std::vec::Vec<f32>) {
        let spec: MlpSpec<4> = MlpSpec::new(2, &[4], 2, Activation::Tanh).unwrap();
        let optimizer = Optimizer::Sgd(sgd);
        let sizes = Trainer::sizes(&spec, &optimizer, 2);
        let (mut p, mut g) = (vec![0.0; sizes.params], vec![0.0; sizes.grads]);
        let (mut o, mut s) = (vec![0.0; sizes.opt_state], vec![0.0; sizes.scratch]);
        let bufs = Buffers { params: &mut p, grads: &mut g, opt_state: &mut o, scratch: &mut s };
        let mut trainer = Trainer::new(spec, optimizer, 2, bufs).unwrap();
        trainer.init_params(Init::GlorotUniform, &mut Xoshiro128PlusPlus::seed_from_u64(1));
        tweak(trainer.params_mut());
        let result = trainer.train_step(&Sequential, &Batch { features: &x, labels: &[0, 1], indices: &[0, 1] });
        (result, trainer.params().to_vec())
    }

    const SGD: Sgd = Sgd { lr: 0.5, momentum: 0.0, weight_decay: 0.0 };
    const X: [f32; 4] = [0.5, -0.5, 1.0, 0.25];

    #[test]
    fn a_normal_step_changes_the_parameters() {
        let (_, before) = one_step(Sgd { lr: 0.0, ..SGD }, X, |_| {});
        let (loss, after) = one_step(SGD, X, |_| {});
        assert!(loss.unwrap() > 0.0);
        assert_ne!(before, after);
    }

    #[test]
    fn infinite_input_stops_at_the_first_layer_gradients() {
        // tanh saturates, so the loss stays finite; x·dz in layer 1's weight gradient does not.
        let (result, _) = one_step(SGD, [f32::INFINITY, 0.0, 1.0, 1.0], |_| {});
        let err = result.unwrap_err();
        assert_eq!((err.step, err.layer, err.tensor), (1, Some(1), Tensor::WeightGradients));
    }

    #[test]
    fn non_finite_loss_is_named() {
        // Output-layer biases of ±∞ make the logits ∞ − ∞ = NaN after max subtraction.
        let (result, _) = one_step(SGD, X, |p| {
            let n = p.len();
            p[n - 2] = f32::INFINITY;
            p[n - 1] = f32::INFINITY;
        });
        let err = result.unwrap_err();
        assert_eq!((err.step, err.layer, err.tensor), (1, None, Tensor::Loss));
    }

    #[test]
    fn overflowing_update_names_the_layer_and_tensor() {
        // Weight decay 2 on a weight of f32::MAX: g = grad + 2·MAX overflows to ∞ in the
        // update, so the updated weight is −∞.
        let (result, _) = one_step(Sgd { weight_decay: 2.0, ..SGD }, X, |p| p[3] = f32::MAX);
        let err = result.unwrap_err();
        assert_eq!((err.step, err.layer, err.tensor, err.index), (1, Some(1), Tensor::Weights, 3));
        let message = std::format!("{err}");
        assert!(message.contains("step 1") && message.contains("layer 1 weights (element 3)"), "{message}");
    }

    #[test]
    fn wrong_buffer_sizes_are_refused() {
        let spec: MlpSpec<4> = MlpSpec::new(2, &[4], 2, Activation::Relu).unwrap();
        let optimizer = Optimizer::Sgd(Sgd { lr: 0.1, momentum: 0.0, weight_decay: 0.0 });
        let sizes = Trainer::sizes(&spec, &optimizer, 2);
        let (mut p, mut g) = (vec![0.0; sizes.params], vec![0.0; sizes.grads]);
        let (mut o, mut s) = (vec![0.0; sizes.opt_state], vec![0.0; sizes.scratch - 1]);
        let bufs = Buffers { params: &mut p, grads: &mut g, opt_state: &mut o, scratch: &mut s };
        let err = Trainer::new(spec, optimizer, 2, bufs).err().unwrap();
        assert_eq!(
            err,
            SetupError::BufferSize { buffer: "scratch", expected: sizes.scratch, found: sizes.scratch - 1 }
        );
    }
}
