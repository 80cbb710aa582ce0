//! NUMERICS.md §3, enforced on the source: the kernel never names platform math or FMA.
//!
//! clippy's `disallowed-methods` (kernel/clippy.toml) catches calls it can resolve; this scan
//! also catches what clippy cannot see (macros, `core::intrinsics`, new methods) and runs in
//! every `cargo test`.

use std::path::{Path, PathBuf};

/// Names that must not appear in kernel code outside `#[cfg(test)]` modules and comments.
const FORBIDDEN: &[&str] = &[
    ".mul_add(",
    "fma",
    ".exp(",
    ".exp2(",
    ".exp_m1(",
    ".ln(",
    ".ln_1p(",
    ".log(",
    ".log2(",
    ".log10(",
    ".tanh(",
    ".sinh(",
    ".cosh(",
    ".powf(",
    ".powi(",
    ".sqrt(",
    ".sin(",
    ".cos(",
    "intrinsics",
    "std::",
    // No allocator: buffers are the caller's.
    "alloc::",
    "extern crate alloc",
    "f32::consts::LN",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `source` before its `#[cfg(test)]` module, without `//` comments.
fn non_test_code(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("").to_string()))
        .collect()
}

fn violations(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (line, code) in non_test_code(source) {
        for name in FORBIDDEN {
            if code.contains(name) {
                found.push(format!("line {line}: `{name}` in `{}`", code.trim()));
            }
        }
    }
    found
}

#[test]
fn kernel_source_uses_no_platform_math_or_fma() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kernel/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "kernel sources not found at {}", src.display());
    let mut all = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        // The math module wraps libm: `libm::expf(x)` is the allowed spelling.
        for v in violations(&source) {
            all.push(format!("{}: {v}", file.display()));
        }
    }
    assert!(all.is_empty(), "NUMERICS.md §3 violations:\n{}", all.join("\n"));
}

#[test]
fn the_scan_would_catch_a_violation() {
    assert!(!violations("fn f(x: f32) -> f32 { x.exp() }").is_empty());
    assert!(!violations("fn f(a: f32) -> f32 { a.mul_add(2.0, 1.0) }").is_empty());
    assert!(violations("fn f(x: f32) -> f32 { libm::expf(x) } // x.exp() is banned").is_empty());
    assert!(violations("#[cfg(test)]\nmod tests { fn g(x: f64) -> f64 { x.exp() } }").is_empty());
}

#[test]
fn libm_is_pinned_exactly_without_default_features() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml")).unwrap();
    let line = manifest.lines().find(|l| l.starts_with("libm")).expect("libm in workspace dependencies");
    assert!(line.contains("version = \"=0."), "libm must be pinned with `=`: {line}");
    assert!(line.contains("default-features = false"), "libm's `arch` feature must be off: {line}");
}
