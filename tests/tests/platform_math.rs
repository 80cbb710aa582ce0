//! `samebits train --math platform`: the float path with the C library's `exp`, `ln` and
//! `tanh`, which exists to show that their digests differ between platforms. Its digests are
//! therefore never goldens; these tests check that such a run says what it is, that it is
//! refused where it has no meaning, and that the portable runs are untouched by it.

use samebits_tests::{samebits, train_json};

const SHORT: [&str; 4] = ["--epochs", "1", "--threads", "1"];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = SHORT.to_vec();
    args.extend_from_slice(extra);
    args
}

#[test]
fn portable_is_the_default_and_names_itself() {
    let default = train_json(&SHORT);
    let portable = train_json(&with(&["--math", "portable"]));
    assert_eq!(default["math"], "portable");
    assert_eq!(default["config"]["math"], "portable");
    assert_eq!(portable["math"], "portable");
    assert_eq!(default["digest"], portable["digest"]);
}

#[test]
fn a_platform_run_completes_and_says_so() {
    let report = train_json(&with(&["--math", "platform", "--activation", "tanh"]));
    assert_eq!(report["math"], "platform");
    assert_eq!(report["config"]["math"], "platform");
    assert_eq!(report["path"], "float");
    assert_eq!(report["epochs"], 1);
    assert!(report["test_accuracy"].as_f64().unwrap() > 0.5, "{report}");

    let (code, out, err) = samebits(&["train", "--epochs", "1", "--threads", "1", "--math", "platform"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("float path with platform math"), "{out}");
    let digest_line = out.lines().position(|l| l.starts_with("digest ")).expect("a digest line");
    assert!(out.lines().nth(digest_line - 1).unwrap().starts_with("math: platform"), "{out}");
}

#[test]
fn platform_math_only_on_the_float_path_on_the_cpu() {
    for extra in [
        &["--path", "fixed"][..],
        &["--device", "opencl"][..],
        &["--device", "both"][..],
        &["--path", "fixed", "--device", "opencl"][..],
    ] {
        let mut args = vec!["train", "--epochs", "1", "--math", "platform"];
        args.extend_from_slice(extra);
        for json in [false, true] {
            let mut args = args.clone();
            if json {
                args.push("--json");
            }
            let (code, out, err) = samebits(&args);
            assert_eq!(code, 1, "{args:?}: {err}");
            assert!(out.is_empty(), "{args:?} printed {out}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.starts_with("samebits: error: --math platform needs"), "{args:?}: {err}");
        }
    }
    let (code, _, err) = samebits(&["train", "--math", "libc"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("portable, platform"), "{err}");
}

/// glibc's `expf` and `logf` differ from the contract's in a few last bits, enough to change
/// the digest within one epoch of the default model. Other C libraries may happen to agree
/// on these inputs (musl's functions are the ones the portable path is ported from), so this
/// holds only where it was observed.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
fn glibc_math_changes_the_digest() {
    let portable = train_json(&SHORT);
    let platform = train_json(&with(&["--math", "platform"]));
    assert_ne!(portable["digest"], platform["digest"]);
}
