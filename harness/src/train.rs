//! The training run: data order, batches, epochs and evaluation around the kernel's step.
//!
//! Contract: NUMERICS.md §9 (the run) and §8.1 (the two random streams).

use crate::config::TrainConfig;
use crate::data::Dataset;
use crate::executor::HostExecutor;
use rand_core::SeedableRng;
use samebits::digest::Digest;
use samebits::model::{Batch, Buffers, MlpSpec, NonFinite, SetupError, Trainer};
use samebits::rng::{shuffle, Xoshiro128PlusPlus};
use std::fmt;

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

/// A zeroed buffer, or an error saying the model does not fit in memory.
fn zeroed(len: usize, what: &str) -> Result<Vec<f32>, RunError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        RunError::Other(format!(
            "not enough memory for the model's {what} ({len} values); use a smaller model or batch"
        ))
    })?;
    v.resize(len, 0.0);
    Ok(v)
}

/// Trains `config` on `train`, evaluating on `test` after each epoch.
pub fn run(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
    progress: &mut dyn Progress,
) -> Result<RunResult, RunError> {
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
    let exec = HostExecutor::new(config.threads).map_err(RunError::Other)?;
    let spec: MlpSpec =
        MlpSpec::new(train.n_features, &config.hidden, train.n_classes, config.activation).map_err(RunError::Setup)?;
    let optimizer = config.optimizer();
    let max_batch = config.batch.min(train.rows());
    let sizes = Trainer::sizes(&spec, &optimizer, max_batch);
    let (mut params, mut grads) = (zeroed(sizes.params, "parameters")?, zeroed(sizes.grads, "gradients")?);
    let (mut opt_state, mut scratch) = (zeroed(sizes.opt_state, "optimizer state")?, zeroed(sizes.scratch, "scratch")?);
    let buffers = Buffers { params: &mut params, grads: &mut grads, opt_state: &mut opt_state, scratch: &mut scratch };
    let mut trainer = Trainer::new(spec, optimizer, max_batch, buffers).map_err(RunError::Setup)?;

    trainer.init_params(config.init, &mut Xoshiro128PlusPlus::seed_from_u64(config.seed));
    let mut order_rng = Xoshiro128PlusPlus::seed_from_u64(config.seed ^ SHUFFLE_STREAM);
    let mut order: Vec<u32> = Vec::with_capacity(train.rows());
    let mut epochs = Vec::with_capacity(config.epochs as usize);
    let mut test_correct = 0;
    for epoch in 1..=config.epochs {
        order.clear();
        order.extend(0..train.rows() as u32);
        shuffle(&mut order_rng, &mut order);
        let mut loss_sum = 0.0f64;
        let mut batches = 0u32;
        for indices in order.chunks(config.batch) {
            let batch = Batch { features: &train.features, labels: &train.labels, indices };
            loss_sum += trainer.train_step(&exec, &batch).map_err(RunError::NonFinite)? as f64;
            batches += 1;
            progress.step(trainer.steps());
        }
        test_correct = trainer.count_correct(&exec, &test.features, &test.labels);
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / batches as f64,
            test_accuracy: test_correct as f64 / test.rows() as f64,
        };
        progress.epoch(&stats);
        epochs.push(stats);
    }
    Ok(RunResult {
        digest: trainer.digest(),
        epochs,
        steps: trainer.steps(),
        params: trainer.params().len(),
        test_correct,
        test_rows: test.rows(),
    })
}
