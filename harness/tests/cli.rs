//! End-to-end tests of the `samebits` binary (the debug build Cargo made for this test).
//!
//! Every case runs the real executable with `RUST_BACKTRACE=1` and checks the project rule:
//! bad input gets exactly one line on stderr (naming `file:line` for data errors), a non-zero
//! exit code, no panic and no backtrace, no digest on stdout, and the user's files untouched.
//! The positive cases check help, version, JSON and human output, and that the digest is the
//! same run after run and for every thread count.
//!
//! Every training run here is tiny (40 rows, one hidden layer of 4 or 8): the default run on
//! the built-in digits takes ~20 s in a debug build, so no test may fall back to it.

use samebits_harness::cli::{EXIT_FAILURE, EXIT_USAGE};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Exit code expected for a flag whose value is out of range (`--batch 0`, `--lr nan`): a
/// command-line usage error like an unparsable value (`--hidden 64,abc`), so the same code.
const EXIT_BAD_FLAG: i32 = EXIT_USAGE;

/// No run in this file should take more than a few seconds; a hang fails instead of blocking.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_samebits");

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A directory of its own under the system temp dir, removed (with its files) on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("samebits-cli-test-{}-{n}-{tag}", std::process::id()));
        // create_dir, not create_dir_all: a leftover directory of the same name is an error,
        // never something to write into.
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    /// Writes `bytes` to a new file `name` in the directory and returns its path.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// What one run of the binary produced.
struct Out {
    args: Vec<String>,
    /// `None` when a signal ended the process (an abort, for example).
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "samebits {:?}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `program args`, with `RUST_BACKTRACE=1` and no stdin, and collects its output.
fn run_program(program: &str, args: &[&str], shown_args: &[&str]) -> Out {
    run_program_env(program, args, shown_args, &[])
}

/// As [`run_program`], with the environment variables `envs` set too.
fn run_program_env(program: &str, args: &[&str], shown_args: &[&str], envs: &[(&str, &str)]) -> Out {
    let mut child = Command::new(program)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    // Read both pipes on threads so that neither can fill up and stall the child.
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = reader(Box::new(child.stdout.take().unwrap()));
    let stderr = reader(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("samebits {shown_args:?} still running after {TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Out {
        args: shown_args.iter().map(|a| a.to_string()).collect(),
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
    }
}

fn samebits(args: &[&str]) -> Out {
    run_program(BIN, args, args)
}

/// The first whitespace- or punctuation-delimited word of exactly 64 hex digits in `text`.
fn find_digest(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| is_digest(w))
}

fn is_digest(word: &str) -> bool {
    word.len() == 64 && word.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Out {
    /// Asserts a failed run: exit `code`, exactly one stderr line starting `samebits: error: `
    /// and containing every word of `words`, no panic or backtrace, no digest on stdout.
    /// Returns the stderr line.
    fn error(&self, code: i32, words: &[&str]) -> &str {
        self.error_any(&[code], words)
    }

    /// As [`Out::error`], for a case where either of several exit codes is acceptable.
    fn error_any(&self, codes: &[i32], words: &[&str]) -> &str {
        for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "memory allocation"] {
            assert!(!self.stderr.contains(bad), "stderr contains {bad:?}:\n{self}");
            assert!(!self.stdout.contains(bad), "stdout contains {bad:?}:\n{self}");
        }
        assert!(self.code.is_some_and(|c| codes.contains(&c)), "expected exit code in {codes:?}:\n{self}");
        assert!(
            self.stderr.ends_with('\n') && self.stderr.matches('\n').count() == 1,
            "stderr is not exactly one line:\n{self}"
        );
        let line = self.stderr.trim_end_matches('\n');
        assert!(line.starts_with("samebits: error: "), "stderr line lacks the 'samebits: error: ' prefix:\n{self}");
        assert!(line.len() > "samebits: error: ".len() + 10, "error message too short to be clear:\n{self}");
        for word in words {
            assert!(line.contains(word), "stderr does not contain {word:?}:\n{self}");
        }
        assert!(find_digest(&self.stdout).is_none(), "a failed run printed a digest:\n{self}");
        line
    }

    /// Asserts a successful run with nothing on stderr.
    fn success(&self) {
        assert_eq!(self.code, Some(0), "expected success:\n{self}");
        assert!(self.stderr.is_empty(), "stderr not empty on success:\n{self}");
    }
}

/// A valid CSV with a header: 40 rows, 3 features, labels 0 and 1 (a linear rule of the
/// features), so `--test-fraction 0.2` gives 32 training and 8 test rows.
fn valid_csv() -> String {
    let mut text = String::from("x1,x2,x3,label\n");
    for i in 0..40i32 {
        let a = ((i * 37) % 17) as f32 / 8.0 - 1.0;
        let b = ((i * 13) % 11) as f32 / 5.0 - 1.0;
        let c = ((i * 7) % 5) as f32 / 2.0 - 1.0;
        let label = u8::from(a + b - c > 0.0);
        text.push_str(&format!("{a:.4},{b:.4},{c:.4},{label}\n"));
    }
    text
}

/// `train --data CSV --header` and the overrides, with `--epochs 1 --hidden 4` unless an
/// override sets them (clap rejects a flag given twice).
fn tiny_train_args<'a>(csv: &'a str, overrides: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--data", csv, "--header"];
    for (flag, value) in [("--epochs", "1"), ("--hidden", "4")] {
        if !overrides.iter().any(|o| o.starts_with(flag)) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(overrides);
    args
}

/// Runs `train` on a file holding `bytes`, in human and in JSON mode; both must fail with exit
/// 1, one stderr line containing `path` + `place` (such as `:3:` or `:2:2:`) and `words`,
/// nothing at all on stdout, and the file left as it was.
fn data_error(name: &str, bytes: &[u8], extra: &[&str], place: &str, words: &[&str]) {
    let dir = TempDir::new(name);
    let path = dir.file(name, bytes);
    let located = format!("{}{place}", s(&path));
    for json in [false, true] {
        let mut args = vec!["train", "--data", s(&path), "--epochs", "1", "--hidden", "4"];
        args.extend_from_slice(extra);
        if json {
            args.push("--json");
        }
        let out = samebits(&args);
        let mut all = words.to_vec();
        all.push(&located);
        out.error(EXIT_FAILURE, &all);
        assert!(out.stdout.is_empty(), "a data error printed to stdout:\n{out}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the data file was changed by {out}");
    }
}

/// Runs a `train` whose flags are wrong on the valid CSV (so that a flag wrongly accepted
/// trains for milliseconds, not on the built-in digits) and checks the one-line error.
fn flag_error(overrides: &[&str], code: i32, words: &[&str]) {
    flag_error_any(overrides, &[code], words);
}

/// As [`flag_error`], where either of several exit codes is acceptable.
fn flag_error_any(overrides: &[&str], codes: &[i32], words: &[&str]) {
    let dir = TempDir::new("flag");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    for json in [false, true] {
        let mut args = tiny_train_args(s(&csv), overrides);
        if json {
            args.push("--json");
        }
        let out = samebits(&args);
        out.error_any(codes, words);
        assert!(out.stdout.is_empty(), "a flag error printed to stdout:\n{out}");
    }
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), valid_csv());
}

/// Trains on the valid CSV with `--json` and returns the parsed report.
fn train_json(csv: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["train", "--data", s(csv), "--header", "--json"];
    args.extend_from_slice(extra);
    let out = samebits(&args);
    out.success();
    assert_eq!(out.stdout.matches('\n').count(), 1, "JSON report is not one line:\n{out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"))
}

fn digest_of(report: &serde_json::Value) -> String {
    let digest = report["digest"].as_str().unwrap_or_else(|| panic!("no string \"digest\" in {report}"));
    assert!(is_digest(digest), "digest is not 64 lowercase hex digits: {digest:?}");
    digest.to_string()
}

/// The flags of the small positive runs: 2 epochs of 4 batches of 8 rows, 3-8-2 network.
const SMALL_RUN: [&str; 6] = ["--epochs", "2", "--batch", "8", "--hidden", "8"];

// ---------------------------------------------------------------------------------------
// Help and version
// ---------------------------------------------------------------------------------------

#[test]
fn top_level_help_exits_zero() {
    let out = samebits(&["--help"]);
    out.success();
    assert!(out.stdout.contains("Usage: samebits"), "{out}");
    assert!(out.stdout.contains("train"), "help does not list the train command:\n{out}");
}

#[test]
fn train_help_exits_zero_and_lists_the_flags() {
    let out = samebits(&["train", "--help"]);
    out.success();
    for flag in ["--data", "--header", "--classes", "--test-fraction", "--epochs", "--lr", "--threads", "--json"] {
        assert!(out.stdout.contains(flag), "train --help does not mention {flag}:\n{out}");
    }
}

#[test]
fn version_exits_zero() {
    let out = samebits(&["--version"]);
    out.success();
    assert_eq!(out.stdout, format!("samebits {}\n", env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn no_command_is_a_usage_error() {
    let out = samebits(&[]);
    assert_eq!(out.code, Some(EXIT_USAGE), "{out}");
    assert!(!out.stderr.contains("panicked") && !out.stdout.contains("panicked"), "{out}");
    assert!(find_digest(&out.stdout).is_none(), "{out}");
}

// ---------------------------------------------------------------------------------------
// Successful runs and their digests
// ---------------------------------------------------------------------------------------

#[test]
fn json_report_has_a_digest_and_the_run_shape() {
    let dir = TempDir::new("json");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let report = train_json(&csv, &SMALL_RUN);
    digest_of(&report);
    // 40 rows, 20% held out from the end: 32 train / 8 test; 32 / 8 = 4 steps an epoch.
    assert_eq!(report["epochs"], 2, "{report}");
    assert_eq!(report["steps"], 8, "{report}");
    assert_eq!(report["test_rows"], 8, "{report}");
    // 3-8-2: 3·8 + 8 + 8·2 + 2 parameters.
    assert_eq!(report["params"], 50, "{report}");
    assert_eq!(report["history"].as_array().map(Vec::len), Some(2), "{report}");
    let correct = report["test_correct"].as_u64().unwrap();
    assert!(correct <= 8, "{report}");
    let accuracy = report["test_accuracy"].as_f64().unwrap();
    assert_eq!(accuracy, correct as f64 / 8.0, "{report}");
    assert!(report["final_loss"].as_f64().is_some_and(f64::is_finite), "{report}");
    assert_eq!(report["config"]["data"]["csv"]["header"], true, "{report}");
    assert_eq!(report["samebits_version"], env!("CARGO_PKG_VERSION"), "{report}");
}

#[test]
fn human_report_says_what_was_loaded_and_json_does_not() {
    let dir = TempDir::new("loaded");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let mut args = vec!["train", "--data", s(&csv), "--header"];
    args.extend_from_slice(&SMALL_RUN);
    let out = samebits(&args);
    // Not a terminal: no progress bar on stderr (success() checks that it is empty).
    out.success();
    let first = out.stdout.lines().next().unwrap_or_default();
    let want = format!("loaded {}: 40 rows × 3 features in ", s(&csv));
    assert!(first.starts_with(&want) && first.ends_with(" s"), "first line is not {want:?}...:\n{out}");
    // --json: stdout stays one JSON object.
    let mut args = vec!["train", "--data", s(&csv), "--header", "--json"];
    args.extend_from_slice(&SMALL_RUN);
    let out = samebits(&args);
    out.success();
    assert!(!out.stdout.contains("loaded "), "{out}");
    let _: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"));
}

#[test]
fn human_report_ends_with_the_digest_line() {
    let dir = TempDir::new("human");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let mut args = vec!["train", "--data", s(&csv), "--header"];
    args.extend_from_slice(&SMALL_RUN);
    let out = samebits(&args);
    out.success();
    assert!(out.stdout.ends_with('\n'), "{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let last = lines.last().copied().unwrap_or_default();
    let digest = last.strip_prefix("digest ").unwrap_or_else(|| panic!("last line is not 'digest ...':\n{out}"));
    assert!(is_digest(digest), "last line is not 'digest <64 hex>':\n{out}");
    assert!(lines.iter().any(|l| l.starts_with("epoch 1/2 ")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("epoch 2/2 ")), "{out}");
    assert!(lines.iter().any(|l| l.contains("32 train / 8 test rows")), "{out}");
    // The human report and the JSON report describe the same run.
    assert_eq!(digest, digest_of(&train_json(&csv, &SMALL_RUN)));
}

#[test]
fn the_same_run_gives_the_same_digest() {
    let dir = TempDir::new("repeat");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let first = digest_of(&train_json(&csv, &SMALL_RUN));
    let second = digest_of(&train_json(&csv, &SMALL_RUN));
    assert_eq!(first, second);
    // And the digest does depend on the run: another seed gives other weights.
    let mut other_seed = SMALL_RUN.to_vec();
    other_seed.extend(["--seed", "7"]);
    assert_ne!(first, digest_of(&train_json(&csv, &other_seed)));
}

#[test]
fn the_thread_count_does_not_change_the_digest() {
    let dir = TempDir::new("threads");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let digests: Vec<String> = ["1", "3"]
        .iter()
        .map(|t| {
            let mut args = SMALL_RUN.to_vec();
            args.extend(["--threads", t]);
            let report = train_json(&csv, &args);
            assert_eq!(report["threads"].as_u64().map(|n| n.to_string()).as_deref(), Some(*t), "{report}");
            digest_of(&report)
        })
        .collect();
    assert_eq!(digests[0], digests[1], "--threads 1 and --threads 3 disagree");
}

// ---------------------------------------------------------------------------------------
// Data errors: exit 1, `file:line` in the message
// ---------------------------------------------------------------------------------------

#[test]
fn missing_file() {
    let dir = TempDir::new("missing");
    let path = dir.0.join("no-such-file.csv");
    for json in [false, true] {
        let mut args = vec!["train", "--data", s(&path), "--epochs", "1", "--hidden", "4"];
        if json {
            args.push("--json");
        }
        let out = samebits(&args);
        out.error(EXIT_FAILURE, &[s(&path), "cannot read"]);
        assert!(out.stdout.is_empty(), "{out}");
    }
    assert!(!path.exists(), "running created the missing data file");
}

#[test]
fn directory_as_file() {
    let dir = TempDir::new("directory");
    let out = samebits(&["train", "--data", s(&dir.0), "--epochs", "1", "--hidden", "4"]);
    out.error(EXIT_FAILURE, &[s(&dir.0), "cannot read"]);
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn empty_file() {
    data_error("empty.csv", b"", &[], ":", &["empty"]);
}

#[test]
fn header_only_file() {
    data_error("header-only.csv", b"a,b,label\n", &["--header"], ":", &["no data rows", "header"]);
}

#[test]
fn ragged_rows() {
    data_error("ragged.csv", b"1,2,0\n3,4,1\n5,1\n", &[], ":3:", &["expected 3 columns, found 2"]);
}

#[test]
fn non_numeric_cell() {
    data_error("letters.csv", b"1,2,0\n3,abc,1\n", &[], ":2:2:", &["\"abc\"", "not a number"]);
}

#[test]
fn nan_cell() {
    data_error("nan.csv", b"1,2,0\nNaN,2,1\n", &[], ":2:1:", &["NaN", "finite"]);
}

#[test]
fn inf_cell() {
    data_error("inf.csv", b"1,2,0\n1,-inf,1\n", &[], ":2:2:", &["\"-inf\"", "finite"]);
}

#[test]
fn value_outside_the_fixed_range() {
    // 40 is an ordinary f32 but beyond the fixed path's inputs (Q5.10, below 32): refused, not
    // clamped.
    data_error("fixed.csv", b"1,2,0\n1,40,1\n", &["--path", "fixed"], ":2:2:", &["40", "fixed", "[-32, 32)"]);
}

#[test]
fn fixed_learning_rate_must_fit_q2_30() {
    flag_error(&["--path", "fixed", "--lr", "2"], EXIT_BAD_FLAG, &["--lr", "fixed"]);
}

#[test]
fn cell_too_large_for_f32() {
    data_error("huge.csv", b"1,2,0\n1e39,2,1\n", &[], ":2:1:", &["\"1e39\"", "out of f32 range"]);
}

#[test]
fn label_out_of_range_of_classes() {
    data_error(
        "label5.csv",
        b"1,2,0\n3,4,1\n5,6,5\n",
        &["--classes", "3"],
        ":3:3:",
        &["label 5", "out of range", "0..=2"],
    );
}

#[test]
fn negative_label() {
    data_error("negative.csv", b"1,2,0\n3,4,-1\n", &[], ":2:3:", &["\"-1\"", "non-negative integer"]);
}

#[test]
fn fractional_label() {
    data_error("fraction.csv", b"1,2,0\n3,4,1.5\n", &[], ":2:3:", &["\"1.5\"", "non-negative integer"]);
}

#[test]
fn non_utf8_bytes() {
    data_error("latin1.csv", b"1,2,0\n3,4,1\n5\xe9,6,0\n", &[], ":3:", &["UTF-8"]);
}

#[test]
fn single_class() {
    data_error("one-class.csv", b"1,2,0\n3,4,0\n", &[], ":", &["at least 2 classes"]);
}

#[test]
fn blank_line_in_the_middle() {
    data_error("blank.csv", b"1,2,0\n\n3,4,1\n", &[], ":2:", &["blank line"]);
}

#[cfg(unix)]
#[test]
fn file_name_with_a_newline_stays_on_one_line() {
    let dir = TempDir::new("newline-name");
    let path = dir.file("bad\nname.csv", b"1,2,0\n3,1\n");
    let out = samebits(&["train", "--data", s(&path), "--epochs", "1", "--hidden", "4"]);
    out.error(EXIT_FAILURE, &["bad\\nname.csv:2:", "expected 3 columns"]);
}

#[test]
fn labels_implying_too_many_classes() {
    // Label 70000 on line 3: 70001 classes, above the 65536 the harness supports. The
    // message must say why, and (project rule) where: the file, and the line of the label.
    data_error("many-classes.csv", b"1,2,0\n3,4,1\n5,6,70000\n", &[], ":3", &["70001", "65536"]);
}

#[test]
fn largest_label_implies_too_many_classes() {
    // 4294967294 is the largest label the parser takes; the model it implies has 2^32 outputs.
    data_error("max-label.csv", b"1,2,0\n3,4,4294967294\n", &[], ":2", &["4294967295", "65536"]);
}

// ---------------------------------------------------------------------------------------
// A run that diverges
// ---------------------------------------------------------------------------------------

#[test]
fn divergent_training_stops_with_the_step() {
    let dir = TempDir::new("diverge");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    // lr 1e30 blows the weights up on the first update; with batches of 4 there are 8 steps
    // in the epoch, so a later step sees the NaN/infinity.
    for json in [false, true] {
        let mut args = vec!["train", "--data", s(&csv), "--header", "--epochs", "1", "--batch", "4"];
        args.extend(["--hidden", "8", "--lr", "1e30"]);
        if json {
            args.push("--json");
        }
        let out = samebits(&args);
        let line = out.error(EXIT_FAILURE, &["step ", "training stopped"]);
        assert!(line.contains("non-finite") || line.contains("NaN"), "{out}");
        let step: u64 = line
            .split("step ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no step number in the error:\n{out}"));
        assert!((1..=8).contains(&step), "step {step} is not one of the run's 8 steps:\n{out}");
        if json {
            assert!(out.stdout.is_empty(), "{out}");
        }
    }
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), valid_csv());
}

// ---------------------------------------------------------------------------------------
// Command-line errors
// ---------------------------------------------------------------------------------------

#[test]
fn batch_zero() {
    flag_error(&["--batch", "0"], EXIT_BAD_FLAG, &["--batch"]);
}

#[test]
fn epochs_zero() {
    flag_error(&["--epochs", "0"], EXIT_BAD_FLAG, &["--epochs"]);
}

#[test]
fn negative_learning_rate() {
    // `--lr -1` must be read as a (bad) value of --lr, not as an unknown flag "-1".
    flag_error(&["--lr", "-1"], EXIT_BAD_FLAG, &["--lr", "-1"]);
}

#[test]
fn negative_learning_rate_with_equals() {
    flag_error(&["--lr=-1"], EXIT_BAD_FLAG, &["--lr", "-1"]);
}

#[test]
fn nan_learning_rate() {
    flag_error(&["--lr", "nan"], EXIT_BAD_FLAG, &["--lr", "NaN"]);
}

#[test]
fn infinite_learning_rate() {
    // 1e39 parses as f32 infinity.
    flag_error(&["--lr", "1e39"], EXIT_BAD_FLAG, &["--lr"]);
}

#[test]
fn momentum_one() {
    flag_error(&["--momentum", "1"], EXIT_BAD_FLAG, &["--momentum", "[0, 1)"]);
}

#[test]
fn negative_weight_decay() {
    flag_error(&["--weight-decay=-1"], EXIT_BAD_FLAG, &["--weight-decay"]);
}

#[test]
fn hidden_zero() {
    flag_error(&["--hidden", "0"], EXIT_BAD_FLAG, &["--hidden"]);
}

#[test]
fn hidden_not_a_number() {
    flag_error(&["--hidden", "64,abc"], EXIT_USAGE, &["--hidden", "abc"]);
}

#[test]
fn too_many_hidden_layers() {
    flag_error(&["--hidden", "4,4,4,4,4,4,4,4"], EXIT_BAD_FLAG, &["--hidden", "8", "7"]);
}

#[test]
fn hidden_width_that_overflows_the_parameter_count() {
    // 3 × (2^64 - 1) weights cannot even be counted in a usize. Whichever layer rejects it
    // (flag check: 2, model setup: 1), it must not panic on the overflow.
    let dir = TempDir::new("overflow");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let out = samebits(&tiny_train_args(s(&csv), &["--hidden", "18446744073709551615", "--json"]));
    out.error_any(&[EXIT_FAILURE, EXIT_USAGE], &[]);
}

#[cfg(target_os = "linux")]
#[test]
fn model_too_large_for_memory_is_an_error_not_an_abort() {
    // 3-100000-100000-2: 10^10 parameters, 40 GB per buffer. Run under a 2 GB address-space
    // limit so that the test can never take the machine's memory; the binary must say the
    // model is too large instead of aborting on the failed allocation.
    let dir = TempDir::new("oom");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let args = tiny_train_args(s(&csv), &["--hidden", "100000,100000", "--threads", "1", "--json"]);
    let mut sh_args = vec!["-c", "ulimit -v 2000000 && exec \"$0\" \"$@\"", BIN];
    sh_args.extend_from_slice(&args);
    let out = run_program("/bin/sh", &sh_args, &args);
    out.error_any(&[EXIT_FAILURE, EXIT_USAGE], &[]);
}

#[test]
fn unknown_activation() {
    flag_error(&["--activation", "gelu"], EXIT_USAGE, &["gelu", "relu"]);
}

#[test]
fn unknown_optimizer() {
    flag_error(&["--optimizer", "rmsprop"], EXIT_USAGE, &["rmsprop", "--optimizer"]);
}

#[test]
fn unknown_flag() {
    flag_error(&["--frobnicate"], EXIT_USAGE, &["--frobnicate"]);
    let out = samebits(&["--frobnicate"]);
    out.error(EXIT_USAGE, &["--frobnicate"]);
}

#[test]
fn unknown_command() {
    let out = samebits(&["fly"]);
    out.error(EXIT_USAGE, &["fly", "see 'samebits --help'"]);
}

#[test]
fn a_usage_error_points_at_its_own_command_s_help() {
    for (args, help) in [
        (&["train", "--frobnicate"][..], "see 'samebits train --help'"),
        (&["compare", "a", "b", "--overwrite"], "see 'samebits compare --help'"),
        (&["resume"], "see 'samebits resume --help'"),
        (&["bench", "--peers"], "see 'samebits bench --help'"),
        (&["--frobnicate"], "see 'samebits --help'"),
    ] {
        samebits(args).error(EXIT_USAGE, &[help]);
    }
}

#[test]
fn threads_zero() {
    flag_error(&["--threads", "0"], EXIT_BAD_FLAG, &["--threads"]);
}

#[test]
fn test_fraction_above_one() {
    flag_error(&["--test-fraction", "1.5"], EXIT_BAD_FLAG, &["--test-fraction", "1.5"]);
}

#[test]
fn test_fraction_nan() {
    flag_error(&["--test-fraction", "nan"], EXIT_BAD_FLAG, &["--test-fraction"]);
}

#[test]
fn classes_above_the_limit() {
    // The labels are 0 and 1; it is the flag that asks for 100000 classes, and the message
    // must say so rather than blame the labels.
    flag_error(&["--classes", "100000"], EXIT_BAD_FLAG, &["--classes", "100000", "65536"]);
}

#[test]
fn classes_below_two() {
    flag_error(&["--classes", "1"], EXIT_USAGE, &["--classes", "between 2 and"]);
}

#[test]
fn header_without_data() {
    // Not through flag_error: that always passes --data. The message must name what is
    // missing.
    for args in [&["train", "--header"][..], &["train", "--classes", "3"], &["train", "--test-fraction", "0.5"]] {
        let out = samebits(args);
        out.error(EXIT_USAGE, &["--data"]);
        assert!(out.stdout.is_empty(), "{out}");
    }
}

#[test]
fn data_without_a_value() {
    let out = samebits(&["train", "--data"]);
    out.error(EXIT_USAGE, &["--data"]);
}

// ---------------------------------------------------------------------------------------
// OpenCL: `samebits devices`, `train --device opencl|both`
// ---------------------------------------------------------------------------------------

/// Whether this machine has a usable OpenCL device (always assumed when
/// `SAMEBITS_REQUIRE_OPENCL` is set, so that a missing one fails the tests that need it).
fn has_opencl() -> bool {
    std::env::var_os("SAMEBITS_REQUIRE_OPENCL").is_some() || samebits_harness::opencl::Gpu::open(None).is_ok()
}

/// The ICD loader pointed at an empty vendor directory: OpenCL without any platform.
fn without_opencl(args: &[&str]) -> Out {
    let dir = TempDir::new("no-icd");
    run_program_env(BIN, args, args, &[("OCL_ICD_VENDORS", s(&dir.0))])
}

#[test]
fn opencl_without_a_device_is_one_line_and_cpu_still_works() {
    let dir = TempDir::new("no-opencl");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    for extra in [&["--device", "opencl"][..], &["--device", "both"], &["--device", "opencl", "--json"]] {
        let args = tiny_train_args(s(&csv), extra);
        let out = without_opencl(&args);
        out.error(EXIT_FAILURE, &["OpenCL"]);
    }
    let out = without_opencl(&["devices"]);
    out.error(EXIT_FAILURE, &["OpenCL"]);
    assert!(out.stdout.is_empty(), "{out}");
    let args = tiny_train_args(s(&csv), &[]);
    without_opencl(&args).success();
}

/// Runs the binary where the dynamic loader finds an unloadable `libOpenCL.so.1` first: to the
/// program, as on a machine without any OpenCL library.
#[cfg(target_os = "linux")]
fn without_opencl_library(args: &[&str]) -> Out {
    let dir = TempDir::new("no-libopencl");
    dir.file("libOpenCL.so.1", b"not a shared library");
    run_program_env(BIN, args, args, &[("LD_LIBRARY_PATH", s(&dir.0))])
}

#[cfg(target_os = "linux")]
#[test]
fn opencl_without_a_library_is_one_line_and_cpu_still_works() {
    let dir = TempDir::new("no-opencl-library");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    for extra in [&["--device", "opencl"][..], &["--device", "both"]] {
        let out = without_opencl_library(&tiny_train_args(s(&csv), extra));
        out.error(EXIT_FAILURE, &["OpenCL is not available", "no OpenCL library"]);
    }
    let out = without_opencl_library(&["devices"]);
    out.error(EXIT_FAILURE, &["no OpenCL library"]);
    without_opencl_library(&tiny_train_args(s(&csv), &[])).success();
}

#[test]
fn device_index_needs_an_opencl_device_kind() {
    flag_error(&["--device-index", "0"], EXIT_USAGE, &["--device-index", "--device opencl"]);
    flag_error(&["--device", "gpu"], EXIT_USAGE, &["--device", "gpu"]);
}

#[test]
fn devices_lists_what_decides_usability() {
    if !has_opencl() {
        return;
    }
    let out = samebits(&["devices"]);
    out.success();
    for word in ["device 0:", "version", "driver", "compute units", "denormals", "correctly rounded", "usable"] {
        assert!(out.stdout.contains(word), "no {word:?}:\n{out}");
    }
}

#[test]
fn opencl_and_both_give_the_cpu_digest() {
    if !has_opencl() {
        return;
    }
    let dir = TempDir::new("opencl-digest");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    for path in ["float", "fixed"] {
        let mut extra = SMALL_RUN.to_vec();
        extra.extend(["--path", path, "--optimizer", "adam", "--lr", "0.01"]);
        let cpu = train_json(&csv, &extra);
        assert_eq!(cpu["device"], "cpu");
        for device in ["opencl", "both"] {
            let mut args = extra.clone();
            args.extend(["--device", device, "--device-index", "0"]);
            let report = train_json(&csv, &args);
            assert_eq!(digest_of(&report), digest_of(&cpu), "{path} on {device}");
            assert_eq!(report["test_accuracy"], cpu["test_accuracy"], "{path} on {device}");
            assert_eq!(report["device"], device);
            assert!(report["opencl_device"].as_str().is_some_and(|d| d.starts_with("0 ")), "{report}");
        }
    }
    // The human report says where the steps ran.
    let out = samebits(&tiny_train_args(s(&csv), &["--device", "opencl"]));
    out.success();
    assert!(out.stdout.contains("trained on OpenCL device 0"), "{out}");
}

#[test]
fn a_missing_device_index_is_named() {
    if !has_opencl() {
        return;
    }
    let dir = TempDir::new("opencl-index");
    let csv = dir.file("ok.csv", valid_csv().as_bytes());
    let args = tiny_train_args(s(&csv), &["--device", "opencl", "--device-index", "99"]);
    samebits(&args).error(EXIT_FAILURE, &["no OpenCL device 99", "samebits devices"]);
}
