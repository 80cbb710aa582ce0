//! Every `unsafe` block, function and impl in the harness says why it is sound: a `SAFETY:`
//! comment directly above it (attributes may stand between) or on its line.

use std::path::{Path, PathBuf};

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

/// The code of a line, without its `//` comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

fn uses_unsafe(line: &str) -> bool {
    code(line).split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "unsafe")
}

/// Whether the comment block right above line `i` (or line `i` itself) holds `SAFETY:`.
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
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
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
    assert!(seen >= 10, "found only {seen} uses of unsafe");
}
