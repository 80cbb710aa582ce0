//! The timed loops of `samebits bench`: training epochs and single f32 products.
//!
//! Each figure is a median over repetitions, and the repetitions of different cases are
//! interleaved (float and fixed, 1 and all threads, every vector unit, one after another in
//! each round), so that a noisy neighbour slows all cases alike instead of one.

use super::fixture::{DenseCase, EpochFixture};
use crate::executor::HostExecutor;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::linalg::{matmul_on, MatmulShape, VectorUnit};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The batch sizes the epochs are timed at.
pub const BATCHES: [usize; 2] = [32, 256];

/// Product shapes as rows × inputs × outputs (m × k × n): a batch of 32 through the default
/// model's first layer (64 → 128), and two square ones.
pub const GEMM_SHAPES: [(usize, usize, usize); 3] = [(32, 64, 128), (256, 256, 256), (1024, 1024, 1024)];

/// A shape's name, `{m}x{k}x{n}`, as the criterion benchmarks and peers.py spell it.
pub fn shape_name((m, k, n): (usize, usize, usize)) -> String {
    format!("{m}x{k}x{n}")
}

/// The median of `samples` (the mean of the middle two for an even count); NaN when empty.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Median epoch time of one arithmetic path at one batch size, with 1 and with all threads.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochTimes {
    /// `"float"` or `"fixed"`.
    pub path: &'static str,
    pub batch: usize,
    /// Milliseconds on the calling thread alone.
    pub one_thread_ms: f64,
    /// Milliseconds on every thread.
    pub all_threads_ms: f64,
}

/// Epochs timed back to back per sample. A run trains epoch after epoch on the same buffers and
/// threads; a lone epoch right after another case would also time refilling every cache and
/// waking parked pool threads, which a run pays once.
const EPOCHS_PER_SAMPLE: u32 = 3;

/// Times one epoch from fresh parameters (the mean of [`EPOCHS_PER_SAMPLE`] in a row): the
/// set-up (initialising parameters) is not timed.
type EpochTimer = Box<dyn FnMut(&HostExecutor) -> Result<Duration, String>>;

fn epoch_timer<N: Arithmetic>(batch: usize) -> Result<EpochTimer, String> {
    let mut fixture = EpochFixture::<N>::digits(batch).map_err(|e| e.to_string())?;
    Ok(Box::new(move |exec: &HostExecutor| {
        let mut total = Duration::ZERO;
        for _ in 0..EPOCHS_PER_SAMPLE {
            let mut epoch = fixture.epoch().map_err(|e| e.to_string())?;
            let start = Instant::now();
            black_box(epoch.run(exec).map_err(|e| e.to_string())?);
            total += start.elapsed();
        }
        Ok(total / EPOCHS_PER_SAMPLE)
    }))
}

/// Median epoch times over `reps` rounds for both paths at every batch of [`BATCHES`], each on
/// `one` (1 thread) and `all` (all threads), after one untimed epoch of each case.
pub fn epochs(one: &HostExecutor, all: &HostExecutor, reps: usize) -> Result<Vec<EpochTimes>, String> {
    let mut cases: Vec<(&'static str, usize, EpochTimer)> = Vec::new();
    for batch in BATCHES {
        cases.push((Float::NAME, batch, epoch_timer::<Float>(batch)?));
        cases.push((Fixed::NAME, batch, epoch_timer::<Fixed>(batch)?));
    }
    let execs = [one, all];
    // Warm-up: first touches of every buffer, the thread pool's start.
    for (_, _, timer) in &mut cases {
        for exec in execs {
            timer(exec)?;
        }
    }
    let mut samples = vec![[Vec::new(), Vec::new()]; cases.len()];
    for _ in 0..reps.max(1) {
        for ((_, _, timer), samples) in cases.iter_mut().zip(&mut samples) {
            for (exec, samples) in execs.iter().zip(samples.iter_mut()) {
                samples.push(timer(exec)?.as_secs_f64() * 1e3);
            }
        }
    }
    Ok(cases
        .iter()
        .zip(&samples)
        .map(|((path, batch, _), [one, all])| EpochTimes {
            path,
            batch: *batch,
            one_thread_ms: median(one),
            all_threads_ms: median(all),
        })
        .collect())
}

/// GFLOP/s of one product shape on every unit, in the order of the units given.
#[derive(Clone, Debug, PartialEq)]
pub struct GemmRate {
    /// Rows × inputs × outputs (m × k × n).
    pub shape: (usize, usize, usize),
    /// `(unit, GFLOP/s)`, FLOP = 2·m·k·n.
    pub gflops: Vec<(VectorUnit, f64)>,
}

/// Median GFLOP/s of `c = a·b` (f32, one thread, [`matmul_on`]) for every shape of `shapes`
/// (rows × inputs × outputs) on every unit of `units`. Each timed sample repeats the product until it
/// is about `sample_flop` operations long (at least once), so short products are not lost in
/// the timer's resolution; the units take turns within each of the `reps` rounds.
pub fn gemm(shapes: &[(usize, usize, usize)], units: &[VectorUnit], reps: usize, sample_flop: f64) -> Vec<GemmRate> {
    shapes
        .iter()
        .map(|&(m, k, n)| {
            let mut case = DenseCase::<Float>::new(m, k, n);
            let shape = MatmulShape::row_major(m, n, k);
            let flop = case.flops() as f64;
            let calls = (sample_flop / flop).ceil().max(1.0) as u32;
            let mut product = |unit: VectorUnit| {
                let start = Instant::now();
                for _ in 0..calls {
                    matmul_on(unit, shape, &case.x, &case.w, &mut case.z);
                    black_box(&mut case.z);
                }
                start.elapsed().as_secs_f64() / f64::from(calls)
            };
            // Warm-up: the output's first touch and the caches, once per shape.
            if let Some(&widest) = units.last() {
                product(widest);
            }
            let mut seconds = vec![Vec::new(); units.len()];
            for _ in 0..reps.max(1) {
                for (unit, seconds) in units.iter().zip(&mut seconds) {
                    seconds.push(product(*unit));
                }
            }
            let gflops = units.iter().zip(&seconds).map(|(unit, s)| (*unit, flop / median(s) / 1e9)).collect();
            GemmRate { shape: (m, k, n), gflops }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn gemm_reports_every_shape_and_unit() {
        let units = [VectorUnit::PORTABLE, VectorUnit::baseline()];
        let shapes = [(3, 5, 7), (32, 64, 128)];
        let rates = gemm(&shapes, &units, 2, 1e5);
        assert_eq!(rates.iter().map(|r| r.shape).collect::<Vec<_>>(), shapes);
        for rate in &rates {
            assert_eq!(rate.gflops.iter().map(|(u, _)| *u).collect::<Vec<_>>(), units);
            assert!(rate.gflops.iter().all(|(_, g)| g.is_finite() && *g > 0.0), "{rate:?}");
        }
    }
}
