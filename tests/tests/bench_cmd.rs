//! `samebits bench`: every figure in its JSON, a failing peer reported without ending the
//! report, and a bad option refused in one line.
//!
//! The tests that measure are ignored by default: even `--quick` times 1024³ products on
//! every vector unit, about a second optimised but a minute and a half in a debug build, and
//! longer still under the matrix's emulators. `./scripts/test.sh` runs them in its release pass
//! (`--include-ignored`); alone: `cargo test --release -p samebits-tests --test bench_cmd --
//! --include-ignored`.

use samebits_tests::samebits;

/// Every number under `value`, with its path.
fn numbers(value: &serde_json::Value, path: &str, found: &mut Vec<(String, f64)>) {
    match value {
        serde_json::Value::Number(n) => found.push((path.to_string(), n.as_f64().unwrap())),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| numbers(v, &format!("{path}.{k}"), found)),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, v)| numbers(v, &format!("{path}[{i}]"), found))
        }
        _ => {}
    }
}

#[test]
#[ignore = "measures: about 1 s in release, 90 s in debug (scripts/test.sh runs it in release)"]
fn bench_quick_json_has_every_figure() {
    let (code, out, err) = samebits(&["bench", "--quick", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));

    let units: Vec<&str> = json["machine"]["units"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert_eq!(units[0], "portable", "{json}");
    assert!(units.contains(&json["machine"]["epoch_unit"].as_str().unwrap()), "{json}");
    assert!(json["machine"]["rustc"].as_str().unwrap().starts_with("rustc "), "{json}");
    assert!(json["machine"]["threads"].as_u64().unwrap() >= 1, "{json}");
    assert_eq!(json["quick"], true);
    assert!(json["peers"].is_null(), "{json}");

    let mut want: Vec<String> = Vec::new();
    for batch in ["batch32", "batch256"] {
        for path in ["float", "fixed"] {
            want.push(format!(".epoch_ms.{path}.{batch}.threads_1"));
            want.push(format!(".epoch_ms.{path}.{batch}.threads_all"));
            want.push(format!(".speedup_all_threads.{path}.{batch}"));
        }
        want.push(format!(".fixed_over_float.{batch}.threads_1"));
        want.push(format!(".fixed_over_float.{batch}.threads_all"));
    }
    for shape in ["32x64x128", "256x256x256", "1024x1024x1024"] {
        want.extend(units.iter().map(|unit| format!(".gemm_gflops.{shape}.{unit}")));
    }
    let mut found = Vec::new();
    numbers(&json, "", &mut found);
    for key in &want {
        assert!(found.iter().any(|(path, _)| path == key), "no {key} in {json}");
    }
    for (path, value) in &found {
        assert!(value.is_finite() && *value > 0.0, "{path} = {value}");
    }
}

#[test]
#[ignore = "measures: about 1 s in release, 90 s in debug (scripts/test.sh runs it in release)"]
fn a_failing_peer_is_one_line_of_a_complete_report() {
    let (code, out, err) = samebits(&["bench", "--quick", "--peers", "/nonexistent/python"]);
    assert_eq!(code, 0, "{err}");
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("Peers: failed: ")).collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert!(failed[0].contains("/nonexistent/python"), "{out}");
    for section in ["samebits bench · cpu ", "Epoch of the default model", "f32 product c = a·b"] {
        assert!(out.contains(section), "no {section} in {out}");
    }
    assert!(out.lines().any(|l| l.trim_start().starts_with("1024x1024x1024")), "{out}");
}

#[test]
fn a_bad_option_is_one_line_and_exit_2() {
    for args in [&["bench", "--no-such-option"][..], &["bench", "--simd", "mmx"], &["bench", "--peers-script", "x.py"]]
    {
        let (code, out, err) = samebits(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("samebits: error: "), "{args:?}: {err}");
    }
}

#[test]
fn help_names_every_option() {
    let (code, out, err) = samebits(&["bench", "--help"]);
    assert_eq!(code, 0, "{err}");
    for option in ["--quick", "--json", "--simd", "--peers", "--peers-script"] {
        assert!(out.contains(option), "no {option} in {out}");
    }
}
