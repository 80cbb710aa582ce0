//! The system-settings group of the fingerprint: thread count, CPU affinity, the mode of the
//! floating-point unit (flush-to-zero, denormals-are-zero, rounding) and the environment
//! variables that bear on a run.

use super::Entry;

/// The floating-point unit's mode of the calling thread, where it can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpuMode {
    /// The register read: `MXCSR` (x86 SSE) or `FPCR` (AArch64).
    pub register: &'static str,
    /// Its raw value.
    pub raw: u64,
    /// Subnormal results flushed to zero (MXCSR.FTZ, FPCR.FZ).
    pub flush_to_zero: bool,
    /// Subnormal operands read as zero (MXCSR.DAZ; on AArch64 FPCR.FZ does both).
    pub denormals_are_zero: bool,
    /// The rounding mode's name.
    pub rounding: &'static str,
}

/// The rounding mode named by the 2-bit field of MXCSR.RC.
#[cfg(any(test, target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse")))]
fn x86_rounding(rc: u64) -> &'static str {
    ["to nearest, ties to even", "toward -infinity", "toward +infinity", "toward zero"][(rc & 3) as usize]
}

/// The rounding mode named by the 2-bit field of FPCR.RMode.
#[cfg(any(test, target_arch = "aarch64"))]
fn arm_rounding(rmode: u64) -> &'static str {
    ["to nearest, ties to even", "toward +infinity", "toward -infinity", "toward zero"][(rmode & 3) as usize]
}

/// The calling thread's MXCSR (x86 SSE control and status register).
#[cfg(any(target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse")))]
pub fn read_mxcsr() -> u32 {
    let mut csr: u32 = 0;
    // SAFETY: `stmxcsr` stores the 4 bytes of MXCSR at the address given, a live u32, and
    // changes nothing else. (`_mm_getcsr` does the same but is deprecated.)
    unsafe {
        std::arch::asm!("stmxcsr [{p}]", p = in(reg) std::ptr::addr_of_mut!(csr), options(nostack, preserves_flags));
    }
    csr
}

/// The calling thread's FPCR (AArch64 floating-point control register).
#[cfg(target_arch = "aarch64")]
pub fn read_fpcr() -> u64 {
    let fpcr: u64;
    // SAFETY: `mrs` copies FPCR into a general register; it reads no memory and changes nothing.
    unsafe {
        std::arch::asm!("mrs {r}, fpcr", r = out(reg) fpcr, options(nomem, nostack, preserves_flags));
    }
    fpcr
}

/// The floating-point unit's mode of the calling thread, or `None` where this build cannot
/// read it (WebAssembly has no such register: it always keeps subnormals and rounds to
/// nearest; 32-bit Arm and others are not read).
pub fn fpu_mode() -> Option<FpuMode> {
    #[cfg(any(target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse")))]
    {
        // Bits 0–5 are sticky exception flags that record what the program has computed so
        // far, not settings: masked, so two identical runs report the same register.
        let raw = u64::from(read_mxcsr() & !0x3f);
        Some(FpuMode {
            register: "MXCSR",
            raw,
            flush_to_zero: raw & (1 << 15) != 0,
            denormals_are_zero: raw & (1 << 6) != 0,
            rounding: x86_rounding(raw >> 13),
        })
    }
    #[cfg(target_arch = "aarch64")]
    {
        let raw = read_fpcr();
        let fz = raw & (1 << 24) != 0;
        Some(FpuMode {
            register: "FPCR",
            raw,
            flush_to_zero: fz,
            denormals_are_zero: fz,
            rounding: arm_rounding(raw >> 22),
        })
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "x86", target_feature = "sse"),
        target_arch = "aarch64"
    )))]
    {
        None
    }
}

/// The CPUs this process may run on, as the kernel lists them (Linux: `Cpus_allowed_list` of
/// /proc/self/status, what `sched_getaffinity` returns).
pub fn affinity() -> Option<String> {
    // Under wine a Unix path would read the host's file.
    if cfg!(windows) {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).map(|v| v.trim().to_string())
}

/// Environment variables always reported, set or not.
pub const NAMED_VARIABLES: [&str; 6] =
    ["RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OCL_ICD_VENDORS", "OPENCL_DYLIB_PATH", "RUSTFLAGS", "LD_LIBRARY_PATH"];
/// Prefixes of environment variables reported when set (PoCL's settings, samebits' own).
pub const VARIABLE_PREFIXES: [&str; 2] = ["POCL_", "SAMEBITS_"];

/// Why each variable cannot change bits; docs/ENV.md says the same at length.
fn why_variable(name: &str) -> &'static str {
    match name {
        "RAYON_NUM_THREADS" | "OMP_NUM_THREADS" => {
            "a thread count: samebits sets its own (--threads), and the bits do not depend on it (NUMERICS.md §5.2)"
        }
        "OCL_ICD_VENDORS" | "OPENCL_DYLIB_PATH" | "LD_LIBRARY_PATH" => {
            "chooses which libraries and OpenCL drivers are found; the kernel calls no library math, and each device is checked on its own"
        }
        "RUSTFLAGS" => "read only by cargo when building: at run time it does nothing, and no compiler flag changes the contract's operations (NUMERICS.md §3)",
        n if n.starts_with("POCL_") => {
            "a PoCL driver setting: the device programs' build options fix their arithmetic, and the device is checked as any other"
        }
        _ => "read only by the test suite and scripts (golden recording, time limits), never by a training run",
    }
}

const WHY_THREADS: &str = "every sum has one order that does not depend on the thread count (NUMERICS.md §5.2); the tests train at 1, 2, 3 and 7 threads";
const WHY_AFFINITY: &str =
    "which CPUs the threads run on decides only speed; the order of every sum is fixed (NUMERICS.md §5)";
const WHY_FTZ: &str = "flushing subnormal results to zero changes them; the contract keeps subnormals (NUMERICS.md §10). Rust never sets it, but a library built with fast-math can";
const WHY_DAZ: &str = "reading subnormal operands as zero changes results; the contract keeps subnormals (NUMERICS.md §10). Rust never sets it, but a library built with fast-math can";
const WHY_ROUNDING: &str =
    "the contract rounds every operation to nearest, ties to even (NUMERICS.md §2); another mode changes results";

/// The system entries.
pub fn entries() -> Vec<Entry> {
    let threads = match std::thread::available_parallelism() {
        Ok(n) => n.to_string(),
        Err(e) => format!("unknown ({e})"),
    };
    let mut out = vec![
        Entry::new("system.threads", "threads available", threads, false, WHY_THREADS),
        Entry::new(
            "system.affinity",
            "CPU affinity",
            affinity().unwrap_or_else(|| "not readable here".into()),
            false,
            WHY_AFFINITY,
        ),
    ];
    let on_off = |b: bool| if b { "on" } else { "off" };
    let (ftz, daz, rounding) = match fpu_mode() {
        Some(m) => {
            let daz_bit = if m.register == "FPCR" { "FPCR.FZ" } else { "MXCSR.DAZ" };
            let ftz_bit = if m.register == "FPCR" { "FPCR.FZ" } else { "MXCSR.FTZ" };
            (
                format!("{} ({ftz_bit}, this thread)", on_off(m.flush_to_zero)),
                format!("{} ({daz_bit}, this thread)", on_off(m.denormals_are_zero)),
                format!("{} ({} {:#x}, this thread)", m.rounding, m.register, m.raw),
            )
        }
        None if cfg!(target_family = "wasm") => {
            let fixed = "off (WebAssembly always keeps subnormals)".to_string();
            (fixed.clone(), fixed, "to nearest, ties to even (WebAssembly's only mode)".into())
        }
        None => {
            let unread = || "not readable on this platform".to_string();
            (unread(), unread(), unread())
        }
    };
    out.push(Entry::new("system.flush_to_zero", "flush-to-zero", ftz, true, WHY_FTZ));
    out.push(Entry::new("system.denormals_are_zero", "denormals-are-zero", daz, true, WHY_DAZ));
    out.push(Entry::new("system.rounding_mode", "rounding mode", rounding, true, WHY_ROUNDING));

    for name in NAMED_VARIABLES {
        let value = std::env::var_os(name).map_or_else(|| "(unset)".to_string(), |v| v.to_string_lossy().into_owned());
        out.push(Entry::new(&format!("system.env.{name}"), name, value, false, why_variable(name)));
    }
    let mut prefixed: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| VARIABLE_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    prefixed.sort();
    for (name, value) in prefixed {
        out.push(Entry::new(&format!("system.env.{name}"), &name, value, false, why_variable(&name)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_field_names() {
        assert_eq!(x86_rounding(0), "to nearest, ties to even");
        assert_eq!(x86_rounding(3), "toward zero");
        assert_eq!(arm_rounding(1), "toward +infinity");
        assert_eq!(arm_rounding(2), "toward -infinity");
    }

    /// Rust starts every thread in the IEEE default mode (NUMERICS.md §10).
    #[test]
    #[cfg(any(target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse"), target_arch = "aarch64"))]
    fn a_fresh_thread_keeps_subnormals_and_rounds_to_nearest() {
        let mode = std::thread::spawn(fpu_mode).join().unwrap().unwrap();
        assert!(!mode.flush_to_zero && !mode.denormals_are_zero, "{mode:?}");
        assert_eq!(mode.rounding, "to nearest, ties to even");
    }

    /// Sets FTZ, DAZ and round-toward-zero in a thread of its own, checks that they are read
    /// back (and that a subnormal product really is flushed), and restores MXCSR.
    #[test]
    #[cfg(any(target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse")))]
    fn mxcsr_bits_set_in_a_thread_are_read_back() {
        std::thread::spawn(|| {
            let saved = read_mxcsr();
            let set = |csr: u32| {
                // SAFETY: `ldmxcsr` loads MXCSR from a live u32; every mode set here is undone
                // before the thread ends, and only this thread's register is affected.
                unsafe {
                    std::arch::asm!("ldmxcsr [{p}]", p = in(reg) std::ptr::addr_of!(csr), options(nostack, preserves_flags));
                }
            };
            let tiny = std::hint::black_box(f32::MIN_POSITIVE);
            // One setting at a time, so that each is read from its own bit.
            set(saved | (1 << 15));
            let ftz = fpu_mode().unwrap();
            // The outer black_box keeps the product between the two register writes.
            let flushed = std::hint::black_box(std::hint::black_box(tiny) * std::hint::black_box(0.5f32));
            set(saved | (1 << 6));
            let daz = fpu_mode().unwrap();
            set(saved | (3 << 13));
            let toward_zero = fpu_mode().unwrap();
            set(saved | (1 << 13));
            let down = fpu_mode().unwrap();
            set(saved);
            let restored = fpu_mode().unwrap();
            let kept = std::hint::black_box(std::hint::black_box(tiny) * std::hint::black_box(0.5f32));

            assert!(ftz.flush_to_zero && !ftz.denormals_are_zero, "{ftz:?}");
            assert_eq!(ftz.rounding, "to nearest, ties to even");
            assert_eq!(flushed, 0.0, "FTZ set but a subnormal product was kept");
            assert!(daz.denormals_are_zero && !daz.flush_to_zero, "{daz:?}");
            assert_eq!(toward_zero.rounding, "toward zero", "{toward_zero:?}");
            assert!(!toward_zero.flush_to_zero && !toward_zero.denormals_are_zero, "{toward_zero:?}");
            assert_eq!(down.rounding, "toward -infinity", "{down:?}");
            assert!(!restored.flush_to_zero && !restored.denormals_are_zero, "{restored:?}");
            assert_eq!(restored.rounding, "to nearest, ties to even");
            assert_eq!(kept, f32::MIN_POSITIVE / 2.0);
        })
        .join()
        .unwrap();
    }

    /// As above for FPCR.FZ and RMode on AArch64.
    #[test]
    #[cfg(target_arch = "aarch64")]
    fn fpcr_bits_set_in_a_thread_are_read_back() {
        std::thread::spawn(|| {
            let saved = read_fpcr();
            let set = |fpcr: u64| {
                // SAFETY: `msr` loads FPCR from a register; the modes set here are undone below,
                // and only this thread's register is affected.
                unsafe {
                    std::arch::asm!("msr fpcr, {r}", r = in(reg) fpcr, options(nomem, nostack, preserves_flags));
                }
            };
            set(saved | (1 << 24));
            let fz = fpu_mode().unwrap();
            set(saved | (3 << 22));
            let toward_zero = fpu_mode().unwrap();
            set(saved);
            let restored = fpu_mode().unwrap();
            assert!(fz.flush_to_zero && fz.denormals_are_zero, "{fz:?}");
            assert_eq!(fz.rounding, "to nearest, ties to even");
            assert!(!toward_zero.flush_to_zero, "{toward_zero:?}");
            assert_eq!(toward_zero.rounding, "toward zero");
            assert!(!restored.flush_to_zero, "{restored:?}");
            assert_eq!(restored.rounding, "to nearest, ties to even");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn named_variables_are_reported_set_or_not() {
        let entries = entries();
        for name in NAMED_VARIABLES {
            let key = format!("system.env.{name}");
            let e = entries.iter().find(|e| e.key == key).unwrap_or_else(|| panic!("{key} missing"));
            assert_eq!(e.value, std::env::var(name).unwrap_or_else(|_| "(unset)".into()));
        }
    }
}
