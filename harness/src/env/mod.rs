//! The machine a run happens on: a one-line summary for the training report, and the full
//! environment fingerprint of `samebits env`.
//!
//! The fingerprint lists what users meet as the causes of irreproducible training, in three
//! groups: hardware ([`hardware`]: CPU, instruction sets, byte order, OpenCL devices), software
//! ([`software`]: operating system, samebits and contract versions, compiler, libm, OpenCL
//! loader) and system settings ([`system`]: threads, affinity, the floating-point unit's mode,
//! environment variables). Each entry has a stable key (`hardware.cpu_model`) and says whether
//! a difference in it can change the bits of a samebits run under the contract
//! (docs/NUMERICS.md), and why; docs/ENV.md explains every entry.

pub mod hardware;
pub mod software;
pub mod system;

pub use hardware::cpu_features;
use serde::{Deserialize, Serialize};

/// One fact about the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Stable identifier, `group.name` (`hardware.cpu_model`, `system.env.RAYON_NUM_THREADS`):
    /// two fingerprints are compared key by key.
    pub key: String,
    /// Human-readable name.
    pub name: String,
    /// The value as text; what could not be found says so ("unknown", "not readable here").
    pub value: String,
    /// Whether a difference in this entry can change the bits of a run that follows the
    /// contract.
    pub can_change_bits: bool,
    /// Why (or why not), in one sentence.
    pub reason: String,
}

impl Entry {
    /// An entry; `key` starts with its group's name.
    pub fn new(key: &str, name: &str, value: impl Into<String>, can_change_bits: bool, reason: &str) -> Self {
        // One line per entry in every output: control characters (a newline in an environment
        // variable) are escaped.
        let value: String = value
            .into()
            .chars()
            .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
            .collect();
        Self { key: key.to_string(), name: name.to_string(), value, can_change_bits, reason: reason.into() }
    }
}

/// The environment fingerprint: what `samebits env` prints, in three groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// CPU vendor and model, instruction-set features, byte order, OpenCL devices and drivers.
    pub hardware: Vec<Entry>,
    /// Operating system, samebits and contract versions, compiler and target, libm, OpenCL
    /// loader and ICD files.
    pub software: Vec<Entry>,
    /// Thread count, CPU affinity, floating-point unit mode, environment variables.
    pub system: Vec<Entry>,
}

impl Fingerprint {
    /// Collects the fingerprint of this process on this machine. Never fails: what cannot be
    /// read is reported as such. Asks the OpenCL library for its devices (loading it if present).
    pub fn collect() -> Self {
        // Devices first: listing them loads the OpenCL library, whose path the software group
        // then reports.
        let hardware = hardware::entries();
        let software = software::entries();
        let system = system::entries();
        Self { hardware, software, system }
    }

    /// The groups in order, with their names.
    pub fn groups(&self) -> [(&'static str, &[Entry]); 3] {
        [("hardware", &self.hardware), ("software", &self.software), ("system", &self.system)]
    }

    /// Every entry, hardware first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.hardware.iter().chain(&self.software).chain(&self.system)
    }

    /// The entry with key `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries().find(|e| e.key == key)
    }

    /// The JSON form: `{"hardware": [entry…], "software": […], "system": […]}`, each entry
    /// `{"key", "name", "value", "can_change_bits", "reason"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The JSON form as one line of text, fields in their declared order.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The human-readable form: one section per group, one line per entry, entries that can
    /// change bits marked with `*`.
    pub fn to_text(&self) -> String {
        let width = self.entries().map(|e| e.name.chars().count()).max().unwrap_or(0);
        let mut text = String::new();
        for (group, entries) in self.groups() {
            text.push_str(group);
            text.push('\n');
            for e in entries {
                let mark = if e.can_change_bits { '*' } else { ' ' };
                text.push_str(&format!("  {mark} {:<width$}  {}\n", e.name, e.value));
            }
        }
        text.push_str("* can change the bits of a run under the samebits contract (docs/ENV.md says why)\n");
        text
    }
}

/// The operating system's name; WASI, where `std::env::consts::OS` is empty, by its name.
pub(crate) fn os() -> &'static str {
    match std::env::consts::OS {
        "" if cfg!(target_os = "wasi") => "wasi",
        "" => "unknown",
        os => os,
    }
}

/// A list for display: comma-separated, `-` when empty.
pub(crate) fn list(v: &[&str]) -> String {
    if v.is_empty() {
        "-".to_string()
    } else {
        v.join(",")
    }
}

/// One line: version, contract, OS/architecture, CPU features, threads.
pub fn summary(threads: usize) -> String {
    let (compiled, available) = cpu_features();
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
    use super::*;

    #[test]
    fn summary_is_one_line_with_the_contract_version() {
        let s = summary(3);
        assert!(!s.contains('\n'));
        assert!(s.contains(&format!("contract v{}", samebits::CONTRACT_VERSION)));
        assert!(s.ends_with("3 threads"));
    }

    #[test]
    fn keys_are_unique_and_start_with_their_group() {
        let f = Fingerprint::collect();
        let mut seen = std::collections::HashSet::new();
        for (group, entries) in f.groups() {
            assert!(!entries.is_empty(), "{group} is empty");
            for e in entries {
                assert!(e.key.starts_with(&format!("{group}.")), "{} in {group}", e.key);
                assert!(seen.insert(e.key.clone()), "{} twice", e.key);
                assert!(!e.name.is_empty() && !e.reason.is_empty(), "{e:?}");
                assert!(!e.value.contains('\n'), "{e:?}");
            }
        }
    }

    #[test]
    fn json_round_trips() {
        let f = Fingerprint::collect();
        let back: Fingerprint = serde_json::from_value(f.to_json()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn text_has_one_line_per_entry_under_three_headers() {
        let f = Fingerprint::collect();
        let text = f.to_text();
        let headers: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ') && !l.starts_with('*')).collect();
        assert_eq!(headers, ["hardware", "software", "system"]);
        assert_eq!(text.lines().filter(|l| l.starts_with("  ")).count(), f.entries().count());
    }
}
