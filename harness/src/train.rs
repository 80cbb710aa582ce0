//! The training run: data order, batches, epochs and evaluation around the kernel's step.
//!
//! Contract: NUMERICS.md §9 (the run) and §8.1 (the two random streams), on either
//! arithmetic path (§13 for fixed point).

use crate::buffers::OwnedBuffers;
use crate::checkpoint::{write_atomic, Checkpoint, DataIdentity, Position};
use crate::config::{DeviceKind, MathKind, PathKind, TrainConfig};
use crate::data::Dataset;
use crate::executor::HostExecutor;
use crate::opencl::{locate_param, DevicePath, Gpu, OpenClTrainer, StepError};
use crate::platform_math::PlatformFloat;
use crate::trace::Tracer;
use rand_core::SeedableRng;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::digest::Digest;
use samebits::exec::Executor;
use samebits::model::{Batch, MlpSpec, NonFinite, SetupError, Trainer, TrainerState};
use samebits::optim::AdamStep;
use samebits::rng::{shuffle, Xoshiro128PlusPlus};
use std::fmt;
use std::path::PathBuf;

/// XOR-ed into the seed for the data-order stream: "SHUFFLE!" in ASCII (NUMERICS.md §8.1).
pub const SHUFFLE_STREAM: u64 = 0x5348_5546_464C_4521;

/// What one epoch produced.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct EpochStats {
    /// Counting from 1.
    pub epoch: u32,
    /// Mean of the epoch's batch losses (summed in f64 in batch order; reporting only).
    pub train_loss: f64,
    /// Fraction of the test rows classified correctly after the epoch (NaN without test rows).
    pub test_accuracy: f64,
    /// Values clamped to their fixed-point range so far (NUMERICS.md §13.3; 0 for float).
    pub saturations: u64,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    pub digest: Digest,
    pub epochs: Vec<EpochStats>,
    pub steps: u64,
    pub params: usize,
    pub test_correct: usize,
    pub test_rows: usize,
    /// Values clamped to their fixed-point range during the run (0 on the float path).
    pub saturations: u64,
    /// The OpenCL device that ran the steps (`--device opencl` or `both`), as
    /// `index 'name' (platform)`; `None` on the CPU alone.
    pub opencl_device: Option<String>,
}

impl RunResult {
    /// Test accuracy after the last epoch.
    pub fn test_accuracy(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.test_accuracy)
    }

    /// Mean training loss of the last epoch.
    pub fn final_loss(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.train_loss)
    }
}

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// The model does not fit the data or buffers.
    Setup(SetupError),
    /// Training produced NaN or infinity.
    NonFinite(NonFinite),
    /// Anything else, already worded for the user.
    Other(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Setup(e) => write!(f, "invalid model: {e}"),
            RunError::NonFinite(e) => e.fmt(f),
            RunError::Other(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for RunError {}

/// Called after every epoch, and after every step with the number of steps done.
pub trait Progress {
    fn step(&mut self, _done: u64) {}
    fn epoch(&mut self, _stats: &EpochStats) {}
}

/// Ignores progress.
pub struct Quiet;
impl Progress for Quiet {}

/// The row, column and value of a feature outside a path's input range.
pub type OutOfRange = (usize, usize, f32);

/// A dataset's features in path `N`'s input format.
///
/// The float path uses them as they are; the fixed path rounds each to the Q5.10 grid of its
/// activation operands (NUMERICS.md §13.1). Returns the row and column of the first value outside the path's range.
///
/// Where the conversion is the identity (the float path) the features are borrowed, not copied:
/// a large dataset is held once, not twice.
pub fn features_for<N: Arithmetic>(data: &Dataset) -> Result<std::borrow::Cow<'_, [N::Act]>, OutOfRange> {
    use std::any::Any;
    use std::borrow::Cow;
    // Borrowing gives exactly what converting would: checked value by value, so a path whose
    // activations are f32 but whose conversion is not the identity still converts.
    let unchanged = |x: f32| {
        N::act_from_f32(x)
            .is_some_and(|a| (&a as &dyn Any).downcast_ref::<f32>().is_some_and(|a| a.to_bits() == x.to_bits()))
    };
    if let Some(same) = (&data.features as &dyn Any).downcast_ref::<Vec<N::Act>>() {
        if data.features.iter().all(|&x| unchanged(x)) {
            return Ok(Cow::Borrowed(same));
        }
    }
    data.features
        .iter()
        .enumerate()
        .map(|(i, &x)| N::act_from_f32(x).ok_or((i / data.n_features.max(1), i % data.n_features.max(1), x)))
        .collect::<Result<Vec<_>, _>>()
        .map(Cow::Owned)
}

/// One epoch: a training step for every `batch` indices of `order` (the last batch may be
/// shorter; NUMERICS.md §9). Calls `on_step` with the step count after each step and returns
/// the mean of the batch losses (summed in f64 in batch order; reporting only).
pub fn train_epoch<N: Arithmetic, E: Executor>(
    trainer: &mut Trainer<'_, N>,
    exec: &E,
    features: &[N::Act],
    labels: &[u32],
    order: &[u32],
    batch: usize,
    on_step: &mut dyn FnMut(u64),
) -> Result<f64, NonFinite> {
    let mut loss_sum = 0.0f64;
    let mut batches = 0u32;
    for indices in order.chunks(batch) {
        loss_sum += N::act_to_f64(trainer.train_step(exec, &Batch { features, labels, indices })?);
        batches += 1;
        on_step(trainer.steps());
    }
    Ok(loss_sum / batches as f64)
}

/// Trains `config` on `train`, evaluating on `test` after each epoch, on the path it names.
pub fn run(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
    progress: &mut dyn Progress,
) -> Result<RunResult, RunError> {
    run_with(config, train, test, progress, None, None)
}

/// Checkpoints of a run (`--checkpoint DIR`): where, how often, and the checkpoint
/// to continue from (`samebits resume`).
#[derive(Clone, Debug)]
pub struct Checkpoints {
    pub dir: PathBuf,
    /// Steps between checkpoints (also written after the last step).
    pub every: u64,
    /// Restored before the first step when present: the run continues where it stopped.
    pub resume: Option<Checkpoint>,
}

/// [`run`], writing a checkpoint into `checkpoints.dir` every `checkpoints.every` steps and
/// after the last one, and starting from `checkpoints.resume` when it is given. The caller has
/// checked that the checkpoint belongs to `config` and the data (`DataIdentity` is checked
/// here again). On the CPU or an OpenCL device (not both), without a trace; a checkpoint taken
/// on one may be resumed on the other.
pub fn run_checkpointed(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
    progress: &mut dyn Progress,
    checkpoints: &Checkpoints,
) -> Result<RunResult, RunError> {
    run_with(config, train, test, progress, None, Some(checkpoints))
}

/// [`run`], recording every step in `tracer` (docs/TRACE.md) and ending the trace with how the
/// run ended.
pub fn run_traced(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
    progress: &mut dyn Progress,
    tracer: &mut Tracer,
) -> Result<RunResult, RunError> {
    let result = if tracer.observes() && config.device != DeviceKind::Cpu {
        Err(RunError::Other(
            "--trace-level ops needs --device cpu (the OpenCL step is not observed layer by layer)".into(),
        ))
    } else {
        run_with(config, train, test, progress, Some(&mut *tracer), None)
    };
    tracer.end(&result);
    let result = result?;
    tracer.check().map_err(RunError::Other)?;
    Ok(result)
}

fn run_with(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
    progress: &mut dyn Progress,
    trace: Option<&mut Tracer>,
    checkpoints: Option<&Checkpoints>,
) -> Result<RunResult, RunError> {
    config.check_math().map_err(RunError::Other)?;
    if checkpoints.is_some() && (config.device == DeviceKind::Both || trace.is_some()) {
        return Err(RunError::Other("checkpoints need --device cpu or opencl, and no --trace".into()));
    }
    let c = checkpoints;
    match (config.path, config.math) {
        (PathKind::Float, MathKind::Portable) => run_on::<Float, Float>(config, train, test, progress, trace, c),
        // CPU only (`check_math`): no device is opened, so no OpenCL program stands in for it.
        (PathKind::Float, MathKind::Platform) => {
            run_on::<PlatformFloat, Float>(config, train, test, progress, trace, c)
        }
        (PathKind::Fixed, _) => run_on::<Fixed, Fixed>(config, train, test, progress, trace, c),
    }
}

/// Trains on the CPU in path `N` and, with `--device opencl|both`, on the OpenCL program of path
/// `D`, which gives `N`'s bits: `D` is `N` itself for the contract's two paths.
fn run_on<N, D>(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
    progress: &mut dyn Progress,
    mut trace: Option<&mut Tracer>,
    checkpoints: Option<&Checkpoints>,
) -> Result<RunResult, RunError>
where
    N: Arithmetic,
    D: DevicePath<Act = N::Act, Param = N::Param>,
{
    config.validate().map_err(RunError::Other)?;
    if train.rows() == 0 {
        return Err(RunError::Other("no training rows".into()));
    }
    if u32::try_from(train.rows()).is_err() {
        return Err(RunError::Other(format!("{} training rows; at most {} are supported", train.rows(), u32::MAX)));
    }
    if train.n_classes > crate::config::MAX_CLASSES {
        return Err(RunError::Other(format!(
            "the labels imply {} classes; at most {} are supported (is the last column really the label?)",
            train.n_classes,
            crate::config::MAX_CLASSES
        )));
    }
    let out_of_range = |(row, col, x): (usize, usize, f32)| {
        RunError::Other(format!("row {row}, column {col}: value {x} is outside the {} path's input range", N::NAME))
    };
    let train_x = features_for::<N>(train).map_err(out_of_range)?;
    let test_x = features_for::<N>(test).map_err(out_of_range)?;
    // IEEE mode from the very first operation, initialisation included (crate::fpmode); the
    // executor checks again before every section of work, on every thread.
    crate::fpmode::ensure_ieee();
    let exec = HostExecutor::with_simd(config.threads, config.simd).map_err(RunError::Other)?;
    let spec: MlpSpec =
        MlpSpec::new(train.n_features, &config.hidden, train.n_classes, config.activation).map_err(RunError::Setup)?;
    let optimizer = config.optimizer();
    let max_batch = config.batch.min(train.rows());
    let mut buffers =
        OwnedBuffers::<N>::new(&Trainer::<N>::sizes(&spec, &optimizer, max_batch)).map_err(RunError::Other)?;
    let mut trainer =
        Trainer::<N>::new(spec.clone(), optimizer, max_batch, buffers.buffers()).map_err(RunError::Setup)?;

    trainer.init_params(config.init, &mut Xoshiro128PlusPlus::seed_from_u64(config.seed));
    // The device trainer starts from the CPU's initial parameters (NUMERICS.md §8.5).
    let gpu = match config.device {
        DeviceKind::Cpu => None,
        DeviceKind::Opencl | DeviceKind::Both => Some(Gpu::open(config.device_index).map_err(opencl_error)?),
    };
    let mut device = match &gpu {
        None => None,
        Some(gpu) => {
            let mut d = OpenClTrainer::<D>::new(gpu, spec, optimizer, max_batch).map_err(opencl_error)?;
            d.set_params(trainer.params()).map_err(opencl_error)?;
            d.load_data(&train_x, &train.labels).map_err(opencl_error)?;
            Some(d)
        }
    };
    let mut order_rng = Xoshiro128PlusPlus::seed_from_u64(config.seed ^ SHUFFLE_STREAM);
    let mut order: Vec<u32> = Vec::with_capacity(train.rows());
    let mut epochs = Vec::with_capacity(config.epochs as usize);
    let mut test_correct = 0;
    let saver = checkpoints.map(|c| Saver::new(c, config, train, test));
    // Where the epoch loop starts: the beginning, or where a checkpoint was taken.
    let mut first_epoch = 1;
    let mut resume_at = (0, 0.0);
    match (&saver, checkpoints.and_then(|c| c.resume.as_ref())) {
        (Some(saver), Some(c)) => {
            if c.data != saver.identity {
                return Err(RunError::Other(
                    "the data differ from the data the checkpoint was trained on (their digests differ)".into(),
                ));
            }
            restore(&mut trainer, c)?;
            if let Some(device) = &mut device {
                restore_device(device, &trainer)?;
            }
            order_rng = Xoshiro128PlusPlus::from_state(c.position.order_state);
            first_epoch = c.position.epoch;
            resume_at = (c.position.batches_done, c.position.loss_sum);
            epochs.extend_from_slice(&c.history);
            test_correct = c.test_correct;
            // The report of a resumed run shows every epoch, as the uninterrupted run's does.
            for stats in &epochs {
                progress.epoch(stats);
            }
        }
        // The state before step 1: a run killed at once resumes rather than starts over.
        (Some(saver), None) => {
            let start = Position { epoch: 1, batches_done: 0, order_state: order_rng.state(), loss_sum: 0.0 };
            saver.save(Snapshot::of(&trainer), start, &epochs, test_correct)?;
        }
        _ => {}
    }
    for epoch in first_epoch..=config.epochs {
        let order_state = order_rng.state();
        order.clear();
        order.extend(0..train.rows() as u32);
        shuffle(&mut order_rng, &mut order);
        let mut on_step = |steps| progress.step(steps);
        let train_loss = match (&mut device, config.device, trace.as_deref_mut()) {
            (Some(device), DeviceKind::Both, trace) => {
                let trace = trace.map(|t| (t, epoch));
                both_epoch(
                    &mut trainer,
                    device,
                    &exec,
                    &train_x,
                    &train.labels,
                    &order,
                    config.batch,
                    &mut on_step,
                    trace,
                )?
            }
            (Some(device), _, Some(tracer)) => {
                let loss = traced_device_epoch(device, &order, config.batch, epoch, tracer, &mut on_step)?;
                trainer.params_mut().copy_from_slice(&device.params().map_err(opencl_error)?);
                loss
            }
            (Some(device), _, None) => {
                let loss = match &saver {
                    None => device.train_epoch(&order, config.batch, &mut on_step).map_err(step_error)?,
                    Some(saver) => {
                        let start = Position { epoch, batches_done: resume_at.0, order_state, loss_sum: resume_at.1 };
                        resume_at = (0, 0.0);
                        let done = (&epochs[..], test_correct);
                        checkpointed_epoch(&mut DeviceStepper(&mut *device), &order, saver, start, done, &mut on_step)?
                    }
                };
                // Evaluation runs on the CPU, from the device's parameters.
                trainer.params_mut().copy_from_slice(&device.params().map_err(opencl_error)?);
                loss
            }
            (None, _, Some(tracer)) => {
                let data = (&train_x[..], &train.labels[..]);
                traced_epoch(&mut trainer, &exec, data, &order, config.batch, epoch, tracer, &mut on_step)?
            }
            (None, _, None) => match &saver {
                None => train_epoch(&mut trainer, &exec, &train_x, &train.labels, &order, config.batch, &mut on_step)
                    .map_err(RunError::NonFinite)?,
                Some(saver) => {
                    let start = Position { epoch, batches_done: resume_at.0, order_state, loss_sum: resume_at.1 };
                    resume_at = (0, 0.0);
                    let done = (&epochs[..], test_correct);
                    let mut stepper =
                        CpuStepper { trainer: &mut trainer, exec: &exec, features: &train_x, labels: &train.labels };
                    checkpointed_epoch(&mut stepper, &order, saver, start, done, &mut on_step)?
                }
            },
        };
        test_correct = trainer.count_correct(&exec, &test_x, &test.labels);
        let saturations = device.as_ref().map_or(trainer.saturations(), |d| d.saturations());
        let stats =
            EpochStats { epoch, train_loss, test_accuracy: test_correct as f64 / test.rows() as f64, saturations };
        progress.epoch(&stats);
        epochs.push(stats);
        if let Some(saver) = &saver {
            // The steps ran on the device, if there is one: the CPU trainer only evaluates.
            let steps = device.as_ref().map_or(trainer.steps(), |d| d.steps());
            if steps.is_multiple_of(saver.checkpoints.every) || epoch == config.epochs {
                let next =
                    Position { epoch: epoch + 1, batches_done: 0, order_state: order_rng.state(), loss_sum: 0.0 };
                // The optimizer state lives where the steps ran.
                let snapshot = match &device {
                    None => Snapshot::of(&trainer),
                    Some(device) => DeviceStepper(device).snapshot()?,
                };
                saver.save(snapshot, next, &epochs, test_correct)?;
            }
        }
    }
    let (steps, saturations) = match &device {
        Some(d) => (d.steps(), d.saturations()),
        None => (trainer.steps(), trainer.saturations()),
    };
    Ok(RunResult {
        digest: trainer.digest(),
        epochs,
        steps,
        params: trainer.params().len(),
        test_correct,
        test_rows: test.rows(),
        saturations,
        opencl_device: gpu.map(|g| g.info().to_string()),
    })
}

/// Writes checkpoints of one run.
struct Saver<'c> {
    checkpoints: &'c Checkpoints,
    identity: DataIdentity,
    /// The run's configuration as stored: a CSV file by its absolute path, so that `resume`
    /// finds it from any working directory.
    config: TrainConfig,
}

impl<'c> Saver<'c> {
    fn new(checkpoints: &'c Checkpoints, config: &TrainConfig, train: &Dataset, test: &Dataset) -> Self {
        let mut config = config.clone();
        if let crate::config::DataSource::Csv { path, .. } = &mut config.data {
            if let Ok(absolute) = std::fs::canonicalize(&*path) {
                *path = absolute;
            }
        }
        Self { checkpoints, identity: DataIdentity::of(train, test), config }
    }

    /// Writes the checkpoint of the trainer state `s` at `position`, after the epochs `history`.
    fn save(
        &self,
        s: Snapshot,
        position: Position,
        history: &[EpochStats],
        test_correct: usize,
    ) -> Result<(), RunError> {
        let checkpoint = Checkpoint {
            config: self.config.clone(),
            every: self.checkpoints.every,
            data: self.identity,
            position,
            steps: s.steps,
            saturations: s.saturations,
            adam_powers: s.adam_powers,
            history: history.to_vec(),
            test_correct,
            params: s.params,
            opt_state: s.opt_state,
        };
        let dir = &self.checkpoints.dir;
        write_atomic(dir, &checkpoint.encode())
            .map_err(|e| RunError::Other(format!("cannot write a checkpoint in {}: {e}", dir.display())))
    }
}

/// Puts a checkpoint's parameters, optimizer state and counters into `trainer`.
fn restore<N: Arithmetic>(trainer: &mut Trainer<'_, N>, c: &Checkpoint) -> Result<(), RunError> {
    let params: Vec<N::Param> = c.params.iter().map(|&b| N::param_from_bits(b)).collect();
    let opt_state: Vec<N::Param> = c.opt_state.iter().map(|&b| N::param_from_bits(b)).collect();
    let adam_step = AdamStep {
        beta1_power: N::scalar_from_bits(c.adam_powers[0]),
        beta2_power: N::scalar_from_bits(c.adam_powers[1]),
    };
    let state = TrainerState { steps: c.steps, saturations: c.saturations, adam_step };
    trainer
        .restore(&params, &opt_state, state)
        .map_err(|e| RunError::Other(format!("the checkpoint does not fit the model: {e}")))
}

/// Puts the CPU trainer's restored state into the OpenCL trainer (which starts from the
/// CPU's parameters, NUMERICS.md §8.5).
fn restore_device<N, D>(device: &mut OpenClTrainer<'_, D>, trainer: &Trainer<'_, N>) -> Result<(), RunError>
where
    N: Arithmetic,
    D: DevicePath<Act = N::Act, Param = N::Param>,
{
    let s = trainer.state();
    let power = |p: N::Scalar| D::scalar_from_bits(N::scalar_bits(p));
    let adam_step =
        AdamStep { beta1_power: power(s.adam_step.beta1_power), beta2_power: power(s.adam_step.beta2_power) };
    let state = TrainerState { steps: s.steps, saturations: s.saturations, adam_step };
    device.restore(trainer.params(), trainer.opt_state(), state).map_err(opencl_error)
}

/// A trainer's state as a checkpoint stores it: raw bits.
struct Snapshot {
    params: Vec<u32>,
    opt_state: Vec<u32>,
    steps: u64,
    saturations: u64,
    adam_powers: [u32; 2],
}

impl Snapshot {
    fn of<N: Arithmetic>(trainer: &Trainer<'_, N>) -> Self {
        Self::from_parts::<N>(trainer.params(), trainer.opt_state(), trainer.state())
    }

    fn from_parts<N: Arithmetic>(params: &[N::Param], opt_state: &[N::Param], s: TrainerState<N::Scalar>) -> Self {
        Snapshot {
            params: params.iter().map(|p| N::param_bits(*p)).collect(),
            opt_state: opt_state.iter().map(|p| N::param_bits(*p)).collect(),
            steps: s.steps,
            saturations: s.saturations,
            adam_powers: [N::scalar_bits(s.adam_step.beta1_power), N::scalar_bits(s.adam_step.beta2_power)],
        }
    }
}

/// What [`checkpointed_epoch`] drives: the CPU trainer or the OpenCL one.
trait Stepper {
    /// One step on the rows `indices`; the batch loss for the epoch's report.
    fn step(&mut self, indices: &[u32]) -> Result<f64, RunError>;
    fn steps(&self) -> u64;
    fn snapshot(&self) -> Result<Snapshot, RunError>;
}

struct CpuStepper<'r, 't, N: Arithmetic, E> {
    trainer: &'r mut Trainer<'t, N>,
    exec: &'r E,
    features: &'r [N::Act],
    labels: &'r [u32],
}

impl<N: Arithmetic, E: Executor> Stepper for CpuStepper<'_, '_, N, E> {
    fn step(&mut self, indices: &[u32]) -> Result<f64, RunError> {
        let batch = Batch { features: self.features, labels: self.labels, indices };
        self.trainer.train_step(self.exec, &batch).map(N::act_to_f64).map_err(RunError::NonFinite)
    }
    fn steps(&self) -> u64 {
        self.trainer.steps()
    }
    fn snapshot(&self) -> Result<Snapshot, RunError> {
        Ok(Snapshot::of(self.trainer))
    }
}

/// The OpenCL trainer; a snapshot downloads its parameters and optimizer state.
struct DeviceStepper<T>(T);

impl<'g, D: DevicePath, T: std::ops::Deref<Target = OpenClTrainer<'g, D>>> DeviceStepper<T> {
    fn snapshot(&self) -> Result<Snapshot, RunError> {
        let params = self.0.params().map_err(opencl_error)?;
        let opt_state = self.0.opt_state().map_err(opencl_error)?;
        Ok(Snapshot::from_parts::<D>(&params, &opt_state, self.0.state()))
    }
}

impl<'g, D: DevicePath> Stepper for DeviceStepper<&mut OpenClTrainer<'g, D>> {
    fn step(&mut self, indices: &[u32]) -> Result<f64, RunError> {
        self.0.train_step(indices).map(D::act_to_f64).map_err(step_error)
    }
    fn steps(&self) -> u64 {
        self.0.steps()
    }
    fn snapshot(&self) -> Result<Snapshot, RunError> {
        DeviceStepper(&*self.0).snapshot()
    }
}

/// One epoch from batch `start.batches_done` on (its loss sum carried in `start`), as
/// [`train_epoch`] computes it, writing a checkpoint after every step that is a multiple of the
/// interval, except the epoch's last, whose checkpoint is written after the evaluation. `done`:
/// the finished epochs and the last test count.
fn checkpointed_epoch(
    stepper: &mut dyn Stepper,
    order: &[u32],
    saver: &Saver<'_>,
    start: Position,
    (history, test_correct): (&[EpochStats], usize),
    on_step: &mut dyn FnMut(u64),
) -> Result<f64, RunError> {
    let batch = saver.config.batch;
    let batches = order.len().div_ceil(batch) as u64;
    let mut loss_sum = start.loss_sum;
    for (i, indices) in order.chunks(batch).enumerate().skip(start.batches_done as usize) {
        loss_sum += stepper.step(indices)?;
        on_step(stepper.steps());
        let batches_done = i as u64 + 1;
        if batches_done < batches && stepper.steps().is_multiple_of(saver.checkpoints.every) {
            let position = Position { batches_done, loss_sum, ..start };
            saver.save(stepper.snapshot()?, position, history, test_correct)?;
        }
    }
    Ok(loss_sum / batches as f64)
}

/// [`train_epoch`] with a trace record after every step (and the step observed layer by layer
/// when the trace asks for it).
#[allow(clippy::too_many_arguments)]
fn traced_epoch<N: Arithmetic, E: Executor>(
    trainer: &mut Trainer<'_, N>,
    exec: &E,
    (features, labels): (&[N::Act], &[u32]),
    order: &[u32],
    batch: usize,
    epoch: u32,
    tracer: &mut Tracer,
    on_step: &mut dyn FnMut(u64),
) -> Result<f64, RunError> {
    let mut loss_sum = 0.0f64;
    let batches = order.len().div_ceil(batch);
    for (i, indices) in order.chunks(batch).enumerate() {
        let step = trainer.steps() + 1;
        let data = Batch { features, labels, indices };
        let loss = if tracer.observes() {
            trainer.train_step_observed(exec, &data, &mut tracer.observer())
        } else {
            trainer.train_step(exec, &data)
        }
        .map_err(RunError::NonFinite)?;
        tracer.step::<N>(step, epoch, loss, trainer.params(), i + 1 == batches);
        tracer.check().map_err(RunError::Other)?;
        loss_sum += N::act_to_f64(loss);
        on_step(trainer.steps());
    }
    Ok(loss_sum / batches as f64)
}

/// The OpenCL device's epoch with a trace record after every step, from the parameters read
/// back from the device.
fn traced_device_epoch<D: DevicePath>(
    device: &mut OpenClTrainer<'_, D>,
    order: &[u32],
    batch: usize,
    epoch: u32,
    tracer: &mut Tracer,
    on_step: &mut dyn FnMut(u64),
) -> Result<f64, RunError> {
    let mut loss_sum = 0.0f64;
    let batches = order.len().div_ceil(batch);
    for (i, indices) in order.chunks(batch).enumerate() {
        let loss = device.train_step(indices).map_err(step_error)?;
        let params = device.params().map_err(opencl_error)?;
        tracer.step::<D>(device.steps(), epoch, loss, &params, i + 1 == batches);
        tracer.check().map_err(RunError::Other)?;
        loss_sum += D::act_to_f64(loss);
        on_step(device.steps());
    }
    Ok(loss_sum / batches as f64)
}

fn opencl_error(e: crate::opencl::OpenClError) -> RunError {
    RunError::Other(e.to_string())
}

fn step_error(e: StepError) -> RunError {
    match e {
        StepError::NonFinite(e) => RunError::NonFinite(e),
        StepError::OpenCl(e) => opencl_error(e),
    }
}

/// One epoch on the CPU and the OpenCL device side by side (`--device both`): after every
/// step the two parameter digests must be equal (and the losses and any error too); the first
/// difference stops the run with an error naming the step and the first differing element.
#[allow(clippy::too_many_arguments)]
fn both_epoch<N, D, E>(
    cpu: &mut Trainer<'_, N>,
    device: &mut OpenClTrainer<'_, D>,
    exec: &E,
    features: &[N::Act],
    labels: &[u32],
    order: &[u32],
    batch: usize,
    on_step: &mut dyn FnMut(u64),
    mut trace: Option<(&mut Tracer, u32)>,
) -> Result<f64, RunError>
where
    N: Arithmetic,
    D: DevicePath<Act = N::Act, Param = N::Param>,
    E: Executor,
{
    let mut loss_sum = 0.0f64;
    let mut batches = 0u32;
    let total = order.len().div_ceil(batch);
    for indices in order.chunks(batch) {
        let step = cpu.steps() + 1;
        let want = cpu.train_step(exec, &Batch { features, labels, indices });
        let got = device.train_step(indices);
        let loss = match (want, got) {
            (Ok(a), Ok(b)) if N::act_to_f64(a).to_bits() == N::act_to_f64(b).to_bits() => a,
            (Ok(a), Ok(b)) => {
                return Err(RunError::Other(format!(
                    "CPU and OpenCL differ at step {step}: batch loss (CPU {}, OpenCL {})",
                    N::act_to_f64(a),
                    N::act_to_f64(b)
                )))
            }
            (Err(a), Err(StepError::NonFinite(b))) if a == b => return Err(RunError::NonFinite(a)),
            (_, Err(StepError::OpenCl(e))) => return Err(opencl_error(e)),
            (a, b) => {
                let say = |r: Result<String, String>| r.unwrap_or_else(|e| e);
                return Err(RunError::Other(format!(
                    "CPU and OpenCL differ at step {step}: CPU {}, OpenCL {}",
                    say(a.map(|_| "finished the step".into()).map_err(|e| e.to_string())),
                    say(b.map(|_| "finished the step".into()).map_err(|e| e.to_string()))
                )));
            }
        };
        let params = device.params().map_err(opencl_error)?;
        let device_digest = samebits::digest::digest_words(params.iter().map(|p| N::param_bits(*p)));
        if device_digest != cpu.digest() {
            let cpu_bits: Vec<u32> = cpu.params().iter().map(|p| N::param_bits(*p)).collect();
            let device_bits: Vec<u32> = params.iter().map(|p| N::param_bits(*p)).collect();
            return Err(RunError::Other(first_difference(cpu.spec(), step, &cpu_bits, &device_bits)));
        }
        loss_sum += N::act_to_f64(loss);
        batches += 1;
        if let Some((tracer, epoch)) = trace.as_mut() {
            tracer.step::<N>(step, *epoch, loss, cpu.params(), batches as usize == total);
            tracer.check().map_err(RunError::Other)?;
        }
        on_step(cpu.steps());
    }
    Ok(loss_sum / batches as f64)
}

/// The one-line report of the first parameter whose bits differ between the CPU (`cpu`) and
/// the OpenCL device (`device`) after step `step`.
pub fn first_difference(spec: &MlpSpec, step: u64, cpu: &[u32], device: &[u32]) -> String {
    let Some(i) = (0..cpu.len().min(device.len())).find(|&i| cpu[i] != device[i]) else {
        return format!("CPU and OpenCL parameter digests differ after step {step}");
    };
    let (layer, bias, index) = locate_param(spec, i).expect("index below the parameter count");
    format!(
        "CPU and OpenCL parameters differ after step {step}: layer {layer} {} element {index} (CPU bits {:#010x}, OpenCL bits {:#010x})",
        if bias { "biases" } else { "weights" },
        cpu[i],
        device[i]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{builtin_digits, parse_csv, CsvOptions};

    #[test]
    fn digits_convert_to_fixed_point_exactly() {
        // NUMERICS.md §13.1: pixel / 16 is pixel · 4096 in Q16.16 (pixel · 64 on the Q5.10 grid),
        // with no rounding at all.
        let digits = builtin_digits();
        let fixed = features_for::<Fixed>(&digits).unwrap();
        for (q, x) in fixed.iter().zip(&digits.features) {
            let pixel = (*x * 16.0) as i32;
            assert_eq!(q.to_bits(), pixel * 4096, "{x}");
        }
    }

    #[test]
    fn the_first_difference_is_named_by_layer_tensor_and_element() {
        let spec: MlpSpec = MlpSpec::new(3, &[2], 2, samebits::layers::Activation::Relu).unwrap();
        // Layer 1: 6 weights, 2 biases; layer 2: 4 weights, 2 biases.
        let cpu = vec![0u32; spec.params_len()];
        let mut device = cpu.clone();
        device[10] = 1;
        device[13] = 1;
        let message = first_difference(&spec, 7, &cpu, &device);
        assert!(message.contains("after step 7: layer 2 weights element 2"), "{message}");
        device[7] = 2;
        let message = first_difference(&spec, 7, &cpu, &device);
        assert!(message.contains("layer 1 biases element 1"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn values_outside_the_fixed_range_are_located() {
        let data = parse_csv("1,2,0\n3,-40000,1\n", "t.csv", &CsvOptions::default()).unwrap();
        assert_eq!(features_for::<Fixed>(&data).map(drop), Err((1, 1, -40000.0)));
        assert!(features_for::<Float>(&data).is_ok());
    }
}
