//! Training allocates nothing once it is set up: every buffer, the data order and the
//! executor's threads exist before the first epoch, and whole epochs (training steps and the
//! evaluation after each) then run without touching the heap, on one thread or several.
//!
//! A counting global allocator sees every allocation in the process, on every thread (the
//! executor's pool workers included). Counting is switched on only around the measured
//! epochs; the file holds a single test so that no other test's allocations fall inside that
//! window (the test runner's main thread only waits for it meanwhile). Set `SAMEBITS_ALLOC_TRACE=1` to print the stack of each case's first counted
//! allocation.

use rand_core::SeedableRng;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::exec::Executor;
use samebits::model::{MlpSpec, Trainer};
use samebits::rng::{shuffle, Xoshiro128PlusPlus};
use samebits_harness::buffers::OwnedBuffers;
use samebits_harness::config::{PathKind, TrainConfig};
use samebits_harness::data::{builtin_digits_split, Dataset};
use samebits_harness::executor::{HostExecutor, MIN_PARALLEL_WORK};
use samebits_harness::train::{features_for, train_epoch, EpochStats, SHUFFLE_STREAM};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;

/// `System`, counting allocations (fresh, zeroed and reallocations) while [`COUNTING`] is set.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Whether to print the stack of each case's first counted allocation (read from the environment
/// before counting starts: reading it allocates).
static TRACE: AtomicBool = AtomicBool::new(false);
/// Whether this case's first counted allocation has been printed.
static TRACED: AtomicBool = AtomicBool::new(false);

thread_local! {
    // Set while this thread prints a stack: that printing allocates, and must neither be
    // counted nor recurse into another print. A const initialiser needs no allocation.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

impl CountingAlloc {
    fn count(&self) {
        if !COUNTING.load(Ordering::Relaxed) {
            return;
        }
        // `try_with`: a thread being torn down has no thread-locals left, yet may allocate.
        if IN_TRACE.try_with(Cell::get).unwrap_or(true) {
            return;
        }
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if TRACE.load(Ordering::Relaxed) && !TRACED.swap(true, Ordering::Relaxed) {
            IN_TRACE.with(|t| t.set(true));
            let backtrace = std::backtrace::Backtrace::force_capture();
            let thread = std::thread::current();
            // Straight to stderr, past the test's output capture, which only the test thread has.
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("first allocation in the training loop, on thread {:?}:\n{backtrace}\n", thread.name()),
            );
            IN_TRACE.with(|t| t.set(false));
        }
    }
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Epochs measured per case: enough that anything allocating only now and then (a queue
/// growing by blocks every few dozen tasks, say) shows up too. One in unoptimised builds, where
/// an epoch takes a hundred times longer; the test script runs the optimised build as well.
const EPOCHS: u32 = if cfg!(debug_assertions) { 1 } else { 3 };

fn path_kind<N: Arithmetic>() -> PathKind {
    if N::NAME == Fixed::NAME {
        PathKind::Fixed
    } else {
        PathKind::Float
    }
}

/// An executor of `threads` threads whose workers are all running.
///
/// The pool starts its threads in the background, and a starting thread allocates (its name,
/// its queues); that is set-up, so it is waited for here: one block per thread, each waiting
/// until every thread holds one.
fn started_executor(threads: usize) -> HostExecutor {
    let exec = HostExecutor::new(threads).unwrap();
    let all_here = Barrier::new(threads);
    let mut rows = vec![0u8; threads];
    exec.for_each_row_block(&mut rows, 1, MIN_PARALLEL_WORK, &|_, block| {
        assert_eq!(block.len(), 1, "one row per thread");
        all_here.wait();
    });
    exec
}

/// Allocations during `EPOCHS` epochs of the default model on path `N` with `batch` rows per
/// step on `exec`, set up and run as `samebits_harness::train::run` does on the
/// CPU: per epoch a fresh data order, the training steps, then the test-set evaluation.
fn allocations_in_epochs<N: Arithmetic>(train: &Dataset, test: &Dataset, batch: usize, exec: &HostExecutor) -> usize {
    let config = TrainConfig {
        path: path_kind::<N>(),
        batch,
        threads: exec.threads(),
        epochs: EPOCHS,
        ..TrainConfig::default()
    };
    config.validate().unwrap();
    let train_x = features_for::<N>(train).unwrap();
    let test_x = features_for::<N>(test).unwrap();
    let spec: MlpSpec = MlpSpec::new(train.n_features, &config.hidden, train.n_classes, config.activation).unwrap();
    let optimizer = config.optimizer();
    let max_batch = config.batch.min(train.rows());
    let mut buffers = OwnedBuffers::<N>::new(&Trainer::<N>::sizes(&spec, &optimizer, max_batch)).unwrap();
    let mut trainer = Trainer::<N>::new(spec, optimizer, max_batch, buffers.buffers()).unwrap();
    trainer.init_params(config.init, &mut Xoshiro128PlusPlus::seed_from_u64(config.seed));
    let mut order_rng = Xoshiro128PlusPlus::seed_from_u64(config.seed ^ SHUFFLE_STREAM);
    let mut order: Vec<u32> = Vec::with_capacity(train.rows());
    let mut epochs: Vec<EpochStats> = Vec::with_capacity(config.epochs as usize);
    let mut steps_seen = 0u64;

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    TRACED.store(false, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    for epoch in 1..=config.epochs {
        order.clear();
        order.extend(0..train.rows() as u32);
        shuffle(&mut order_rng, &mut order);
        let mut on_step = |steps| steps_seen = steps;
        let train_loss =
            train_epoch(&mut trainer, exec, &train_x, &train.labels, &order, config.batch, &mut on_step).unwrap();
        let correct = trainer.count_correct(exec, &test_x, &test.labels);
        let test_accuracy = correct as f64 / test.rows() as f64;
        epochs.push(EpochStats { epoch, train_loss, test_accuracy, saturations: trainer.saturations() });
    }
    COUNTING.store(false, Ordering::SeqCst);
    let counted = ALLOCATIONS.load(Ordering::SeqCst) - before;

    // The loop really trained: every step ran and the model learned something (after a single
    // epoch at batch 256 it is at about 39%; chance is 10%).
    assert_eq!(steps_seen, u64::from(EPOCHS) * train.rows().div_ceil(batch) as u64);
    let last = epochs.last().unwrap();
    assert!(last.train_loss.is_finite() && last.test_accuracy > 0.25, "{} path: {last:?}", N::NAME);
    counted
}

#[test]
fn training_epochs_allocate_nothing_after_set_up() {
    TRACE.store(std::env::var_os("SAMEBITS_ALLOC_TRACE").is_some(), Ordering::SeqCst);
    let (train, test) = builtin_digits_split();
    // Both executors live until every case has run: a dropped pool's threads end in the
    // background, and what they free and allocate on the way out would land in a later case.
    let executors = [started_executor(1), started_executor(2)];
    let mut failures = Vec::new();
    // One test function for every case: the counter is global, so cases must not overlap.
    for batch in [32, 256] {
        for exec in &executors {
            let threads = exec.threads();
            let cases = [
                (Float::NAME, allocations_in_epochs::<Float>(&train, &test, batch, exec)),
                (Fixed::NAME, allocations_in_epochs::<Fixed>(&train, &test, batch, exec)),
            ];
            for (path, count) in cases {
                if count != 0 {
                    failures.push(format!(
                        "{path} path, batch {batch}, {threads} thread(s): {count} allocation(s) in {EPOCHS} epochs"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "the training loop allocated after set-up (SAMEBITS_ALLOC_TRACE=1 prints where):\n{}",
        failures.join("\n")
    );
}
