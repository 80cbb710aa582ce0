//! Training time of the default model (64-128-64-10 ReLU, SGD lr 0.05 momentum 0.9) on the
//! built-in digits training split (1500 rows). Throughput is in samples (rows) per second.
//!
//! - `epoch/threads{1,2}/batch{32,256}`: one epoch of train steps on the float path. Every
//!   iteration starts from the run's freshly initialised parameters (set-up not timed), so
//!   every iteration does the same work — bit for bit epoch 1 of `samebits train` at that
//!   batch size.
//! - `epoch_fixed/threads1/batch{32,256}`: the same on the fixed path — bit for bit epoch 1 of
//!   `samebits train --path fixed`.
//! - `epoch_trained/threads1/batch{32,256}`: one float epoch after the default run's 20 epochs,
//!   training on (not re-initialised). A converged model produces subnormal numbers, which x86
//!   handles slowly, so these epochs cost more than the first (docs/PERFORMANCE.md).
//! - `run/default`: the whole default run, `samebits_harness::train::run` with
//!   `TrainConfig::default()`: 20 epochs, each reshuffled and followed by the test evaluation.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits_benches::EpochFixture;
use samebits_harness::config::TrainConfig;
use samebits_harness::data::builtin_digits_split;
use samebits_harness::executor::HostExecutor;
use samebits_harness::train::{self, Quiet};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BATCHES: [usize; 2] = [32, 256];

fn id(threads: usize, batch: usize) -> BenchmarkId {
    BenchmarkId::new(format!("threads{threads}"), format!("batch{batch}"))
}

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group
}

/// `threads{threads}/batch{32,256}` on path `N`: one epoch from fresh parameters per iteration.
fn fresh_epochs<N: Arithmetic>(group: &mut BenchmarkGroup<'_, WallTime>, threads: usize) {
    let exec = HostExecutor::new(threads).expect("thread pool");
    for batch in BATCHES {
        let mut fixture = EpochFixture::<N>::digits(batch).expect("default model fits the digits");
        group.throughput(Throughput::Elements(fixture.rows() as u64));
        group.bench_function(id(threads, batch), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let mut epoch = fixture.epoch().expect("buffers sized by Trainer::sizes");
                    let start = Instant::now();
                    black_box(epoch.run(&exec).expect("training stayed finite"));
                    timed += start.elapsed();
                }
                timed
            });
        });
    }
}

fn epoch(c: &mut Criterion) {
    let mut group = group(c, "epoch");
    for threads in [1, 2] {
        fresh_epochs::<Float>(&mut group, threads);
    }
    group.finish();
}

fn epoch_fixed(c: &mut Criterion) {
    let mut group = group(c, "epoch_fixed");
    fresh_epochs::<Fixed>(&mut group, 1);
    group.finish();
}

fn epoch_trained(c: &mut Criterion) {
    let mut group = group(c, "epoch_trained");
    let exec = HostExecutor::new(1).expect("one thread");
    for batch in BATCHES {
        let mut fixture = EpochFixture::<Float>::digits(batch).expect("default model fits the digits");
        group.throughput(Throughput::Elements(fixture.rows() as u64));
        let mut epoch = fixture.epoch().expect("buffers sized by Trainer::sizes");
        epoch.run_epochs(&exec, TrainConfig::default().epochs).expect("training stayed finite");
        group.bench_function(id(1, batch), |b| {
            b.iter(|| black_box(epoch.run(&exec).expect("training stayed finite")));
        });
    }
    group.finish();
}

fn run(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let config = TrainConfig::default();
    let (train, test) = builtin_digits_split();
    group.throughput(Throughput::Elements((train.rows() * config.epochs as usize) as u64));
    group.bench_function("default", |b| {
        b.iter(|| black_box(train::run(&config, &train, &test, &mut Quiet).expect("the default run trains")));
    });
    group.finish();
}

criterion_group!(benches, epoch, epoch_fixed, epoch_trained, run);
criterion_main!(benches);
