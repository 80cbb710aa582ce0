//! Set-up shared by `samebits bench` and the criterion benchmarks (`benches/`).
//!
//! Everything here happens outside the timed loop: loading data, converting it to the
//! arithmetic path's input format, sizing and zeroing buffers, initialising parameters,
//! shuffling the data order and filling inputs. The timed bodies are [`Epoch::run`] (one epoch
//! of [`Trainer::train_step`] calls, exactly as [`crate::train::run`] drives them, without the
//! evaluation after the epoch) and the single [`Dense`] products of [`DenseCase`]. Both are
//! generic over the arithmetic path ([`Float`] or [`Fixed`]).
//!
//! [`EpochFixture::epoch`] starts from the run's initial parameters, and the fixture's data
//! order is that of the run's first epoch, so one [`Epoch::run`] on a fresh epoch does exactly
//! the work (and produces exactly the bits) of epoch 1 of `samebits train` with the same
//! configuration and path. Training on from there is possible, but on the float path the work
//! per epoch is not constant: as the model converges, subnormal numbers appear (NUMERICS.md §10
//! keeps them) and x86 CPUs handle those slowly, so later epochs take longer
//! (docs/PERFORMANCE.md). [`Epoch::run`] returns the kernel's error if training ever produced
//! NaN or infinity (never on the fixed path, which saturates instead).

use crate::buffers::OwnedBuffers;
use crate::config::{PathKind, TrainConfig};
use crate::data::{builtin_digits_split, Dataset};
use crate::train::{features_for, train_epoch, RunError, SHUFFLE_STREAM};
use rand_core::SeedableRng;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::exec::Executor;
use samebits::fixed::narrow::Saturations;
use samebits::layers::Dense;
use samebits::linalg::VectorUnit;
use samebits::model::{MlpSpec, NonFinite, SetupError, Trainer};
use samebits::optim::Optimizer;
use samebits::rng::{shuffle, Xoshiro128PlusPlus};

/// The [`PathKind`] that selects arithmetic path `N` in a [`TrainConfig`].
pub fn path_kind<N: Arithmetic>() -> PathKind {
    if N::NAME == Fixed::NAME {
        PathKind::Fixed
    } else {
        PathKind::Float
    }
}

/// Everything one epoch of training on path `N` needs, owned: the training data (its features
/// in `N`'s input format), the model, buffers and the data order of the run's first epoch.
pub struct EpochFixture<N: Arithmetic = Float> {
    config: TrainConfig,
    train: Dataset,
    features: Vec<N::Act>,
    spec: MlpSpec,
    optimizer: Optimizer,
    order: Vec<u32>,
    bufs: OwnedBuffers<N>,
}

impl<N: Arithmetic> EpochFixture<N> {
    /// The default run's model and optimizer (`TrainConfig::default()` on path `N`) on the
    /// built-in digits training split (1500 rows), with batches of `batch` rows.
    pub fn digits(batch: usize) -> Result<Self, RunError> {
        let (train, _test) = builtin_digits_split();
        Self::new(TrainConfig { path: path_kind::<N>(), batch, ..TrainConfig::default() }, train)
    }

    /// The model, optimizer, batch size and seed of `config` on `train`. `config.path` must
    /// name `N`.
    ///
    /// # Panics
    /// If `config.batch` is 0 or `train` has no rows.
    pub fn new(config: TrainConfig, train: Dataset) -> Result<Self, RunError> {
        assert!(config.batch > 0 && train.rows() > 0, "empty batch or data");
        if config.path != path_kind::<N>() {
            return Err(RunError::Other(format!(
                "the configuration names the {:?} path; this fixture runs the {} path",
                config.path,
                N::NAME
            )));
        }
        config.validate().map_err(RunError::Other)?;
        let features = features_for::<N>(&train).map_err(|(row, col, x)| {
            RunError::Other(format!("row {row}, column {col}: value {x} is outside the {} path's input range", N::NAME))
        })?;
        // Owned: the fixture keeps `train` too, and a borrow of it could not be stored beside it.
        let features = features.into_owned();
        let spec = MlpSpec::new(train.n_features, &config.hidden, train.n_classes, config.activation)
            .map_err(RunError::Setup)?;
        let optimizer = config.optimizer();
        let max_batch = config.batch.min(train.rows());
        let bufs =
            OwnedBuffers::<N>::new(&Trainer::<N>::sizes(&spec, &optimizer, max_batch)).map_err(RunError::Other)?;
        // The data order of the run's first epoch (NUMERICS.md §8.1, §8.4), used for every epoch.
        let mut order: Vec<u32> = (0..train.rows() as u32).collect();
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(config.seed ^ SHUFFLE_STREAM), &mut order);
        Ok(Self { config, train, features, spec, optimizer, order, bufs })
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
    pub fn epoch(&mut self) -> Result<Epoch<'_, N>, SetupError> {
        let max_batch = self.config.batch.min(self.train.rows());
        let mut trainer = Trainer::<N>::new(self.spec.clone(), self.optimizer, max_batch, self.bufs.buffers())?;
        trainer.init_params(self.config.init, &mut Xoshiro128PlusPlus::seed_from_u64(self.config.seed));
        Ok(Epoch {
            trainer,
            features: &self.features,
            labels: &self.train.labels,
            order: &self.order,
            batch: self.config.batch,
        })
    }
}

/// A trainer and the data it trains on, for timing whole epochs.
pub struct Epoch<'f, N: Arithmetic = Float> {
    trainer: Trainer<'f, N>,
    features: &'f [N::Act],
    labels: &'f [u32],
    order: &'f [u32],
    batch: usize,
}

impl<'f, N: Arithmetic> Epoch<'f, N> {
    /// One epoch: a train step for every `batch` rows of the fixed order (the last batch may be
    /// shorter), as `crate::train::run` does it. Returns the mean batch loss (summed
    /// in f64 in batch order, as the harness reports it).
    pub fn run<E: Executor>(&mut self, exec: &E) -> Result<f64, NonFinite> {
        train_epoch(&mut self.trainer, exec, self.features, self.labels, self.order, self.batch, &mut |_| {})
    }

    /// `epochs` epochs, one after another, over the same order (for reaching a later stage of
    /// training before timing). Returns the last epoch's mean batch loss.
    pub fn run_epochs<E: Executor>(&mut self, exec: &E, epochs: u32) -> Result<f64, NonFinite> {
        let mut loss = f64::NAN;
        for _ in 0..epochs {
            loss = self.run(exec)?;
        }
        Ok(loss)
    }

    /// The trainer, for digests or step counts after timing.
    pub fn trainer(&self) -> &Trainer<'f, N> {
        &self.trainer
    }
}

/// Inputs and outputs for one dense layer over a block of rows, on path `N`.
///
/// Shapes are named `rows × inputs × outputs`: forward is the `rows×inputs · inputs×outputs`
/// product, so every product below is `2 · rows · inputs · outputs` arithmetic operations
/// (floating-point on the float path, integer on the fixed path).
pub struct DenseCase<N: Arithmetic = Float> {
    pub layer: Dense,
    pub rows: usize,
    /// `rows × inputs`, as product operands (NUMERICS.md §13.2; the values on the float path).
    pub x: Vec<N::Operand>,
    /// `inputs × outputs`, as product operands.
    pub w: Vec<N::Operand>,
    /// `outputs × inputs`, the transpose of `w` that `backward_input` reads.
    pub wt: Vec<N::Operand>,
    /// `outputs`.
    pub b: Vec<N::Param>,
    /// `rows × outputs`: forward output.
    pub z: Vec<N::Act>,
    /// `rows × outputs`: incoming gradient.
    pub dz: Vec<N::Param>,
    /// `dz` as product operands.
    pub dz_ops: Vec<N::Operand>,
    /// `inputs × outputs`: weight-gradient partial sums (accumulator format).
    pub dw: Vec<N::Acc>,
    /// `outputs`: bias-gradient partial sums (accumulator format).
    pub db: Vec<N::Acc>,
    /// `rows × inputs`.
    pub dx: Vec<N::Param>,
    /// Values clamped to their range (fixed point; always 0 on the float path).
    pub sat: Saturations,
}

impl<N: Arithmetic> DenseCase<N> {
    /// A layer of `inputs → outputs` over `rows` rows, filled with small deterministic values
    /// in [-0.5, 0.5), the incoming gradient in [-0.1, 0.1) (no denormals, no infinities, no
    /// saturation: the timing is that of ordinary numbers).
    ///
    /// Each value is `u − 0.5` for `u = (word >> 8) · 2⁻²⁴` from one generator word: parameters
    /// through the path's weight initialisation with limit `init_limit(24) = sqrt(6/24) = 0.5`
    /// (`(2u − 1) · 0.5`, exact on both paths), inputs from the same f32 value; the gradient
    /// with limit `init_limit(600) = 0.1`, inside the fixed path's delta operand range (±1/8).
    /// Operands are converted once, here, not in the timed calls.
    pub fn new(rows: usize, inputs: usize, outputs: usize) -> Self {
        let layer = Dense { inputs, outputs };
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(0x00DE_75E0);
        let half = N::init_limit(24);
        let tenth = N::init_limit(600);
        let mut words = |len: usize| -> Vec<u32> { (0..len).map(|_| rand_core::RngCore::next_u32(&mut rng)).collect() };
        let act = |word: u32| {
            let x = (word >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            N::act_from_f32(x).expect("values in [-0.5, 0.5) are in every path's input range")
        };
        let param = |word: u32| N::init_weight(word, half);
        // Drawn in the order x, w, b, dz, as before the benchmarks became generic.
        let sat = Saturations::new();
        let x = words(rows * inputs).into_iter().map(|word| N::act_operand(act(word), &sat)).collect();
        let w: Vec<N::Operand> =
            words(inputs * outputs).into_iter().map(|word| N::weight_operand(param(word), &sat)).collect();
        let b = words(outputs).into_iter().map(param).collect();
        let dz: Vec<N::Param> = words(rows * outputs).into_iter().map(|word| N::init_weight(word, tenth)).collect();
        let dz_ops = dz.iter().map(|d| N::delta_operand(*d, &sat)).collect();
        assert_eq!(sat.get(), 0, "benchmark values saturate");
        let mut wt = vec![N::Operand::default(); inputs * outputs];
        layer.transpose(&w, &mut wt);
        Self {
            layer,
            rows,
            x,
            w,
            wt,
            b,
            z: vec![N::Act::default(); rows * outputs],
            dz,
            dz_ops,
            dw: vec![N::acc_zero(); inputs * outputs],
            db: vec![N::acc_zero(); outputs],
            dx: vec![N::Param::default(); rows * inputs],
            sat,
        }
    }

    /// Multiply-adds counted as two operations: `2 · rows · inputs · outputs`.
    pub fn flops(&self) -> u64 {
        2 * (self.rows * self.layer.inputs * self.layer.outputs) as u64
    }

    /// `z = x·W + b` on `unit`.
    pub fn forward(&mut self, unit: VectorUnit) {
        self.layer.forward::<N>(unit, &self.x, &self.w, &self.b, &mut self.z, &self.sat);
    }

    /// `dW = xᵀ·dz`, `db = Σ_r dz` (over all rows as one chunk, left in the accumulator format).
    pub fn backward_params(&mut self, unit: VectorUnit) {
        self.layer.backward_params::<N>(unit, &self.x, &self.dz_ops, &self.dz, &mut self.dw, &mut self.db);
    }

    /// `dx = dz·Wᵀ`.
    pub fn backward_input(&mut self, unit: VectorUnit) {
        self.layer.backward_input::<N>(unit, &self.dz_ops, &self.wt, &mut self.dx, &self.sat);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samebits::exec::Sequential;

    fn an_epoch_runs_every_row_once<N: Arithmetic>() {
        let mut fixture = EpochFixture::<N>::digits(256).unwrap();
        assert_eq!((fixture.rows(), fixture.steps_per_epoch()), (1500, 6));
        let mut epoch = fixture.epoch().unwrap();
        let first = epoch.run(&Sequential).unwrap();
        let second = epoch.run(&Sequential).unwrap();
        assert!(first.is_finite() && second.is_finite() && second < first, "{}: {first} then {second}", N::NAME);
        assert_eq!(epoch.trainer().steps(), 12);
    }

    #[test]
    fn an_epoch_runs_every_row_once_and_stays_finite() {
        an_epoch_runs_every_row_once::<Float>();
    }

    #[test]
    fn a_fixed_epoch_runs_every_row_once_and_learns() {
        an_epoch_runs_every_row_once::<Fixed>();
    }

    fn a_fresh_epoch_is_epoch_one_of_the_run<N: Arithmetic>() {
        let (train, test) = builtin_digits_split();
        let config = TrainConfig { path: path_kind::<N>(), epochs: 1, ..TrainConfig::default() };
        let want = crate::train::run(&config, &train, &test, &mut crate::train::Quiet).unwrap();
        let mut fixture = EpochFixture::<N>::digits(config.batch).unwrap();
        let mut epoch = fixture.epoch().unwrap();
        epoch.run(&Sequential).unwrap();
        assert_eq!((epoch.trainer().digest(), epoch.trainer().steps()), (want.digest, want.steps), "{}", N::NAME);
        assert_eq!(epoch.trainer().saturations(), want.saturations);
        // A second fresh epoch from the same fixture repeats the same work.
        let mut again = fixture.epoch().unwrap();
        again.run(&Sequential).unwrap();
        assert_eq!(again.trainer().digest(), want.digest);
    }

    #[test]
    fn a_fresh_epoch_is_epoch_one_of_the_default_run() {
        a_fresh_epoch_is_epoch_one_of_the_run::<Float>();
    }

    #[test]
    fn a_fresh_fixed_epoch_is_epoch_one_of_the_fixed_run() {
        a_fresh_epoch_is_epoch_one_of_the_run::<Fixed>();
    }

    #[test]
    fn the_fixture_refuses_a_config_for_the_other_path() {
        let (train, _) = builtin_digits_split();
        let fixed = TrainConfig { path: PathKind::Fixed, ..TrainConfig::default() };
        assert!(matches!(EpochFixture::<Float>::new(fixed, train.clone()), Err(RunError::Other(_))));
        assert!(matches!(EpochFixture::<Fixed>::new(TrainConfig::default(), train), Err(RunError::Other(_))));
    }

    #[test]
    fn dense_case_shapes() {
        let mut case = DenseCase::<Float>::new(32, 64, 128);
        assert_eq!(case.flops(), 2 * 32 * 64 * 128);
        case.forward(VectorUnit::baseline());
        case.backward_params(VectorUnit::baseline());
        case.backward_input(VectorUnit::baseline());
        assert!(case.z.iter().chain(&case.dw).chain(&case.db).chain(&case.dx).all(|v| v.is_finite()));
    }

    #[test]
    fn dense_case_float_values_are_the_old_ones() {
        // The values of the float benchmark before it became generic: u − 0.5 for every word.
        let (rows, inputs, outputs) = (4, 8, 16);
        let case = DenseCase::<Float>::new(rows, inputs, outputs);
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(0x00DE_75E0);
        let mut fill = |len: usize| -> Vec<u32> {
            (0..len)
                .map(|_| ((rand_core::RngCore::next_u32(&mut rng) >> 8) as f32 / (1u32 << 24) as f32 - 0.5).to_bits())
                .collect()
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&case.x), fill(rows * inputs));
        assert_eq!(bits(&case.w), fill(inputs * outputs));
        assert_eq!(bits(&case.b), fill(outputs));
        let tenth = |u: u32| (f32::from_bits(u) + 0.5) * 2.0 - 1.0;
        let want_dz: Vec<u32> =
            fill(rows * outputs).into_iter().map(|u| (tenth(u) * Float::init_limit(600)).to_bits()).collect();
        assert_eq!(bits(&case.dz), want_dz);
    }

    #[test]
    fn dense_case_fixed_matches_float_without_saturating() {
        let (rows, inputs, outputs) = (32, 64, 128);
        let mut fixed = DenseCase::<Fixed>::new(rows, inputs, outputs);
        let mut float = DenseCase::<Float>::new(rows, inputs, outputs);
        // Weight operands are Q1.10: within half a step (2⁻¹¹) of the float values.
        for (a, b) in fixed.w.iter().zip(&float.w) {
            assert!((*a as f64 / 1024.0 - *b as f64).abs() <= 1.0 / 2048.0, "{a} vs {b}");
        }
        fixed.forward(VectorUnit::baseline());
        fixed.backward_params(VectorUnit::baseline());
        fixed.backward_input(VectorUnit::baseline());
        float.forward(VectorUnit::baseline());
        assert_eq!(fixed.sat.get(), 0);
        // Inputs and weights (|v| < 0.5) rounded to 2⁻¹⁰ steps: each of the 64 products is
        // within 2⁻¹¹ of the float one, so the output within 64 · 2⁻¹¹ plus the roundings.
        for (a, b) in fixed.z.iter().zip(&float.z) {
            assert!((Fixed::act_to_f64(*a) - *b as f64).abs() < 0.032, "{a} vs {b}");
        }
    }
}
