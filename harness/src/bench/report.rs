//! `samebits bench`'s output: the tables for people, one JSON object for programs.

use super::measure::{shape_name, BATCHES, GEMM_SHAPES};
use super::peers::PeerReport;
use super::Report;
use samebits::arith::{Arithmetic, Fixed, Float};
use serde_json::{json, Map, Value};
use std::fmt::Write;

const PATHS: [&str; 2] = [Float::NAME, Fixed::NAME];

/// How to get the peers, for the report without them.
const PEERS_HINT: &str = "bash benches/peers/setup.sh, then samebits bench --peers target/peers-venv/bin/python";

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The machine and how the figures were taken, one line each.
fn header(r: &Report) -> String {
    let units: Vec<&str> = r.units.iter().map(|u| u.kind().name()).collect();
    let build = if r.optimized { "release build" } else { "debug build: far slower than release, not representative" };
    format!(
        "samebits bench · cpu {} · {}/{} · {} · {build} · {} · epochs on {} (units: {})\n\
         medians of {} per epoch case and {} per product ({} over a GFLOP), cases interleaved{}\n",
        r.cpu,
        crate::env::os(),
        std::env::consts::ARCH,
        r.rustc,
        plural(r.threads, "thread"),
        r.epoch_unit.kind().name(),
        units.join(", "),
        plural(r.epoch_rounds, "round"),
        r.gemm_rounds,
        r.big_gemm_rounds,
        if r.quick { " (--quick: rough figures)" } else { "" },
    )
}

pub(super) fn text(r: &Report) -> String {
    let mut t = header(r);
    let all = plural(r.threads, "thread");
    let _ = writeln!(
        t,
        "\nEpoch of the default model (MLP 64-128-64-10 ReLU, SGD lr 0.05 momentum 0.9, 1500 digits rows)\n\
         from fresh initial parameters (epoch 1 of `samebits train`), median ms:"
    );
    let _ = writeln!(t, "  {:<6} {:>6} {:>10} {:>11} {:>9}", "path", "batch", "1 thread", all, "speed-up");
    for batch in BATCHES {
        for path in PATHS {
            if let Some(e) = r.epoch(path, batch) {
                let _ = writeln!(
                    t,
                    "  {path:<6} {batch:>6} {:>10.2} {:>11.2} {:>8.2}×",
                    e.one_thread_ms,
                    e.all_threads_ms,
                    e.one_thread_ms / e.all_threads_ms
                );
            }
        }
    }
    let ratios: Vec<String> = BATCHES
        .iter()
        .filter_map(|&batch| {
            let (float, fixed) = (r.epoch(Float::NAME, batch)?, r.epoch(Fixed::NAME, batch)?);
            Some(format!(
                "batch {batch}: {:.2}× (1 thread), {:.2}× ({all})",
                fixed.one_thread_ms / float.one_thread_ms,
                fixed.all_threads_ms / float.all_threads_ms
            ))
        })
        .collect();
    let _ = writeln!(t, "  fixed / float time: {}", ratios.join(" · "));

    let _ = writeln!(t, "\nf32 product c = a·b (m×k×n = rows × inputs × outputs), 1 thread, median GFLOP/s (2·m·k·n):");
    let _ = write!(t, "  {:<16}", "shape");
    for unit in &r.units {
        let _ = write!(t, " {:>9}", unit.kind().name());
    }
    t.push('\n');
    for rate in &r.gemm {
        let _ = write!(t, "  {:<16}", shape_name(rate.shape));
        for (_, g) in &rate.gflops {
            let _ = write!(t, " {g:>9.2}");
        }
        t.push('\n');
    }

    match &r.peers {
        None => {
            let _ = writeln!(t, "\nPeers: not run ({PEERS_HINT})");
        }
        Some(Err(message)) => {
            let _ = writeln!(t, "\nPeers: failed: {message}");
        }
        Some(Ok(p)) => peers_text(&mut t, r, p),
    }
    t
}

fn peers_text(t: &mut String, r: &Report, p: &PeerReport) {
    let or_q = |s: &Option<String>| s.clone().unwrap_or_else(|| "?".into());
    let _ = writeln!(
        t,
        "\nPeers, 1 thread (python {}, numpy {} with {}, jax {}):",
        or_q(&p.python),
        or_q(&p.numpy),
        or_q(&p.blas),
        or_q(&p.jax)
    );
    match &p.jax_error {
        Some(e) => {
            let _ = writeln!(t, "  JAX: failed: {e}");
        }
        None => {
            let _ = writeln!(
                t,
                "  {:<10} {:>12} {:>12} {:>10} {:>14} {:>14}",
                "epoch ms", "JAX", "float", "fixed", "float / JAX", "fixed / JAX"
            );
            for batch in BATCHES {
                let jax = p.jax_epoch(batch);
                let (float, fixed) = (r.epoch(Float::NAME, batch), r.epoch(Fixed::NAME, batch));
                let (float, fixed) = (float.map(|e| e.one_thread_ms), fixed.map(|e| e.one_thread_ms));
                let _ = writeln!(
                    t,
                    "  {:<10} {:>12} {:>12} {:>10} {:>14} {:>14}",
                    format!("batch {batch}"),
                    num(jax, ""),
                    num(float, ""),
                    num(fixed, ""),
                    num(ratio(float, jax), "×"),
                    num(ratio(fixed, jax), "×")
                );
            }
            let _ = writeln!(
                t,
                "  (samebits on 1 thread; under 1× samebits is faster; JAX trains random rows of the same shape, benches/peers/README.md)"
            );
        }
    }
    let Some(widest) = r.units.last().copied() else { return };
    match &p.numpy_error {
        Some(e) => {
            let _ = writeln!(t, "  numpy: failed: {e}");
        }
        None => {
            let ours = format!("samebits {}", widest.kind().name());
            let _ = writeln!(t, "  {:<16} {:>10} {:>16} {:>18}", "GFLOP/s", "numpy", ours, "samebits / numpy");
            for shape in GEMM_SHAPES {
                let name = shape_name(shape);
                let (numpy, ours) = (p.sgemm(&name), r.gflops(shape, widest));
                let _ = writeln!(
                    t,
                    "  {name:<16} {:>10} {:>16} {:>18}",
                    num(numpy, ""),
                    num(ours, ""),
                    num(ratio(ours, numpy), "×")
                );
            }
            let _ = writeln!(t, "  (over 1× samebits is faster; numpy's product is not bit-reproducible)");
        }
    }
}

fn num(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}{unit}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

/// `{"batch32": f(32), "batch256": f(256)}`.
fn per_batch(f: impl Fn(usize) -> Value) -> Value {
    Value::Object(BATCHES.iter().map(|&b| (format!("batch{b}"), f(b))).collect())
}

/// `{"float": f("float"), "fixed": f("fixed")}`.
fn per_path(f: impl Fn(&str) -> Value) -> Value {
    Value::Object(PATHS.iter().map(|&p| (p.to_string(), f(p))).collect())
}

pub(super) fn json(r: &Report) -> Value {
    let epoch = |path: &str, batch: usize| r.epoch(path, batch);
    let epoch_ms = per_path(|path| {
        per_batch(|batch| match epoch(path, batch) {
            Some(e) => json!({ "threads_1": e.one_thread_ms, "threads_all": e.all_threads_ms }),
            None => Value::Null,
        })
    });
    let speedup =
        per_path(|path| per_batch(|batch| json!(epoch(path, batch).map(|e| e.one_thread_ms / e.all_threads_ms))));
    let fixed_over_float = per_batch(|batch| match (epoch(Float::NAME, batch), epoch(Fixed::NAME, batch)) {
        (Some(float), Some(fixed)) => json!({
            "threads_1": fixed.one_thread_ms / float.one_thread_ms,
            "threads_all": fixed.all_threads_ms / float.all_threads_ms,
        }),
        _ => Value::Null,
    });
    let gemm: Map<String, Value> = r
        .gemm
        .iter()
        .map(|rate| {
            let units = rate.gflops.iter().map(|(u, g)| (u.kind().name().to_string(), json!(g))).collect();
            (shape_name(rate.shape), Value::Object(units))
        })
        .collect();
    let peers = match &r.peers {
        None => Value::Null,
        Some(Err(message)) => json!({ "error": message }),
        Some(Ok(p)) => peers_json(r, p),
    };
    json!({
        "machine": {
            "cpu": r.cpu,
            "os": crate::env::os(),
            "arch": std::env::consts::ARCH,
            "rustc": r.rustc,
            "optimized": r.optimized,
            "threads": r.threads,
            "epoch_unit": r.epoch_unit.kind().name(),
            "units": r.units.iter().map(|u| u.kind().name()).collect::<Vec<_>>(),
        },
        "quick": r.quick,
        "epoch_rounds": r.epoch_rounds,
        "gemm_rounds": r.gemm_rounds,
        "big_gemm_rounds": r.big_gemm_rounds,
        "epoch_ms": epoch_ms,
        "speedup_all_threads": speedup,
        "fixed_over_float": fixed_over_float,
        "gemm_gflops": gemm,
        "peers": peers,
    })
}

fn peers_json(r: &Report, p: &PeerReport) -> Value {
    let mut value = serde_json::to_value(p).unwrap_or_default();
    // samebits time / JAX time, 1 thread; samebits GFLOP/s (widest unit) / numpy GFLOP/s.
    let time_ratio = per_path(|path| {
        per_batch(|batch| json!(ratio(r.epoch(path, batch).map(|e| e.one_thread_ms), p.jax_epoch(batch))))
    });
    let widest = r.units.last().copied();
    let gemm_ratio: Map<String, Value> = GEMM_SHAPES
        .iter()
        .map(|&shape| {
            let ours = widest.and_then(|u| r.gflops(shape, u));
            (shape_name(shape), json!(ratio(ours, p.sgemm(&shape_name(shape)))))
        })
        .collect();
    if let Value::Object(map) = &mut value {
        map.insert("epoch_time_over_jax".into(), time_ratio);
        map.insert("gflops_over_numpy".into(), Value::Object(gemm_ratio));
        map.insert("gflops_over_numpy_unit".into(), json!(widest.map(|u| u.kind().name())));
    }
    value
}
