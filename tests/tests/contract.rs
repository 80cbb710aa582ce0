//! Rules enforced on the source, in every `cargo test`:
//!
//! - NUMERICS.md §3: the kernel never names platform math or FMA. clippy's `disallowed-methods`
//!   (kernel/clippy.toml) catches calls it can resolve; this scan also catches what clippy
//!   cannot see (macros, `core::intrinsics`, new methods).
//! - docs/RELIABILITY.md, unsafe code: the kernel's `unsafe` stays in `linalg::simd` (every
//!   other module is declared `#[forbid(unsafe_code)]`, which the compiler then enforces), and
//!   every `unsafe` in the harness has a `SAFETY:` comment directly above it.

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

// ---------------------------------------------------------------------------------------
// Unsafe code
// ---------------------------------------------------------------------------------------

fn source_dir(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("src")
}

/// The module declarations of `file` (`mod x;` / `pub mod x;`, not inline modules) with whether
/// the line before each is `#[forbid(unsafe_code)]`.
fn declarations(file: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let name = line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod "));
        if let Some(name) = name.and_then(|n| n.strip_suffix(';')) {
            let forbidden = i > 0 && lines[i - 1] == "#[forbid(unsafe_code)]";
            found.push((name.to_string(), forbidden));
        }
    }
    found
}

/// Whether the code of `line` (its `//` comment cut off) uses the word `unsafe`.
fn uses_unsafe(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "unsafe")
}

#[test]
fn every_kernel_module_but_the_vector_code_forbids_unsafe_code() {
    let src = source_dir("kernel");
    for (file, exempt) in [("lib.rs", "linalg"), ("linalg/mod.rs", "simd")] {
        let modules = declarations(&src.join(file));
        assert!(modules.iter().any(|(m, _)| m == exempt), "{file} no longer declares {exempt}");
        for (module, forbidden) in &modules {
            assert_eq!(*forbidden, module != exempt, "{file}: `mod {module};` and #[forbid(unsafe_code)]");
        }
    }
}

#[test]
fn no_kernel_source_outside_the_vector_code_uses_unsafe() {
    let src = source_dir("kernel");
    let simd = src.join("linalg").join("simd");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} kernel source files", files.len());
    for file in files.iter().filter(|f| !f.starts_with(&simd)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            assert!(!uses_unsafe(line), "{}:{}: {line}", file.display(), n + 1);
        }
    }
}

/// Whether the comment block right above line `i` (attributes may stand between), or line `i`
/// itself, holds `SAFETY:`.
fn justified(lines: &[&str], i: usize) -> bool {
    if lines[i].contains("SAFETY:") {
        return true;
    }
    for line in lines[..i].iter().rev().map(|l| l.trim()) {
        if line.starts_with("//") {
            if line.contains("SAFETY:") {
                return true;
            }
        } else if !line.starts_with("#[") {
            return false;
        }
    }
    false
}

#[test]
fn every_unsafe_in_the_harness_has_a_safety_comment() {
    let mut files = Vec::new();
    rust_files(&source_dir("harness"), &mut files);
    let mut seen = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for i in (0..lines.len()).filter(|&i| uses_unsafe(lines[i])) {
            seen += 1;
            assert!(justified(&lines, i), "{}:{}: `unsafe` without a SAFETY: comment", file.display(), i + 1);
        }
    }
    // The pool, the executor, the fingerprint, the FP mode and OpenCL each have some.
    assert!(seen >= 10, "found only {seen} uses of unsafe in the harness");
}

#[test]
fn the_unsafe_scans_would_catch_a_violation() {
    assert!(uses_unsafe("    let x = unsafe { *p };"));
    assert!(!uses_unsafe("#![deny(unsafe_code)] // no unsafe here"));
    let lines = ["// SAFETY: p is valid.", "#[allow(unused_unsafe)]", "let x = unsafe { *p };"];
    assert!(justified(&lines, 2));
    let lines = ["// Reads p.", "let x = unsafe { *p };"];
    assert!(!justified(&lines, 1));
}
