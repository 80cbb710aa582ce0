//! A short description of the machine a run happened on.

/// Instruction-set extensions relevant to floating point: which the binary was compiled to
/// use, and which the CPU offers. Neither changes a samebits digest; they are printed so that
/// a user comparing two machines sees that for themselves.
pub fn cpu_features() -> (Vec<&'static str>, Vec<&'static str>) {
    #[allow(unused_mut)]
    let (mut compiled, mut available) = (Vec::new(), Vec::new());
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(
                if cfg!(target_feature = $f) { compiled.push($f); }
                if std::arch::is_x86_feature_detected!($f) { available.push($f); }
            )*};
        }
        probe!("sse2", "avx", "avx2", "fma", "avx512f");
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(
                if cfg!(target_feature = $f) { compiled.push($f); }
                if std::arch::is_aarch64_feature_detected!($f) { available.push($f); }
            )*};
        }
        probe!("neon", "sve");
    }
    (compiled, available)
}

/// The operating system's name; WASI, where `std::env::consts::OS` is empty, by its name.
fn os() -> &'static str {
    match std::env::consts::OS {
        "" if cfg!(target_os = "wasi") => "wasi",
        "" => "unknown",
        os => os,
    }
}

/// One line: version, contract, OS/architecture, CPU features, threads.
pub fn summary(threads: usize) -> String {
    let (compiled, available) = cpu_features();
    let list = |v: &[&str]| if v.is_empty() { "-".to_string() } else { v.join(",") };
    format!(
        "samebits {} · contract v{} · {}/{} {}-endian · cpu {} (compiled for {}) · {} thread{}",
        env!("CARGO_PKG_VERSION"),
        samebits::CONTRACT_VERSION,
        os(),
        std::env::consts::ARCH,
        if cfg!(target_endian = "little") { "little" } else { "big" },
        list(&available),
        list(&compiled),
        threads,
        if threads == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn summary_is_one_line_with_the_contract_version() {
        let s = super::summary(3);
        assert!(!s.contains('\n'));
        assert!(s.contains(&format!("contract v{}", samebits::CONTRACT_VERSION)));
        assert!(s.ends_with("3 threads"));
    }
}
