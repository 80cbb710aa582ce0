//! The kernel's `unsafe` code stays in one module, `linalg::simd` (the products' vector code):
//! every other module is declared `#[forbid(unsafe_code)]`, which the compiler then enforces,
//! and no source file outside `linalg/simd/` so much as mentions `unsafe` outside comments.
//! This test keeps the attributes from being dropped when a module is added or moved.
//!
//! Reads the sources, so not under miri (isolation) and only where they are at hand.
#![cfg(not(miri))]

use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The module declarations of `file` (`mod x;` / `pub mod x;`, attributes, not inline test
/// modules) with whether the line before each is `#[forbid(unsafe_code)]`.
fn declarations(file: &str) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(Path::new(SRC).join(file)).unwrap();
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

#[test]
fn every_module_but_the_vector_code_forbids_unsafe_code() {
    for (file, exempt) in [("lib.rs", "linalg"), ("linalg/mod.rs", "simd")] {
        let modules = declarations(file);
        assert!(modules.iter().any(|(m, _)| m == exempt), "{file} no longer declares {exempt}");
        for (module, forbidden) in &modules {
            assert_eq!(*forbidden, module != exempt, "{file}: `mod {module};` and #[forbid(unsafe_code)]");
        }
    }
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn no_source_outside_the_vector_code_uses_unsafe() {
    let simd = Path::new(SRC).join("linalg").join("simd");
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    for file in files.iter().filter(|f| !f.starts_with(&simd)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let words = code.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            assert!(!words.into_iter().any(|w| w == "unsafe"), "{}:{}: {line}", file.display(), n + 1);
        }
    }
}
