//! One training step: forward, fused softmax cross-entropy, backward, checks, update.
//!
//! Contract: NUMERICS.md §9 gives the order of the whole step; each piece names its own rule.
//! Written once for both arithmetic paths ([`Arithmetic`]).

use super::layout::ScratchPlan;
use super::observe::{NoObserver, Op, StepObserver};
use super::{BufferSizes, Init, LayerSpec, MlpSpec, NonFinite, SetupError, Tensor, DEFAULT_MAX_LAYERS};
use crate::arith::{Arithmetic, Float};
use crate::digest::{digest_words, Digest};
use crate::exec::{Executor, WORTH_SPLITTING};
use crate::fixed::narrow::Saturations;
use crate::layers::{argmax, Activation, Dense};
use crate::linalg::{chunk_count, tree_sum_in_place, tree_sum_with, vectorised, BATCH_CHUNK};
use crate::linalg::{VectorUnit, Work};
use crate::optim::{Adam, AdamStep, Optimizer, Sgd};
use core::sync::atomic::AtomicU32;
use rand_core::RngCore;

/// The caller's buffers, sized by [`Trainer::sizes`].
pub struct Buffers<'a, N: Arithmetic = Float> {
    /// Weights and biases, [`BufferSizes::params`] elements.
    pub params: &'a mut [N::Param],
    /// Gradients, [`BufferSizes::grads`] elements.
    pub grads: &'a mut [N::Param],
    /// Optimizer state, [`BufferSizes::opt_state`] elements.
    pub opt_state: &'a mut [N::Param],
    /// Activation temporaries, [`BufferSizes::act_scratch`] elements.
    pub act_scratch: &'a mut [N::Act],
    /// Parameter-format temporaries, [`BufferSizes::param_scratch`] elements.
    pub param_scratch: &'a mut [N::Param],
    /// Product-operand temporaries, [`BufferSizes::operand_scratch`] elements.
    pub operand_scratch: &'a mut [N::Operand],
    /// Accumulator temporaries, [`BufferSizes::acc_scratch`] elements.
    pub acc_scratch: &'a mut [N::Acc],
}

/// A batch: the rows `indices` of a row-major `features` matrix and their `labels`.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'d, A> {
    /// All samples, row-major, `inputs` values per row.
    pub features: &'d [A],
    /// Class of every sample.
    pub labels: &'d [u32],
    /// Rows of this batch, in order.
    pub indices: &'d [u32],
}

/// What a trainer carries from step to step besides its parameters and optimizer state: with
/// those two it is everything the next step depends on (NUMERICS.md §9.1), so that a run
/// restored from it continues with exactly the bits of the uninterrupted run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainerState<S> {
    /// Training steps taken since the parameters were initialised.
    pub steps: u64,
    /// Values clamped to their format's range so far (fixed point; 0 for float).
    pub saturations: u64,
    /// Adam's running powers β1ᵗ and β2ᵗ (their start values for SGD, which does not use them).
    pub adam_step: AdamStep<S>,
}

/// Trains an MLP of at most `L` layers on arithmetic path `N` in the caller's buffers.
pub struct Trainer<'a, N: Arithmetic = Float, const L: usize = DEFAULT_MAX_LAYERS> {
    spec: MlpSpec<L>,
    offsets: heapless::Vec<usize, L>,
    optimizer: Optimizer,
    adam_step: AdamStep<N::Scalar>,
    max_batch: usize,
    plan: ScratchPlan,
    steps: u64,
    saturations: u64,
    bufs: Buffers<'a, N>,
}

/// The scratch buffers cut into their regions for one step.
struct Scratch<'s, N: Arithmetic, const L: usize> {
    input: &'s mut [N::Act],
    acts: heapless::Vec<&'s mut [N::Act], L>,
    loss_rows: &'s mut [N::Act],
    delta: [&'s mut [N::Param]; 2],
    partials: &'s mut [N::Acc],
    /// One layer's weight operands, transposed.
    transposed: &'s mut [N::Operand],
    /// Each layer's input as operands (empty where operands are the values themselves).
    act_ops: heapless::Vec<&'s mut [N::Operand], L>,
    /// The weights as operands, laid out like the parameters (empty likewise).
    weight_ops: &'s mut [N::Operand],
    /// One layer's deltas as operands (empty likewise).
    delta_ops: &'s mut [N::Operand],
}

fn take<'s, T>(rest: &mut &'s mut [T], len: usize) -> &'s mut [T] {
    let (head, tail) = core::mem::take(rest).split_at_mut(len);
    *rest = tail;
    head
}

/// The four scratch buffers: activations, parameter-format values, accumulators, operands.
type ScratchBuffers<'s, N> = (
    &'s mut [<N as Arithmetic>::Act],
    &'s mut [<N as Arithmetic>::Param],
    &'s mut [<N as Arithmetic>::Acc],
    &'s mut [<N as Arithmetic>::Operand],
);

/// Cuts the scratch buffers into their regions (sizes from `plan`).
fn split_scratch<'s, N: Arithmetic, const L: usize>(
    bufs: ScratchBuffers<'s, N>,
    spec: &MlpSpec<L>,
    plan: &ScratchPlan,
    max_batch: usize,
) -> Scratch<'s, N, L> {
    let (mut act, mut param, partials, mut operand) = bufs;
    let input = take(&mut act, plan.input);
    let mut acts = heapless::Vec::new();
    for layer in spec.layers() {
        // Cannot fail: `spec` holds at most L layers.
        let _ = acts.push(take(&mut act, max_batch * layer.dense.outputs));
    }
    let loss_rows = take(&mut act, plan.loss_rows);
    let delta = [take(&mut param, plan.delta), take(&mut param, plan.delta)];
    let transposed = take(&mut operand, plan.transposed);
    let mut act_ops = heapless::Vec::new();
    for layer in spec.layers() {
        let len = if plan.act_operands > 0 { max_batch * layer.dense.inputs } else { 0 };
        // Cannot fail: `spec` holds at most L layers.
        let _ = act_ops.push(take(&mut operand, len));
    }
    let weight_ops = take(&mut operand, plan.weight_operands);
    let delta_ops = take(&mut operand, plan.delta_operands);
    Scratch { input, acts, loss_rows, delta, partials, transposed, act_ops, weight_ops, delta_ops }
}

impl<'a, N: Arithmetic, const L: usize> Trainer<'a, N, L> {
    /// Buffer sizes for `spec`, `optimizer` and batches of at most `max_batch` rows.
    pub fn sizes(spec: &MlpSpec<L>, optimizer: &Optimizer, max_batch: usize) -> BufferSizes {
        BufferSizes::new(spec, max_batch, optimizer.state_per_param::<N>(), N::COPIES_OPERANDS)
    }

    /// Takes the buffers, checks their sizes and zeroes gradients, optimizer state and scratch.
    /// Parameters are left as they are: call [`Trainer::init_params`] or load them.
    pub fn new(
        spec: MlpSpec<L>,
        optimizer: Optimizer,
        max_batch: usize,
        bufs: Buffers<'a, N>,
    ) -> Result<Self, SetupError> {
        if max_batch == 0 {
            return Err(SetupError::ZeroBatch);
        }
        let sizes = Self::sizes(&spec, &optimizer, max_batch);
        for (buffer, expected, found) in [
            ("parameter", sizes.params, bufs.params.len()),
            ("gradient", sizes.grads, bufs.grads.len()),
            ("optimizer state", sizes.opt_state, bufs.opt_state.len()),
            ("activation scratch", sizes.act_scratch, bufs.act_scratch.len()),
            ("parameter scratch", sizes.param_scratch, bufs.param_scratch.len()),
            ("operand scratch", sizes.operand_scratch, bufs.operand_scratch.len()),
            ("accumulator scratch", sizes.acc_scratch, bufs.acc_scratch.len()),
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
        bufs.grads.fill(Default::default());
        bufs.opt_state.fill(Default::default());
        bufs.act_scratch.fill(Default::default());
        bufs.param_scratch.fill(Default::default());
        bufs.operand_scratch.fill(Default::default());
        bufs.acc_scratch.fill(Default::default());
        let plan = ScratchPlan::new(&spec, max_batch, N::COPIES_OPERANDS);
        let adam_step = N::adam_start();
        Ok(Self { spec, offsets, optimizer, adam_step, max_batch, plan, steps: 0, saturations: 0, bufs })
    }

    /// Initialises every layer's weights from `rng` (layer 1 first, each in memory order) and
    /// sets biases to 0; resets optimizer state and the step count.
    ///
    /// Contract: NUMERICS.md §8.5.
    pub fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) {
        for (layer, &offset) in self.spec.layers().iter().zip(&self.offsets) {
            let d = layer.dense;
            let (w, b) = self.bufs.params[offset..offset + d.params_len()].split_at_mut(d.weights_len());
            init.fill::<N, R>(rng, w, d.inputs, d.outputs);
            b.fill(Default::default());
        }
        self.bufs.opt_state.fill(Default::default());
        self.adam_step = N::adam_start();
        self.steps = 0;
        self.saturations = 0;
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

    /// Values clamped to their format's range since the parameters were initialised
    /// (fixed point, NUMERICS.md §13.3; always 0 on the float path).
    pub fn saturations(&self) -> u64 {
        self.saturations
    }

    /// All parameters (layer 1 weights, layer 1 biases, layer 2 weights, …).
    pub fn params(&self) -> &[N::Param] {
        self.bufs.params
    }

    /// All parameters, for loading saved values.
    pub fn params_mut(&mut self) -> &mut [N::Param] {
        self.bufs.params
    }

    /// The optimizer's state ([`BufferSizes::opt_state`] elements: SGD's velocities, Adam's
    /// moments), for saving it.
    pub fn opt_state(&self) -> &[N::Param] {
        self.bufs.opt_state
    }

    /// The step count, saturation count and Adam powers, for saving them with
    /// [`Trainer::params`] and [`Trainer::opt_state`].
    pub fn state(&self) -> TrainerState<N::Scalar> {
        TrainerState { steps: self.steps, saturations: self.saturations, adam_step: self.adam_step }
    }

    /// Puts back saved parameters, optimizer state and [`TrainerState`]: the next step is the
    /// one the saved trainer would have taken (NUMERICS.md §9.1). Refuses, changing nothing,
    /// slices of the wrong length.
    pub fn restore(
        &mut self,
        params: &[N::Param],
        opt_state: &[N::Param],
        state: TrainerState<N::Scalar>,
    ) -> Result<(), SetupError> {
        for (buffer, expected, found) in [
            ("parameter", self.bufs.params.len(), params.len()),
            ("optimizer state", self.bufs.opt_state.len(), opt_state.len()),
        ] {
            if expected != found {
                return Err(SetupError::BufferSize { buffer, expected, found });
            }
        }
        self.bufs.params.copy_from_slice(params);
        self.bufs.opt_state.copy_from_slice(opt_state);
        self.steps = state.steps;
        self.saturations = state.saturations;
        self.adam_step = state.adam_step;
        Ok(())
    }

    /// Gradients of the last step, in the layout of [`Trainer::params`].
    pub fn grads(&self) -> &[N::Param] {
        self.bufs.grads
    }

    /// Weights and biases of layer `layer` (counting from 0).
    pub fn layer_params(&self, layer: usize) -> (&[N::Param], &[N::Param]) {
        let d = self.spec.layers()[layer].dense;
        self.bufs.params[self.offsets[layer]..][..d.params_len()].split_at(d.weights_len())
    }

    /// SHA-256 of all parameters (NUMERICS.md §11).
    pub fn digest(&self) -> Digest {
        digest_words(self.bufs.params.iter().map(|p| N::param_bits(*p)))
    }

    /// One step of mini-batch training on `batch`; returns the batch's mean loss.
    ///
    /// Contract: NUMERICS.md §9. Stops with [`NonFinite`] — leaving the parameters of the
    /// failed step in place for inspection — when the loss, a gradient or an updated
    /// parameter is NaN or infinite (§10; never on the fixed path, which saturates instead).
    ///
    /// # Panics
    /// If the batch is empty or larger than `max_batch`, or an index or label is out of range
    /// (the harness validates data before training).
    pub fn train_step<E: Executor>(&mut self, exec: &E, batch: &Batch<'_, N::Act>) -> Result<N::Act, NonFinite> {
        self.train_step_observed(exec, batch, &mut NoObserver)
    }

    /// [`Trainer::train_step`], calling `observer` after each layer operation (see
    /// [`StepObserver`] for the order). An observer that only reads leaves every bit as
    /// `train_step` computes it.
    ///
    /// # Panics
    /// As [`Trainer::train_step`].
    pub fn train_step_observed<E: Executor, O: StepObserver<N>>(
        &mut self,
        exec: &E,
        batch: &Batch<'_, N::Act>,
        observer: &mut O,
    ) -> Result<N::Act, NonFinite> {
        let rows = batch.indices.len();
        assert!(rows > 0 && rows <= self.max_batch, "batch of {rows} rows for buffers of {}", self.max_batch);
        let step = self.steps + 1;
        let nonfinite = |layer, tensor, index| NonFinite { step, layer, tensor, index };
        let saturated = AtomicU32::new(0);

        let inputs = self.spec.inputs();
        let scratch = (
            &mut *self.bufs.act_scratch,
            &mut *self.bufs.param_scratch,
            &mut *self.bufs.acc_scratch,
            &mut *self.bufs.operand_scratch,
        );
        let mut s = split_scratch::<N, L>(scratch, &self.spec, &self.plan, self.max_batch);
        // Gathered by the threads that will use the rows (the same split as the forward pass).
        exec.for_each_row_block(&mut s.input[..rows * inputs], inputs, row_work(exec, rows, inputs), &|first, dst| {
            for (dst, &i) in dst.chunks_exact_mut(inputs).zip(&batch.indices[first..]) {
                dst.copy_from_slice(&batch.features[i as usize * inputs..][..inputs]);
            }
        });
        let spec = &self.spec;
        let offsets = &self.offsets;
        let params: &[N::Param] = self.bufs.params;
        weight_operands::<N, E, L>(exec, spec, offsets, params, s.weight_ops, &saturated);
        forward(exec, spec, params, &mut s, rows, &saturated, &mut |layer, z| {
            observer.activations(step, layer, Op::Forward, z)
        });

        let loss = loss_and_output_gradient(exec, spec.classes(), batch, &mut s, rows, &saturated);
        if !N::act_is_finite(loss) {
            return Err(nonfinite(None, Tensor::Loss, 0));
        }

        // One grouping of the batch's chunks for both the partials and their combination.
        let group = chunk_group(exec, rows);
        backward(exec, spec, offsets, params, &mut s, rows, group, &saturated, &mut |layer, dz| {
            observer.params(step, layer, Op::Backward, dz)
        });
        combine_partials::<N, E, L>(
            exec,
            spec,
            offsets,
            s.partials,
            self.bufs.grads,
            chunk_count(rows),
            group,
            &saturated,
        );
        for (l, (layer, &offset)) in spec.layers().iter().zip(offsets).enumerate() {
            observer.params(step, l + 1, Op::Gradients, &mut self.bufs.grads[offset..][..layer.dense.params_len()]);
        }
        if let Some((layer, tensor, index)) = first_nonfinite::<N>(spec.layers(), self.bufs.grads, true) {
            return Err(nonfinite(Some(layer), tensor, index));
        }

        let grads: &[N::Param] = self.bufs.grads;
        let saturated_ref = &saturated;
        let unit = exec.vector_unit();
        // Work hints count memory-bound element updates as several operations (SGD stays on one
        // thread: split, each half of the weights it writes must be pulled back by the other
        // core's next forward pass, which costs more than the update), Adam's square root as
        // about a hundred.
        match self.optimizer {
            Optimizer::Sgd(sgd) => {
                exec.for_each_row_block2(self.bufs.params, 1, self.bufs.opt_state, 1, 16, &|first, w, v| {
                    let sat = Saturations::new();
                    let g = &grads[first..][..w.len()];
                    vectorised(unit, SgdWork::<N> { sgd: &sgd, w, g, v, sat: &sat });
                    sat.add_to(saturated_ref);
                })
            }
            Optimizer::Adam(adam) => {
                N::adam_advance(&mut self.adam_step, &adam);
                let at = self.adam_step;
                let per = N::ADAM_STATE_PER_PARAM;
                exec.for_each_row_block2(self.bufs.params, 1, self.bufs.opt_state, per, 128, &|first, w, st| {
                    let sat = Saturations::new();
                    let g = &grads[first..][..w.len()];
                    vectorised(unit, AdamWork::<N> { adam: &adam, at: &at, w, g, state: st, sat: &sat });
                    sat.add_to(saturated_ref);
                });
            }
        }
        for (l, (layer, &offset)) in self.spec.layers().iter().zip(&self.offsets).enumerate() {
            observer.params(step, l + 1, Op::Update, &mut self.bufs.params[offset..][..layer.dense.params_len()]);
        }
        self.steps = step;
        self.saturations += saturated.into_inner() as u64;
        if let Some((layer, tensor, index)) = first_nonfinite::<N>(self.spec.layers(), self.bufs.params, false) {
            return Err(nonfinite(Some(layer), tensor, index));
        }
        Ok(loss)
    }

    /// Number of rows of `features` whose prediction (first maximal logit) equals the label.
    ///
    /// Contract: NUMERICS.md §6.3 (prediction). Rows are evaluated in blocks of `max_batch`;
    /// a row's logits do not depend on the other rows, so the block size changes nothing.
    pub fn count_correct<E: Executor>(&mut self, exec: &E, features: &[N::Act], labels: &[u32]) -> usize {
        let inputs = self.spec.inputs();
        let classes = self.spec.classes();
        let max_batch = self.max_batch;
        let saturated = AtomicU32::new(0);
        let mut correct = 0;
        let params: &[N::Param] = self.bufs.params;
        let scratch = (
            &mut *self.bufs.act_scratch,
            &mut *self.bufs.param_scratch,
            &mut *self.bufs.acc_scratch,
            &mut *self.bufs.operand_scratch,
        );
        let mut s = split_scratch::<N, L>(scratch, &self.spec, &self.plan, max_batch);
        weight_operands::<N, E, L>(exec, &self.spec, &self.offsets, params, s.weight_ops, &saturated);
        for (x, y) in features.chunks(max_batch * inputs).zip(labels.chunks(max_batch)) {
            let rows = y.len();
            s.input[..x.len()].copy_from_slice(x);
            forward(exec, &self.spec, params, &mut s, rows, &saturated, &mut |_, _| {});
            let logits = &s.acts[s.acts.len() - 1][..rows * classes];
            correct += logits.chunks_exact(classes).zip(y).filter(|(z, y)| argmax(z) == **y as usize).count();
        }
        correct
    }
}

/// One block of the SGD update, compiled for the executor's vector unit.
struct SgdWork<'w, N: Arithmetic> {
    sgd: &'w Sgd,
    w: &'w mut [N::Param],
    g: &'w [N::Param],
    v: &'w mut [N::Param],
    sat: &'w Saturations,
}

impl<N: Arithmetic> Work for SgdWork<'_, N> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.sgd.update::<N>(self.w, self.g, self.v, self.sat);
    }
}

/// One block of the Adam update, compiled for the executor's vector unit.
struct AdamWork<'w, N: Arithmetic> {
    adam: &'w Adam,
    at: &'w AdamStep<N::Scalar>,
    w: &'w mut [N::Param],
    g: &'w [N::Param],
    state: &'w mut [N::Param],
    sat: &'w Saturations,
}

impl<N: Arithmetic> Work for AdamWork<'_, N> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        N::adam_update(self.adam, self.at, self.w, self.g, self.state, self.sat);
    }
}

/// One block of an operand conversion, compiled for the executor's vector unit.
struct ConvertWork<'w, S, O, F> {
    convert: &'w F,
    src: &'w [S],
    dst: &'w mut [O],
    sat: &'w Saturations,
}

impl<S, O, F: Fn(&[S], &mut [O], &Saturations)> Work for ConvertWork<'_, S, O, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        (self.convert)(self.src, self.dst, self.sat);
    }
}

/// Narrowed trees of one range of gradients, compiled for the executor's vector unit.
struct CombineWork<'w, N: Arithmetic> {
    out: &'w mut [N::Param],
    partials: &'w [N::Acc],
    stride: usize,
    first: usize,
    n: usize,
    is_bias: bool,
    sat: &'w Saturations,
}

impl<N: Arithmetic> Work for CombineWork<'_, N> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Self { out, partials, stride, first, n, is_bias, sat } = self;
        // A counter of this call's own, which the compiler keeps in a register (the shared one
        // is memory: updating it per element would serialise the loop), added once at the end.
        let local = Saturations::new();
        if is_bias {
            tree_sum_with(out, partials, stride, first, n, N::acc_add, |acc| N::bias_grad(acc, &local));
        } else {
            tree_sum_with(out, partials, stride, first, n, N::acc_add, |acc| N::weight_grad(acc, &local));
        }
        sat.add(local.get());
    }
}

/// One block of rows of a layer's forward pass and activation, compiled for the executor's
/// vector unit (the products pick their own code; this vectorises the bias and activation).
struct ForwardWork<'w, N: Arithmetic> {
    unit: VectorUnit,
    d: Dense,
    activation: Option<Activation>,
    x: &'w [N::Operand],
    w: &'w [N::Operand],
    b: &'w [N::Param],
    z: &'w mut [N::Act],
    sat: &'w Saturations,
}

impl<N: Arithmetic> Work for ForwardWork<'_, N> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        // A counter of this block's own, kept in a register (see `CombineWork`).
        let local = Saturations::new();
        self.d.forward::<N>(self.unit, self.x, self.w, self.b, self.z, &local);
        if let Some(activation) = self.activation {
            activation.forward::<N>(self.z);
        }
        self.sat.add(local.get());
    }
}

/// One block of rows of a layer's input gradient through the previous activation, compiled for
/// the executor's vector unit.
struct InputGradWork<'w, N: Arithmetic> {
    unit: VectorUnit,
    d: Dense,
    activation: Activation,
    dz: &'w [N::Operand],
    wt: &'w [N::Operand],
    /// The previous layer's output (the activation's value).
    a: &'w [N::Act],
    dx: &'w mut [N::Param],
    sat: &'w Saturations,
}

impl<N: Arithmetic> Work for InputGradWork<'_, N> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let local = Saturations::new();
        self.d.backward_input::<N>(self.unit, self.dz, self.wt, self.dx, &local);
        self.activation.backward::<N>(self.a, self.dx, &local);
        self.sat.add(local.get());
    }
}

/// One block of groups of the parameter-gradient partial sums (see `backward`), compiled for
/// the executor's vector unit.
struct ParamGradWork<'w, N: Arithmetic> {
    unit: VectorUnit,
    d: Dense,
    rows: usize,
    /// Where the layer's parameters start in a chunk's partials.
    offset: usize,
    /// Values per chunk (all parameters).
    stride: usize,
    group: usize,
    x: &'w [N::Operand],
    dz_ops: &'w [N::Operand],
    dz: &'w [N::Param],
    block: &'w mut [N::Acc],
    first_group: usize,
}

impl<N: Arithmetic> Work for ParamGradWork<'_, N> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Self { unit, d, rows, offset, stride, group, x, dz_ops, dz, block, first_group } = self;
        for (g, group_partials) in block.chunks_exact_mut(group * stride).enumerate() {
            let first_chunk = (first_group + g) * group;
            if N::EXACT_SUMS {
                // Exact sums: the group's tree is its rows' sum in any order (§13.2).
                let (r0, r1) = (first_chunk * BATCH_CHUNK, rows.min((first_chunk + group) * BATCH_CHUNK));
                let (dw, db) = group_partials[offset..][..d.params_len()].split_at_mut(d.weights_len());
                let (x_c, dz_c) = (r0 * d.inputs..r1 * d.inputs, r0 * d.outputs..r1 * d.outputs);
                d.backward_params::<N>(unit, &x[x_c], &dz_ops[dz_c.clone()], &dz[dz_c], dw, db);
                continue;
            }
            for (i, chunk) in group_partials.chunks_exact_mut(stride).enumerate() {
                let r0 = (first_chunk + i) * BATCH_CHUNK;
                let r1 = rows.min(r0 + BATCH_CHUNK);
                let (dw, db) = chunk[offset..][..d.params_len()].split_at_mut(d.weights_len());
                let (x_c, dz_c) = (r0 * d.inputs..r1 * d.inputs, r0 * d.outputs..r1 * d.outputs);
                d.backward_params::<N>(unit, &x[x_c], &dz_ops[dz_c.clone()], &dz[dz_c], dw, db);
            }
            tree_sum_in_place(&mut group_partials[offset..], stride, d.params_len(), group, N::acc_add);
        }
    }
}

fn layer_params<'p, P>(params: &'p [P], offset: usize, layer: &LayerSpec) -> (&'p [P], &'p [P]) {
    params[offset..][..layer.dense.params_len()].split_at(layer.dense.weights_len())
}

/// `convert(src, dst)` for product operands (NUMERICS.md §13.2), elements split by the
/// executor, saturations counted.
fn to_operands<S: Copy + Sync, N: Arithmetic, E: Executor>(
    exec: &E,
    src: &[S],
    dst: &mut [N::Operand],
    convert: impl Fn(&[S], &mut [N::Operand], &Saturations) + Sync,
    saturated: &AtomicU32,
) {
    let unit = exec.vector_unit();
    exec.for_each_row_block(dst, 1, 4, &|first, block| {
        let sat = Saturations::new();
        vectorised(unit, ConvertWork { convert: &convert, src: &src[first..][..block.len()], dst: block, sat: &sat });
        sat.add_to(saturated);
    });
}

/// Every layer's weights as product operands, where operands are copies (§13.2).
fn weight_operands<N: Arithmetic, E: Executor, const L: usize>(
    exec: &E,
    spec: &MlpSpec<L>,
    offsets: &[usize],
    params: &[N::Param],
    weight_ops: &mut [N::Operand],
    saturated: &AtomicU32,
) {
    if N::COPIES_OPERANDS {
        for (layer, &offset) in spec.layers().iter().zip(offsets) {
            let (w, _) = layer_params(params, offset, layer);
            let dst = &mut weight_ops[offset..][..w.len()];
            to_operands::<_, N, E>(exec, w, dst, N::weight_operands_into, saturated);
        }
    }
}

/// The operands of a layer's weights: the parameters themselves, or their copies.
fn layer_weight_ops<'p, N: Arithmetic>(
    params: &'p [N::Param],
    weight_ops: &'p [N::Operand],
    offset: usize,
    layer: &LayerSpec,
) -> &'p [N::Operand] {
    let (w, _) = layer_params(params, offset, layer);
    N::param_operands(w).unwrap_or_else(|| &weight_ops[offset..][..w.len()])
}

/// Forward pass of every layer over the gathered input, rows split by the executor.
///
/// Where operands are copies (§13.2), each layer's input is converted first, into the
/// operand region it keeps until the backward pass.
fn forward<N: Arithmetic, E: Executor, const L: usize>(
    exec: &E,
    spec: &MlpSpec<L>,
    params: &[N::Param],
    s: &mut Scratch<'_, N, L>,
    rows: usize,
    saturated: &AtomicU32,
    observe: &mut dyn FnMut(usize, &mut [N::Act]),
) {
    let unit = exec.vector_unit();
    let mut offset = 0;
    for (l, layer) in spec.layers().iter().enumerate() {
        let d = layer.dense;
        let (_, b) = layer_params(params, offset, layer);
        let w = layer_weight_ops::<N>(params, s.weight_ops, offset, layer);
        offset += d.params_len();
        let (before, after) = s.acts.split_at_mut(l);
        let x: &[N::Act] = if l == 0 { &s.input[..rows * d.inputs] } else { &before[l - 1][..rows * d.inputs] };
        let x_ops: &[N::Operand] = match N::act_operands(x) {
            Some(values) => values,
            None => {
                let dst = &mut s.act_ops[l][..rows * d.inputs];
                to_operands::<_, N, E>(exec, x, dst, N::act_operands_into, saturated);
                dst
            }
        };
        let work = row_work(exec, rows, 2 * d.weights_len());
        exec.for_each_row_block(&mut after[0][..rows * d.outputs], d.outputs, work, &|first, z| {
            let sat = Saturations::new();
            let x = &x_ops[first * d.inputs..][..z.len() / d.outputs * d.inputs];
            vectorised(unit, ForwardWork::<N> { unit, d, activation: layer.activation, x, w, b, z, sat: &sat });
            sat.add_to(saturated);
        });
        observe(l + 1, &mut after[0][..rows * d.outputs]);
    }
}

/// Writes the output layer's `dL/dz` into the first delta buffer and returns the mean loss
/// (§6.3, §5.2; §13.5 in fixed point).
fn loss_and_output_gradient<N: Arithmetic, E: Executor, const L: usize>(
    exec: &E,
    classes: usize,
    batch: &Batch<'_, N::Act>,
    s: &mut Scratch<'_, N, L>,
    rows: usize,
    saturated: &AtomicU32,
) -> N::Act {
    let logits: &[N::Act] = &s.acts[s.acts.len() - 1][..rows * classes];
    let dz = &mut s.delta[0][..rows * classes];
    let losses = &mut s.loss_rows[..rows];
    // An exponential, a logarithm and divisions per class: a few hundred cycles, counted as the
    // operations a product would do in that time.
    exec.for_each_row_block2(dz, classes, losses, 1, row_work(exec, rows, 600 * classes), &|first, dz, loss| {
        let sat = Saturations::new();
        for (i, (dz_row, loss_row)) in dz.chunks_exact_mut(classes).zip(loss.iter_mut()).enumerate() {
            let label = batch.labels[batch.indices[first + i] as usize] as usize;
            let z_row = &logits[(first + i) * classes..][..classes];
            *loss_row = N::softmax_cross_entropy_row(z_row, label, rows, dz_row, &sat);
        }
        sat.add_to(saturated);
    });
    // Chunk sums, rows ascending from 0, then the tree (§5.2); the mean is one division.
    let partials = &mut s.partials[..chunk_count(rows)];
    for (p, chunk) in partials.iter_mut().zip(s.loss_rows[..rows].chunks(BATCH_CHUNK)) {
        *p = chunk.iter().fold(N::acc_zero(), |acc, v| N::acc_act(acc, *v));
    }
    let mut total = [N::acc_zero()];
    tree_sum_with(&mut total, partials, 1, 0, partials.len(), N::acc_add, |acc| acc);
    N::loss_mean(total[0], rows)
}

/// Backward pass: per layer, chunk partials of the parameter gradients (in groups of `group`
/// chunks, [`chunk_group`]), then the gradient of the layer's input through the previous
/// activation (§6.1, §6.2, §5.2). Where operands are copies (§13.2), each layer's deltas are
/// converted first.
#[allow(clippy::too_many_arguments)]
fn backward<N: Arithmetic, E: Executor, const L: usize>(
    exec: &E,
    spec: &MlpSpec<L>,
    offsets: &[usize],
    params: &[N::Param],
    s: &mut Scratch<'_, N, L>,
    rows: usize,
    group: usize,
    saturated: &AtomicU32,
    observe: &mut dyn FnMut(usize, &mut [N::Param]),
) {
    let unit = exec.vector_unit();
    let layers = spec.layers();
    let stride = spec.params_len();
    let partials = &mut s.partials[..chunk_count(rows) * stride];
    let [delta_a, delta_b] = &mut s.delta;
    // `dz` of the layer being processed; the output layer's is in the first delta buffer.
    let (mut dz_buf, mut next_buf): (&mut [N::Param], &mut [N::Param]) = (delta_a, delta_b);
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        let d = layer.dense;
        observe(l + 1, &mut dz_buf[..rows * d.outputs]);
        let dz: &[N::Param] = &dz_buf[..rows * d.outputs];
        let dz_ops: &[N::Operand] = match N::param_operands(dz) {
            Some(values) => values,
            None => {
                let dst = &mut s.delta_ops[..rows * d.outputs];
                to_operands::<_, N, E>(exec, dz, dst, N::delta_operands_into, saturated);
                dst
            }
        };
        let x: &[N::Act] = if l == 0 { &s.input[..rows * d.inputs] } else { &s.acts[l - 1][..rows * d.inputs] };
        let act_ops: &[N::Operand] = s.act_ops[l];
        let x_ops: &[N::Operand] = N::act_operands(x).unwrap_or_else(|| &act_ops[..rows * d.inputs]);
        let offset = offsets[l];
        // Chunk partials in groups of `group` chunks, each group reduced where it was computed
        // (a subtree of the batch tree, §5.2); combine_partials adds the groups' results.
        let work = row_work(exec, rows, 2 * BATCH_CHUNK * d.params_len() * group);
        exec.for_each_row_block(partials, group * stride, work, &|first_group, block| {
            let work =
                ParamGradWork::<N> { unit, d, rows, offset, stride, group, x: x_ops, dz_ops, dz, block, first_group };
            vectorised(unit, work);
        });
        if l == 0 {
            break;
        }
        let w_ops = layer_weight_ops::<N>(params, s.weight_ops, offset, layer);
        let wt_all = &mut s.transposed[..d.weights_len()];
        exec.for_each_row_block(wt_all, d.inputs, row_work(exec, rows, d.inputs), &|first, wt_rows| {
            d.transpose_rows(w_ops, first, wt_rows);
        });
        let wt: &[N::Operand] = s.transposed;
        // Hidden layers always have an activation (MlpSpec::new).
        let activation = layers[l - 1].activation.expect("hidden layer without activation");
        let work = row_work(exec, rows, 2 * d.weights_len());
        exec.for_each_row_block(&mut next_buf[..rows * d.inputs], d.inputs, work, &|first, dx| {
            let sat = Saturations::new();
            let n = dx.len() / d.inputs;
            let (dz, a) = (&dz_ops[first * d.outputs..][..n * d.outputs], &x[first * d.inputs..][..n * d.inputs]);
            vectorised(unit, InputGradWork::<N> { unit, d, activation, dz, wt, a, dx, sat: &sat });
            sat.add_to(saturated);
        });
        core::mem::swap(&mut dz_buf, &mut next_buf);
    }
}

/// `grads ← narrow(tree of the chunk partials)`, weights and biases each with their own
/// narrowing (§5.2; §13.3).
#[allow(clippy::too_many_arguments)]
fn combine_partials<N: Arithmetic, E: Executor, const L: usize>(
    exec: &E,
    spec: &MlpSpec<L>,
    offsets: &[usize],
    partials: &[N::Acc],
    grads: &mut [N::Param],
    nchunks: usize,
    group: usize,
    saturated: &AtomicU32,
) {
    // Each group's result is in its first chunk's slot (backward); the tree over the groups is
    // the batch tree's upper levels.
    let (stride, nchunks) = (spec.params_len() * group, nchunks / group);
    let unit = exec.vector_unit();
    // Work hints count memory-bound element updates as several operations.
    exec.for_each_row_block(grads, 1, 4 * nchunks, &|first, block| {
        let sat = Saturations::new();
        let end = first + block.len();
        for (layer, &offset) in spec.layers().iter().zip(offsets) {
            let bias_start = offset + layer.dense.weights_len();
            let bias_end = offset + layer.dense.params_len();
            for (range, is_bias) in [(offset..bias_start, false), (bias_start..bias_end, true)] {
                let (lo, hi) = (range.start.max(first), range.end.min(end));
                if lo >= hi {
                    continue;
                }
                let out = &mut block[lo - first..hi - first];
                let work = CombineWork::<N> { out, partials, stride, first: lo, n: nchunks, is_bias, sat: &sat };
                vectorised(unit, work);
            }
        }
        sat.add_to(saturated);
    });
}

/// Whether the batch's row-wise sections are all split across the executor's threads: once the
/// batch has at least two chunks per thread. Then each thread goes on with the rows whose
/// activations and deltas it computed (in its own cache). Smaller batches stay mostly on one
/// thread: moving their few rows between cores costs more than it saves.
fn spread<E: Executor>(exec: &E, rows: usize) -> bool {
    let threads = exec.parallelism();
    threads > 1 && chunk_count(rows) >= 2 * threads
}

/// The work hint of a section over the batch's rows whose own cost is `natural` per row: marked
/// worth splitting whenever the batch is [`spread`], so that the executor cuts all of them alike.
fn row_work<E: Executor>(exec: &E, rows: usize, natural: usize) -> usize {
    if spread(exec, rows) {
        natural.max(WORTH_SPLITTING)
    } else {
        natural
    }
}

/// Chunks per group of the backward pass: the largest power of two that divides the batch's
/// chunk count and leaves at least one group per thread when the batch is [`spread`] (one group
/// otherwise, where possible). Aligned power-of-two groups are nodes of the batch tree (§5.2),
/// so reducing each group first and then the groups gives the tree's result exactly.
fn chunk_group<E: Executor>(exec: &E, rows: usize) -> usize {
    let nchunks = chunk_count(rows);
    let threads = if spread(exec, rows) { exec.parallelism() } else { 1 };
    let mut group = 1;
    while nchunks.is_multiple_of(2 * group) && 2 * group * threads <= nchunks {
        group *= 2;
    }
    group
}

/// First NaN or infinity in `values` (parameters or gradients), as (layer from 1, tensor, index).
fn first_nonfinite<N: Arithmetic>(
    layers: &[LayerSpec],
    values: &[N::Param],
    gradients: bool,
) -> Option<(usize, Tensor, usize)> {
    if N::all_finite(values) {
        return None;
    }
    let (weights, biases) =
        if gradients { (Tensor::WeightGradients, Tensor::BiasGradients) } else { (Tensor::Weights, Tensor::Biases) };
    let mut offset = 0;
    for (l, layer) in layers.iter().enumerate() {
        let (w, b) = values[offset..][..layer.dense.params_len()].split_at(layer.dense.weights_len());
        if let Some(i) = w.iter().position(|v| !N::param_is_finite(*v)) {
            return Some((l + 1, weights, i));
        }
        if let Some(i) = b.iter().position(|v| !N::param_is_finite(*v)) {
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
    use std::vec::Vec;

    /// Owned f32 buffers of the sizes a trainer asks for.
    struct Owned {
        params: Vec<f32>,
        grads: Vec<f32>,
        state: Vec<f32>,
        act: Vec<f32>,
        param: Vec<f32>,
        acc: Vec<f32>,
        operand: Vec<f32>,
    }

    impl Owned {
        fn new(s: &BufferSizes) -> Self {
            Self {
                params: vec![0.0; s.params],
                grads: vec![0.0; s.grads],
                state: vec![0.0; s.opt_state],
                act: vec![0.0; s.act_scratch],
                param: vec![0.0; s.param_scratch],
                acc: vec![0.0; s.acc_scratch],
                operand: vec![0.0; s.operand_scratch],
            }
        }

        fn buffers(&mut self) -> Buffers<'_, Float> {
            Buffers {
                params: &mut self.params,
                grads: &mut self.grads,
                opt_state: &mut self.state,
                act_scratch: &mut self.act,
                param_scratch: &mut self.param,
                acc_scratch: &mut self.acc,
                operand_scratch: &mut self.operand,
            }
        }
    }

    /// One step of a 2-4-2 tanh model with `sgd` on `x`, after `tweak` edits the parameters.
    fn one_step(sgd: Sgd, x: [f32; 4], tweak: fn(&mut [f32])) -> (Result<f32, NonFinite>, std::vec::Vec<f32>) {
        let spec: MlpSpec<4> = MlpSpec::new(2, &[4], 2, Activation::Tanh).unwrap();
        let optimizer = Optimizer::Sgd(sgd);
        let sizes = Trainer::<Float, 4>::sizes(&spec, &optimizer, 2);
        let mut owned = Owned::new(&sizes);
        let mut trainer = Trainer::<Float, 4>::new(spec, optimizer, 2, owned.buffers()).unwrap();
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

    /// Records `(step, layer, op, len)` of every observed tensor.
    struct Log(Vec<(u64, usize, Op, usize)>);

    impl StepObserver<Float> for Log {
        fn activations(&mut self, step: u64, layer: usize, op: Op, values: &mut [f32]) {
            self.0.push((step, layer, op, values.len()));
        }
        fn params(&mut self, step: u64, layer: usize, op: Op, values: &mut [f32]) {
            self.0.push((step, layer, op, values.len()));
        }
    }

    #[test]
    fn the_observer_sees_every_operation_in_order_and_changes_nothing() {
        let spec: MlpSpec<4> = MlpSpec::new(2, &[4], 2, Activation::Tanh).unwrap();
        let optimizer = Optimizer::Sgd(SGD);
        let sizes = Trainer::<Float, 4>::sizes(&spec, &optimizer, 2);
        let batch = Batch { features: &X, labels: &[0, 1], indices: &[0, 1] };
        let mut digests = Vec::new();
        let mut log = Log(Vec::new());
        for observed in [false, true] {
            let mut owned = Owned::new(&sizes);
            let mut trainer = Trainer::<Float, 4>::new(spec.clone(), optimizer, 2, owned.buffers()).unwrap();
            trainer.init_params(Init::GlorotUniform, &mut Xoshiro128PlusPlus::seed_from_u64(1));
            for _ in 0..2 {
                if observed {
                    trainer.train_step_observed(&Sequential, &batch, &mut log).unwrap();
                } else {
                    trainer.train_step(&Sequential, &batch).unwrap();
                }
            }
            digests.push(trainer.digest());
        }
        assert_eq!(digests[0], digests[1]);
        // Two rows; layer 1 is 2→4 (12 parameters), layer 2 is 4→2 (10 parameters).
        let step = |s| {
            [
                (s, 1, Op::Forward, 8),
                (s, 2, Op::Forward, 4),
                (s, 2, Op::Backward, 4),
                (s, 1, Op::Backward, 8),
                (s, 1, Op::Gradients, 12),
                (s, 2, Op::Gradients, 10),
                (s, 1, Op::Update, 12),
                (s, 2, Op::Update, 10),
            ]
        };
        assert_eq!(log.0, [step(1), step(2)].concat());
    }

    #[test]
    fn wrong_buffer_sizes_are_refused() {
        let spec: MlpSpec<4> = MlpSpec::new(2, &[4], 2, Activation::Relu).unwrap();
        let optimizer = Optimizer::Sgd(Sgd { lr: 0.1, momentum: 0.0, weight_decay: 0.0 });
        let sizes = Trainer::<Float, 4>::sizes(&spec, &optimizer, 2);
        let mut owned = Owned::new(&sizes);
        owned.act.pop();
        let err = Trainer::<Float, 4>::new(spec, optimizer, 2, owned.buffers()).err().unwrap();
        let expected = sizes.act_scratch;
        assert_eq!(err, SetupError::BufferSize { buffer: "activation scratch", expected, found: expected - 1 });
    }
}
