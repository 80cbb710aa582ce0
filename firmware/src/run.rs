//! The training run of `samebits train` (harness/src/train.rs) on one arithmetic path: the same
//! initialisation, data order, batches and kernel calls, over static buffers.

use crate::data::{
    Split, ACTIVATION, BATCH, CLASSES, EPOCHS, FEATURES, HIDDEN, INIT, LAYERS, MAX_BATCH, OPTIMIZER, SEED,
};
use crate::trace::Trace;
use core::fmt;
use rand_core::SeedableRng;
use samebits::arith::Arithmetic;
use samebits::digest::Digest;
use samebits::exec::Sequential;
use samebits::model::{Batch, Buffers, MlpSpec, NonFinite, SetupError, Trainer};
use samebits::rng::{shuffle, Xoshiro128PlusPlus};

/// XOR-ed into the seed for the data-order stream: "SHUFFLE!" in ASCII (NUMERICS.md §8.1; the
/// harness's `train::SHUFFLE_STREAM`).
const SHUFFLE_STREAM: u64 = 0x5348_5546_464C_4521;

/// What a run produced.
pub struct Outcome {
    /// SHA-256 of every parameter's bits (NUMERICS.md §11).
    pub digest: Digest,
    /// Test rows classified correctly after the last epoch.
    pub test_correct: usize,
    /// Values clamped to their fixed-point range (always 0 on the float path).
    pub saturations: u64,
}

/// Why a run stopped.
pub enum Failure {
    Setup(SetupError),
    NonFinite(NonFinite),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Setup(e) => write!(f, "invalid model: {e}"),
            Failure::NonFinite(e) => e.fmt(f),
        }
    }
}

/// Trains on path `N` in `bufs`; `order` (one slot per training row) holds the data order.
/// Every step's record goes to `trace` as soon as the step is done (its end record is the
/// caller's, which also covers a failed setup).
pub fn train<N: Arithmetic>(
    bufs: Buffers<'_, N>,
    data: &Split<N::Act>,
    order: &mut [u32],
    trace: &mut Trace<'_>,
) -> Result<Outcome, Failure> {
    let spec = MlpSpec::<LAYERS>::new(FEATURES, &HIDDEN, CLASSES, ACTIVATION).map_err(Failure::Setup)?;
    let mut trainer = Trainer::<N, LAYERS>::new(spec, OPTIMIZER, MAX_BATCH, bufs).map_err(Failure::Setup)?;
    trainer.init_params(INIT, &mut Xoshiro128PlusPlus::seed_from_u64(SEED));
    let mut order_rng = Xoshiro128PlusPlus::seed_from_u64(SEED ^ SHUFFLE_STREAM);
    let mut test_correct = 0;
    for epoch in 1..=EPOCHS {
        for (i, slot) in (0u32..).zip(order.iter_mut()) {
            *slot = i;
        }
        shuffle(&mut order_rng, order);
        let batches = order.len().div_ceil(BATCH);
        for (i, indices) in order.chunks(BATCH).enumerate() {
            let batch = Batch { features: data.train_x, labels: data.train_y, indices };
            let loss = trainer.train_step(&Sequential, &batch).map_err(Failure::NonFinite)?;
            trace.step::<N>(trainer.steps(), epoch, loss, &trainer, i + 1 == batches);
        }
        // Evaluated after every epoch, as the harness does (it reads the parameters only).
        test_correct = trainer.count_correct(&Sequential, data.test_x, data.test_y);
    }
    Ok(Outcome { digest: trainer.digest(), test_correct, saturations: trainer.saturations() })
}
