//! The software group of the fingerprint: operating system, samebits and contract versions,
//! compiler and target, libm, OpenCL loader and ICD files.

use super::Entry;

/// `rustc -V` of the compiler that built this binary.
pub const RUSTC_VERSION: &str = env!("SAMEBITS_BUILD_RUSTC");
/// The target triple this binary was built for.
pub const TARGET: &str = env!("SAMEBITS_BUILD_TARGET");
/// The libm version the kernel was compiled with, from the workspace's Cargo.lock ("unknown"
/// when built without it).
pub const LIBM_VERSION: &str = env!("SAMEBITS_BUILD_LIBM");
/// The version of the crate `fixed` the kernel was compiled with, from the same lock file.
pub const FIXED_VERSION: &str = env!("SAMEBITS_BUILD_FIXED");

/// Where the OpenCL ICD loader looks for driver files by default (Khronos and ocl-icd loaders).
#[cfg(not(windows))]
const ICD_DIR: &str = "/etc/OpenCL/vendors";

/// The distribution's name and version from /etc/os-release (`PRETTY_NAME`, else `NAME
/// VERSION`), where it can be read.
pub fn os_release() -> Option<String> {
    // Windows has no such file; under wine a Unix path would read the host's.
    if cfg!(windows) {
        return None;
    }
    let text =
        std::fs::read_to_string("/etc/os-release").or_else(|_| std::fs::read_to_string("/usr/lib/os-release")).ok()?;
    parse_os_release(&text)
}

/// `PRETTY_NAME`, else `NAME VERSION`, of an os-release file.
pub fn parse_os_release(text: &str) -> Option<String> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let v = l.strip_prefix(name)?.strip_prefix('=')?.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            (!v.is_empty()).then(|| v.to_string())
        })
    };
    field("PRETTY_NAME").or_else(|| {
        let name = field("NAME")?;
        Some(match field("VERSION") {
            Some(version) => format!("{name} {version}"),
            None => name,
        })
    })
}

/// The operating-system kernel's release (`uname -r`), where it can be read (Linux).
pub fn kernel_release() -> Option<String> {
    if cfg!(windows) {
        return None;
    }
    let text = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    Some(text.trim().to_string()).filter(|s| !s.is_empty())
}

/// The OpenCL library this process has loaded, by path. On Linux the loaded files are read
/// from /proc/self/maps; elsewhere the name the loader is asked for is reported.
pub fn opencl_loader() -> String {
    if cfg!(target_family = "wasm") {
        return "none (no OpenCL on this platform)".into();
    }
    let maps = if cfg!(windows) { Err(()) } else { std::fs::read_to_string("/proc/self/maps").map_err(drop) };
    if let Ok(maps) = maps {
        let mut paths: Vec<&str> = maps
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .filter(|p| p.rsplit('/').next().is_some_and(|f| f.starts_with("libOpenCL")))
            .collect();
        paths.dedup();
        return if paths.is_empty() { "not loaded (no OpenCL library found)".into() } else { paths.join(", ") };
    }
    let name = if cfg!(windows) {
        "OpenCL.dll"
    } else if cfg!(target_os = "macos") {
        "/System/Library/Frameworks/OpenCL.framework/OpenCL"
    } else {
        "libOpenCL.so.1"
    };
    format!("{name} (path not readable here)")
}

/// The ICD files that name OpenCL drivers: those of `OCL_ICD_VENDORS` when it names a
/// directory or file, else those of /etc/OpenCL/vendors, each with the library it names.
pub fn opencl_icd_files() -> String {
    if cfg!(target_family = "wasm") {
        return "none (no OpenCL on this platform)".into();
    }
    #[cfg(windows)]
    {
        "in the registry (HKLM\\SOFTWARE\\Khronos\\OpenCL\\Vendors), not read".into()
    }
    #[cfg(not(windows))]
    {
        let dir = std::env::var("OCL_ICD_VENDORS").unwrap_or_else(|_| ICD_DIR.to_string());
        let path = std::path::Path::new(&dir);
        let files: Vec<std::path::PathBuf> = if path.is_file() {
            vec![path.to_path_buf()]
        } else {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut files: Vec<_> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|e| e == "icd"))
                        .collect();
                    files.sort();
                    files
                }
                Err(_) => return format!("{dir} not readable"),
            }
        };
        if files.is_empty() {
            return format!("none in {dir}");
        }
        files
            .iter()
            .map(|f| {
                let library = std::fs::read_to_string(f).map(|t| t.trim().to_string()).unwrap_or_default();
                format!("{} ({library})", f.display())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

// Why each software entry can or cannot change bits; docs/ENV.md says the same at length.
const WHY_OS: &str = "the contract's path calls no operating-system or C-library math (NUMERICS.md §3); only train --math platform does, and its digests are never the contract's";
const WHY_SAMEBITS: &str = "another samebits version is other code: versions with the same contract version are meant to give the same bits, and their goldens check it, but only the same version is sure to";
const WHY_CONTRACT: &str =
    "a new contract version changes the arithmetic or its order on purpose, and with it the goldens (NUMERICS.md)";
const WHY_RUSTC: &str = "rustc compiles each f32 operation to one IEEE operation at every version and optimisation level, without contraction or reassociation (NUMERICS.md §2, §3)";
const WHY_TARGET: &str = "the contract holds on every target; the platform matrix checks the goldens on each";
const WHY_PROFILE: &str =
    "debug and release builds perform the same operations in the same order; the tests assert the same digest";
const WHY_LIBM: &str = "exp, ln, tanh and sqrt of the float path are libm's (NUMERICS.md §4): another libm version may return other bits, which is why it is pinned exactly";
const WHY_FIXED: &str = "the fixed path converts decimal text and floats to fixed point with the crate fixed (NUMERICS.md §13.1): another version may round otherwise, which is why it is pinned exactly";
const WHY_LOADER: &str =
    "the ICD loader only forwards calls to a driver; the devices and drivers are reported and checked on their own";
const WHY_ICD: &str = "these files choose which drivers are listed; each device is checked on its own and refused if it lacks what the contract needs";

/// The software entries.
pub fn entries() -> Vec<Entry> {
    let not_readable = || "not readable here".to_string();
    let os = match std::env::consts::FAMILY {
        "" => super::os().to_string(),
        family => format!("{} ({family} family)", super::os()),
    };
    vec![
        Entry::new("software.os", "operating system", os, false, WHY_OS),
        Entry::new("software.os_release", "OS release", os_release().unwrap_or_else(not_readable), false, WHY_OS),
        Entry::new(
            "software.kernel_release",
            "OS kernel release",
            kernel_release().unwrap_or_else(not_readable),
            false,
            WHY_OS,
        ),
        Entry::new("software.samebits_version", "samebits version", env!("CARGO_PKG_VERSION"), true, WHY_SAMEBITS),
        Entry::new(
            "software.contract_version",
            "contract version",
            samebits::CONTRACT_VERSION.to_string(),
            true,
            WHY_CONTRACT,
        ),
        Entry::new("software.rustc_version", "rustc version", RUSTC_VERSION, false, WHY_RUSTC),
        Entry::new("software.target", "target triple", TARGET, false, WHY_TARGET),
        Entry::new(
            "software.build_profile",
            "build",
            if cfg!(debug_assertions) { "debug (debug assertions on)" } else { "optimised (debug assertions off)" },
            false,
            WHY_PROFILE,
        ),
        Entry::new("software.libm_version", "libm version", LIBM_VERSION, true, WHY_LIBM),
        Entry::new("software.fixed_version", "fixed crate version", FIXED_VERSION, true, WHY_FIXED),
        Entry::new("software.opencl_loader", "OpenCL loader", opencl_loader(), false, WHY_LOADER),
        Entry::new("software.opencl_icd_files", "OpenCL ICD files", opencl_icd_files(), false, WHY_ICD),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_pretty_name_else_name_and_version() {
        assert_eq!(
            parse_os_release("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n").as_deref(),
            Some("Debian GNU/Linux 13 (trixie)")
        );
        assert_eq!(parse_os_release("NAME=Alpine\nVERSION=3.20\n").as_deref(), Some("Alpine 3.20"));
        assert_eq!(parse_os_release("ID=x\n"), None);
    }

    #[test]
    fn build_facts_are_recorded() {
        assert!(RUSTC_VERSION.starts_with("rustc "), "{RUSTC_VERSION}");
        assert!(TARGET.contains('-'), "{TARGET}");
        assert!(LIBM_VERSION.split('.').count() == 3, "{LIBM_VERSION}");
        assert!(FIXED_VERSION.split('.').count() == 3, "{FIXED_VERSION}");
    }
}
