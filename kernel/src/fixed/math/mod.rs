//! Elementary functions of the fixed-point path, one per file, from integer operations only.
//!
//! Contract: NUMERICS.md §13.4. Nothing here touches a float: every function is a sequence of
//! integer additions, multiplications, divisions and shifts whose result is defined by the
//! language, so the bits are the same on every target, with or without an FPU, and on a GPU.
//! Every right shift that rounds goes through [`round_shift`](crate::fixed::narrow::round_shift)
//! or [`round_shift_i128`](crate::fixed::narrow::round_shift_i128) (NUMERICS.md §13.3).
//!
//! Formats (a raw integer `r` stands for `r / 2^frac`):
//! - Q16: `i32`, 16 fractional bits (the layout of `fixed::types::I16F16`), activations and logits;
//! - Q30: `i32`, 30 fractional bits (`fixed::types::I2F30`), probabilities in [0, 1]; sums of
//!   Q30 values are `i64` with the same scale.
//!
//! Each function documents its algorithm, the origin of that algorithm, the derivation of its
//! constants, its edge cases and its measured maximum error against an f64 reference, both on
//! the sampled sweeps run by `cargo test` and on the exhaustive runs over all 2^32 inputs
//! (`cargo test --release -p samebits -- --ignored fixed::math`, about 2 minutes on 2 cores).

mod div_round;
mod exp;
mod isqrt;
mod ln;
mod sigmoid;
mod tanh;

pub use div_round::div_round;
pub use exp::exp_q16_to_q30;
pub use isqrt::{isqrt_u64, sqrt_round_u64};
pub use ln::ln_q30_to_q16;
pub use sigmoid::sigmoid_q16;
pub use tanh::tanh_q16;

/// Test support: error sweeps against an f64 reference, sampled and exhaustive.
#[cfg(test)]
pub(crate) mod testing {
    extern crate std;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;
    use std::vec::Vec;

    /// Largest error seen, where, and how often the output went down as the input went up.
    #[derive(Debug, Clone, Copy)]
    pub struct Report {
        /// max |got − want| in units of the output's last place.
        pub max_err: f64,
        /// An input at which `max_err` was reached.
        pub worst: i64,
        /// Number of consecutive (sorted) inputs whose outputs decreased.
        pub decreases: u64,
        /// Number of inputs evaluated.
        pub count: u64,
    }

    impl Report {
        const fn new() -> Self {
            Self { max_err: 0.0, worst: 0, decreases: 0, count: 0 }
        }

        fn see(&mut self, at: i64, err: f64) {
            assert!(!err.is_nan(), "NaN error at {at}");
            self.count += 1;
            if err > self.max_err {
                self.max_err = err;
                self.worst = at;
            }
        }

        /// Asserts the error bound and that the output never went down as the input went up.
        #[track_caller]
        pub fn assert_monotone_within(&self, bound: f64) {
            assert!(self.max_err <= bound, "{self:?}");
            assert_eq!(self.decreases, 0, "{self:?}");
        }

        fn merge(&mut self, other: &Report) {
            if other.max_err > self.max_err {
                self.max_err = other.max_err;
                self.worst = other.worst;
            }
            self.decreases += other.decreases;
            self.count += other.count;
        }
    }

    /// Every `stride`-th i32 starting at `i32::MIN`, then `i32::MAX` and the values near 0 and
    /// the two ends. With a prime stride the samples hit every residue class of the low bits.
    pub fn sweep_i32(stride: u32) -> Vec<i32> {
        let mut v: Vec<i32> = (0..=u64::from(u32::MAX) / u64::from(stride))
            .map(|k| (i64::from(i32::MIN) + (k * u64::from(stride)) as i64) as i32)
            .collect();
        v.extend_from_slice(&[i32::MIN, i32::MIN + 1, i32::MIN + 2, -2, -1, 0, 1, 2, i32::MAX - 1, i32::MAX]);
        v
    }

    /// Every integer of `lo..=hi` whose offset from `lo` is a multiple of `stride`, and `hi`.
    pub fn range_i32(lo: i32, hi: i32, stride: u32) -> Vec<i32> {
        let mut v: Vec<i32> = (i64::from(lo)..=i64::from(hi)).step_by(stride as usize).map(|x| x as i32).collect();
        v.push(hi);
        v
    }

    /// Evaluates `f(x) = (got, want)` on `inputs` sorted and deduplicated; `want` is the exact
    /// result in units of the output's last place, from f64.
    pub fn check_i32(mut inputs: Vec<i32>, f: impl Fn(i32) -> (i32, f64)) -> Report {
        inputs.sort_unstable();
        inputs.dedup();
        let mut r = Report::new();
        let mut prev: Option<i32> = None;
        for x in inputs {
            let (got, want) = f(x);
            r.see(i64::from(x), (f64::from(got) - want).abs());
            if prev.is_some_and(|p| got < p) {
                r.decreases += 1;
            }
            prev = Some(got);
        }
        r
    }

    /// [`check_i32`] over all 2^32 inputs, on every available thread.
    pub fn exhaustive_i32(f: impl Fn(i32) -> (i32, f64) + Sync) -> Report {
        const CHUNK_BITS: u32 = 22;
        let next = AtomicU64::new(0);
        let total = Mutex::new(Report::new());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut mine = Report::new();
                    loop {
                        let chunk = next.fetch_add(1, Ordering::Relaxed);
                        if chunk >= 1 << (32 - CHUNK_BITS) {
                            break;
                        }
                        let lo = i64::from(i32::MIN) + ((chunk as i64) << CHUNK_BITS);
                        let hi = lo + (1 << CHUNK_BITS) - 1;
                        // Start one below the chunk so that decreases across chunk edges count.
                        let mut prev = if lo > i64::from(i32::MIN) { Some(f(lo as i32 - 1).0) } else { None };
                        for x in lo..=hi {
                            let (got, want) = f(x as i32);
                            mine.see(x, (f64::from(got) - want).abs());
                            if prev.is_some_and(|p| got < p) {
                                mine.decreases += 1;
                            }
                            prev = Some(got);
                        }
                    }
                    total.lock().unwrap().merge(&mine);
                });
            }
        });
        total.into_inner().unwrap()
    }
}
