//! The f32 product `c = a·b` (`samebits::linalg::matmul_on`) on every vector unit this
//! processor has, one thread. Throughput is set to 2·m·k·n operations per product, so
//! criterion's "Gelem/s" reads as GFLOP/s, the figure `samebits bench` prints.
//!
//! - `gemm/<unit>/32x64x128` and `gemm/<unit>/256x256x256` for every unit
//!   (`available_vector_units`: portable, then SSE2, AVX2, AVX-512 or NEON where present);
//! - `gemm/<unit>/1024x1024x1024` for the widest unit only (10 samples): a second per product
//!   on the portable loops would make the run long for a figure the smaller shapes already show.
//!
//! Shapes are m×k×n = rows × inputs × outputs.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use samebits::arith::Float;
use samebits::linalg::{matmul_on, MatmulShape, VectorUnit};
use samebits_benches::DenseCase;
use samebits_harness::bench::measure::shape_name;
use samebits_harness::executor::available_vector_units;
use std::hint::black_box;
use std::time::Duration;

/// `<unit>/<m>x<k>x<n>`: one product per iteration.
fn product(group: &mut BenchmarkGroup<'_, WallTime>, unit: VectorUnit, (m, k, n): (usize, usize, usize)) {
    let mut case = DenseCase::<Float>::new(m, k, n);
    let shape = MatmulShape::row_major(m, n, k);
    group.throughput(Throughput::Elements(case.flops()));
    group.bench_function(BenchmarkId::new(unit.kind().name(), shape_name((m, k, n))), |b| {
        b.iter(|| {
            matmul_on(unit, shape, &case.x, &case.w, &mut case.z);
            black_box(&mut case.z);
        })
    });
}

fn gemm(c: &mut Criterion) {
    let units = available_vector_units();
    let mut group = c.benchmark_group("gemm");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    for unit in &units {
        for shape in [(32, 64, 128), (256, 256, 256)] {
            product(&mut group, *unit, shape);
        }
    }
    // Tens of milliseconds per product: fewer samples, more time to take them.
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    if let Some(widest) = units.last() {
        product(&mut group, *widest, (1024, 1024, 1024));
    }
    group.finish();
}

criterion_group!(benches, gemm);
criterion_main!(benches);
