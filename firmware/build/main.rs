//! Build script: the memory layout of the target board, and the run that `train.args` describes
//! as Rust source (`$OUT_DIR/run.rs`): its configuration, the dataset as flash arrays on both
//! arithmetic paths, and the kernel's buffer sizes.

mod args;
mod csv;

use args::RunArgs;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::model::{BufferSizes, MlpSpec, Trainer};
use samebits::optim::Optimizer;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

/// Memory layout per target (file in `memory/`): each names the qemu machine it runs on.
fn memory_layout(target: &str) -> &'static str {
    match target {
        "thumbv7m-none-eabi" => "lm3s6965evb.x",
        "thumbv7em-none-eabihf" => "mps2-an386.x",
        other => panic!(
            "no memory layout for target {other}: build with --target thumbv7m-none-eabi or thumbv7em-none-eabihf"
        ),
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();

    let memory = manifest.join("memory").join(memory_layout(&target));
    fs::copy(&memory, out.join("memory.x")).unwrap();
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo:rustc-link-search={}", out.display());
    // cortex-m-rt's linker script, which INCLUDEs memory.x.
    println!("cargo:rustc-link-arg-bins=-Tlink.x");

    let args_path = manifest.join("train.args");
    println!("cargo:rerun-if-changed={}", args_path.display());
    let args = RunArgs::parse(&fs::read_to_string(&args_path).unwrap());
    let csv_path = manifest.join("..").join(&args.data);
    println!("cargo:rerun-if-changed={}", csv_path.display());
    let text = fs::read_to_string(&csv_path).unwrap_or_else(|e| panic!("{}: {e}", csv_path.display()));
    let table = csv::parse(&text, &args.data, args.classes);
    let mut run = source(&target, &args, &table);
    for path in ["float", "fixed"] {
        let header = trace_header(&target, path, &args, &table);
        writeln!(run, "pub const TRACE_HEADER_{}: &str = {header:?};", path.to_uppercase()).unwrap();
    }
    fs::write(out.join("run.rs"), run).unwrap();
}

/// The version of package `name` in this crate's Cargo.lock (what the firmware links).
fn lock_version(name: &str) -> String {
    let lock = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(&lock).unwrap();
    let entry = format!("name = \"{name}\"\nversion = \"");
    let at = text.find(&entry).unwrap_or_else(|| panic!("Cargo.lock: no package {name}")) + entry.len();
    text[at..].split('"').next().unwrap().to_string()
}

/// `s` as a JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The first line of the firmware's trace (docs/TRACE.md, version 1) on `path`, whole: built
/// here, where the host's rules can be followed with std, so that the firmware only prints it.
/// `config` and `dataset` are what the harness writes for the same flags (harness/src/trace/
/// writer.rs), so `samebits compare` finds no difference that can change bits; the
/// environment is the board's, in the host fingerprint's keys, so it is compared entry by entry.
fn trace_header(target: &str, path: &str, args: &RunArgs, table: &csv::Table) -> String {
    let rows = table.labels.len();
    let train_rows = rows - csv::test_rows(rows, args.test_fraction);
    let split = train_rows * table.n_features;
    let widths: Vec<usize> =
        std::iter::once(table.n_features).chain(args.hidden.iter().copied()).chain([args.classes]).collect();
    let tensors: Vec<String> = widths
        .windows(2)
        .enumerate()
        .flat_map(|(l, w)| {
            [("weights", w[0] * w[1]), ("biases", w[1])]
                .map(|(t, len)| format!("{{\"layer\":{},\"tensor\":\"{t}\",\"len\":{len}}}", l + 1))
        })
        .collect();
    // harness/src/trace/format.rs `dataset_digest`: training features (f32 bits) and labels,
    // then the test rows' likewise.
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let words = [
        bits(&table.features[..split]),
        table.labels[..train_rows].to_vec(),
        bits(&table.features[split..]),
        table.labels[train_rows..].to_vec(),
    ];
    let dataset = samebits::digest::digest_words(words.into_iter().flatten());
    // `TrainConfig` as serde_json writes it: f64 in their shortest round-trip form, and f32
    // widened to f64 first (0.05 is 0.05000000074505806).
    let hidden: Vec<String> = args.hidden.iter().map(usize::to_string).collect();
    let config = format!(
        concat!(
            "{{\"path\":\"{path}\",\"math\":\"portable\",\"data\":{{\"csv\":{{\"path\":{data},",
            "\"header\":false,\"classes\":{classes},\"test_fraction\":{fraction:?}}}}},",
            "\"hidden\":[{hidden}],\"activation\":\"{activation}\",\"init\":\"{init}\",",
            "\"optimizer\":{optimizer},\"lr\":{lr:?},\"momentum\":{momentum:?},",
            "\"weight_decay\":{weight_decay:?},\"batch\":{batch},\"epochs\":{epochs},\"seed\":{seed},",
            "\"threads\":1,\"device\":\"cpu\",\"device_index\":null}}"
        ),
        path = path,
        data = json_string(&args.data),
        classes = args.classes,
        fraction = args.test_fraction,
        hidden = hidden.join(","),
        activation = args.activation.name(),
        init = args.init.name(),
        optimizer = json_string(&args.optimizer_name),
        lr = f64::from(args.lr),
        momentum = f64::from(args.momentum),
        weight_decay = f64::from(args.weight_decay),
        batch = args.batch,
        epochs = args.epochs,
        seed = args.seed,
    );
    let (cpu, machine) = match target {
        "thumbv7m-none-eabi" => ("Cortex-M3", "lm3s6965evb"),
        _ => ("Cortex-M4F", "mps2-an386"),
    };
    let entry = |key: &str, name: &str, value: &str, can: bool, why: &str| {
        format!(
            "{{\"key\":\"{key}\",\"name\":\"{name}\",\"value\":{},\"can_change_bits\":{can},\"reason\":{}}}",
            json_string(value),
            json_string(why)
        )
    };
    let not_bits = "the contract gives every CPU the same bits";
    let hardware = [
        entry("hardware.cpu_vendor", "CPU vendor", "ARM", false, not_bits),
        entry("hardware.cpu_model", "CPU model", &format!("{cpu} (qemu-system-arm {machine})"), false, not_bits),
        entry("hardware.architecture", "architecture", "arm", false, not_bits),
    ];
    let software = [
        entry("software.os", "operating system", "none (bare metal, semihosting)", false, "the kernel calls no OS"),
        entry(
            "software.samebits_version",
            "samebits version",
            env!("CARGO_PKG_VERSION"),
            true,
            "a release may change the contract",
        ),
        entry(
            "software.contract_version",
            "contract version",
            &samebits::CONTRACT_VERSION.to_string(),
            true,
            "each contract version fixes its own bits",
        ),
        entry("software.target", "target triple", target, false, "every target follows the same contract"),
        entry("software.libm_version", "libm version", &lock_version("libm"), true, "the float path's exp and ln"),
        entry(
            "software.fixed_version",
            "fixed crate version",
            &lock_version("fixed"),
            true,
            "the fixed path's conversions",
        ),
    ];
    format!(
        concat!(
            "{{\"format\":\"samebits-trace\",\"version\":1,\"samebits_version\":\"{version}\",",
            "\"contract_version\":{contract},\"path\":\"{path}\",\"level\":\"steps\",\"values_every\":0,",
            "\"tensors\":[{tensors}],\"config\":{config},\"dataset\":{{\"train_rows\":{train_rows},",
            "\"test_rows\":{test_rows},\"features\":{features},\"classes\":{classes},\"digest\":\"{dataset}\"}},",
            "\"environment\":{{\"hardware\":[{hardware}],\"software\":[{software}],\"system\":[]}}}}"
        ),
        version = env!("CARGO_PKG_VERSION"),
        contract = samebits::CONTRACT_VERSION,
        path = path,
        tensors = tensors.join(","),
        config = config,
        train_rows = train_rows,
        test_rows = rows - train_rows,
        features = table.n_features,
        classes = args.classes,
        dataset = dataset,
        hardware = hardware.join(","),
        software = software.join(","),
    )
}

/// The generated module; `crate::data` supplies `floats` and `fixeds`.
fn source(target: &str, args: &RunArgs, table: &csv::Table) -> String {
    let rows = table.labels.len();
    let train_rows = rows - csv::test_rows(rows, args.test_fraction);
    let split = train_rows * table.n_features;
    let max_batch = args.batch.min(train_rows);
    let spec = MlpSpec::<{ samebits::model::DEFAULT_MAX_LAYERS }>::new(
        table.n_features,
        &args.hidden,
        args.classes,
        args.activation,
    )
    .expect("train.args: the model does not fit the kernel's limits");
    // What the fixed path trains on: each feature on the Q5.10 grid, through the kernel's own
    // conversion (the harness's `features_for`); out-of-range values are refused as it does.
    let fixed: Vec<i32> = table
        .features
        .iter()
        .enumerate()
        .map(|(i, &x)| match Fixed::act_from_f32(x) {
            Some(q) => q.to_bits(),
            None => panic!(
                "row {}, column {}: {x} is outside the fixed path's input range",
                i / table.n_features,
                i % table.n_features
            ),
        })
        .collect();
    let float_bits: Vec<u32> = table.features.iter().map(|x| x.to_bits()).collect();

    let mut s = String::new();
    let w = &mut s;
    writeln!(w, "// Generated by build.rs from train.args and {}; do not edit.", args.data).unwrap();
    writeln!(w, "pub const TARGET: &str = {target:?};").unwrap();
    writeln!(w, "pub const FEATURES: usize = {};", table.n_features).unwrap();
    writeln!(w, "pub const CLASSES: usize = {};", args.classes).unwrap();
    writeln!(w, "pub const HIDDEN: [usize; {}] = {:?};", args.hidden.len(), args.hidden).unwrap();
    writeln!(w, "pub const LAYERS: usize = {};", args.hidden.len() + 1).unwrap();
    writeln!(w, "pub const ACTIVATION: Activation = Activation::{:?};", args.activation).unwrap();
    writeln!(w, "pub const INIT: Init = Init::{:?};", args.init).unwrap();
    writeln!(w, "pub const OPTIMIZER: Optimizer = {};", optimizer(&args.optimizer)).unwrap();
    writeln!(w, "pub const BATCH: usize = {};", args.batch).unwrap();
    writeln!(w, "pub const MAX_BATCH: usize = {max_batch};").unwrap();
    writeln!(w, "pub const EPOCHS: u32 = {};", args.epochs).unwrap();
    writeln!(w, "pub const SEED: u64 = {};", args.seed).unwrap();
    writeln!(w, "pub const TRAIN_ROWS: usize = {train_rows};").unwrap();
    writeln!(w, "pub const TEST_ROWS: usize = {};", rows - train_rows).unwrap();
    writeln!(
        w,
        "pub const FLOAT_SIZES: BufferSizes = {};",
        sizes(&Trainer::<Float>::sizes(&spec, &args.optimizer, max_batch))
    )
    .unwrap();
    writeln!(
        w,
        "pub const FIXED_SIZES: BufferSizes = {};",
        sizes(&Trainer::<Fixed>::sizes(&spec, &args.optimizer, max_batch))
    )
    .unwrap();
    array(w, "TRAIN_LABELS", "u32", "", &table.labels[..train_rows]);
    array(w, "TEST_LABELS", "u32", "", &table.labels[train_rows..]);
    array(w, "TRAIN_FLOAT", "f32", "floats", &float_bits[..split]);
    array(w, "TEST_FLOAT", "f32", "floats", &float_bits[split..]);
    array(w, "TRAIN_FIXED", "FixedAct", "fixeds", &fixed[..split]);
    array(w, "TEST_FIXED", "FixedAct", "fixeds", &fixed[split..]);
    s
}

/// The optimizer as a constant expression, with the exact bits of its hyper-parameters.
fn optimizer(o: &Optimizer) -> String {
    let f = |x: f32| format!("f32::from_bits({:#010x})", x.to_bits());
    match o {
        Optimizer::Sgd(s) => format!(
            "Optimizer::Sgd(Sgd {{ lr: {}, momentum: {}, weight_decay: {} }})",
            f(s.lr),
            f(s.momentum),
            f(s.weight_decay)
        ),
        Optimizer::Adam(a) => format!(
            "Optimizer::Adam(Adam {{ lr: {}, beta1: {}, beta2: {}, eps: {}, weight_decay: {} }})",
            f(a.lr),
            f(a.beta1),
            f(a.beta2),
            f(a.eps),
            f(a.weight_decay)
        ),
    }
}

fn sizes(s: &BufferSizes) -> String {
    format!(
        "BufferSizes {{ params: {}, grads: {}, opt_state: {}, act_scratch: {}, param_scratch: {}, operand_scratch: {}, acc_scratch: {} }}",
        s.params, s.grads, s.opt_state, s.act_scratch, s.param_scratch, s.operand_scratch, s.acc_scratch
    )
}

/// `pub static NAME: [ty; n] = wrap([values]);`, where `wrap` turns raw bits into values at
/// compile time (none for labels).
fn array<T: std::fmt::Display>(w: &mut String, name: &str, ty: &str, wrap: &str, values: &[T]) {
    let (open, close) = if wrap.is_empty() { ("", "") } else { ("(", ")") };
    write!(w, "pub static {name}: [{ty}; {}] = {wrap}{open}[", values.len()).unwrap();
    for (i, v) in values.iter().enumerate() {
        if i % 32 == 0 {
            w.push('\n');
        }
        write!(w, "{v},").unwrap();
    }
    writeln!(w, "\n]{close};").unwrap();
}
