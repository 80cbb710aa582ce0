//! Records, for `samebits env`, what is known only while building: the compiler's version, the
//! target triple, and the versions of libm and fixed the kernel was locked to.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = Command::new(&rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_string(), |v| v.trim().to_string());
    println!("cargo:rustc-env=SAMEBITS_BUILD_RUSTC={version}");
    println!("cargo:rustc-env=SAMEBITS_BUILD_TARGET={}", std::env::var("TARGET").unwrap_or_default());

    // The workspace's lock file decides which libm the kernel is compiled with; outside the
    // workspace (a packaged crate) there is none, and the version is reported as unknown.
    let lock = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock");
    println!("cargo:rerun-if-changed={lock}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    // The two crates whose code computes values of a training run (NUMERICS.md §4, §13.1).
    for (name, var) in [("libm", "SAMEBITS_BUILD_LIBM"), ("fixed", "SAMEBITS_BUILD_FIXED")] {
        let version = locked_versions(&text, name);
        println!("cargo:rustc-env={var}={}", version.as_deref().unwrap_or("unknown"));
    }
}

/// The versions of package `name` in a Cargo.lock, joined with ", " (one in this workspace).
fn locked_versions(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut versions = Vec::new();
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == wanted {
            let version = lines.next().and_then(|l| l.strip_prefix("version = \"")).and_then(|v| v.strip_suffix('"'));
            versions.extend(version);
        }
    }
    (!versions.is_empty()).then(|| versions.join(", "))
}
