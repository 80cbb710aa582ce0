//! Golden digests that every platform must reproduce, and the helpers the tests share.
//!
//! Each golden value below was recorded from a real run of the code it guards (the command
//! or test is named beside it) and is valid for one contract version
//! (`samebits::CONTRACT_VERSION`). A golden changes only together with a contract version
//! bump in docs/NUMERICS.md and a commit that says why.

use rand_core::{RngCore, SeedableRng};
use samebits::digest::digest_params;
use samebits::layers::Activation;
use samebits::model::Init;
use samebits::rng::{unit_f32, Xoshiro128PlusPlus};
use samebits_harness::config::{OptimizerKind, PathKind, TrainConfig};

pub mod golden;
pub mod opencl;

/// SHA-256 (NUMERICS.md §11) of a float slice, as hex.
pub fn digest_hex(values: &[f32]) -> String {
    digest_params(values).to_string()
}

/// `n` values uniform in `[-scale, scale)` from the contract's generator: deterministic
/// test inputs that exercise rounding in every operation.
pub fn uniform(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u = unit_f32(rng.next_u32());
            (u + u - 1.0) * scale
        })
        .collect()
}

/// Asserts `got == want` for the golden value `name`.
///
/// After a contract version bump, `SAMEBITS_RECORD_GOLDEN=1 cargo test -p samebits-tests
/// --release -- --nocapture` prints every value as `GOLDEN name = value` instead of failing,
/// for pasting into `golden.rs` (with the reason in the commit message).
#[track_caller]
pub fn check_golden(name: &str, got: &str, want: &str) {
    if std::env::var_os("SAMEBITS_RECORD_GOLDEN").is_some() {
        println!("GOLDEN {name} = {got}");
    } else {
        assert_eq!(got, want, "golden value {name} (contract v{})", samebits::CONTRACT_VERSION);
    }
}

/// Runs the `samebits` command line in-process and returns its exit code, stdout and stderr.
pub fn samebits(args: &[&str]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("samebits").chain(args.iter().copied()).map(Into::into);
    let code = samebits_harness::cli::run(argv, &mut out, &mut err);
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// Runs `samebits train --json ARGS` in-process and returns the parsed report.
pub fn train_json(args: &[&str]) -> serde_json::Value {
    let mut argv = vec!["train", "--json"];
    argv.extend_from_slice(args);
    let (code, out, err) = samebits(&argv);
    assert_eq!(code, 0, "samebits {argv:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// The short runs of `golden::SHORT_RUNS`: every activation, both optimizers, both initialisations, weight
/// decay, and batches of 1 chunk, several chunks with a carried odd partial (100 rows = 7
/// chunks) and a short last batch (1500 = 15·96 + 60).
pub fn short_runs() -> Vec<(&'static str, TrainConfig)> {
    let base = TrainConfig { epochs: 2, hidden: vec![32, 16], ..TrainConfig::default() };
    vec![
        ("relu-sgd-b100", TrainConfig { batch: 100, ..base.clone() }),
        (
            "tanh-adam-b96",
            TrainConfig {
                activation: Activation::Tanh,
                optimizer: OptimizerKind::Adam,
                lr: 0.001,
                batch: 96,
                ..base.clone()
            },
        ),
        (
            "sigmoid-sgd-wd-he-b16",
            TrainConfig {
                activation: Activation::Sigmoid,
                init: Init::HeUniform,
                weight_decay: 1.0e-3,
                batch: 16,
                hidden: vec![24],
                epochs: 1,
                ..base
            },
        ),
    ]
}

/// The same short runs on the fixed-point path.
pub fn short_fixed_runs() -> Vec<(&'static str, TrainConfig)> {
    short_runs().into_iter().map(|(name, c)| (name, TrainConfig { path: PathKind::Fixed, ..c })).collect()
}
