//! Dense-layer products, in arithmetic operations per second: criterion's "elem/s" is
//! operations per second here (each multiply-add counted as 2), so "Gelem/s" reads as GFLOP/s
//! on the float path and as GOP/s (integer operations) on the fixed path.
//!
//! - `dense/forward` is `z = x·W + b` at 32×64×128 (a batch of 32 through the default model's
//!   first layer, 64 → 128) and at 256×256×256; `dense/backward_params` (`dW = xᵀ·dz`, `db`)
//!   and `dense/backward_input` (`dx = dz·Wᵀ`) are at 32×64×128. All on the float path.
//! - `dense_fixed/forward`: the same two forward products on the fixed path (16-bit operands
//!   converted once, outside the timing; exact sums, one narrowing per output).
//!
//! All on the widest vector unit this processor has (as training by default); `gemm` has each unit.
//!
//! Shapes are rows × inputs × outputs.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::linalg::VectorUnit;
use samebits_benches::DenseCase;
use samebits_harness::executor::available_vector_units;
use std::hint::black_box;
use std::time::Duration;

/// The widest vector unit this processor has, as training uses by default.
fn widest() -> VectorUnit {
    *available_vector_units().last().expect("the portable unit is always available")
}

const FORWARD_SHAPES: [(usize, usize, usize); 2] = [(32, 64, 128), (256, 256, 256)];

fn name(rows: usize, inputs: usize, outputs: usize) -> String {
    format!("{rows}x{inputs}x{outputs}")
}

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    group
}

/// `forward/<shape>` for every shape of [`FORWARD_SHAPES`] on path `N`.
fn forward<N: Arithmetic>(group: &mut BenchmarkGroup<'_, WallTime>) {
    for (rows, inputs, outputs) in FORWARD_SHAPES {
        let mut case = DenseCase::<N>::new(rows, inputs, outputs);
        group.throughput(Throughput::Elements(case.flops()));
        group.bench_function(BenchmarkId::new("forward", name(rows, inputs, outputs)), |b| {
            b.iter(|| {
                case.forward(widest());
                black_box(&case.z);
            })
        });
    }
}

fn dense(c: &mut Criterion) {
    let mut group = group(c, "dense");
    forward::<Float>(&mut group);
    let (rows, inputs, outputs) = (32, 64, 128);
    let mut case = DenseCase::<Float>::new(rows, inputs, outputs);
    group.throughput(Throughput::Elements(case.flops()));
    group.bench_function(BenchmarkId::new("backward_params", name(rows, inputs, outputs)), |b| {
        b.iter(|| {
            case.backward_params(widest());
            black_box((&case.dw, &case.db));
        })
    });
    group.bench_function(BenchmarkId::new("backward_input", name(rows, inputs, outputs)), |b| {
        b.iter(|| {
            case.backward_input(widest());
            black_box(&case.dx);
        })
    });
    group.finish();
}

fn dense_fixed(c: &mut Criterion) {
    let mut group = group(c, "dense_fixed");
    forward::<Fixed>(&mut group);
    group.finish();
}

criterion_group!(benches, dense, dense_fixed);
criterion_main!(benches);
