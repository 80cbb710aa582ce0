//! The hardware group of the fingerprint: CPU vendor and model, instruction-set features,
//! byte order, OpenCL devices and their drivers.

use super::{list, Entry};

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

/// The CPU's vendor and model name: from `cpuid` on x86, else from /proc/cpuinfo where it can
/// be read (Linux), else from what Windows puts in the environment; "unknown" otherwise.
pub fn cpu_vendor_model() -> (String, String) {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let (vendor, model) = cpuid_vendor_model();
        if !vendor.is_empty() || !model.is_empty() {
            let unknown = |s: String| if s.is_empty() { "unknown".to_string() } else { s };
            return (unknown(vendor), unknown(model));
        }
    }
    // Under wine a Unix path would read the host's file.
    let cpuinfo = if cfg!(windows) { Err(()) } else { std::fs::read_to_string("/proc/cpuinfo").map_err(drop) };
    if let Ok(text) = cpuinfo {
        let (vendor, model) = cpuinfo_vendor_model(&text);
        return (vendor.unwrap_or_else(|| "unknown".into()), model.unwrap_or_else(|| "unknown".into()));
    }
    if cfg!(windows) {
        if let Ok(id) = std::env::var("PROCESSOR_IDENTIFIER") {
            return ("unknown".into(), id);
        }
    }
    ("unknown".into(), "unknown".into())
}

/// Vendor string (leaf 0) and brand string (leaves 0x8000_0002..4) of `cpuid`.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn cpuid_vendor_model() -> (String, String) {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    // SAFETY: `cpuid` only reads identification registers; every CPU Rust's x86 targets run on has it.
    // (Newer Rust declares `__cpuid` safe, older ones unsafe.)
    #[allow(unused_unsafe)]
    let leaf = |n: u32| unsafe { __cpuid(n) };
    let text = |words: &[u32]| {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        String::from_utf8_lossy(&bytes).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string()
    };
    let l0 = leaf(0);
    let vendor = text(&[l0.ebx, l0.edx, l0.ecx]);
    let model = if leaf(0x8000_0000).eax >= 0x8000_0004 {
        let words: Vec<u32> = (0x8000_0002..=0x8000_0004u32)
            .flat_map(|n| {
                let r = leaf(n);
                [r.eax, r.ebx, r.ecx, r.edx]
            })
            .collect();
        text(&words)
    } else {
        String::new()
    };
    (vendor, model)
}

/// Vendor and model from the text of /proc/cpuinfo (the first processor's lines): x86's
/// `vendor_id`/`model name`, Arm's `CPU implementer`/`CPU part`, and the names other
/// architectures use.
pub fn cpuinfo_vendor_model(text: &str) -> (Option<String>, Option<String>) {
    let field = |names: &[&str]| {
        names.iter().find_map(|name| {
            text.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == *name && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
    };
    let implementer = field(&["CPU implementer"]);
    let vendor = field(&["vendor_id", "vendor"]).or_else(|| {
        implementer.as_deref().map(|code| {
            let name = match code {
                "0x41" => "Arm",
                "0x42" => "Broadcom",
                "0x43" => "Cavium",
                "0x46" => "Fujitsu",
                "0x48" => "HiSilicon",
                "0x4e" => "NVIDIA",
                "0x51" => "Qualcomm",
                "0x61" => "Apple",
                "0xc0" => "Ampere",
                _ => "",
            };
            if name.is_empty() {
                format!("implementer {code}")
            } else {
                format!("{name} ({code})")
            }
        })
    });
    let model = field(&["model name", "Model", "cpu model", "Hardware", "cpu", "uarch"])
        .or_else(|| field(&["CPU part"]).map(|part| format!("CPU part {part}")));
    (vendor, model)
}

// Why each hardware entry can or cannot change bits; docs/ENV.md says the same at length.
const WHY_CPU: &str = "every float operation samebits performs is one IEEE 754 operation, correctly rounded on any conforming CPU (NUMERICS.md §2); no code is chosen by CPU model";
const WHY_ARCH: &str = "the contract fixes each operation and order for every architecture; the platform matrix checks the goldens on each (NUMERICS.md §2, §5)";
const WHY_FEATURES_AVAILABLE: &str =
    "nothing is chosen at run time by CPU feature: what the CPU offers beyond the compiled-in features is unused";
const WHY_FEATURES_COMPILED: &str = "Rust never contracts a*b+c into a fused multiply-add, and vector code keeps the contract's sums and orders (NUMERICS.md §3, §5); -C target-cpu=native gives the same digest";
const WHY_ENDIAN: &str = "arithmetic does not depend on byte order, and the digest hashes each value's little-endian bytes on every host (NUMERICS.md §11)";
const WHY_OPENCL: &str = "a device samebits accepts computes the CPU's bits; one without f32 denormals or correctly rounded divide and sqrt is refused, not used";
const WHY_DRIVER: &str = "the device programs are built with correctly rounded divide and sqrt and contraction off, so a conforming driver compiles the contract's operations; scripts/gpu-conformance.sh checks a driver";

/// The hardware entries.
pub fn entries() -> Vec<Entry> {
    let (vendor, model) = cpu_vendor_model();
    let (compiled, available) = cpu_features();
    let mut out = vec![
        Entry::new("hardware.cpu_vendor", "CPU vendor", vendor, false, WHY_CPU),
        Entry::new("hardware.cpu_model", "CPU model", model, false, WHY_CPU),
        Entry::new("hardware.architecture", "architecture", std::env::consts::ARCH, false, WHY_ARCH),
        Entry::new(
            "hardware.cpu_features_available",
            "CPU features available",
            list(&available),
            false,
            WHY_FEATURES_AVAILABLE,
        ),
        Entry::new(
            "hardware.cpu_features_compiled",
            "CPU features compiled in",
            list(&compiled),
            false,
            WHY_FEATURES_COMPILED,
        ),
        Entry::new(
            "hardware.endianness",
            "byte order",
            if cfg!(target_endian = "little") { "little-endian" } else { "big-endian" },
            false,
            WHY_ENDIAN,
        ),
    ];
    out.extend(opencl_entries());
    out
}

/// `hardware.opencl_devices` (how many, or why none), then for each device
/// `hardware.opencl.N.device` and `hardware.opencl.N.driver`.
fn opencl_entries() -> Vec<Entry> {
    let devices = match crate::opencl::list_devices() {
        Ok(devices) => devices,
        Err(e) => {
            return vec![Entry::new("hardware.opencl_devices", "OpenCL devices", e.to_string(), false, WHY_OPENCL)]
        }
    };
    let usable = devices.iter().filter(|(info, _)| info.missing().is_none()).count();
    let mut out = vec![Entry::new(
        "hardware.opencl_devices",
        "OpenCL devices",
        format!("{} ({usable} usable)", devices.len()),
        false,
        WHY_OPENCL,
    )];
    for (info, _) in devices {
        let usable = match info.missing() {
            None => "usable".to_string(),
            Some(missing) => format!("refused: {missing}"),
        };
        out.push(Entry::new(
            &format!("hardware.opencl.{}.device", info.index),
            &format!("OpenCL device {}", info.index),
            format!(
                "{} · vendor {} · platform {} · {} compute units · {usable}",
                info.name, info.vendor, info.platform, info.compute_units
            ),
            false,
            WHY_OPENCL,
        ));
        out.push(Entry::new(
            &format!("hardware.opencl.{}.driver", info.index),
            &format!("OpenCL driver {}", info.index),
            format!("{} · {}", info.driver, info.version),
            false,
            WHY_DRIVER,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_of_x86_and_arm() {
        let x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            cpuinfo_vendor_model(x86),
            (Some("GenuineIntel".into()), Some("Intel(R) Xeon(R) CPU @ 2.20GHz".into()))
        );
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
        assert_eq!(cpuinfo_vendor_model(arm), (Some("Arm (0x41)".into()), Some("CPU part 0xd0c".into())));
        assert_eq!(cpuinfo_vendor_model(""), (None, None));
    }

    /// Every x86 CPU Rust runs on has a vendor string and, since the Pentium 4, a brand string.
    #[test]
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    fn cpuid_names_the_cpu() {
        let (vendor, model) = cpuid_vendor_model();
        assert_eq!(vendor.len(), 12, "{vendor:?}");
        assert!(!model.is_empty());
    }

    #[test]
    fn features_compiled_in_are_available() {
        let (compiled, available) = cpu_features();
        for f in compiled {
            assert!(available.contains(&f), "{f} compiled in but not available");
        }
    }
}
