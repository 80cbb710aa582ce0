//! Dense-layer products, in floating-point operations per second: criterion's "elem/s" is
//! FLOP/s here (each multiply-add counted as 2), so "Gelem/s" reads as GFLOP/s.
//!
//! `forward` is `z = x·W + b` at 32×64×128 (a batch of 32 through the default model's first
//! layer, 64 → 128) and at 256×256×256; `backward_params` (`dW = xᵀ·dz`, `db`) and
//! `backward_input` (`dx = dz·Wᵀ`) are at 32×64×128. Shapes are rows × inputs × outputs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use samebits_benches::DenseCase;
use std::hint::black_box;
use std::time::Duration;

fn name(rows: usize, inputs: usize, outputs: usize) -> String {
    format!("{rows}x{inputs}x{outputs}")
}

fn dense(c: &mut Criterion) {
    let mut group = c.benchmark_group("dense");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    for (rows, inputs, outputs) in [(32, 64, 128), (256, 256, 256)] {
        let mut case = DenseCase::new(rows, inputs, outputs);
        group.throughput(Throughput::Elements(case.flops()));
        group.bench_function(BenchmarkId::new("forward", name(rows, inputs, outputs)), |b| {
            b.iter(|| {
                case.forward();
                black_box(&case.z);
            })
        });
    }
    let (rows, inputs, outputs) = (32, 64, 128);
    let mut case = DenseCase::new(rows, inputs, outputs);
    group.throughput(Throughput::Elements(case.flops()));
    group.bench_function(BenchmarkId::new("backward_params", name(rows, inputs, outputs)), |b| {
        b.iter(|| {
            case.backward_params();
            black_box((&case.dw, &case.db));
        })
    });
    group.bench_function(BenchmarkId::new("backward_input", name(rows, inputs, outputs)), |b| {
        b.iter(|| {
            case.backward_input();
            black_box(&case.dx);
        })
    });
    group.finish();
}

criterion_group!(benches, dense);
criterion_main!(benches);
