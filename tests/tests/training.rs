//! Whole training runs: one digest each, for every thread count.

use samebits_harness::config::{PathKind, SimdChoice, TrainConfig};
use samebits_harness::data::builtin_digits_split;
use samebits_harness::executor::available_vector_units;
use samebits_harness::train::{self, Quiet};
use samebits_tests::{check_golden, golden, samebits, short_fixed_runs, short_runs, train_json};

#[test]
fn short_runs_match_their_goldens_for_any_thread_count() {
    check_short_runs(short_runs(), &golden::SHORT_RUNS);
}

#[test]
fn short_fixed_runs_match_their_goldens_for_any_thread_count() {
    check_short_runs(short_fixed_runs(), &golden::SHORT_FIXED_RUNS);
}

#[test]
fn short_runs_match_their_goldens_on_every_vector_unit() {
    // Every unit this processor has (the portable loops included), on one and two threads.
    let (train_set, test_set) = builtin_digits_split();
    let runs = short_runs().into_iter().zip(golden::SHORT_RUNS.iter());
    let fixed_runs = short_fixed_runs().into_iter().zip(golden::SHORT_FIXED_RUNS.iter());
    for ((name, config), want) in runs.chain(fixed_runs) {
        assert_eq!(name, want.0);
        for unit in available_vector_units() {
            for &threads in &THREAD_COUNTS[..THREAD_COUNTS.len().min(2)] {
                let config = TrainConfig { threads, simd: SimdChoice::from(unit.kind()), ..config.clone() };
                let result = train::run(&config, &train_set, &test_set, &mut Quiet).unwrap();
                let label = format!("{:?} {name} on {unit} ({threads} threads)", config.path);
                check_golden(&label, &result.digest.to_string(), want.1);
            }
        }
    }
}

/// The thread counts every short run is checked at: WebAssembly (wasm32-wasip1) has no threads,
/// so there the harness refuses more than one and only one is checked.
const THREAD_COUNTS: &[usize] = if cfg!(target_family = "wasm") { &[1] } else { &[1, 2, 3, 7] };

fn check_short_runs(runs: Vec<(&'static str, TrainConfig)>, goldens: &[(&str, &str)]) {
    let (train_set, test_set) = builtin_digits_split();
    for ((name, config), want) in runs.into_iter().zip(goldens) {
        assert_eq!(name, want.0);
        for &threads in THREAD_COUNTS {
            let config = TrainConfig { threads, ..config.clone() };
            let result = train::run(&config, &train_set, &test_set, &mut Quiet).unwrap();
            let path = match config.path {
                PathKind::Float => "float",
                PathKind::Fixed => "fixed",
            };
            check_golden(&format!("{path} {name} ({threads} threads)"), &result.digest.to_string(), want.1);
        }
    }
}

/// `samebits train --json --threads 1`, run once per test binary (about 20 s in debug builds)
/// and shared by the tests that need it.
fn default_float_report() -> &'static serde_json::Value {
    static REPORT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    REPORT.get_or_init(|| train_json(&["--threads", "1"]))
}

#[test]
fn default_run_matches_golden_and_learns() {
    // Exactly `samebits train` (one thread), through the command line.
    let report = default_float_report();
    check_golden("DEFAULT_RUN", report["digest"].as_str().unwrap(), golden::DEFAULT_RUN);
    assert_eq!(report["contract_version"], golden::CONTRACT_VERSION);
    assert_eq!(report["epochs"], 20);
    let accuracy = report["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.90, "test accuracy {accuracy}");
}

/// The default run at other thread counts. About 20 s per run in a debug build, so it runs
/// in optimised builds (the test script runs the suite in release too); the short runs above
/// cover thread counts in every build.
#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn default_run_is_the_same_for_2_3_and_7_threads() {
    for threads in ["2", "3", "7"] {
        let report = train_json(&["--threads", threads]);
        check_golden(
            &format!("DEFAULT_RUN ({threads} threads)"),
            report["digest"].as_str().unwrap(),
            golden::DEFAULT_RUN,
        );
        assert_eq!(report["threads"], threads.parse::<u64>().unwrap());
    }
}

/// Both default runs on every vector unit this processor has, through the command line.
#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn default_run_and_fixed_run_match_their_goldens_on_every_vector_unit() {
    for unit in available_vector_units() {
        let name = unit.kind().name();
        for (path, want) in [("float", golden::DEFAULT_RUN), ("fixed", golden::DEFAULT_FIXED_RUN)] {
            let report = train_json(&["--path", path, "--simd", name, "--threads", "1"]);
            check_golden(&format!("default {path} run on {name}"), report["digest"].as_str().unwrap(), want);
        }
    }
}

#[test]
fn a_vector_unit_this_processor_lacks_is_refused_in_one_line() {
    let missing = if cfg!(any(target_arch = "x86_64", target_arch = "x86")) { "neon" } else { "avx2" };
    let (code, out, err) = samebits(&["train", "--simd", missing, "--epochs", "1"]);
    assert_ne!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("--simd {missing}")) && err.contains("available: portable"), "{err}");
}

#[test]
fn default_fixed_run_matches_golden_and_learns_as_well_as_float() {
    // `samebits train --path fixed`, one thread, through the command line.
    let report = train_json(&["--path", "fixed", "--threads", "1"]);
    check_golden("DEFAULT_FIXED_RUN", report["digest"].as_str().unwrap(), golden::DEFAULT_FIXED_RUN);
    assert_eq!(report["path"], "fixed");
    let fixed = report["test_accuracy"].as_f64().unwrap();
    let float = default_float_report()["test_accuracy"].as_f64().unwrap();
    assert!(fixed >= float - 0.02, "fixed-point accuracy {fixed} more than 2 points below float's {float}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn default_fixed_run_is_the_same_for_2_3_and_7_threads() {
    for threads in ["2", "3", "7"] {
        let report = train_json(&["--path", "fixed", "--threads", threads]);
        check_golden(
            &format!("DEFAULT_FIXED_RUN ({threads} threads)"),
            report["digest"].as_str().unwrap(),
            golden::DEFAULT_FIXED_RUN,
        );
    }
}
