//! The fuzz targets' inputs (fuzz/, docs/FUZZING.md) on the stable toolchain: every committed
//! seed of every target and every input that once made a target fail is fed to the reader it
//! was found in, with the target's own checks, so `cargo test` catches a regression without
//! nightly or cargo-fuzz. The seeds that are real files of this version (CSV files, traces and
//! checkpoints written by `samebits train`) must also still be accepted: when a format
//! changes, the seeds are regenerated as docs/FUZZING.md says, or the fuzzer would start from
//! files it refuses at once.

use samebits_harness::checkpoint::Checkpoint;
use samebits_harness::data::{parse_csv, CsvOptions};
use samebits_harness::trace::{self, reader};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The committed seeds of one target, sorted by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&f).unwrap()))
        .collect()
}

/// fuzz/fuzz_targets/csv.rs: the first byte picks the options, the rest is the text. `None`
/// when the input is not one the target parses (empty, or not UTF-8); otherwise whether the
/// text was accepted, after checking what the target checks.
fn csv_case(data: &[u8]) -> Option<bool> {
    let (&flags, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let n_classes = match (flags >> 1) & 0x0f {
        0 => None,
        k => Some(usize::from(k) - 1),
    };
    let opts = CsvOptions { header: flags & 1 == 1, n_classes };
    Some(match parse_csv(text, "fuzz.csv", &opts) {
        Ok(ds) => {
            assert!(ds.rows() > 0 && ds.n_features > 0);
            assert_eq!(ds.features.len(), ds.rows() * ds.n_features);
            assert!(ds.n_classes >= 2);
            if let Some(n) = n_classes {
                assert_eq!(ds.n_classes, n);
            }
            assert!(ds.labels.iter().all(|&l| (l as usize) < ds.n_classes));
            assert!(ds.features.iter().all(|f| f.is_finite()));
            true
        }
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "error on several lines: {e}");
            false
        }
    })
}

/// fuzz/fuzz_targets/csv_load.rs: the bytes after the option byte loaded from a regular file
/// (bit 5 clear) or a pipe (bit 5 set) must give what `parse_csv` gives for the same text; bytes
/// that are not UTF-8 are refused (`NotUtf8` at the first bad byte's line from a file). Whether
/// the input was accepted.
#[cfg(target_os = "linux")]
fn csv_load_case(data: &[u8]) -> bool {
    use samebits_harness::data::{load_csv, DataError};
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let Some((&flags, bytes)) = data.split_first() else { return false };
    let n_classes = match (flags >> 1) & 0x0f {
        0 => None,
        k => Some(usize::from(k) - 1),
    };
    let opts = CsvOptions { header: flags & 1 == 1, n_classes };
    let pipe = flags & 0x20 != 0;
    let (name, loaded) = if pipe {
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(bytes).unwrap();
        drop(writer);
        let path = PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd()));
        (path.display().to_string(), load_csv(&path, &opts))
    } else {
        let path = std::env::temp_dir().join(format!("samebits-fuzz-regression-{}.csv", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let loaded = load_csv(&path, &opts);
        std::fs::remove_file(&path).unwrap();
        (path.display().to_string(), loaded)
    };
    let accepted = loaded.is_ok();
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let parsed = parse_csv(text, &name, &opts).map_err(|e| e.to_string());
            assert!(loaded.map_err(|e| e.to_string()) == parsed, "load_csv and parse_csv differ");
        }
        Err(e) => match loaded {
            Ok(_) => panic!("load_csv accepted bytes that are not UTF-8"),
            Err(DataError::NotUtf8 { line, .. }) if !pipe => {
                assert_eq!(line, bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1);
            }
            Err(other) => assert!(pipe, "not UTF-8, but load_csv says: {other}"),
        },
    }
    accepted
}

/// fuzz/fuzz_targets/trace.rs: one trace compared with itself, or two traces split at the
/// first NUL byte compared both ways. Whether every trace in the input was read.
fn trace_case(data: &[u8]) -> bool {
    match data.iter().position(|&b| b == 0) {
        None => match reader::parse(data, Path::new("fuzz.trace")) {
            Ok(t) => {
                let c = trace::compare(&t, &t);
                assert!(c.identical, "a trace differs from itself:\n{}", c.report);
                true
            }
            Err(_) => false,
        },
        Some(at) => {
            let a = reader::parse(&data[..at], Path::new("a.trace"));
            let b = reader::parse(&data[at + 1..], Path::new("b.trace"));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    let ab = trace::compare(&a, &b);
                    assert_eq!(ab.identical, trace::compare(&b, &a).identical, "compare is not symmetric");
                    let _ = samebits_harness::plot::render_figure_svg(&trace::divergence_figure(&ab));
                    true
                }
                _ => false,
            }
        }
    }
}

/// fuzz/fuzz_targets/cli.rs: the arguments after `samebits`, separated by NUL bytes.
fn cli_case(data: &[u8]) -> Result<(), String> {
    #[cfg(unix)]
    let arg = |a: &[u8]| -> OsString { std::os::unix::ffi::OsStringExt::from_vec(a.to_vec()) };
    #[cfg(not(unix))]
    let arg = |a: &[u8]| -> OsString { String::from_utf8_lossy(a).into_owned().into() };
    let args = std::iter::once(OsString::from("samebits")).chain(data.split(|&b| b == 0).map(arg));
    let result = samebits_harness::cli::check_command_line(args);
    if let Err(message) = &result {
        assert!(!message.contains('\n'), "error on several lines: {message:?}");
    }
    result
}

/// fuzz/fuzz_targets/checkpoint.rs, first half: the bytes as they are. Whether they were
/// accepted; an accepted checkpoint must round-trip.
fn checkpoint_case(data: &[u8]) -> bool {
    match Checkpoint::decode(data) {
        Ok(c) => {
            let bytes = c.encode();
            let again = Checkpoint::decode(&bytes).expect("an accepted checkpoint re-encodes to one refused");
            assert!(again.encode() == bytes, "an accepted checkpoint does not round-trip");
            true
        }
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "error on several lines: {e}");
            false
        }
    }
}

/// Feeds every seed to `case`; the seeds named in `valid` must be accepted, the others not.
fn check_seeds(target: &str, valid: &[&str], case: impl Fn(&[u8]) -> bool) {
    let seeds = seeds(target);
    for name in valid {
        assert!(seeds.iter().any(|(n, _)| n == name), "fuzz/corpus/{target}/{name} is missing");
    }
    for (name, data) in &seeds {
        let accepted = case(data);
        let expected = valid.contains(&name.as_str());
        assert_eq!(
            accepted,
            expected,
            "fuzz/corpus/{target}/{name}: {} (regenerate the seeds as docs/FUZZING.md says if a format changed)",
            if expected { "a valid seed is refused" } else { "an invalid seed is accepted" }
        );
    }
}

#[test]
fn csv_seeds() {
    let valid = ["basic", "bom_no_final_newline", "classes3_tabs", "crlf", "header", "header_classes14", "max_label"];
    check_seeds("csv", &valid, |d| csv_case(d).expect("every CSV seed is UTF-8 after its first byte"));
}

#[test]
#[cfg(target_os = "linux")]
fn csv_load_seeds() {
    let valid = ["basic", "bom_no_final_newline", "classes3_tabs", "crlf", "header", "header_classes14", "max_label"];
    let pipes = ["pipe_basic", "pipe_bom_no_final_newline", "pipe_crlf", "pipe_header"];
    check_seeds("csv_load", &[&valid[..], &pipes[..]].concat(), csv_load_case);
}

#[test]
fn trace_seeds() {
    let valid = ["fixed_path", "ops", "pair_config_differs", "pair_identical", "pair_loss_differs", "pair_ops"];
    check_seeds("trace", &[&valid[..], &["steps", "steps_full_environment", "values"]].concat(), trace_case);
}

#[test]
fn cli_seeds() {
    let valid = [
        "bench",
        "bench_quick",
        "compare",
        "devices",
        "env",
        "resume",
        "resume_conflict",
        "train",
        "train_checkpoint",
        "train_csv",
        "train_device",
        "train_equals",
        "train_full",
        "train_math",
        "train_plot",
        "train_trace",
    ];
    check_seeds("cli", &valid, |d| cli_case(d).is_ok());
}

#[test]
fn checkpoint_seeds() {
    check_seeds("checkpoint", &["digits", "final", "fixed_adam", "mid", "tanh"], checkpoint_case);
}
