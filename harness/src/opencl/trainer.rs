//! The kernel's training step on an OpenCL device, bit for bit the CPU's.
//!
//! [`OpenClTrainer`] mirrors `samebits::model::Trainer::train_step` (NUMERICS.md §9): it
//! enqueues the kernels of `gpu-kernels/cl/train_f32.cl` or `train_fixed.cl` — one launch per
//! layer operation — in the order of the Rust step, and reads back one small status buffer per
//! step (the loss, the first non-finite gradient or parameter, the saturations). Both paths use
//! the same host code: the kernels of the two programs have the same names and argument lists,
//! and [`DevicePath`] supplies what differs (element types, hyper-parameter arguments).
//!
//! Parameters are initialised on the host with the kernel's own `Init` code (NUMERICS.md §8.5)
//! and uploaded; Adam's bias-correction powers are advanced on the host with
//! `Arithmetic::adam_advance` and passed to the update kernel.

pub use super::common::{locate_param, StepError};
use super::runtime::{Arg, Built, DeviceBuffer, Element, Gpu, OpenClError};
use opencl3::kernel::Kernel;
use rand_core::RngCore;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::digest::{digest_words, Digest};
use samebits::layers::Activation;
use samebits::linalg::chunk_count;
use samebits::model::{Init, MlpSpec, NonFinite, Tensor, TrainerState};
use samebits::optim::{Adam, AdamStep, Optimizer, Sgd};

/// Status word: the batch's mean loss, as the bits of the path's loss value.
pub const STATUS_LOSS: usize = 0;
/// Status word: 1 when the loss is NaN or infinite.
pub const STATUS_LOSS_BAD: usize = 1;
/// Status word: index of the first non-finite gradient (`u32::MAX`: none).
pub const STATUS_GRAD_FIRST: usize = 2;
/// Status word: index of the first non-finite updated parameter (`u32::MAX`: none).
pub const STATUS_PARAM_FIRST: usize = 3;
/// Status word: values clamped during the step (fixed point).
pub const STATUS_SAT: usize = 4;
/// Words of the status buffer.
const STATUS_LEN: usize = 5;
/// The status at the start of a step.
const STATUS_START: [u32; STATUS_LEN] = [0, 0, u32::MAX, u32::MAX, 0];

/// Operand kinds of the fixed path's `sb_operands` kernel.
const OPERAND_ACT: u32 = 0;
const OPERAND_WEIGHT: u32 = 1;
const OPERAND_DELTA: u32 = 2;

/// What the device program of an arithmetic path needs from the host.
pub trait DevicePath: Arithmetic {
    /// A stored activation or parameter on the device (`float`, or the raw `int` of Q16/Q24).
    type Word: Element;
    /// An accumulator on the device (`float`, or `long`).
    type AccWord: Element;
    /// The program's sources (`samebits_gpu_kernels::FLOAT_PROGRAM` or `FIXED_PROGRAM`).
    const PROGRAM: [&'static str; 2];
    /// Whether values can be non-finite, so that the step checks them (NUMERICS.md §10).
    const CHECKS_FINITE: bool;
    /// A parameter as a device word.
    fn param_word(p: Self::Param) -> Self::Word;
    /// A device word as a parameter.
    fn word_param(w: Self::Word) -> Self::Param;
    /// An activation (an input value) as a device word.
    fn act_word(a: Self::Act) -> Self::Word;
    /// The loss from its status word.
    fn loss_from_bits(bits: u32) -> Self::Act;
    /// `lr, momentum, weight_decay` of the `sb_sgd` kernel.
    fn sgd_args(sgd: &Sgd) -> [Arg<'static>; 3];
    /// `lr, beta1, beta2, eps, weight_decay, beta1_power, beta2_power` of the `sb_adam` kernel.
    fn adam_args(adam: &Adam, step: &AdamStep<Self::Scalar>) -> [Arg<'static>; 7];
}

impl DevicePath for Float {
    type Word = f32;
    type AccWord = f32;
    const PROGRAM: [&'static str; 2] = samebits_gpu_kernels::FLOAT_PROGRAM;
    const CHECKS_FINITE: bool = true;
    fn param_word(p: f32) -> f32 {
        p
    }
    fn word_param(w: f32) -> f32 {
        w
    }
    fn act_word(a: f32) -> f32 {
        a
    }
    fn loss_from_bits(bits: u32) -> f32 {
        f32::from_bits(bits)
    }
    fn sgd_args(sgd: &Sgd) -> [Arg<'static>; 3] {
        [sgd.lr.into(), sgd.momentum.into(), sgd.weight_decay.into()]
    }
    fn adam_args(adam: &Adam, step: &AdamStep<f32>) -> [Arg<'static>; 7] {
        [
            adam.lr.into(),
            adam.beta1.into(),
            adam.beta2.into(),
            adam.eps.into(),
            adam.weight_decay.into(),
            step.beta1_power.into(),
            step.beta2_power.into(),
        ]
    }
}

impl DevicePath for Fixed {
    type Word = i32;
    type AccWord = i64;
    const PROGRAM: [&'static str; 2] = samebits_gpu_kernels::FIXED_PROGRAM;
    const CHECKS_FINITE: bool = false;
    fn param_word(p: samebits::fixed::Param) -> i32 {
        p.to_bits()
    }
    fn word_param(w: i32) -> samebits::fixed::Param {
        samebits::fixed::Param::from_bits(w)
    }
    fn act_word(a: samebits::fixed::Act) -> i32 {
        a.to_bits()
    }
    fn loss_from_bits(bits: u32) -> samebits::fixed::Act {
        samebits::fixed::Act::from_bits(bits as i32)
    }
    /// The Q30 bits of `Fixed::scalar` of each (NUMERICS.md §13.6).
    fn sgd_args(sgd: &Sgd) -> [Arg<'static>; 3] {
        [sgd.lr, sgd.momentum, sgd.weight_decay].map(|x| Fixed::scalar(x).to_bits().into())
    }
    /// As `Fixed::adam_update` converts them: Q30 scalars, ε in Q24 (saturating).
    fn adam_args(adam: &Adam, step: &AdamStep<samebits::fixed::Scalar>) -> [Arg<'static>; 7] {
        let q30 = |x: f32| Arg::from(Fixed::scalar(x).to_bits());
        [
            q30(adam.lr),
            q30(adam.beta1),
            q30(adam.beta2),
            samebits::fixed::Param::saturating_from_num(adam.eps).to_bits().into(),
            q30(adam.weight_decay),
            step.beta1_power.to_bits().into(),
            step.beta2_power.to_bits().into(),
        ]
    }
}

/// The kernels of one program.
struct Kernels {
    gather: Kernel,
    operands: Option<Kernel>,
    forward: Kernel,
    softmax: Kernel,
    loss: Kernel,
    backward_params: Kernel,
    backward_input: Kernel,
    combine: Kernel,
    nonfinite: Kernel,
    sgd: Kernel,
    adam: Kernel,
}

/// The device's code for an activation (`SB_ACT_*` of the `.cl` files).
fn activation_code(a: Option<Activation>) -> u32 {
    match a {
        None => 0,
        Some(Activation::Relu) => 1,
        Some(Activation::Tanh) => 2,
        Some(Activation::Sigmoid) => 3,
    }
}

/// `x` as a kernel's `uint`, or an error naming `what` when it does not fit.
fn u32_of(x: usize, what: &str) -> Result<u32, OpenClError> {
    u32::try_from(x)
        .ok()
        .filter(|v| *v < u32::MAX)
        .ok_or_else(|| OpenClError::TooLarge { what: format!("{what} ({x})") })
}

/// Trains an MLP on an OpenCL device with the bits of the CPU's `Trainer` on path `N`.
pub struct OpenClTrainer<'g, N: DevicePath> {
    gpu: &'g Gpu,
    _built: Built,
    kernels: Kernels,
    spec: MlpSpec,
    optimizer: Optimizer,
    max_batch: usize,
    /// First parameter of each layer.
    offsets: Vec<usize>,
    /// Region of `acts` holding layer l's input (l = 0: the gathered batch); the last entry
    /// holds the logits.
    act_offsets: Vec<usize>,
    /// Region of `act_ops` holding layer l's input operands (fixed point).
    op_offsets: Vec<usize>,
    features: DeviceBuffer<N::Word>,
    labels: DeviceBuffer<u32>,
    data_rows: usize,
    indices: DeviceBuffer<u32>,
    acts: DeviceBuffer<N::Word>,
    act_ops: DeviceBuffer<i16>,
    weight_ops: DeviceBuffer<i16>,
    delta: [DeviceBuffer<N::Word>; 2],
    delta_ops: DeviceBuffer<i16>,
    loss_rows: DeviceBuffer<N::Word>,
    partials: DeviceBuffer<N::AccWord>,
    params: DeviceBuffer<N::Word>,
    grads: DeviceBuffer<N::Word>,
    state: DeviceBuffer<N::Word>,
    status: DeviceBuffer<u32>,
    adam_step: AdamStep<N::Scalar>,
    steps: u64,
    saturations: u64,
}

impl<'g, N: DevicePath> OpenClTrainer<'g, N> {
    /// Builds the path's program on `gpu` and allocates every buffer for `spec`, `optimizer`
    /// and batches of at most `max_batch` rows (as `Trainer::new`). Parameters are zero: call
    /// [`OpenClTrainer::init_params`] or [`OpenClTrainer::set_params`].
    pub fn new(gpu: &'g Gpu, spec: MlpSpec, optimizer: Optimizer, max_batch: usize) -> Result<Self, OpenClError> {
        assert!(max_batch > 0, "batch size 0");
        let params_len = spec.params_len();
        let widest = spec.layers().iter().map(|l| l.dense.outputs.max(l.dense.inputs)).max().unwrap_or(1);
        let state_len = params_len.checked_mul(optimizer.state_per_param::<N>());
        let partials_len = chunk_count(max_batch).checked_mul(params_len);
        let mut offsets = Vec::new();
        let mut act_offsets = vec![0];
        let mut op_offsets = Vec::new();
        let (mut offset, mut act, mut ops) = (0usize, 0usize, 0usize);
        for layer in spec.layers() {
            let d = layer.dense;
            offsets.push(offset);
            offset += d.params_len();
            op_offsets.push(ops);
            ops = ops.saturating_add(max_batch.saturating_mul(d.inputs));
            act = act.saturating_add(max_batch.saturating_mul(d.inputs));
            act_offsets.push(act);
        }
        let acts_len = act.saturating_add(max_batch.saturating_mul(spec.classes()));
        // Every index the kernels form is a `uint`.
        for (what, len) in [
            ("parameters", Some(params_len)),
            ("optimizer state", state_len),
            ("gradient partial sums", partials_len),
            ("activations", Some(acts_len)),
            ("deltas", max_batch.checked_mul(widest)),
        ] {
            u32_of(len.unwrap_or(usize::MAX), what)?;
        }
        let built = gpu.build(&N::PROGRAM)?;
        let k = |name: &str| built.kernel(name);
        let kernels = Kernels {
            gather: k("sb_gather")?,
            operands: if N::COPIES_OPERANDS { Some(k("sb_operands")?) } else { None },
            forward: k("sb_dense_forward")?,
            softmax: k("sb_softmax_ce")?,
            loss: k("sb_loss_mean")?,
            backward_params: k("sb_dense_backward_params")?,
            backward_input: k("sb_dense_backward_input")?,
            combine: k("sb_combine")?,
            nonfinite: k("sb_first_nonfinite")?,
            sgd: k("sb_sgd")?,
            adam: k("sb_adam")?,
        };
        let copies = |len: usize| if N::COPIES_OPERANDS { len } else { 0 };
        let delta_len = max_batch * widest;
        Ok(Self {
            gpu,
            _built: built,
            kernels,
            optimizer,
            max_batch,
            offsets,
            act_offsets,
            op_offsets,
            features: gpu.buffer(0)?,
            labels: gpu.buffer(0)?,
            data_rows: 0,
            indices: gpu.buffer(max_batch)?,
            acts: gpu.buffer(acts_len)?,
            act_ops: gpu.buffer(copies(ops))?,
            weight_ops: gpu.buffer(copies(params_len))?,
            delta: [gpu.buffer(delta_len)?, gpu.buffer(delta_len)?],
            delta_ops: gpu.buffer(copies(delta_len))?,
            loss_rows: gpu.buffer(max_batch)?,
            partials: gpu.buffer(partials_len.unwrap_or(0))?,
            params: gpu.buffer(params_len)?,
            grads: gpu.buffer(params_len)?,
            state: gpu.buffer(state_len.unwrap_or(0))?,
            status: gpu.upload(&STATUS_START)?,
            adam_step: N::adam_start(),
            steps: 0,
            saturations: 0,
            spec,
        })
    }

    /// Uploads the training data: `features` row-major (`spec.inputs()` per row) in the
    /// path's input format, and one label per row.
    ///
    /// # Panics
    /// If the lengths do not match or a label is not below the class count (the harness
    /// validates data before training, as for the CPU trainer).
    pub fn load_data(&mut self, features: &[N::Act], labels: &[u32]) -> Result<(), OpenClError> {
        let inputs = self.spec.inputs();
        assert_eq!(features.len(), labels.len() * inputs, "features and labels disagree");
        assert!(labels.iter().all(|&y| (y as usize) < self.spec.classes()), "label out of range");
        u32_of(features.len(), "training features")?;
        let words: Vec<N::Word> = features.iter().map(|a| N::act_word(*a)).collect();
        self.features = self.gpu.upload(&words)?;
        self.labels = self.gpu.upload(labels)?;
        self.data_rows = labels.len();
        Ok(())
    }

    /// Initialises the weights from `rng` exactly as `Trainer::init_params` does (the kernel's
    /// `Init::fill`, layer 1 first; biases 0; NUMERICS.md §8.5), uploads them, and resets the
    /// optimizer state, the step count and the saturation count.
    pub fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), OpenClError> {
        let mut params = vec![N::Param::default(); self.spec.params_len()];
        for (layer, &offset) in self.spec.layers().iter().zip(&self.offsets) {
            let d = layer.dense;
            let w = &mut params[offset..offset + d.weights_len()];
            init.fill::<N, R>(rng, w, d.inputs, d.outputs);
        }
        self.set_params(&params)
    }

    /// Loads `params` (as `Trainer::params` lays them out) and resets the optimizer state, the
    /// step count and the saturation count, as after `Trainer::init_params`.
    pub fn set_params(&mut self, params: &[N::Param]) -> Result<(), OpenClError> {
        assert_eq!(params.len(), self.spec.params_len(), "parameter count");
        let words: Vec<N::Word> = params.iter().map(|p| N::param_word(*p)).collect();
        self.gpu.write(&mut self.params, 0, &words)?;
        let zeros = vec![N::Word::default(); self.state.len()];
        self.gpu.write(&mut self.state, 0, &zeros)?;
        self.adam_step = N::adam_start();
        self.steps = 0;
        self.saturations = 0;
        Ok(())
    }

    /// Puts back saved parameters, optimizer state and counters (a checkpoint's, NUMERICS.md
    /// §9.1), as `Trainer::restore` does: the next step is the one the saved trainer would have
    /// taken.
    ///
    /// # Panics
    /// If a slice's length is not the model's (the harness checks checkpoints first).
    pub fn restore(
        &mut self,
        params: &[N::Param],
        opt_state: &[N::Param],
        state: TrainerState<N::Scalar>,
    ) -> Result<(), OpenClError> {
        assert_eq!(opt_state.len(), self.state.len(), "optimizer state length");
        self.set_params(params)?;
        let words: Vec<N::Word> = opt_state.iter().map(|p| N::param_word(*p)).collect();
        self.gpu.write(&mut self.state, 0, &words)?;
        self.adam_step = state.adam_step;
        self.steps = state.steps;
        self.saturations = state.saturations;
        Ok(())
    }

    /// The step count, saturation count and Adam powers (as `Trainer::state`).
    pub fn state(&self) -> TrainerState<N::Scalar> {
        TrainerState { steps: self.steps, saturations: self.saturations, adam_step: self.adam_step }
    }

    /// The device the trainer runs on.
    pub fn gpu(&self) -> &Gpu {
        self.gpu
    }

    /// The model's shape.
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// Training steps taken since the parameters were set.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Values clamped since the parameters were set (fixed point; 0 on the float path).
    pub fn saturations(&self) -> u64 {
        self.saturations
    }

    /// All parameters, downloaded.
    pub fn params(&self) -> Result<Vec<N::Param>, OpenClError> {
        Ok(self.gpu.download(&self.params)?.into_iter().map(N::word_param).collect())
    }

    /// The gradients of the last step, downloaded (layout of the parameters).
    pub fn grads(&self) -> Result<Vec<N::Param>, OpenClError> {
        Ok(self.gpu.download(&self.grads)?.into_iter().map(N::word_param).collect())
    }

    /// The optimizer state, downloaded (layout of `Trainer`'s `opt_state`).
    pub fn opt_state(&self) -> Result<Vec<N::Param>, OpenClError> {
        Ok(self.gpu.download(&self.state)?.into_iter().map(N::word_param).collect())
    }

    /// SHA-256 of all parameters (NUMERICS.md §11), from a download.
    pub fn digest(&self) -> Result<Digest, OpenClError> {
        Ok(digest_words(self.params()?.into_iter().map(N::param_bits)))
    }

    /// One step of mini-batch training on the loaded rows `indices`; returns the batch's mean
    /// loss. The twin of `Trainer::train_step` (NUMERICS.md §9), with its errors: a non-finite
    /// loss or gradient stops the step before the update, a non-finite updated parameter after
    /// it (§10).
    ///
    /// # Panics
    /// If the batch is empty or larger than `max_batch`, or an index is not below the number
    /// of loaded rows.
    pub fn train_step(&mut self, indices: &[u32]) -> Result<N::Act, StepError> {
        let rows = indices.len();
        assert!(rows > 0 && rows <= self.max_batch, "batch of {rows} rows for buffers of {}", self.max_batch);
        assert!(indices.iter().all(|&i| (i as usize) < self.data_rows), "row index out of range");
        let step = self.steps + 1;
        let gpu = self.gpu;
        let k = &self.kernels;
        let layers = self.spec.layers();
        let params_len = self.spec.params_len();
        let rows32 = rows as u32;
        let u = |x: usize| Arg::U32(x as u32);
        gpu.write(&mut self.indices, 0, indices)?;
        gpu.write(&mut self.status, 0, &STATUS_START)?;
        let status = &self.status;

        let inputs = self.spec.inputs();
        gpu.run(
            &k.gather,
            rows * inputs,
            &[(&self.features).into(), (&self.indices).into(), (&self.acts).into(), u(rows), u(inputs)],
        )?;
        // Every layer's weights as operands, once per step (fixed point).
        if let Some(operands) = &k.operands {
            for (layer, &offset) in layers.iter().zip(&self.offsets) {
                let n = layer.dense.weights_len();
                let args = [
                    (&self.params).into(),
                    u(offset),
                    (&self.weight_ops).into(),
                    u(offset),
                    u(n),
                    Arg::U32(OPERAND_WEIGHT),
                    status.into(),
                ];
                gpu.run(operands, n, &args)?;
            }
        }
        let weights = |offset: usize| -> [Arg<'_>; 2] {
            if N::COPIES_OPERANDS {
                [(&self.weight_ops).into(), u(offset)]
            } else {
                [(&self.params).into(), u(offset)]
            }
        };

        // Forward.
        for (l, layer) in layers.iter().enumerate() {
            let d = layer.dense;
            let x: [Arg<'_>; 2] = if let Some(operands) = &k.operands {
                let n = rows * d.inputs;
                let args = [
                    (&self.acts).into(),
                    u(self.act_offsets[l]),
                    (&self.act_ops).into(),
                    u(self.op_offsets[l]),
                    u(n),
                    Arg::U32(OPERAND_ACT),
                    status.into(),
                ];
                gpu.run(operands, n, &args)?;
                [(&self.act_ops).into(), u(self.op_offsets[l])]
            } else {
                [(&self.acts).into(), u(self.act_offsets[l])]
            };
            let [w, w_off] = weights(self.offsets[l]);
            let [x, x_off] = x;
            let args = [
                x,
                x_off,
                w,
                w_off,
                (&self.params).into(),
                u(self.offsets[l] + d.weights_len()),
                (&self.acts).into(),
                u(self.act_offsets[l + 1]),
                Arg::U32(rows32),
                u(d.inputs),
                u(d.outputs),
                Arg::U32(activation_code(layer.activation)),
                status.into(),
            ];
            gpu.run(&k.forward, rows * d.outputs, &args)?;
        }

        // Loss and the output layer's dL/dz (into the first delta buffer).
        let classes = self.spec.classes();
        let args = [
            (&self.acts).into(),
            u(self.act_offsets[layers.len()]),
            (&self.labels).into(),
            (&self.indices).into(),
            (&self.delta[0]).into(),
            (&self.loss_rows).into(),
            Arg::U32(rows32),
            u(classes),
            status.into(),
        ];
        gpu.run(&k.softmax, rows, &args)?;
        gpu.run(&k.loss, 1, &[(&self.loss_rows).into(), Arg::U32(rows32), status.into()])?;

        // Backward: per layer, the chunk partials, then the input gradient.
        let nchunks = chunk_count(rows);
        let mut cur = 0;
        for l in (0..layers.len()).rev() {
            let d = layers[l].dense;
            let dz = &self.delta[cur];
            let dz_ops: Arg<'_> = if let Some(operands) = &k.operands {
                let n = rows * d.outputs;
                let args =
                    [dz.into(), u(0), (&self.delta_ops).into(), u(0), u(n), Arg::U32(OPERAND_DELTA), status.into()];
                gpu.run(operands, n, &args)?;
                (&self.delta_ops).into()
            } else {
                dz.into()
            };
            let [x, x_off]: [Arg<'_>; 2] = if N::COPIES_OPERANDS {
                [(&self.act_ops).into(), u(self.op_offsets[l])]
            } else {
                [(&self.acts).into(), u(self.act_offsets[l])]
            };
            let args = [
                x,
                x_off,
                dz_ops,
                dz.into(),
                (&self.partials).into(),
                Arg::U32(rows32),
                u(d.inputs),
                u(d.outputs),
                u(params_len),
                u(self.offsets[l]),
            ];
            gpu.run(&k.backward_params, nchunks * d.params_len(), &args)?;
            if l == 0 {
                break;
            }
            let dz_ops: Arg<'_> = if N::COPIES_OPERANDS { (&self.delta_ops).into() } else { dz.into() };
            let [w, w_off] = weights(self.offsets[l]);
            let args = [
                dz_ops,
                w,
                w_off,
                (&self.acts).into(),
                u(self.act_offsets[l]),
                (&self.delta[1 - cur]).into(),
                Arg::U32(rows32),
                u(d.inputs),
                u(d.outputs),
                Arg::U32(activation_code(layers[l - 1].activation)),
                status.into(),
            ];
            gpu.run(&k.backward_input, rows * d.inputs, &args)?;
            cur = 1 - cur;
        }
        let args =
            [(&self.partials).into(), (&self.grads).into(), u(params_len), u(nchunks), u(params_len), status.into()];
        gpu.run(&k.combine, params_len, &args)?;
        if N::CHECKS_FINITE {
            let args = [(&self.grads).into(), u(params_len), status.into(), u(STATUS_GRAD_FIRST)];
            gpu.run(&k.nonfinite, params_len, &args)?;
        }

        // Update (skipped on the device after a non-finite loss or gradient).
        let mut next_adam = self.adam_step;
        let mut args: Vec<Arg<'_>> =
            vec![(&self.params).into(), (&self.grads).into(), (&self.state).into(), u(params_len)];
        match &self.optimizer {
            Optimizer::Sgd(sgd) => {
                args.extend(N::sgd_args(sgd));
                args.push(status.into());
                gpu.run(&k.sgd, params_len, &args)?;
            }
            Optimizer::Adam(adam) => {
                N::adam_advance(&mut next_adam, adam);
                args.extend(N::adam_args(adam, &next_adam));
                args.push(status.into());
                gpu.run(&k.adam, params_len, &args)?;
            }
        }
        if N::CHECKS_FINITE {
            let args = [(&self.params).into(), u(params_len), status.into(), u(STATUS_PARAM_FIRST)];
            gpu.run(&k.nonfinite, params_len, &args)?;
        }

        let mut report = [0u32; STATUS_LEN];
        gpu.read(&self.status, 0, &mut report)?;
        let nonfinite = |layer, tensor, index| StepError::NonFinite(NonFinite { step, layer, tensor, index });
        if report[STATUS_LOSS_BAD] != 0 {
            return Err(nonfinite(None, Tensor::Loss, 0));
        }
        let locate = |index: u32, weights: Tensor, biases: Tensor| {
            let (layer, bias, i) = locate_param(&self.spec, index as usize).expect("index below the parameter count");
            nonfinite(Some(layer), if bias { biases } else { weights }, i)
        };
        if report[STATUS_GRAD_FIRST] != u32::MAX {
            return Err(locate(report[STATUS_GRAD_FIRST], Tensor::WeightGradients, Tensor::BiasGradients));
        }
        self.adam_step = next_adam;
        self.steps = step;
        self.saturations += u64::from(report[STATUS_SAT]);
        if report[STATUS_PARAM_FIRST] != u32::MAX {
            return Err(locate(report[STATUS_PARAM_FIRST], Tensor::Weights, Tensor::Biases));
        }
        Ok(N::loss_from_bits(report[STATUS_LOSS]))
    }

    /// One epoch: a step for every `batch` indices of `order` (the last batch may be shorter),
    /// as `samebits_harness::train::train_epoch` drives the CPU trainer. Calls `on_step` with
    /// the step count after each step; returns the mean of the batch losses (summed in f64 in
    /// batch order; reporting only).
    pub fn train_epoch(&mut self, order: &[u32], batch: usize, on_step: &mut dyn FnMut(u64)) -> Result<f64, StepError> {
        let mut loss_sum = 0.0f64;
        let mut batches = 0u32;
        for indices in order.chunks(batch) {
            loss_sum += N::act_to_f64(self.train_step(indices)?);
            batches += 1;
            on_step(self.steps);
        }
        Ok(loss_sum / batches as f64)
    }
}
