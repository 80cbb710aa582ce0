//! `train.args`: the `samebits train` flags of the run, read here so that the firmware and the
//! host command are configured by the same text.

use samebits::layers::Activation;
use samebits::model::Init;
use samebits::optim::{Adam, Optimizer, Sgd};

/// Every flag `train.args` must give (the firmware has no defaults of its own, so a change of
/// the command line's defaults cannot make the two runs differ).
const FLAGS: [&str; 13] = [
    "--data",
    "--classes",
    "--test-fraction",
    "--hidden",
    "--activation",
    "--init",
    "--optimizer",
    "--lr",
    "--momentum",
    "--weight-decay",
    "--batch",
    "--epochs",
    "--seed",
];

/// The run's configuration, parsed as the command line parses it (Rust's `FromStr`, which
/// rounds decimals correctly).
pub struct RunArgs {
    /// The CSV file, relative to the repository root.
    pub data: String,
    pub classes: usize,
    pub test_fraction: f64,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
    pub optimizer: Optimizer,
    /// The flags as the command line keeps them (its configuration, which a trace's header
    /// records, holds all three whichever optimizer runs).
    pub optimizer_name: String,
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    pub batch: usize,
    pub epochs: u32,
    pub seed: u64,
}

fn value<'a>(pairs: &'a [(String, String)], flag: &str) -> &'a str {
    match pairs.iter().find(|(f, _)| f == flag) {
        Some((_, v)) => v,
        None => panic!("train.args: {flag} is missing (every one of {FLAGS:?} must be given)"),
    }
}

fn number<T: std::str::FromStr>(pairs: &[(String, String)], flag: &str) -> T {
    let text = value(pairs, flag);
    text.parse().unwrap_or_else(|_| panic!("train.args: {flag} {text} is not a valid number"))
}

impl RunArgs {
    /// Parses `--flag value` pairs separated by white space; refuses unknown or repeated flags.
    pub fn parse(text: &str) -> Self {
        let words: Vec<&str> = text.split_whitespace().collect();
        assert!(words.len().is_multiple_of(2), "train.args: expected `--flag value` pairs");
        let pairs: Vec<(String, String)> =
            words.chunks_exact(2).map(|p| (p[0].to_string(), p[1].to_string())).collect();
        for (i, (flag, _)) in pairs.iter().enumerate() {
            assert!(FLAGS.contains(&flag.as_str()), "train.args: {flag} is not supported by the firmware");
            assert!(!pairs[..i].iter().any(|(f, _)| f == flag), "train.args: {flag} is given twice");
        }
        let lr: f32 = number(&pairs, "--lr");
        let momentum: f32 = number(&pairs, "--momentum");
        let weight_decay: f32 = number(&pairs, "--weight-decay");
        // The command line's checks (harness/src/config.rs), for both paths at once.
        assert!(lr.is_finite() && lr > 0.0 && lr < 2.0, "train.args: --lr must be in (0, 2)");
        assert!((0.0..1.0).contains(&momentum), "train.args: --momentum must be in [0, 1)");
        assert!((0.0..2.0).contains(&weight_decay), "train.args: --weight-decay must be in [0, 2)");
        let optimizer = match value(&pairs, "--optimizer") {
            "sgd" => Optimizer::Sgd(Sgd { lr, momentum, weight_decay }),
            "adam" => Optimizer::Adam(Adam { weight_decay, ..Adam::with_lr(lr) }),
            other => panic!("train.args: unknown optimizer {other}"),
        };
        let activation = value(&pairs, "--activation");
        let init = value(&pairs, "--init");
        let hidden = value(&pairs, "--hidden");
        let args = Self {
            data: value(&pairs, "--data").to_string(),
            classes: number(&pairs, "--classes"),
            test_fraction: number(&pairs, "--test-fraction"),
            hidden: hidden.split(',').map(|w| w.parse().expect("train.args: --hidden widths")).collect(),
            activation: Activation::from_name(activation).expect("train.args: --activation"),
            init: Init::from_name(init).expect("train.args: --init"),
            optimizer,
            optimizer_name: value(&pairs, "--optimizer").to_string(),
            lr,
            momentum,
            weight_decay,
            batch: number(&pairs, "--batch"),
            epochs: number(&pairs, "--epochs"),
            seed: number(&pairs, "--seed"),
        };
        assert!(args.batch > 0 && args.epochs > 0, "train.args: --batch and --epochs must be at least 1");
        assert!(!args.hidden.contains(&0), "train.args: --hidden widths must be at least 1");
        assert!((2..=65_536).contains(&args.classes), "train.args: --classes must be in 2..=65536");
        args
    }
}
