//! Set-up shared by the criterion benchmarks (and by anything else that wants to time the
//! kernel, such as a future `samebits bench` command).
//!
//! Everything here happens outside the timed loop: loading data, sizing and zeroing buffers,
//! initialising parameters, shuffling the data order and filling inputs. The timed bodies are
//! [`Epoch::run`] (one epoch of [`Trainer::train_step`] calls, exactly as
//! `samebits_harness::train::run` drives them, without the evaluation after the epoch) and the
//! single [`Dense`] products of [`DenseCase`].
//!
//! [`EpochFixture::epoch`] starts from the run's initial parameters, and the fixture's data
//! order is that of the run's first epoch, so one [`Epoch::run`] on a fresh epoch does exactly
//! the work (and produces exactly the bits) of epoch 1 of `samebits train` with the same
//! configuration. Training on from there is possible, but the work per epoch is not constant:
//! as the model converges, subnormal numbers appear (NUMERICS.md §10 keeps them) and x86 CPUs
//! handle those slowly, so later epochs take longer (docs/PERFORMANCE.md). [`Epoch::run`]
//! returns the kernel's error if training ever produced NaN or infinity.

use rand_core::SeedableRng;
use samebits::exec::Executor;
use samebits::layers::Dense;
use samebits::model::{Batch, Buffers, MlpSpec, NonFinite, SetupError, Trainer};
use samebits::optim::Optimizer;
use samebits::rng::{shuffle, Xoshiro128PlusPlus};
use samebits_harness::config::TrainConfig;
use samebits_harness::data::{builtin_digits_split, Dataset};
use samebits_harness::train::SHUFFLE_STREAM;

/// The caller-owned buffers a [`Trainer`] works in, sized for one model and batch size.
pub struct OwnedBuffers {
    pub params: Vec<f32>,
    pub grads: Vec<f32>,
    pub opt_state: Vec<f32>,
    pub scratch: Vec<f32>,
}

impl OwnedBuffers {
    /// Zeroed buffers of the sizes [`Trainer::sizes`] asks for.
    pub fn new(spec: &MlpSpec, optimizer: &Optimizer, max_batch: usize) -> Self {
        let sizes = Trainer::sizes(spec, optimizer, max_batch);
        Self {
            params: vec![0.0; sizes.params],
            grads: vec![0.0; sizes.grads],
            opt_state: vec![0.0; sizes.opt_state],
            scratch: vec![0.0; sizes.scratch],
        }
    }

    /// Borrows all four for a trainer.
    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            opt_state: &mut self.opt_state,
            scratch: &mut self.scratch,
        }
    }
}

/// Everything one epoch of training needs, owned: the training data, the model, buffers and
/// the data order of the run's first epoch.
pub struct EpochFixture {
    config: TrainConfig,
    train: Dataset,
    spec: MlpSpec,
    optimizer: Optimizer,
    order: Vec<u32>,
    bufs: OwnedBuffers,
}

impl EpochFixture {
    /// The default run's model and optimizer (`TrainConfig::default()`) on the built-in digits
    /// training split (1500 rows), with batches of `batch` rows.
    pub fn digits(batch: usize) -> Result<Self, SetupError> {
        let (train, _test) = builtin_digits_split();
        Self::new(TrainConfig { batch, ..TrainConfig::default() }, train)
    }

    /// The model, optimizer, batch size and seed of `config` on `train`.
    ///
    /// # Panics
    /// If `config.batch` is 0 or `train` has no rows.
    pub fn new(config: TrainConfig, train: Dataset) -> Result<Self, SetupError> {
        assert!(config.batch > 0 && train.rows() > 0, "empty batch or data");
        let spec = MlpSpec::new(train.n_features, &config.hidden, train.n_classes, config.activation)?;
        let optimizer = config.optimizer();
        let max_batch = config.batch.min(train.rows());
        let bufs = OwnedBuffers::new(&spec, &optimizer, max_batch);
        // The data order of the run's first epoch (NUMERICS.md §8.1, §8.4), used for every epoch.
        let mut order: Vec<u32> = (0..train.rows() as u32).collect();
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(config.seed ^ SHUFFLE_STREAM), &mut order);
        Ok(Self { config, train, spec, optimizer, order, bufs })
    }

    /// Rows per epoch.
    pub fn rows(&self) -> usize {
        self.train.rows()
    }

    /// Training steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.rows().div_ceil(self.config.batch)
    }

    /// A trainer over the fixture's buffers with freshly initialised parameters (the run's
    /// seed), ready to [`Epoch::run`].
    pub fn epoch(&mut self) -> Result<Epoch<'_>, SetupError> {
        let max_batch = self.config.batch.min(self.train.rows());
        let mut trainer = Trainer::new(self.spec.clone(), self.optimizer, max_batch, self.bufs.buffers())?;
        trainer.init_params(self.config.init, &mut Xoshiro128PlusPlus::seed_from_u64(self.config.seed));
        Ok(Epoch { trainer, train: &self.train, order: &self.order, batch: self.config.batch })
    }
}

/// A trainer and the data it trains on, for timing whole epochs.
pub struct Epoch<'f> {
    trainer: Trainer<'f>,
    train: &'f Dataset,
    order: &'f [u32],
    batch: usize,
}

impl Epoch<'_> {
    /// One epoch: a train step for every `batch` rows of the fixed order (the last batch may be
    /// shorter), as `samebits_harness::train::run` does it. Returns the mean batch loss.
    pub fn run<E: Executor>(&mut self, exec: &E) -> Result<f32, NonFinite> {
        let mut loss_sum = 0.0f32;
        let mut batches = 0u32;
        for indices in self.order.chunks(self.batch) {
            let batch = Batch { features: &self.train.features, labels: &self.train.labels, indices };
            loss_sum += self.trainer.train_step(exec, &batch)?;
            batches += 1;
        }
        Ok(loss_sum / batches as f32)
    }

    /// `epochs` epochs, one after another, over the same order (for reaching a later stage of
    /// training before timing). Returns the last epoch's mean batch loss.
    pub fn run_epochs<E: Executor>(&mut self, exec: &E, epochs: u32) -> Result<f32, NonFinite> {
        let mut loss = f32::NAN;
        for _ in 0..epochs {
            loss = self.run(exec)?;
        }
        Ok(loss)
    }

    /// The trainer, for digests or step counts after timing.
    pub fn trainer(&self) -> &Trainer<'_> {
        &self.trainer
    }
}

/// Inputs and outputs for one dense layer over a block of rows.
///
/// Shapes are named `rows × inputs × outputs`: forward is the `rows×inputs · inputs×outputs`
/// product, so every product below is `2 · rows · inputs · outputs` floating-point operations.
pub struct DenseCase {
    pub layer: Dense,
    pub rows: usize,
    /// `rows × inputs`.
    pub x: Vec<f32>,
    /// `inputs × outputs`.
    pub w: Vec<f32>,
    /// `outputs × inputs`, the transpose `backward_input` reads.
    pub wt: Vec<f32>,
    /// `outputs`.
    pub b: Vec<f32>,
    /// `rows × outputs`: forward output.
    pub z: Vec<f32>,
    /// `rows × outputs`: incoming gradient.
    pub dz: Vec<f32>,
    /// `inputs × outputs`.
    pub dw: Vec<f32>,
    /// `outputs`.
    pub db: Vec<f32>,
    /// `rows × inputs`.
    pub dx: Vec<f32>,
}

impl DenseCase {
    /// A layer of `inputs → outputs` over `rows` rows, filled with small deterministic values
    /// in [-0.5, 0.5) (no denormals, no infinities: the timing is that of ordinary numbers).
    pub fn new(rows: usize, inputs: usize, outputs: usize) -> Self {
        let layer = Dense { inputs, outputs };
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(0x00DE_75E0);
        let mut fill = |len: usize| -> Vec<f32> {
            (0..len).map(|_| (rand_core::RngCore::next_u32(&mut rng) >> 8) as f32 / (1u32 << 24) as f32 - 0.5).collect()
        };
        let (x, w, b, dz) = (fill(rows * inputs), fill(inputs * outputs), fill(outputs), fill(rows * outputs));
        let mut wt = vec![0.0; inputs * outputs];
        layer.transpose(&w, &mut wt);
        Self {
            layer,
            rows,
            x,
            w,
            wt,
            b,
            z: vec![0.0; rows * outputs],
            dz,
            dw: vec![0.0; inputs * outputs],
            db: vec![0.0; outputs],
            dx: vec![0.0; rows * inputs],
        }
    }

    /// Multiply-adds counted as two operations: `2 · rows · inputs · outputs`.
    pub fn flops(&self) -> u64 {
        2 * (self.rows * self.layer.inputs * self.layer.outputs) as u64
    }

    /// `z = x·W + b`.
    pub fn forward(&mut self) {
        self.layer.forward(&self.x, &self.w, &self.b, &mut self.z);
    }

    /// `dW = xᵀ·dz`, `db = Σ_r dz` (over all rows as one chunk).
    pub fn backward_params(&mut self) {
        self.layer.backward_params(&self.x, &self.dz, &mut self.dw, &mut self.db);
    }

    /// `dx = dz·Wᵀ`.
    pub fn backward_input(&mut self) {
        self.layer.backward_input(&self.dz, &self.wt, &mut self.dx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samebits::exec::Sequential;

    #[test]
    fn an_epoch_runs_every_row_once_and_stays_finite() {
        let mut fixture = EpochFixture::digits(256).unwrap();
        assert_eq!((fixture.rows(), fixture.steps_per_epoch()), (1500, 6));
        let mut epoch = fixture.epoch().unwrap();
        let first = epoch.run(&Sequential).unwrap();
        let second = epoch.run(&Sequential).unwrap();
        assert!(first.is_finite() && second.is_finite() && second < first, "{first} then {second}");
        assert_eq!(epoch.trainer().steps(), 12);
    }

    #[test]
    fn a_fresh_epoch_is_epoch_one_of_the_default_run() {
        let (train, test) = builtin_digits_split();
        let config = TrainConfig { epochs: 1, ..TrainConfig::default() };
        let want = samebits_harness::train::run(&config, &train, &test, &mut samebits_harness::train::Quiet).unwrap();
        let mut fixture = EpochFixture::digits(config.batch).unwrap();
        let mut epoch = fixture.epoch().unwrap();
        epoch.run(&Sequential).unwrap();
        assert_eq!((epoch.trainer().digest(), epoch.trainer().steps()), (want.digest, want.steps));
        // A second fresh epoch from the same fixture repeats the same work.
        let mut again = fixture.epoch().unwrap();
        again.run(&Sequential).unwrap();
        assert_eq!(again.trainer().digest(), want.digest);
    }

    #[test]
    fn dense_case_shapes() {
        let mut case = DenseCase::new(32, 64, 128);
        assert_eq!(case.flops(), 2 * 32 * 64 * 128);
        case.forward();
        case.backward_params();
        case.backward_input();
        assert!(case.z.iter().chain(&case.dw).chain(&case.db).chain(&case.dx).all(|v| v.is_finite()));
    }
}
