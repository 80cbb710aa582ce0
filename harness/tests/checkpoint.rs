//! Checkpoints under SIGKILL: a run killed at any moment — between steps or inside a
//! checkpoint write — and resumed, as often as it takes, ends with exactly the digest of the
//! uninterrupted run, on both arithmetic paths. Damaged, foreign and conflicting checkpoints are
//! refused with one line and left as they are.
//!
//! The runs are small (digits, one hidden layer of 16, 2 epochs = 94 steps) so that the debug
//! build Cargo made for this test runs them in seconds; `--checkpoint-every 1` makes every step
//! write a checkpoint, so kills land in writes as well as in steps.
#![cfg(unix)]

use samebits_harness::checkpoint::{Checkpoint, FILE_NAME, PAUSE_ENV, TEMP_NAME};
use samebits_harness::cli::{EXIT_FAILURE, EXIT_USAGE};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_samebits");

/// A run must never take this long; a hang fails instead of blocking the suite.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The two paths' runs: the float path with SGD and momentum, the fixed path with Adam (so
/// that both optimizers' state and Adam's running powers cross a resume).
const RUNS: [(&str, &[&str]); 2] = [
    ("float", &["--path", "float", "--hidden", "16", "--epochs", "2", "--seed", "5"]),
    ("fixed", &["--path", "fixed", "--optimizer", "adam", "--lr", "0.002", "--hidden", "16", "--epochs", "2"]),
];
/// 1500 training rows in batches of 32.
const STEPS_PER_EPOCH: u64 = 47;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("samebits-checkpoint-test-{}-{n}-{tag}", std::process::id()));
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    /// The checkpoint directory of a run (not created: `train --checkpoint` creates it).
    fn run_dir(&self) -> PathBuf {
        self.0.join("run")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env_remove(PAUSE_ENV).stdin(Stdio::null());
    c
}

/// Runs to the end (or the timeout, which fails the test).
fn run(args: &[&str]) -> Out {
    let child = command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start samebits");
    let started = Instant::now();
    let output = child.wait_with_output().expect("wait for samebits");
    assert!(started.elapsed() < TIMEOUT, "samebits {args:?} took {:?}", started.elapsed());
    Out {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into(),
        stderr: String::from_utf8_lossy(&output.stderr).into(),
    }
}

/// The digest of a `--json` run that must succeed.
fn digest_of(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.code, Some(0), "samebits {args:?} failed: {}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    report["digest"].as_str().expect("a digest").to_string()
}

fn train_args<'a>(extra: &'a [&'a str], dir: &'a str, every: &'a str) -> Vec<&'a str> {
    let mut args = vec!["train", "--json", "--checkpoint", dir, "--checkpoint-every", every];
    args.extend_from_slice(extra);
    args
}

/// Kills `child` with SIGKILL (what `Child::kill` sends on Unix) and reaps it.
fn sigkill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `args` with the fault-injection pause `pause` (PHASE:N, [`PAUSE_ENV`]), waits until
/// the run stands still inside that checkpoint write, and kills it there with SIGKILL.
fn kill_in_write(args: &[&str], pause: &str) {
    let mut child = command(args)
        .env(PAUSE_ENV, pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start samebits");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).expect("read stderr");
    assert!(line.contains("paused in checkpoint write"), "samebits {args:?} with {pause}: {line}");
    sigkill(child);
}

fn read_checkpoint(dir: &Path) -> Checkpoint {
    let bytes = std::fs::read(dir.join(FILE_NAME)).expect("a checkpoint file");
    Checkpoint::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Finishes a run whose process was killed: `resume` when a checkpoint exists, otherwise (killed
/// inside the very first write) `train` again after `resume` has said why it cannot.
fn finish(extra: &[&str], dir: &Path) -> String {
    let d = dir.to_str().unwrap();
    // Few writes from here on: this part is not what is being tested, and each write syncs.
    if dir.join(FILE_NAME).exists() {
        return digest_of(&["resume", d, "--json", "--checkpoint-every", "1000"]);
    }
    let out = run(&["resume", d]);
    assert_eq!(out.code, Some(EXIT_FAILURE), "{}", out.stderr);
    assert!(out.stderr.contains("stopped while writing its first checkpoint"), "{}", out.stderr);
    digest_of(&train_args(extra, d, "1000"))
}

#[test]
fn killed_inside_any_phase_of_a_checkpoint_write_the_run_resumes_to_the_same_digest() {
    for (path, extra) in RUNS {
        let want = digest_of(&[&["train", "--json"][..], extra].concat());
        // Write 1 is the state before step 1; then, every step: write k + 1 follows step k
        // (mid-epoch), or every epoch: write 2 follows the first epoch's evaluation and write 3
        // ends the run.
        for (every, n) in [(1u64, 1u64), (1, 2), (1, 30), (STEPS_PER_EPOCH, 2), (STEPS_PER_EPOCH, 3)] {
            for phase in ["partial", "synced", "renamed"] {
                let tmp = TempDir::new(&format!("{path}-{phase}-{n}"));
                let dir = tmp.run_dir();
                let every_text = every.to_string();
                let args = train_args(extra, dir.to_str().unwrap(), &every_text);
                kill_in_write(&args, &format!("{phase}:{n}"));

                // What the kill left: the last complete checkpoint until the rename, the new one
                // after it; never a mixture.
                let complete_writes = if phase == "renamed" { n } else { n - 1 };
                if complete_writes == 0 {
                    assert!(!dir.join(FILE_NAME).exists());
                } else {
                    let c = read_checkpoint(&dir);
                    assert_eq!(c.steps, (complete_writes - 1) * every, "{path} {phase}:{n} every {every}");
                }
                assert_eq!(dir.join(TEMP_NAME).exists(), phase != "renamed", "{path} {phase}:{n}");
                assert_eq!(finish(extra, &dir), want, "{path} run killed in write {n} ({phase}), every {every}");
            }
        }
    }
}

/// A small deterministic generator for the kill times (SplitMix64).
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn killed_at_random_moments_again_and_again_the_run_ends_with_the_same_digest() {
    for (i, (path, extra)) in RUNS.into_iter().enumerate() {
        let want = digest_of(&[&["train", "--json"][..], extra].concat());
        let tmp = TempDir::new(path);
        let dir = tmp.run_dir();
        let d = dir.to_str().unwrap();
        let mut rng = 0x5EED + i as u64;
        let mut kills = 0;
        let mut steps_at_kill = Vec::new();
        let mut resumed = false;
        let got = loop {
            assert!(kills < 60, "{path}: the run did not finish after {kills} kills");
            let args: Vec<&str> =
                if resumed { vec!["resume", d, "--json", "--threads", "2"] } else { train_args(extra, d, "1") };
            let mut child = command(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            // Kill once the run has written a checkpoint 1 to 25 steps past the current one,
            // 0 to 4 ms after seeing it (so inside a step or the next write), unless the run
            // finishes first. Waiting for progress rather than for a time keeps the kills in the
            // middle of the run however slow the machine is.
            let current = if dir.join(FILE_NAME).exists() { read_checkpoint(&dir).steps } else { 0 };
            let target = current + 1 + next(&mut rng) % 25;
            let started = Instant::now();
            while child.try_wait().unwrap().is_none() {
                assert!(started.elapsed() < TIMEOUT, "{path}: no checkpoint of step {target} in {TIMEOUT:?}");
                let reached = std::fs::read(dir.join(FILE_NAME))
                    .ok()
                    .and_then(|b| Checkpoint::decode(&b).ok())
                    .is_some_and(|c| c.steps >= target);
                if reached {
                    std::thread::sleep(Duration::from_micros(next(&mut rng) % 4000));
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            if child.try_wait().unwrap().is_none() {
                sigkill(child);
                kills += 1;
                if dir.join(FILE_NAME).exists() {
                    steps_at_kill.push(read_checkpoint(&dir).steps);
                    resumed = true;
                }
                continue;
            }
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{path}: {args:?} failed: {stderr}");
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            break report["digest"].as_str().unwrap().to_string();
        };
        assert_eq!(got, want, "{path}: killed {kills} times (checkpoints at steps {steps_at_kill:?})");
        // The kills must have interrupted the run, not only its start or its end.
        let middle = steps_at_kill.iter().filter(|&&s| s > 0 && s < 2 * STEPS_PER_EPOCH).count();
        assert!(middle >= 2, "{path}: kills at steps {steps_at_kill:?}");
        println!("{path}: {kills} kills, checkpoints at steps {steps_at_kill:?}, digest {got}");
    }
}

/// One line on stderr, the exit code, no digest on stdout, and the checkpoint untouched.
fn assert_refused(args: &[&str], code: i32, needle: &str, file: &Path) {
    let before = std::fs::read(file).unwrap();
    let out = run(args);
    assert_eq!(out.code, Some(code), "samebits {args:?}: {}", out.stderr);
    assert!(out.stderr.contains(needle), "samebits {args:?}: {}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!out.stdout.contains("digest"), "{}", out.stdout);
    assert_eq!(std::fs::read(file).unwrap(), before, "samebits {args:?} changed {}", file.display());
}

#[test]
fn damaged_foreign_and_other_version_checkpoints_are_refused_and_kept() {
    let tmp = TempDir::new("damaged");
    let dir = tmp.run_dir();
    let d = dir.to_str().unwrap();
    digest_of(&train_args(RUNS[0].1, d, "20"));
    let file = dir.join(FILE_NAME);
    let good = std::fs::read(&file).unwrap();
    let resume = ["resume", d];

    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    assert_refused(&resume, EXIT_FAILURE, "truncated", &file);
    std::fs::write(&file, b"").unwrap();
    assert_refused(&resume, EXIT_FAILURE, "truncated", &file);
    let mut flipped = good.clone();
    flipped[good.len() / 3] ^= 0x10;
    std::fs::write(&file, &flipped).unwrap();
    assert_refused(&resume, EXIT_FAILURE, "corrupted", &file);
    std::fs::write(&file, b"1,2,3,0\n4,5,6,1\n").unwrap();
    assert_refused(&resume, EXIT_FAILURE, "not a samebits checkpoint", &file);
    let mut future = good.clone();
    future[16] = 9;
    std::fs::write(&file, &future).unwrap();
    assert_refused(&resume, EXIT_FAILURE, "format version 9", &file);
    std::fs::remove_file(&file).unwrap();
    let out = run(&resume);
    assert_eq!(out.code, Some(EXIT_FAILURE));
    assert!(out.stderr.contains("holds no checkpoint"), "{}", out.stderr);
    let out = run(&["resume", tmp.0.join("missing").to_str().unwrap()]);
    assert_eq!(out.code, Some(EXIT_FAILURE));
    assert!(out.stderr.contains("no such directory"), "{}", out.stderr);

    // The good checkpoint back: a new run may not overwrite it.
    std::fs::write(&file, &good).unwrap();
    assert_refused(&train_args(RUNS[0].1, d, "5"), EXIT_FAILURE, "already holds a checkpoint", &file);
}

#[test]
fn options_that_would_change_the_bits_are_refused_at_resume() {
    let tmp = TempDir::new("conflict");
    let dir = tmp.run_dir();
    let d = dir.to_str().unwrap();
    let (_, extra) = RUNS[0];
    let want = digest_of(&[&["train", "--json"][..], extra].concat());
    // Stop after step 30: a checkpoint in the middle of the run.
    kill_in_write(&train_args(extra, d, "10"), "synced:5");
    let file = dir.join(FILE_NAME);
    assert_eq!(read_checkpoint(&dir).steps, 30);

    for (flags, needle) in [
        (&["--seed", "6"][..], "--seed 6 (the checkpoint has 5)"),
        (&["--lr", "0.1"], "--lr 0.1 (the checkpoint has 0.05)"),
        (&["--hidden", "8"], "--hidden 8 (the checkpoint has 16)"),
        (&["--path", "fixed"], "--path fixed (the checkpoint has float)"),
        (&["--epochs", "3"], "--epochs 3 (the checkpoint has 2)"),
        (&["--data", "x.csv"], "--data x.csv (the checkpoint has the built-in digits)"),
    ] {
        assert_refused(&[&["resume", d][..], flags].concat(), EXIT_USAGE, needle, &file);
    }
    assert_refused(&["resume", d, "--trace", "t.jsonl"], EXIT_USAGE, "no trace", &file);
    assert_refused(&["resume", d, "--device", "both"], EXIT_USAGE, "not both", &file);
    assert_refused(&["resume", d, "--checkpoint-every", "0"], EXIT_USAGE, "at least 1", &file);
    // The same values again, and the settings that cannot change a bit, are accepted.
    let got = digest_of(&[
        "resume",
        d,
        "--json",
        "--seed",
        "5",
        "--hidden",
        "16",
        "--threads",
        "3",
        "--simd",
        "portable",
        "--checkpoint-every",
        "7",
    ]);
    assert_eq!(got, want);
    let done = read_checkpoint(&dir);
    assert!(done.finished() && done.every == 7, "{:?} every {}", done.position, done.every);
    // A finished run resumes to its report at once.
    assert_eq!(digest_of(&["resume", d, "--json"]), want);
}

#[test]
fn a_resumed_run_refuses_data_that_changed() {
    let tmp = TempDir::new("data");
    let csv = tmp.0.join("data.csv");
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(&format!("{},{},{}\n", i % 7, (i * 3) % 5, i % 3));
    }
    std::fs::write(&csv, &text).unwrap();
    let dir = tmp.run_dir();
    let d = dir.to_str().unwrap();
    let args = ["--data", csv.to_str().unwrap(), "--hidden", "4", "--epochs", "3", "--batch", "8"];
    let want = digest_of(&[&["train", "--json"][..], &args].concat());
    kill_in_write(&train_args(&args, d, "2"), "synced:4");

    // The file moved: --data names its new place, and its content is what counts.
    let moved = tmp.0.join("moved.csv");
    std::fs::rename(&csv, &moved).unwrap();
    let out = run(&["resume", d]);
    assert_eq!(out.code, Some(EXIT_FAILURE), "{}", out.stderr);
    assert!(out.stderr.contains("data.csv"), "{}", out.stderr);
    std::fs::write(&csv, text.replacen("0,0,0", "1,0,0", 1)).unwrap();
    assert_refused(&["resume", d], EXIT_FAILURE, "the data differ", &dir.join(FILE_NAME));
    assert_eq!(digest_of(&["resume", d, "--json", "--data", moved.to_str().unwrap()]), want);
}

#[test]
fn checkpoint_options_out_of_place_are_refused_before_anything_runs() {
    let tmp = TempDir::new("flags");
    let dir = tmp.run_dir();
    let d = dir.to_str().unwrap();
    for (args, code, needle) in [
        (vec!["train", "--checkpoint-every", "5"], EXIT_USAGE, "needs --checkpoint DIR"),
        (vec!["train", "--checkpoint", d, "--checkpoint-every", "0"], EXIT_USAGE, "at least 1"),
        (vec!["train", "--checkpoint", d, "--trace", "t.jsonl"], EXIT_USAGE, "--trace cannot be combined"),
        (vec!["train", "--checkpoint", d, "--device", "both"], EXIT_USAGE, "not both"),
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle) && out.stderr.lines().count() == 1, "{args:?}: {}", out.stderr);
        assert!(!dir.exists(), "{args:?} created {d}");
    }
    let file = tmp.0.join("a-file");
    std::fs::write(&file, b"mine").unwrap();
    assert_refused(&["train", "--checkpoint", file.to_str().unwrap()], EXIT_FAILURE, "not a directory", &file);
}

/// Whether an OpenCL device can train here; without one the test is skipped, unless
/// SAMEBITS_REQUIRE_OPENCL is set (as `scripts/test.sh` does), where that is a failure.
fn opencl_available() -> bool {
    let out = run(&["devices"]);
    let usable = out.code == Some(0) && out.stdout.contains("usable: yes");
    if !usable && std::env::var_os("SAMEBITS_REQUIRE_OPENCL").is_some() {
        panic!("SAMEBITS_REQUIRE_OPENCL is set but no usable OpenCL device: {}{}", out.stdout, out.stderr);
    }
    usable
}

#[test]
fn a_run_moves_between_the_cpu_and_an_opencl_device_through_a_checkpoint() {
    if !opencl_available() {
        eprintln!("skipped: no usable OpenCL device");
        return;
    }
    for (path, extra) in RUNS {
        let want = digest_of(&[&["train", "--json"][..], extra].concat());
        for (from, to) in [("opencl", "cpu"), ("cpu", "opencl")] {
            let tmp = TempDir::new(&format!("{path}-{from}"));
            let dir = tmp.run_dir();
            let d = dir.to_str().unwrap();
            // Killed after step 60 of 94, in the second epoch, inside the writing of step 70's.
            let args = [&train_args(extra, d, "10")[..], &["--device", from]].concat();
            kill_in_write(&args, "partial:8");
            assert_eq!(read_checkpoint(&dir).steps, 60);
            let got = digest_of(&["resume", d, "--json", "--device", to]);
            assert_eq!(got, want, "{path}: started on {from}, resumed on {to}");
        }
    }
}

#[test]
fn a_checkpoint_that_cannot_be_written_stops_the_run_with_one_line() {
    // The temporary file's name taken by a directory: every write fails, as on a full disk.
    let tmp = TempDir::new("unwritable");
    let dir = tmp.run_dir();
    std::fs::create_dir_all(dir.join(TEMP_NAME)).unwrap();
    let out = run(&train_args(RUNS[0].1, dir.to_str().unwrap(), "10"));
    assert_eq!(out.code, Some(EXIT_FAILURE), "{}", out.stderr);
    assert!(out.stderr.contains("cannot write a checkpoint in"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(!out.stdout.contains("digest"), "{}", out.stdout);
}
