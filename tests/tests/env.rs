//! `samebits env`: the environment fingerprint, in sections and as JSON, on every platform —
//! including those without OpenCL or without a readable /proc, where it says so and exits 0.

use samebits_tests::samebits;

fn env_json() -> serde_json::Value {
    let (code, out, err) = samebits(&["env", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// The entry with key `key`, wherever it is.
fn entry<'a>(json: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    ["hardware", "software", "system"]
        .iter()
        .flat_map(|g| json[g].as_array().unwrap())
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no entry {key} in {json}"))
}

#[test]
fn env_prints_three_sections_and_exits_0() {
    let (code, out, err) = samebits(&["env"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let headers: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ') && !l.starts_with('*')).collect();
    assert_eq!(headers, ["hardware", "software", "system"], "{out}");
    for name in ["CPU model", "byte order", "OpenCL devices", "rustc version", "libm version", "flush-to-zero"] {
        assert!(out.lines().any(|l| l.trim_start_matches([' ', '*']).starts_with(name)), "no {name} in {out}");
    }
    // Entries that can change bits are marked, and the mark is explained.
    assert!(out.lines().any(|l| l.starts_with("  * contract version")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("    CPU model")), "{out}");
    assert!(out.trim_end().lines().last().unwrap().starts_with("* can change the bits"), "{out}");
}

#[test]
fn env_json_has_every_group_and_key() {
    let json = env_json();
    assert_eq!(json.as_object().unwrap().len(), 3, "{json}");
    for group in ["hardware", "software", "system"] {
        for e in json[group].as_array().unwrap_or_else(|| panic!("no {group} in {json}")) {
            let key = e["key"].as_str().unwrap();
            assert!(key.starts_with(&format!("{group}.")), "{key} in {group}");
            assert!(e["name"].is_string() && e["value"].is_string() && e["reason"].is_string(), "{e}");
            assert!(e["can_change_bits"].is_boolean(), "{e}");
        }
    }
    for key in [
        "hardware.cpu_vendor",
        "hardware.cpu_model",
        "hardware.cpu_features_available",
        "hardware.cpu_features_compiled",
        "hardware.endianness",
        "hardware.opencl_devices",
        "software.os",
        "software.os_release",
        "software.kernel_release",
        "software.samebits_version",
        "software.contract_version",
        "software.rustc_version",
        "software.target",
        "software.libm_version",
        "software.fixed_version",
        "software.opencl_loader",
        "software.opencl_icd_files",
        "system.threads",
        "system.affinity",
        "system.flush_to_zero",
        "system.denormals_are_zero",
        "system.rounding_mode",
        "system.env.RAYON_NUM_THREADS",
        "system.env.RUSTFLAGS",
    ] {
        entry(&json, key);
    }
    let contract = entry(&json, "software.contract_version");
    assert_eq!(contract["value"], samebits::CONTRACT_VERSION.to_string());
    assert_eq!(contract["can_change_bits"], true);
    assert_eq!(entry(&json, "system.threads")["can_change_bits"], false);
    assert_eq!(entry(&json, "software.rustc_version")["can_change_bits"], false);
    let endian = if cfg!(target_endian = "little") { "little-endian" } else { "big-endian" };
    assert_eq!(entry(&json, "hardware.endianness")["value"], endian);
    let structured: samebits_harness::env::Fingerprint = serde_json::from_value(json).unwrap();
    assert!(structured.get("hardware.cpu_model").is_some());
}

/// Each OpenCL device `samebits devices` would list has a device and a driver entry; without
/// OpenCL (no library, WebAssembly) the count entry says why and the command still succeeds.
#[test]
fn every_opencl_device_has_its_entries() {
    let json = env_json();
    let count = entry(&json, "hardware.opencl_devices")["value"].as_str().unwrap().to_string();
    let listed = match samebits_harness::opencl::list_devices() {
        Ok(devices) => devices.len(),
        Err(e) => {
            assert_eq!(count, e.to_string());
            0
        }
    };
    if listed > 0 {
        assert!(count.starts_with(&format!("{listed} (")), "{count}");
    }
    for i in 0..listed {
        assert!(entry(&json, &format!("hardware.opencl.{i}.device"))["value"].is_string());
        assert!(entry(&json, &format!("hardware.opencl.{i}.driver"))["value"].is_string());
    }
    let per_device = ["hardware"]
        .iter()
        .flat_map(|g| json[g].as_array().unwrap())
        .filter(|e| e["key"].as_str().unwrap().starts_with("hardware.opencl."))
        .count();
    assert_eq!(per_device, 2 * listed);
}

/// The version of `name` in Cargo.lock and the exact version Cargo.toml pins it to.
fn locked_and_pinned(name: &str) -> (&'static str, &'static str) {
    let mut lines = include_str!("../../Cargo.lock").lines();
    let locked = lines
        .by_ref()
        .position(|l| l == format!("name = \"{name}\""))
        .and(lines.next())
        .and_then(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{name} not in Cargo.lock"));
    let pinned = include_str!("../../Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} = {{ version = \"=")))
        .and_then(|l| l.split('"').next())
        .unwrap_or_else(|| panic!("{name} not pinned in Cargo.toml"));
    (locked, pinned)
}

/// The libm the kernel is compiled with is the one pinned in Cargo.toml and locked in
/// Cargo.lock (its bits are part of the contract, NUMERICS.md §4).
#[test]
fn libm_version_is_the_locked_one() {
    let (locked, pinned) = locked_and_pinned("libm");
    assert_eq!(locked, pinned);
    assert_eq!(entry(&env_json(), "software.libm_version")["value"], locked);
    assert_eq!(samebits_harness::env::software::LIBM_VERSION, locked);
}

/// Likewise the crate `fixed`, whose conversions the fixed path uses (NUMERICS.md §13.1).
#[test]
fn fixed_version_is_the_locked_one() {
    let (locked, pinned) = locked_and_pinned("fixed");
    assert_eq!(locked, pinned);
    assert_eq!(entry(&env_json(), "software.fixed_version")["value"], locked);
}

/// Rust never sets flush-to-zero or denormals-are-zero (NUMERICS.md §10), and the report
/// reads MXCSR rather than assuming so (the harness's unit tests set the bits and read them
/// back).
#[test]
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn ftz_and_daz_are_off_on_x86_64_linux() {
    let json = env_json();
    assert_eq!(entry(&json, "system.flush_to_zero")["value"], "off (MXCSR.FTZ, this thread)");
    assert_eq!(entry(&json, "system.denormals_are_zero")["value"], "off (MXCSR.DAZ, this thread)");
    let rounding = entry(&json, "system.rounding_mode")["value"].as_str().unwrap().to_string();
    assert!(rounding.starts_with("to nearest, ties to even (MXCSR"), "{rounding}");
}

#[test]
fn env_rejects_unknown_arguments_in_one_line() {
    let (code, out, err) = samebits(&["env", "--jsn"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("samebits: error: "), "{err}");
}
