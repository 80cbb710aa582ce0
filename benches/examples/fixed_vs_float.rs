//! One epoch of the default model on the float and the fixed path, alternated, one thread.
//!
//! On a shared machine a neighbour's load comes and goes within seconds, so two criterion groups
//! run one after the other can see different machines. This report alternates the two epochs 40
//! times and prints, per path, the fastest epoch and the first quartile, and their ratios: both
//! paths see the same moments of load. docs/PERFORMANCE.md quotes it beside criterion's medians.
//!
//! `cargo run --release -p samebits-benches --example fixed_vs_float`

use samebits::arith::{Arithmetic, Fixed, Float};
use samebits_benches::EpochFixture;
use samebits_harness::executor::HostExecutor;
use std::time::Instant;

const ROUNDS: usize = 40;

fn epoch_seconds<N: Arithmetic>(fixture: &mut EpochFixture<N>, exec: &HostExecutor) -> f64 {
    let mut epoch = fixture.epoch().expect("buffers sized by Trainer::sizes");
    let start = Instant::now();
    std::hint::black_box(epoch.run(exec).expect("training stayed finite"));
    start.elapsed().as_secs_f64()
}

fn main() {
    let exec = HostExecutor::new(1).expect("one thread");
    println!("batch  float min   q1      fixed min   q1      fixed speed / float speed (min, q1)");
    for batch in [32, 256] {
        let mut float = EpochFixture::<Float>::digits(batch).expect("default model");
        let mut fixed = EpochFixture::<Fixed>::digits(batch).expect("default model");
        let (mut tf, mut tx) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
        for _ in 0..ROUNDS {
            tf.push(epoch_seconds(&mut float, &exec));
            tx.push(epoch_seconds(&mut fixed, &exec));
        }
        tf.sort_by(f64::total_cmp);
        tx.sort_by(f64::total_cmp);
        let q1 = ROUNDS / 4;
        println!(
            "{batch:>5}  {:>6.2} ms {:>6.2} ms  {:>6.2} ms {:>6.2} ms  {:.2}x, {:.2}x",
            tf[0] * 1e3,
            tf[q1] * 1e3,
            tx[0] * 1e3,
            tx[q1] * 1e3,
            tf[0] / tx[0],
            tf[q1] / tx[q1]
        );
    }
}
