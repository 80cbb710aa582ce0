//! Training time on an OpenCL device (PoCL on the CPU when nothing else is installed): one
//! epoch of the default model (64-128-64-10 ReLU, SGD lr 0.05 momentum 0.9) on the built-in
//! digits training split (1500 rows), every step on the device
//! (`samebits_harness::opencl::OpenClTrainer`). Throughput is in samples (rows) per second.
//!
//! - `epoch_opencl/float/batch{32,256}` and `epoch_opencl/fixed/batch{32,256}`: each iteration
//!   starts from the run's freshly initialised parameters (uploaded, not timed) and runs the
//!   first epoch's order, so it is bit for bit epoch 1 of `samebits train --device opencl`.
//!
//! Without an OpenCL device the benchmark says why and measures nothing.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use rand_core::SeedableRng;
use samebits::arith::{Fixed, Float};
use samebits::model::{MlpSpec, Trainer};
use samebits::rng::{shuffle, Xoshiro128PlusPlus};
use samebits_harness::buffers::OwnedBuffers;
use samebits_harness::config::TrainConfig;
use samebits_harness::data::builtin_digits_split;
use samebits_harness::opencl::{DevicePath, Gpu, OpenClTrainer};
use samebits_harness::train::{features_for, SHUFFLE_STREAM};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BATCHES: [usize; 2] = [32, 256];

/// `{path}/batch{32,256}` on path `N`.
fn epochs<N: DevicePath>(group: &mut BenchmarkGroup<'_, WallTime>, gpu: &Gpu) {
    let (train, _) = builtin_digits_split();
    let features = features_for::<N>(&train).expect("the digits fit both paths");
    for batch in BATCHES {
        let config = TrainConfig { batch, ..TrainConfig::default() };
        let spec: MlpSpec = MlpSpec::new(train.n_features, &config.hidden, train.n_classes, config.activation)
            .expect("the default model");
        let optimizer = config.optimizer();
        let max_batch = batch.min(train.rows());
        // The run's initial parameters, from the CPU trainer's initialisation.
        let mut bufs = OwnedBuffers::<N>::new(&Trainer::<N>::sizes(&spec, &optimizer, max_batch)).expect("memory");
        let mut cpu = Trainer::<N>::new(spec.clone(), optimizer, max_batch, bufs.buffers()).expect("buffers");
        cpu.init_params(config.init, &mut Xoshiro128PlusPlus::seed_from_u64(config.seed));
        let mut device = OpenClTrainer::<N>::new(gpu, spec, optimizer, max_batch).expect("the program builds");
        device.load_data(&features, &train.labels).expect("upload");
        let mut order: Vec<u32> = (0..train.rows() as u32).collect();
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(config.seed ^ SHUFFLE_STREAM), &mut order);
        group.throughput(Throughput::Elements(train.rows() as u64));
        group.bench_function(BenchmarkId::new(N::NAME, format!("batch{batch}")), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    device.set_params(cpu.params()).expect("upload");
                    let start = Instant::now();
                    black_box(device.train_epoch(&order, batch, &mut |_| {}).expect("training stayed finite"));
                    timed += start.elapsed();
                }
                timed
            });
        });
    }
}

fn epoch_opencl(c: &mut Criterion) {
    let gpu = match Gpu::open(None) {
        Ok(gpu) => gpu,
        Err(e) => {
            eprintln!("epoch_opencl: skipped: {e}");
            return;
        }
    };
    eprintln!("epoch_opencl: device {}", gpu.info());
    let mut group = c.benchmark_group("epoch_opencl");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    epochs::<Float>(&mut group, &gpu);
    epochs::<Fixed>(&mut group, &gpu);
    group.finish();
}

criterion_group!(benches, epoch_opencl);
criterion_main!(benches);
