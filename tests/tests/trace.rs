//! Traces (`samebits train --trace`) and their comparison (`samebits compare`): equal runs
//! compare equal whatever the thread count; a single flipped bit is found at its step, layer,
//! operation and element; bad files are refused with their line.

use samebits::model::Op;
use samebits_harness::config::{PathKind, TrainConfig};
use samebits_harness::data::builtin_digits_split;
use samebits_harness::trace::{self, Fault, Level, TraceOptions, Tracer};
use samebits_harness::train::{self, Quiet};
use samebits_tests::samebits;
use std::path::{Path, PathBuf};

/// A file in the system temp dir, removed on drop; named per test because tests run in
/// parallel.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        // WASI has no temporary folder and no process id (both panic there); the tests run with
        // the host's file system visible, so cargo's scratch folder for this crate serves.
        let (dir, id) = if cfg!(target_os = "wasi") {
            (PathBuf::from(env!("CARGO_TARGET_TMPDIR")), 0)
        } else {
            (std::env::temp_dir(), std::process::id())
        };
        TempFile(dir.join(format!("samebits-trace-{id}-{name}.jsonl")))
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp dir")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One epoch of a 64-16-10 model in batches of 100: 15 steps.
const SHORT: [&str; 7] = ["--epochs", "1", "--hidden", "16", "--batch", "100", "--json"];

/// `samebits train SHORT ARGS --trace FILE`, which must succeed.
fn train_traced(file: &TempFile, args: &[&str]) {
    let mut argv = vec!["train", "--trace", file.path()];
    argv.extend_from_slice(&SHORT);
    argv.extend_from_slice(args);
    let (code, _, err) = samebits(&argv);
    assert_eq!(code, 0, "{argv:?}: {err}");
}

/// `samebits compare A B`: exit code, report, errors.
fn compare(a: &TempFile, b: &TempFile) -> (i32, String, String) {
    samebits(&["compare", a.path(), b.path()])
}

/// The thread counts compared: WebAssembly has no threads.
const THREADS: &[&str] = if cfg!(target_family = "wasm") { &["1"] } else { &["1", "2", "3", "7"] };

#[test]
fn traces_at_different_thread_counts_compare_equal() {
    for (path, level) in [("float", "ops"), ("fixed", "ops"), ("float", "steps")] {
        let first = TempFile::new(&format!("threads-{path}-{level}-{}", THREADS[0]));
        train_traced(&first, &["--path", path, "--trace-level", level, "--threads", THREADS[0]]);
        for &threads in THREADS {
            let other = TempFile::new(&format!("threads-{path}-{level}-other-{threads}"));
            train_traced(&other, &["--path", path, "--trace-level", level, "--threads", threads]);
            let (code, out, err) = compare(&first, &other);
            assert_eq!(code, 0, "{path} {level} {threads} threads: {out}{err}");
            assert!(out.contains("traces identical: 15 steps"), "{out}");
            if threads != THREADS[0] {
                assert!(out.contains(&format!("config.threads: 1 vs {threads} — cannot change bits")), "{out}");
            }
        }
    }
}

/// The short run's configuration, as the command line above makes it.
fn short_config(path: PathKind) -> TrainConfig {
    TrainConfig { path, epochs: 1, hidden: vec![16], batch: 100, threads: 1, ..TrainConfig::default() }
}

/// The short run traced through the library, with `options` (a fault among them).
fn traced_run(file: &TempFile, config: &TrainConfig, options: TraceOptions) {
    let (train_set, test_set) = builtin_digits_split();
    let mut tracer = Tracer::create(Path::new(file.path()), options, false, config, &train_set, &test_set).unwrap();
    train::run_traced(config, &train_set, &test_set, &mut Quiet, &mut tracer).unwrap();
}

#[test]
fn one_flipped_gradient_bit_is_named_by_step_layer_and_operation() {
    let config = short_config(PathKind::Float);
    let options = TraceOptions { level: Level::Ops, values_every: 1, fault: None };
    let clean = TempFile::new("fault-clean");
    let faulty = TempFile::new("fault-faulty");
    traced_run(&clean, &config, options);
    // One ulp of layer 2's bias gradient 3 (after its 16 × 10 weight gradients) at step 3: an
    // element whose update does not absorb it, found by trying them (most 1-ulp changes of a
    // gradient vanish in the update's rounding, and the report then says so).
    let fault = Fault { step: 3, layer: 2, op: Op::Gradients, index: 163 };
    traced_run(&faulty, &config, TraceOptions { fault: Some(fault), ..options });

    let (code, out, err) = compare(&clean, &faulty);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("traces differ: first at step 3 (epoch 1)"), "{out}");
    assert!(out.contains("first operation that differs: step 3, layer 2, gradients"), "{out}");
    // The update is element-wise: the bias of the flipped gradient is the only one to differ.
    assert!(out.contains("parameters: first differ after step 3: layer 2 biases"), "{out}");
    assert!(out.contains("layer 2 biases element 3: A "), "{out}");
    assert!(out.contains(", 1 ulp (values recorded at step 3)"), "{out}");
    assert!(out.contains("at step 3, 1 of 1210 parameters differ, the largest by 1 ulp"), "{out}");
    // No configuration difference (the environment may differ: the tests run on many threads).
    assert!(!out.contains("config."), "{out}");

    // The same through the command line's own traces: a clean run equals the library's.
    let cli = TempFile::new("fault-cli");
    let threads = THREADS[THREADS.len() - 1];
    train_traced(&cli, &["--threads", threads, "--trace-level", "ops", "--trace-values", "1"]);
    assert_eq!(compare(&clean, &cli).0, 0);
}

#[test]
fn one_flipped_parameter_bit_is_one_ulp_at_its_element() {
    for path in [PathKind::Float, PathKind::Fixed] {
        let config = short_config(path);
        let options = TraceOptions { level: Level::Steps, values_every: 1, fault: None };
        let clean = TempFile::new(&format!("ulp-clean-{path:?}"));
        let faulty = TempFile::new(&format!("ulp-faulty-{path:?}"));
        traced_run(&clean, &config, options);
        let fault = Fault { step: 5, layer: 1, op: Op::Update, index: 100 };
        traced_run(&faulty, &config, TraceOptions { fault: Some(fault), ..options });
        let (code, out, _) = compare(&clean, &faulty);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("traces differ: first at step 5 (epoch 1)"), "{out}");
        assert!(out.contains("operations: not recorded"), "{out}");
        assert!(out.contains("parameters: first differ after step 5: layer 1 weights"), "{out}");
        assert!(out.contains("layer 1 weights element 100: A "), "{out}");
        assert!(out.contains(", 1 ulp (values recorded at step 5)"), "{out}");
        assert!(out.contains("at step 5, 1 of 1210 parameters differ, the largest by 1 ulp"), "{out}");

        // Without values at every step, the element comes from the epoch's last record, and
        // the report says so.
        let sparse = TempFile::new(&format!("ulp-sparse-{path:?}"));
        let options = TraceOptions { values_every: 0, ..options };
        traced_run(&sparse, &config, TraceOptions { fault: Some(fault), ..options });
        let (code, out, _) = compare(&clean, &sparse);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("parameters: first differ after step 5: layer 1 weights"), "{out}");
        assert!(out.contains("(values from step 15, the first record after step 5 that holds them"), "{out}");
    }
}

#[test]
fn different_configurations_are_reported_first_and_alone() {
    let a = TempFile::new("config-a");
    let b = TempFile::new("config-b");
    train_traced(&a, &[]);
    train_traced(&b, &["--lr", "0.1"]);
    let (code, out, err) = compare(&a, &b);
    assert_eq!(code, 1, "{err}");
    let third = out.lines().nth(2).unwrap();
    assert!(third.starts_with("traces differ: the runs' configurations differ"), "{out}");
    assert!(out.contains("config.lr: 0.05000000074505806 vs 0.10000000149011612 — can change bits"), "{out}");
    assert!(!out.contains("first at step") && !out.contains("parameters: first differ"), "{out}");
}

/// A clean trace's text, for the bad-input cases to damage.
fn clean_trace_text(name: &str) -> String {
    let file = TempFile::new(&format!("source-{name}"));
    train_traced(&file, &["--trace-values", "5"]);
    std::fs::read_to_string(&file.0).unwrap()
}

/// `samebits compare` of a good trace against `text`: must exit 2 with one line
/// `samebits: error: FILE:LINE: …` containing `expected`.
fn refused(name: &str, text: &[u8], line: usize, expected: &str) {
    let good = TempFile::new(&format!("bad-good-{name}"));
    train_traced(&good, &[]);
    let bad = TempFile::new(&format!("bad-{name}"));
    std::fs::write(&bad.0, text).unwrap();
    for (a, b) in [(&good, &bad), (&bad, &good)] {
        let (code, out, err) = compare(a, b);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(out.is_empty(), "{name}: {out}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        let prefix = format!("samebits: error: {}:{line}: ", bad.path());
        assert!(err.starts_with(&prefix), "{name}: expected {prefix}…, got {err}");
        assert!(err.contains(expected), "{name}: expected {expected:?} in {err}");
    }
}

#[test]
fn a_truncated_trace_is_refused_with_its_line() {
    let text = clean_trace_text("truncated");
    let lines: Vec<&str> = text.lines().collect();
    // Cut in the middle of the fourth step's record (line 5).
    let cut: String = lines[..4].iter().map(|l| format!("{l}\n")).collect::<String>() + &lines[4][..40];
    refused("cut", cut.as_bytes(), 5, "truncated: the last record does not end");
    // Every line whole, but no end record: the run was killed after step 6.
    let killed: String = lines[..7].iter().map(|l| format!("{l}\n")).collect();
    refused("killed", killed.as_bytes(), 8, "truncated: no end record after step 6");
    // Only the header.
    refused("header-only", format!("{}\n", lines[0]).as_bytes(), 2, "no end record after the header");
}

#[test]
fn a_corrupted_trace_is_refused_with_its_line() {
    let text = clean_trace_text("corrupted");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let with_line = |n: usize, new: String| {
        let mut l = lines.clone();
        l[n - 1] = new;
        l.iter().map(|l| format!("{l}\n")).collect::<String>()
    };
    // Not JSON.
    refused("not-json", with_line(3, lines[2].replacen('{', "[", 1)).as_bytes(), 3, "corrupted record: not valid JSON");
    // One hex digit of a parameter value changed (step 5 holds values): its digest disagrees.
    let values_line = &lines[5];
    assert!(values_line.contains("\"values\""), "{values_line}");
    let at = values_line.find("\"values\":[\"").unwrap() + 11;
    let mut damaged = values_line.clone();
    let digit = if &damaged[at..at + 1] == "0" { "1" } else { "0" };
    damaged.replace_range(at..at + 1, digit);
    refused("values", with_line(6, damaged).as_bytes(), 6, "values of layer 1 weights do not match their digest");
    // A step missing.
    refused("skipped", with_line(4, lines[4].clone()).as_bytes(), 4, "step 4 where step 3 was expected");
    // A digest that is not one.
    let bad_digest = lines[2].replacen("\"digests\":[\"", "\"digests\":[\"zz", 1);
    refused("digest", with_line(3, bad_digest).as_bytes(), 3, "digest of layer 1 weights is not 64 hex digits");
}

#[test]
fn a_trace_of_another_format_version_is_refused() {
    let text = clean_trace_text("version");
    let other = text.replacen("\"version\":1,", "\"version\":2,", 1);
    refused("version", other.as_bytes(), 1, "trace format version 2; this samebits reads version 1 only");
}

#[test]
fn a_file_that_is_not_a_trace_is_refused() {
    refused("csv", b"1,2,3,0\n4,5,6,1\n", 1, "not a samebits trace");
    refused("json-object", b"{\"digest\": \"25ce\"}\n", 1, "not a samebits trace");
    refused("binary", &[0xff, 0xfe, 0, 1, b'\n'], 1, "not a samebits trace");
    refused("empty", b"", 1, "empty file");
    let (code, _, err) = samebits(&["compare", "/no/such/trace.jsonl", "/no/such/other.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("samebits: error: cannot read /no/such/trace.jsonl: "), "{err}");
}

#[test]
fn a_failed_run_ends_its_trace_with_the_error() {
    // A learning rate this large overflows within a few steps (NUMERICS.md §10).
    let file = TempFile::new("failed");
    let (code, _, err) = samebits(&["train", "--trace", file.path(), "--epochs", "1", "--lr", "1e30", "--json"]);
    assert_eq!(code, 1, "{err}");
    let trace = trace::read(&file.0).unwrap();
    assert_eq!(trace.end.status, "error");
    assert!(err.contains(trace.end.error.as_deref().unwrap()), "{err}");
    assert_eq!(trace.end.steps, trace.steps.len() as u64);
}

#[test]
fn ops_level_needs_the_cpu() {
    let file = TempFile::new("ops-opencl");
    let (code, _, err) =
        samebits(&["train", "--trace", file.path(), "--trace-level", "ops", "--device", "opencl", "--epochs", "1"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim(),
        "samebits: error: --trace-level ops needs --device cpu (the OpenCL step is not observed layer by layer)"
    );
    let (code, _, err) = samebits(&["train", "--trace-level", "ops", "--epochs", "1"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_trace_that_cannot_be_created_stops_the_run_before_it_starts() {
    let (code, out, err) = samebits(&["train", "--trace", "/no/such/folder/t.jsonl", "--epochs", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("samebits: error: cannot create trace /no/such/folder/t.jsonl: "), "{err}");
}

#[test]
fn an_existing_trace_is_kept_unless_overwrite_is_given() {
    let file = TempFile::new("existing");
    std::fs::write(&file.0, "what the user had\n").unwrap();
    let (code, out, err) = samebits(&["train", "--trace", file.path(), "--epochs", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "the run must not start: {out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("already exists") && err.contains("--overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&file.0).unwrap(), "what the user had\n");
    train_traced(&file, &["--overwrite"]);
    assert!(trace::read(&file.0).is_ok(), "--overwrite replaces it with a trace");
}

#[test]
#[cfg(not(target_family = "wasm"))]
fn an_opencl_trace_equals_the_cpu_trace() {
    if samebits_tests::opencl::gpu().is_none() {
        return;
    }
    for path in ["float", "fixed"] {
        let cpu = TempFile::new(&format!("opencl-cpu-{path}"));
        let device = TempFile::new(&format!("opencl-device-{path}"));
        let both = TempFile::new(&format!("opencl-both-{path}"));
        train_traced(&cpu, &["--path", path]);
        train_traced(&device, &["--path", path, "--device", "opencl"]);
        train_traced(&both, &["--path", path, "--device", "both"]);
        for other in [&device, &both] {
            let (code, out, err) = compare(&cpu, other);
            assert_eq!(code, 0, "{path}: {out}{err}");
            assert!(out.contains("config.device: cpu vs "), "{out}");
        }
    }
}

#[test]
fn compare_draws_the_losses_and_the_divergence() {
    let config = short_config(PathKind::Float);
    let options = TraceOptions { level: Level::Steps, values_every: 1, fault: None };
    let clean = TempFile::new("plot-clean");
    let faulty = TempFile::new("plot-faulty");
    traced_run(&clean, &config, options);
    let fault = Fault { step: 5, layer: 1, op: Op::Update, index: 100 };
    traced_run(&faulty, &config, TraceOptions { fault: Some(fault), ..options });
    let svg = TempFile::new("plot-svg");
    let _ = std::fs::remove_file(&svg.0);
    let (code, out, err) = samebits(&["compare", clean.path(), faulty.path(), "--plot", svg.path()]);
    assert_eq!(code, 1, "{err}");
    assert!(out.ends_with(&format!("plot written to {}\n", svg.path())), "{out}");
    let text = std::fs::read_to_string(&svg.0).unwrap();
    assert!(text.starts_with("<svg") || text.starts_with("<?xml"), "{}", &text[..80.min(text.len())]);
    assert!(text.contains("training loss per step") && text.contains("divergence"), "{text}");
    // An existing file is kept unless --overwrite.
    let (code, _, err) = samebits(&["compare", clean.path(), faulty.path(), "--plot", svg.path()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = samebits(&["compare", clean.path(), faulty.path(), "--plot", svg.path(), "--overwrite"]);
    assert_eq!(code, 1, "{err}");
}

/// Keeps what is written and, at every flush, how much had been written.
#[derive(Clone, Default)]
struct Probe(std::sync::Arc<std::sync::Mutex<(Vec<u8>, Vec<usize>)>>);

impl std::io::Write for Probe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut state = self.0.lock().unwrap();
        let len = state.0.len();
        state.1.push(len);
        Ok(())
    }
}

#[test]
fn every_record_is_flushed_whole_as_it_is_written() {
    let config = short_config(PathKind::Float);
    let (train_set, test_set) = builtin_digits_split();
    let probe = Probe::default();
    let options = TraceOptions { level: Level::Ops, values_every: 0, fault: None };
    let mut tracer =
        Tracer::with_writer(Box::new(probe.clone()), Path::new("probe"), options, &config, &train_set, &test_set);
    train::run_traced(&config, &train_set, &test_set, &mut Quiet, &mut tracer).unwrap();
    let (bytes, flushes) = probe.0.lock().unwrap().clone();
    let lines = bytes.split(|&b| b == b'\n').count() - 1;
    // The header, 8 operations and a step record per step (15 steps), the end record.
    assert_eq!(lines, 1 + 15 * 9 + 1);
    // A flush after every line, each at the end of a line: a run killed between two
    // records leaves whole lines only.
    assert_eq!(flushes.len(), lines);
    for &at in &flushes {
        assert_eq!(bytes[at - 1], b'\n');
    }
    // The whole is a valid trace.
    let trace = trace::reader::parse(&bytes, Path::new("probe")).unwrap();
    assert_eq!(trace.steps.len(), 15);
}
