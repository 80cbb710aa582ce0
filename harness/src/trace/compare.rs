//! `samebits compare A B`: where two traces part, and which differences between their headers
//! could explain it under the samebits contract.

use super::format::{self, OpRecord};
use super::reader::{Step, Trace};
use std::fmt::Write as _;

/// Configuration keys that never change bits under the contract (NUMERICS.md: the digest is the
/// same for every thread count and on every device; a CSV file is judged by its data's digest,
/// not its name).
const NEUTRAL_CONFIG: [(&str, &str); 5] = [
    ("threads", "the thread count never changes bits (fixed reduction orders)"),
    ("simd", "every vector unit computes the same sums in the same order"),
    ("device", "the device never changes bits (the OpenCL step is the CPU's twin)"),
    ("device_index", "the device never changes bits (the OpenCL step is the CPU's twin)"),
    ("data.csv.path", "a file's name does not matter; its data's digest is compared"),
];

/// One difference between the two headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderDiff {
    /// `config.lr`, `environment.software.os`, …
    pub key: String,
    pub a: String,
    pub b: String,
    /// Whether a difference here can change the bits of a run under the contract.
    pub can_change_bits: bool,
    pub why: String,
}

impl HeaderDiff {
    fn line(&self) -> String {
        let verdict = if self.can_change_bits { "can change bits" } else { "cannot change bits" };
        format!("  {}: {} vs {} — {verdict} under the samebits contract: {}", self.key, self.a, self.b, self.why)
    }
}

/// The outcome of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Same configuration and the same records, step for step.
    pub identical: bool,
    /// The report, one fact per line.
    pub report: String,
    /// Each run's loss per step, for a chart.
    pub losses: [Vec<(f64, f64)>; 2],
    /// The largest distance in units in the last place between the runs' parameters, per step,
    /// where it is known: 0 where every tensor digest is equal, the measured value where both
    /// records hold parameter values.
    pub divergence: Vec<(f64, f64)>,
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// `{"a": {"b": 1}}` as `[("prefix.a.b", "1")]`; arrays stay whole (`[128,64]`).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), text(other))),
    }
}

/// Keys present in either list, in `a`'s order then `b`'s, with both values.
fn pair_up(a: &[(String, String)], b: &[(String, String)]) -> Vec<(String, String, String)> {
    let absent = "(absent)".to_string();
    let find = |list: &[(String, String)], key: &str| list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut keys: Vec<&String> = a.iter().map(|(k, _)| k).collect();
    keys.extend(b.iter().map(|(k, _)| k).filter(|k| !a.iter().any(|(ka, _)| ka == *k)));
    keys.into_iter()
        .map(|k| {
            (k.clone(), find(a, k).unwrap_or_else(|| absent.clone()), find(b, k).unwrap_or_else(|| absent.clone()))
        })
        .filter(|(_, x, y)| x != y)
        .collect()
}

/// The environment entries of a fingerprint: `(key, value, can_change_bits, reason)`.
fn environment(v: &serde_json::Value) -> Vec<(String, String, bool, String)> {
    let mut out = Vec::new();
    let Some(groups) = v.as_object() else { return out };
    for entries in groups.values() {
        for e in entries.as_array().into_iter().flatten() {
            let field = |name: &str| e.get(name).map(text).unwrap_or_default();
            let can = e.get("can_change_bits").and_then(|c| c.as_bool()).unwrap_or(false);
            out.push((field("key"), field("value"), can, field("reason")));
        }
    }
    out
}

/// Every difference between the headers, configuration first.
pub fn header_diffs(a: &Trace, b: &Trace) -> Vec<HeaderDiff> {
    let (ha, hb) = (&a.header, &b.header);
    let mut out = Vec::new();
    let mut push = |key: String, x: String, y: String, can: bool, why: &str| {
        out.push(HeaderDiff { key, a: x, b: y, can_change_bits: can, why: why.into() });
    };
    if ha.contract_version != hb.contract_version {
        let why = "each contract version fixes its own bits";
        push("contract_version".into(), ha.contract_version.to_string(), hb.contract_version.to_string(), true, why);
    }
    if ha.tensors != hb.tensors || ha.path != hb.path {
        let shape = |h: &format::Header| {
            let tensors: Vec<String> = h.tensors.iter().map(|t| format!("{}×{}", t.label(), t.len)).collect();
            format!("{} path, {}", h.path, tensors.join(", "))
        };
        push("model".into(), shape(ha), shape(hb), true, "a different model or arithmetic");
    }
    let (mut ca, mut cb) = (Vec::new(), Vec::new());
    flatten("", &ha.config, &mut ca);
    flatten("", &hb.config, &mut cb);
    for (key, x, y) in pair_up(&ca, &cb) {
        match NEUTRAL_CONFIG.iter().find(|(k, _)| *k == key) {
            Some((_, why)) => push(format!("config.{key}"), x, y, false, why),
            None => {
                push(format!("config.{key}"), x, y, true, "a setting of the run: the contract gives each its own bits")
            }
        }
    }
    let (mut da, mut db) = (Vec::new(), Vec::new());
    flatten("dataset", &serde_json::to_value(&ha.dataset).unwrap_or_default(), &mut da);
    flatten("dataset", &serde_json::to_value(&hb.dataset).unwrap_or_default(), &mut db);
    for (key, x, y) in pair_up(&da, &db) {
        push(key, x, y, true, "different training or test data");
    }
    let (ea, eb) = (environment(&ha.environment), environment(&hb.environment));
    let pairs =
        |e: &[(String, String, bool, String)]| e.iter().map(|(k, v, ..)| (k.clone(), v.clone())).collect::<Vec<_>>();
    for (key, x, y) in pair_up(&pairs(&ea), &pairs(&eb)) {
        let entry = ea.iter().chain(&eb).find(|(k, ..)| *k == key);
        let can = ea.iter().chain(&eb).any(|(k, _, c, _)| *k == key && *c);
        let why = entry.map(|(.., r)| r.clone()).filter(|r| !r.is_empty()).unwrap_or_else(|| "environment".into());
        push(format!("environment.{key}"), x, y, can, &why);
    }
    out
}

/// A loss word as a number: f32 bits, or Q16.16 on the fixed path.
fn loss_value(path: &str, hex: &str) -> f64 {
    let bits = format::hex_words(hex).and_then(|w| w.first().copied()).unwrap_or(0);
    if path == "fixed" {
        bits as i32 as f64 / 65536.0
    } else {
        f32::from_bits(bits) as f64
    }
}

fn show(path: &str, bits: u32) -> String {
    if path == "fixed" {
        format!("{} (word {:#010x})", format::bits_value(path, bits), bits)
    } else {
        format!("{} (bits {:#010x})", f32::from_bits(bits), bits)
    }
}

/// The first operation of a step that differs, as `(position, the operation)`: its digest, or
/// its presence when one trace holds more operations of the step.
fn first_op_difference<'s>(a: &'s [OpRecord], b: &'s [OpRecord]) -> Option<(usize, &'s OpRecord)> {
    let n = a.len().min(b.len());
    let i = (0..n).find(|&i| a[i] != b[i]).or((a.len() != b.len()).then_some(n))?;
    a.get(i).or(b.get(i)).map(|op| (i, op))
}

/// The parameter elements that differ in two steps holding values: `(tensor, element, a, b)`.
fn value_differences(a: &Step, b: &Step) -> Vec<(usize, usize, u32, u32)> {
    let (Some(va), Some(vb)) = (&a.values, &b.values) else { return Vec::new() };
    let mut out = Vec::new();
    for (t, (x, y)) in va.iter().zip(vb).enumerate() {
        out.extend(x.iter().zip(y).enumerate().filter(|(_, (p, q))| p != q).map(|(i, (p, q))| (t, i, *p, *q)));
    }
    out
}

/// Compares two traces.
pub fn compare(a: &Trace, b: &Trace) -> Comparison {
    let diffs = header_diffs(a, b);
    let path = a.header.path.as_str();
    let mut r = String::new();
    let losses = [a, b].map(|t| {
        t.steps.iter().map(|s| (s.record.step as f64, loss_value(&t.header.path, &s.record.loss))).collect::<Vec<_>>()
    });
    let mut divergence = Vec::new();
    let _ = writeln!(r, "A: {} ({} steps, level {})", a.file.display(), a.steps.len(), a.header.level.name());
    let _ = writeln!(r, "B: {} ({} steps, level {})", b.file.display(), b.steps.len(), b.header.level.name());

    let config_diffs: Vec<&HeaderDiff> =
        diffs.iter().filter(|d| d.can_change_bits && !d.key.starts_with("environment.")).collect();
    if !config_diffs.is_empty() {
        let _ = writeln!(
            r,
            "traces differ: the runs' configurations differ, so their bits are expected to differ; no step-by-step comparison is made:"
        );
        for d in &config_diffs {
            let _ = writeln!(r, "{}", d.line());
        }
        write_other_diffs(&mut r, &diffs, true);
        return Comparison { identical: false, report: r, losses, divergence };
    }

    let both_ops = a.header.level == format::Level::Ops && b.header.level == format::Level::Ops;
    let mut first_op = None;
    let mut first_loss = None;
    let mut first_param = None;
    for (i, (sa, sb)) in a.steps.iter().zip(&b.steps).enumerate() {
        if both_ops && first_op.is_none() {
            if let Some((pos, op)) = first_op_difference(&sa.ops, &sb.ops) {
                first_op = Some((i, pos, op.clone()));
            }
        }
        if first_loss.is_none() && sa.record.loss != sb.record.loss {
            first_loss = Some(i);
        }
        let tensor = (0..sa.record.digests.len()).find(|&t| sa.record.digests[t] != sb.record.digests[t]);
        match tensor {
            None => divergence.push((sa.record.step as f64, 0.0)),
            Some(t) => {
                first_param.get_or_insert((i, t));
                let d = value_differences(sa, sb);
                if let Some(max) = d.iter().map(|&(_, _, x, y)| format::ulp_distance(path, x, y)).max() {
                    divergence.push((sa.record.step as f64, max as f64));
                }
            }
        }
    }
    let shorter = a.steps.len().min(b.steps.len());
    let ends_differ = a.steps.len() != b.steps.len() || a.end != b.end;
    let first = [first_op.as_ref().map(|o| o.0), first_loss, first_param.map(|p| p.0)].into_iter().flatten().min();

    if first.is_none() && !ends_differ {
        let ops = if both_ops { ", and every layer operation's digest" } else { "" };
        let digest = a.end.digest.as_deref().unwrap_or("none (the runs stopped with the same error)");
        let _ = writeln!(r, "traces identical: {} steps, every loss and parameter digest equal{ops}", a.steps.len());
        let _ = writeln!(r, "final digest {digest}");
        write_other_diffs(&mut r, &diffs, false);
        return Comparison { identical: true, report: r, losses, divergence };
    }

    match first {
        Some(i) => {
            let s = &a.steps[i].record;
            let _ = writeln!(r, "traces differ: first at step {} (epoch {})", s.step, s.epoch);
        }
        None => {
            let _ = writeln!(r, "traces differ: equal through step {shorter}, then they end differently");
        }
    }
    if let Some((i, pos, op)) = &first_op {
        let count = a.steps[*i].ops.len();
        let _ = writeln!(
            r,
            "first operation that differs: step {}, layer {}, {} (operation {} of {count} in the step)",
            a.steps[*i].record.step,
            op.layer,
            op.op,
            pos + 1
        );
    } else if a.header.level != b.header.level {
        let _ = writeln!(
            r,
            "operations: only one trace recorded them; trace both with --trace-level ops to find the first"
        );
    } else if !both_ops && first.is_some() {
        let _ = writeln!(r, "operations: not recorded (trace with --trace-level ops to find the first that differs)");
    }
    if let Some(i) = first_loss {
        let (x, y) = (&a.steps[i].record.loss, &b.steps[i].record.loss);
        let _ = writeln!(
            r,
            "loss: first differs at step {}: A {} (bits {x}), B {} (bits {y})",
            a.steps[i].record.step,
            loss_value(path, x),
            loss_value(path, y)
        );
    } else if first.is_some() {
        let _ = writeln!(r, "loss: equal at every step both traces hold");
    }
    match first_param {
        Some((i, t)) => write_param_difference(&mut r, a, b, i, t),
        None => {
            let _ = writeln!(r, "parameters: equal after every step both traces hold");
        }
    }
    if ends_differ {
        for t in [a, b] {
            let name = if std::ptr::eq(t, a) { "A" } else { "B" };
            match (&t.end.error, &t.end.digest) {
                (Some(e), _) => {
                    let _ = writeln!(r, "{name} stopped after {} steps with an error: {e}", t.end.steps);
                }
                (None, Some(d)) => {
                    let _ = writeln!(r, "{name} finished after {} steps, digest {d}", t.end.steps);
                }
                (None, None) => {}
            }
        }
    }
    write_other_diffs(&mut r, &diffs, false);
    Comparison { identical: false, report: r, losses, divergence }
}

/// The first differing tensor (`t`) after step index `i`, and its first element from the
/// nearest record at or after it where both traces hold values.
fn write_param_difference(r: &mut String, a: &Trace, b: &Trace, i: usize, t: usize) {
    let path = a.header.path.as_str();
    let step = a.steps[i].record.step;
    let tensor = &a.header.tensors[t];
    let _ = writeln!(r, "parameters: first differ after step {step}: {}", tensor.label());
    let with_values =
        (i..a.steps.len().min(b.steps.len())).find(|&j| a.steps[j].values.is_some() && b.steps[j].values.is_some());
    let Some(j) = with_values else {
        let _ = writeln!(
            r,
            "  no later record holds parameter values in both traces (trace with --trace-values 1 for every step)"
        );
        return;
    };
    let at = a.steps[j].record.step;
    let diffs = value_differences(&a.steps[j], &b.steps[j]);
    let Some(&(ft, fi, x, y)) = diffs.iter().find(|d| d.0 == t).or(diffs.first()) else {
        return;
    };
    let where_ = if j == i {
        format!("values recorded at step {at}")
    } else {
        format!("values from step {at}, the first record after step {step} that holds them in both traces")
    };
    let label = a.header.tensors[ft].label();
    let _ = writeln!(
        r,
        "  {label} element {fi}: A {}, B {}, {} ulp ({where_})",
        show(path, x),
        show(path, y),
        format::ulp_distance(path, x, y)
    );
    let max = diffs.iter().map(|&(_, _, x, y)| format::ulp_distance(path, x, y)).max().unwrap_or(0);
    let total: usize = a.header.tensors.iter().map(|t| t.len).sum();
    let _ = writeln!(r, "  at step {at}, {} of {total} parameters differ, the largest by {max} ulp", diffs.len());
}

/// The header differences not printed yet, each labelled.
fn write_other_diffs(r: &mut String, diffs: &[HeaderDiff], config_printed: bool) {
    let rest: Vec<&HeaderDiff> =
        diffs.iter().filter(|d| !(config_printed && d.can_change_bits && !d.key.starts_with("environment."))).collect();
    if rest.is_empty() {
        let _ = writeln!(r, "header differences: none");
        return;
    }
    let _ = writeln!(r, "header differences (environment and configuration):");
    for d in rest {
        let _ = writeln!(r, "{}", d.line());
    }
}
