//! Short golden training runs: a few steps of a tiny model on both arithmetic paths, each
//! ending in constants that must be the same bits on every platform.
//!
//! The full-size goldens (tests/src/golden.rs) train for 20 epochs on the digits, far too long
//! for miri; these take well under a second natively and are small enough for miri, which runs
//! them on x86_64 (with the SSE2 product loops of `linalg/simd/`) and on big-endian s390x
//! (`scripts/matrix-miri.sh`).
//! Everything comes from the kernel alone: the data are drawn from its generator, so no file
//! and no float formatting or parsing is involved.
//!
//! Each run also goes through an executor that cuts the work into small blocks and runs them in
//! reverse order: NUMERICS.md §5 says that no split changes a bit, so it must give the same
//! constants. (It stays on one thread: the harness's tests run the threaded executor, and under
//! miri a second thread makes every later memory access cost a race check.)

use rand_core::SeedableRng;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::exec::{row_count, Executor, RowTask, Sequential};
use samebits::layers::Activation;
use samebits::model::{Batch, Buffers, Init, MlpSpec, Trainer};
use samebits::optim::{Adam, Optimizer, Sgd};
use samebits::rng::{shuffle, unit_f32, Xoshiro128PlusPlus};

/// Model shape: 8 inputs, 6 hidden units, 3 classes.
const INPUTS: usize = 8;
const HIDDEN: usize = 6;
const CLASSES: usize = 3;
/// 28 rows in batches of 18: every epoch has a batch of two reduction chunks (16 + 2 rows,
/// NUMERICS.md §5.2) and a shorter last batch of 10 rows (large enough that the fixed path's
/// gradients of the mean loss fit their operand format, NUMERICS.md §13.2: no saturations).
const ROWS: usize = 28;
const BATCH: usize = 18;
/// 2 epochs of 2 steps.
const EPOCHS: usize = 2;
/// XOR-ed into a run's seed for its data-order stream, as in the harness (NUMERICS.md §8.1).
const SHUFFLE_STREAM: u64 = 0x5348_5546_464C_4521;
/// Seed of the data set (the same for every run).
const DATA_SEED: u64 = 2024;

/// One short run: the model's activation, its initialisation, the optimizer and the seed.
struct Case {
    activation: Activation,
    init: Init,
    optimizer: Optimizer,
    seed: u64,
    /// Whether miri also runs it scattered (natively every case is): miri interprets every
    /// operation, and one scattered case per path is enough to check the split there.
    scattered_under_miri: bool,
}

const SGD_TANH: Case = Case {
    activation: Activation::Tanh,
    init: Init::GlorotUniform,
    optimizer: Optimizer::Sgd(Sgd { lr: 0.1, momentum: 0.9, weight_decay: 1.0e-3 }),
    seed: 42,
    scattered_under_miri: true,
};

const ADAM_RELU: Case = Case {
    activation: Activation::Relu,
    init: Init::HeUniform,
    optimizer: Optimizer::Adam(Adam { weight_decay: 1.0e-3, ..Adam::with_lr(0.01) }),
    seed: 7,
    scattered_under_miri: false,
};

const SGD_SIGMOID: Case = Case {
    activation: Activation::Sigmoid,
    init: Init::GlorotUniform,
    optimizer: Optimizer::Sgd(Sgd { lr: 0.5, momentum: 0.0, weight_decay: 0.0 }),
    seed: 3,
    scattered_under_miri: false,
};

/// What a run must reproduce, bit for bit.
#[derive(PartialEq, Eq)]
struct Outcome {
    /// SHA-256 of the parameters after the last step (NUMERICS.md §11), as hex.
    digest: String,
    /// Bits of the last step's batch loss, as f64 (exact for both paths' loss formats).
    last_loss_bits: u64,
    /// Training rows classified correctly after the last step.
    correct: usize,
    /// Values clamped to their format's range (fixed point; 0 on the float path).
    saturations: u64,
}

impl std::fmt::Debug for Outcome {
    // The loss bits in hex, as the constants below are written, and the value they stand for.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Outcome { digest, last_loss_bits: loss, correct, saturations } = self;
        let value = f64::from_bits(*loss);
        write!(f, "outcome(\"{digest}\", {loss:#018x} /* {value} */, {correct}, {saturations})")
    }
}

/// The data set: features uniform in [−2, 2) from the kernel's generator (multiples of 2^−22;
/// the fixed path rounds them to its input grid, NUMERICS.md §13.1), and as label the class
/// `c` whose `x[2c] − x[2c+1]` is largest (the first on ties), so that there is something to
/// learn.
fn data() -> (Vec<f32>, Vec<u32>) {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(DATA_SEED);
    let features: Vec<f32> =
        (0..ROWS * INPUTS).map(|_| 4.0 * unit_f32(rand_core::RngCore::next_u32(&mut rng)) - 2.0).collect();
    let labels = features
        .chunks_exact(INPUTS)
        .map(|x| {
            let score = |c: usize| x[2 * c] - x[2 * c + 1];
            (1..CLASSES).fold(0, |best, c| if score(c) > score(best) { c } else { best }) as u32
        })
        .collect();
    (features, labels)
}

/// Trains `case` on path `N` with `exec`: the harness's run in miniature (NUMERICS.md §9).
fn run<N: Arithmetic, E: Executor>(case: &Case, exec: &E) -> Outcome {
    let (features, labels) = data();
    let features: Vec<N::Act> =
        features.iter().map(|&x| N::act_from_f32(x).expect("inputs are inside both paths' range")).collect();
    let spec: MlpSpec = MlpSpec::new(INPUTS, &[HIDDEN], CLASSES, case.activation).unwrap();
    let sizes = Trainer::<N>::sizes(&spec, &case.optimizer, BATCH);
    let mut params = vec![N::Param::default(); sizes.params];
    let mut grads = vec![N::Param::default(); sizes.grads];
    let mut opt_state = vec![N::Param::default(); sizes.opt_state];
    let mut act_scratch = vec![N::Act::default(); sizes.act_scratch];
    let mut param_scratch = vec![N::Param::default(); sizes.param_scratch];
    let mut acc_scratch = vec![N::Acc::default(); sizes.acc_scratch];
    let mut operand_scratch = vec![N::Operand::default(); sizes.operand_scratch];
    let bufs = Buffers {
        params: &mut params,
        grads: &mut grads,
        opt_state: &mut opt_state,
        act_scratch: &mut act_scratch,
        param_scratch: &mut param_scratch,
        acc_scratch: &mut acc_scratch,
        operand_scratch: &mut operand_scratch,
    };
    let mut trainer = Trainer::<N>::new(spec, case.optimizer, BATCH, bufs).unwrap();
    trainer.init_params(case.init, &mut Xoshiro128PlusPlus::seed_from_u64(case.seed));
    let mut order_rng = Xoshiro128PlusPlus::seed_from_u64(case.seed ^ SHUFFLE_STREAM);
    let mut last_loss = None;
    for _ in 0..EPOCHS {
        let mut order: Vec<u32> = (0..ROWS as u32).collect();
        shuffle(&mut order_rng, &mut order);
        for indices in order.chunks(BATCH) {
            let batch = Batch { features: &features, labels: &labels, indices };
            last_loss = Some(trainer.train_step(exec, &batch).expect("a finite step"));
        }
    }
    assert_eq!(trainer.steps(), (EPOCHS * ROWS.div_ceil(BATCH)) as u64);
    let last_loss_bits = N::act_to_f64(last_loss.unwrap()).to_bits();
    let correct = trainer.count_correct(exec, &features, &labels);
    Outcome { digest: trainer.digest().to_string(), last_loss_bits, correct, saturations: trainer.saturations() }
}

/// Cuts the work into blocks of at most [`Scattered::BLOCK`] rows and runs them from the last
/// one back.
struct Scattered;

impl Scattered {
    const BLOCK: usize = 3;
}

impl Executor for Scattered {
    fn for_each_row_block2<A: Send, B: Send>(
        &self,
        a: &mut [A],
        a_row: usize,
        b: &mut [B],
        b_row: usize,
        _work_per_row: usize,
        task: &RowTask<'_, A, B>,
    ) {
        let (mut a_rest, mut b_rest) = (a, b);
        let mut end = row_count(a_rest, a_row, b_rest, b_row);
        while end > 0 {
            let start = end.saturating_sub(Self::BLOCK);
            let (a_head, a_block) = std::mem::take(&mut a_rest).split_at_mut(start * a_row);
            let (b_head, b_block) = std::mem::take(&mut b_rest).split_at_mut(start * b_row);
            (a_rest, b_rest) = (a_head, b_head);
            task(start, a_block, b_block);
            end = start;
        }
    }
}

/// Runs `case` on path `N` on one thread and scattered, and checks both against `want`.
fn check<N: Arithmetic>(case: &Case, want: &Outcome) {
    assert_eq!(&run::<N, _>(case, &Sequential), want, "{} path, one block", N::NAME);
    if !cfg!(miri) || case.scattered_under_miri {
        assert_eq!(&run::<N, _>(case, &Scattered), want, "{} path, scattered blocks", N::NAME);
    }
}

/// `Outcome` from its parts, to keep the constants below one line each.
fn outcome(digest: &str, last_loss_bits: u64, correct: usize, saturations: u64) -> Outcome {
    Outcome { digest: digest.into(), last_loss_bits, correct, saturations }
}

// The constants below were recorded from a native run of `cargo test -p samebits --test
// short_goldens` on x86_64 Linux (each printed by the failing assertion of a first run with
// placeholders) and are asserted unchanged under miri on x86_64 and s390x. The fixed-point Adam
// run clamps 5 values to their format's range (counted, NUMERICS.md §13.3): that count must
// reproduce too.

#[test]
fn float_sgd_tanh() {
    check::<Float>(
        &SGD_TANH,
        &outcome("1a406bef19b9a52684cd061b614bdf700d3d3a4864ed44cbd225d6a71b3c40a1", 0x3ff2_55af_6000_0000, 15, 0),
    );
}

#[test]
fn float_adam_relu() {
    check::<Float>(
        &ADAM_RELU,
        &outcome("94ed20a3597bd9fa6fdbe046ebb6ad71c4edfbfe8f90fba8d709846de5f88169", 0x4001_13a8_a000_0000, 11, 0),
    );
}

#[test]
#[cfg_attr(miri, ignore)] // Time: under miri the other runs cover the same step; the sigmoid has unit tests.
fn float_sgd_sigmoid() {
    check::<Float>(
        &SGD_SIGMOID,
        &outcome("ea054861cdbc50c8ea0b7e5184627d2a06c514f59b634039377b67f18129765a", 0x3ff0_901a_a000_0000, 15, 0),
    );
}

#[test]
fn fixed_sgd_tanh() {
    check::<Fixed>(
        &SGD_TANH,
        &outcome("2aa35736324d0815cac393bbc9ad4ea8a6826b35a536a069bf964901de150174", 0x3ff2_5740_0000_0000, 15, 0),
    );
}

#[test]
fn fixed_adam_relu() {
    check::<Fixed>(
        &ADAM_RELU,
        &outcome("c2f1e1062cda1a4cab5dc5ba3ed0d3a19c509813b25c3438d110c93f4d34a113", 0x4001_1520_0000_0000, 11, 5),
    );
}

#[test]
#[cfg_attr(miri, ignore)] // Time: under miri the other runs cover the same step; the sigmoid has unit tests.
fn fixed_sgd_sigmoid() {
    check::<Fixed>(
        &SGD_SIGMOID,
        &outcome("8c591dfa341f98843d268dac07ee697599c6574acd3ed4c97dcb2c2ea4c6aab4", 0x3ff0_9020_0000_0000, 15, 0),
    );
}
