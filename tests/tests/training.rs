//! Whole training runs: one digest each, for every thread count.

use samebits::layers::Activation;
use samebits::model::Init;
use samebits_harness::config::{OptimizerKind, TrainConfig};
use samebits_harness::data::builtin_digits_split;
use samebits_harness::train::{self, Quiet};
use samebits_tests::{check_golden, golden, train_json};

/// Short runs covering every activation, both optimizers, both initialisations, weight
/// decay, and batches of 1 chunk, several chunks with a carried odd partial (100 rows = 7
/// chunks) and a short last batch (1500 = 15·96 + 60).
fn short_runs() -> Vec<(&'static str, TrainConfig)> {
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

#[test]
fn short_runs_match_their_goldens_for_any_thread_count() {
    let (train_set, test_set) = builtin_digits_split();
    for ((name, config), want) in short_runs().into_iter().zip(golden::SHORT_RUNS) {
        assert_eq!(name, want.0);
        for threads in [1, 2, 3, 7] {
            let config = TrainConfig { threads, ..config.clone() };
            let result = train::run(&config, &train_set, &test_set, &mut Quiet).unwrap();
            check_golden(&format!("{name} ({threads} threads)"), &result.digest.to_string(), want.1);
        }
    }
}

#[test]
fn default_run_matches_golden_and_learns() {
    // Exactly `samebits train` (one thread), through the command line.
    let report = train_json(&["--threads", "1"]);
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
