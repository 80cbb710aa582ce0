//! The peer timings of `benches/peers/peers.py` (numpy/BLAS sgemm and a jitted JAX epoch),
//! read from the one JSON line the script prints, for comparison on the same machine.
//!
//! Whatever goes wrong here (no such python, the script missing, a crash, output that is not
//! the expected JSON) becomes one message: the peers are a comparison, and their absence must
//! not cost the rest of the report.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The script's path in the source tree this binary was built from (without the `..` when
/// it is there, for a readable report).
pub fn default_script() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("benches").join("peers").join("peers.py");
    path.canonicalize().unwrap_or(path)
}

/// What peers.py reports (every field may be missing or null; `*_error` says why).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerReport {
    pub python: Option<String>,
    pub numpy: Option<String>,
    pub blas: Option<String>,
    pub jax: Option<String>,
    /// GFLOP/s per shape, keyed `{m}x{k}x{n}` (rows × inputs × outputs).
    pub sgemm_gflops: Option<BTreeMap<String, f64>>,
    pub numpy_error: Option<String>,
    /// Milliseconds per 1500-row epoch, keyed by batch size.
    pub jax_epoch_ms: Option<BTreeMap<String, f64>>,
    pub jax_error: Option<String>,
    pub jax_note: Option<String>,
}

impl PeerReport {
    /// numpy's GFLOP/s at `shape` (`{m}x{k}x{n}`), if it was measured.
    pub fn sgemm(&self, shape: &str) -> Option<f64> {
        self.sgemm_gflops.as_ref()?.get(shape).copied().filter(|g| g.is_finite() && *g > 0.0)
    }

    /// JAX's milliseconds per epoch at `batch`, if it was measured.
    pub fn jax_epoch(&self, batch: usize) -> Option<f64> {
        self.jax_epoch_ms.as_ref()?.get(&batch.to_string()).copied().filter(|t| t.is_finite() && *t > 0.0)
    }
}

/// Runs `python script --threads 1` (`--repeats 1` as well when `quick`) and parses its last
/// line of standard output. The script's progress (its standard error) is kept out of the
/// report; its last line explains a failure.
pub fn run(python: &Path, script: &Path, quick: bool) -> Result<PeerReport, String> {
    let mut command = Command::new(python);
    command.arg(script).args(["--threads", "1"]);
    if quick {
        command.args(["--repeats", "1"]);
    }
    let output = command.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = |text: &str| text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string();
    if !output.status.success() {
        return Err(format!("{} {} failed ({}): {}", python.display(), script.display(), output.status, last(&stderr)));
    }
    parse(&last(&stdout))
}

/// The script's JSON line.
pub fn parse(line: &str) -> Result<PeerReport, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("the peer script printed no JSON line ({e}): {line:.120}"))?;
    if !value.is_object() {
        return Err(format!("the peer script printed JSON that is not an object: {line:.120}"));
    }
    serde_json::from_value(value).map_err(|e| format!("unexpected peer JSON ({e}): {line:.120}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_scripts_line() {
        let line = r#"{"python":"3.11.2","numpy":"2.2.6","blas":"openblas 0.3.29","jax":"0.6.2","threads":1,"cpus":2,"repeats":7,"sgemm_gflops":{"32x64x128":44.1,"256x256x256":80.5,"1024x1024x1024":95.0},"numpy_error":null,"jax_epoch_ms":{"32":6.5,"256":2.1},"jax_error":null,"jax_note":"scaled"}"#;
        let report = parse(line).unwrap();
        assert_eq!(report.sgemm("256x256x256"), Some(80.5));
        assert_eq!(report.jax_epoch(32), Some(6.5));
        assert_eq!(report.jax_epoch(64), None);
        assert_eq!(report.blas.as_deref(), Some("openblas 0.3.29"));
    }

    #[test]
    fn missing_libraries_are_errors_inside_the_report() {
        let report =
            parse(r#"{"sgemm_gflops":null,"numpy_error":"numpy not installed","jax_error":"jax not installed"}"#)
                .unwrap();
        assert_eq!((report.sgemm("32x64x128"), report.jax_epoch(32)), (None, None));
        assert_eq!(report.numpy_error.as_deref(), Some("numpy not installed"));
    }

    #[test]
    fn bad_output_is_one_message() {
        for line in ["", "Traceback (most recent call last):", "[1, 2]", r#"{"sgemm_gflops": 3}"#] {
            let e = parse(line).unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn a_missing_python_is_one_message() {
        let e = run(Path::new("/nonexistent/python"), &default_script(), true).unwrap_err();
        assert!(e.starts_with("cannot run /nonexistent/python"), "{e}");
    }
}
