//! Epoch 1 of the default model, again and again, for a profiler: `perf record` (or
//! `valgrind --tool=callgrind`) on this shows where an epoch's time goes.
//!
//! `cargo run --release -p samebits-benches --example profile_epoch -- [float|fixed] [BATCH] [THREADS] [EPOCHS]`
//!
//! Defaults: float, batch 32, 1 thread, 300 epochs. Each epoch starts from the run's initial
//! parameters (set-up included in the printed mean, unlike `samebits bench`).

use samebits::arith::{Arithmetic, Fixed, Float};
use samebits_benches::EpochFixture;
use samebits_harness::executor::HostExecutor;
use std::time::Instant;

fn epochs<N: Arithmetic>(batch: usize, exec: &HostExecutor, count: usize) -> Result<(), String> {
    let mut fixture = EpochFixture::<N>::digits(batch).map_err(|e| e.to_string())?;
    for _ in 0..count {
        fixture.epoch().map_err(|e| e.to_string())?.run(exec).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: usize| args.get(i).map_or(Ok(default), |a| a.parse::<usize>());
    let (Ok(batch), Ok(threads), Ok(count)) = (arg(1, 32), arg(2, 1), arg(3, 300)) else {
        eprintln!("usage: profile_epoch [float|fixed] [BATCH] [THREADS] [EPOCHS]");
        std::process::exit(2);
    };
    let exec = match HostExecutor::new(threads) {
        Ok(exec) => exec,
        Err(e) => {
            eprintln!("profile_epoch: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    let result = match args.first().map_or("float", String::as_str) {
        "float" => epochs::<Float>(batch, &exec, count),
        "fixed" => epochs::<Fixed>(batch, &exec, count),
        other => Err(format!("unknown path {other:?} (float or fixed)")),
    };
    if let Err(e) = result {
        eprintln!("profile_epoch: {e}");
        std::process::exit(1);
    }
    let per_epoch = start.elapsed().as_secs_f64() * 1e3 / count.max(1) as f64;
    println!(
        "{per_epoch:.3} ms per epoch (set-up included), {count} epochs, batch {batch}, {threads} threads, {}",
        exec.unit()
    );
}
