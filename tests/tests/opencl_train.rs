//! The training step on an OpenCL device (gpu-kernels/cl/train_*.cl driven by
//! `samebits_harness::opencl::OpenClTrainer`) against the CPU's `Trainer`, bit for bit.
//!
//! Each case trains the same model from the same parameters on both, one step at a time, and
//! compares after every step the loss, every gradient, every parameter, the optimizer state and
//! the saturation count. The cases cover every activation's forward and backward pass, both
//! optimizers, weight decay, batches of one row, of one chunk, of several chunks with an odd
//! chunk carried up the tree and with a short last chunk, and (fixed point) saturating deltas.
//! Without an OpenCL device the tests print why and pass, unless `SAMEBITS_REQUIRE_OPENCL` is set.
// WebAssembly has no OpenCL (the harness only refuses there), so these tests do not exist there.
#![cfg(not(target_family = "wasm"))]

use rand_core::SeedableRng;
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::exec::Sequential;
use samebits::layers::Activation;
use samebits::model::{Batch, Init, MlpSpec, NonFinite, Tensor, Trainer};
use samebits::optim::{Adam, Optimizer, Sgd};
use samebits::rng::Xoshiro128PlusPlus;
use samebits_harness::buffers::OwnedBuffers;
use samebits_harness::config::{DeviceKind, PathKind, TrainConfig};
use samebits_harness::data::builtin_digits_split;
use samebits_harness::opencl::{DevicePath, Gpu, OpenClTrainer, StepError};
use samebits_harness::train::{self, Quiet};
use samebits_tests::opencl::gpu;
use samebits_tests::{check_golden, golden, short_fixed_runs, short_runs, train_json, uniform};

/// One model, optimizer and sequence of batch sizes.
struct Case {
    name: &'static str,
    inputs: usize,
    hidden: &'static [usize],
    classes: usize,
    activation: Activation,
    init: Init,
    optimizer: Optimizer,
    /// Rows of each step's batch, in order (the largest is the trainers' `max_batch`).
    batches: &'static [usize],
}

const SGD: Optimizer = Optimizer::Sgd(Sgd { lr: 0.05, momentum: 0.9, weight_decay: 0.0 });
const SGD_WD: Optimizer = Optimizer::Sgd(Sgd { lr: 0.1, momentum: 0.5, weight_decay: 0.01 });
const ADAM: Optimizer = Optimizer::Adam(Adam { weight_decay: 0.001, ..Adam::with_lr(0.01) });

/// Small odd shapes: every activation with each optimizer, batches of 37 (16 + 16 + 5 rows),
/// 1, 16, 17 and 100 rows (7 chunks: an odd partial carried up the tree).
fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for (i, activation) in Activation::ALL.into_iter().enumerate() {
        for (j, optimizer) in [SGD, SGD_WD, ADAM].into_iter().enumerate() {
            v.push(Case {
                name: ["relu", "tanh", "sigmoid"][i],
                inputs: 5 + i,
                hidden: [&[7, 3][..], &[9][..], &[4, 6, 5][..]][j],
                classes: 3 + j,
                activation,
                init: if j == 1 { Init::HeUniform } else { Init::GlorotUniform },
                optimizer,
                batches: &[37, 1, 16, 17, 100, 37, 3],
            });
        }
    }
    v
}

/// `rows` samples of `inputs` features in [−3, 3) and labels below `classes`.
fn synthetic(rows: usize, inputs: usize, classes: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let x = uniform(seed, rows * inputs, 3.0);
    let labels = uniform(seed + 1, rows, 1.0)
        .iter()
        .map(|u| ((u + 1.0) * 0.5 * classes as f32) as u32 % classes as u32)
        .collect();
    (x, labels)
}

/// Trains `case` on both for every batch of `case.batches`, comparing everything after each
/// step; `tweak` edits the initial parameters. Returns the saturation count at the end, or the
/// first error both reported (they must agree).
fn compare<N: DevicePath>(
    gpu: &Gpu,
    case: &Case,
    features: &[N::Act],
    labels: &[u32],
    tweak: impl Fn(&mut [N::Param]),
) -> Result<u64, NonFinite> {
    let spec: MlpSpec = MlpSpec::new(case.inputs, case.hidden, case.classes, case.activation).unwrap();
    let max_batch = *case.batches.iter().max().unwrap();
    let mut bufs = OwnedBuffers::<N>::new(&Trainer::<N>::sizes(&spec, &case.optimizer, max_batch)).unwrap();
    let mut cpu = Trainer::<N>::new(spec.clone(), case.optimizer, max_batch, bufs.buffers()).unwrap();
    cpu.init_params(case.init, &mut Xoshiro128PlusPlus::seed_from_u64(7));
    tweak(cpu.params_mut());
    let mut dev = OpenClTrainer::<N>::new(gpu, spec, case.optimizer, max_batch).unwrap();
    dev.set_params(cpu.params()).unwrap();
    dev.load_data(features, labels).unwrap();
    let bits = |v: &[N::Param]| v.iter().map(|p| N::param_bits(*p)).collect::<Vec<u32>>();
    let rows = labels.len();
    let mut next = 0usize;
    for (s, &b) in case.batches.iter().enumerate() {
        // Rows in a scrambled order, wrapping around the data.
        let indices: Vec<u32> = (0..b).map(|i| (((next + i) * 7919) % rows) as u32).collect();
        next += b;
        let what = format!("{} {} {:?} step {} ({b} rows)", N::NAME, case.name, case.optimizer, s + 1);
        let want = cpu.train_step(&Sequential, &Batch { features, labels, indices: &indices });
        let got = dev.train_step(&indices);
        match (want, got) {
            (Ok(a), Ok(b)) => assert_eq!(N::act_to_f64(a).to_bits(), N::act_to_f64(b).to_bits(), "{what}: loss"),
            (Err(a), Err(StepError::NonFinite(b))) => {
                assert_eq!(a, b, "{what}: error");
                let (want, got) = (bits(cpu.params()), bits(&dev.params().unwrap()));
                assert_same(&what, "parameters after the error", &want, &got);
                return Err(a);
            }
            (a, b) => panic!("{what}: CPU {a:?}, OpenCL {b:?}"),
        }
        assert_same(&what, "gradients", &bits(cpu.grads()), &bits(&dev.grads().unwrap()));
        assert_same(&what, "parameters", &bits(cpu.params()), &bits(&dev.params().unwrap()));
        assert_eq!(cpu.saturations(), dev.saturations(), "{what}: saturations");
        assert_eq!(cpu.steps(), dev.steps(), "{what}: steps");
        assert_eq!(cpu.digest(), dev.digest().unwrap(), "{what}: digest");
    }
    Ok(cpu.saturations())
}

/// `x` in path `N`'s input format.
fn acts<N: Arithmetic>(x: &[f32]) -> Vec<N::Act> {
    x.iter().map(|v| N::act_from_f32(*v).expect("inputs in range")).collect()
}

/// Asserts two bit vectors are equal, naming the first difference.
#[track_caller]
fn assert_same(what: &str, tensor: &str, want: &[u32], got: &[u32]) {
    assert_eq!(want.len(), got.len(), "{what}: {tensor} lengths");
    if let Some(i) = (0..want.len()).find(|&i| want[i] != got[i]) {
        panic!("{what}: {tensor}[{i}] CPU {:#010x}, OpenCL {:#010x}", want[i], got[i]);
    }
}

fn every_case<N: DevicePath>() {
    let Some(gpu) = gpu() else { return };
    for case in cases() {
        let (x, labels) = synthetic(211, case.inputs, case.classes, case.inputs as u64);
        compare::<N>(&gpu, &case, &acts::<N>(&x), &labels, |_| {}).unwrap();
    }
}

#[test]
fn every_layer_and_optimizer_step_equals_the_cpu_float() {
    every_case::<Float>();
}

#[test]
fn every_layer_and_optimizer_step_equals_the_cpu_fixed() {
    every_case::<Fixed>();
}

/// The default model on the digits for a few steps of batch 32 and a short last batch.
fn digits_steps<N: DevicePath>(optimizer: Optimizer) {
    let Some(gpu) = gpu() else { return };
    let (train, _) = builtin_digits_split();
    let case = Case {
        name: "digits",
        inputs: 64,
        hidden: &[128, 64],
        classes: 10,
        activation: Activation::Relu,
        init: Init::GlorotUniform,
        optimizer,
        batches: &[32, 32, 32, 12, 32],
    };
    compare::<N>(&gpu, &case, &acts::<N>(&train.features), &train.labels, |_| {}).unwrap();
}

#[test]
fn default_model_steps_on_the_digits_equal_the_cpu() {
    digits_steps::<Float>(SGD);
    digits_steps::<Fixed>(SGD);
    digits_steps::<Float>(ADAM);
    digits_steps::<Fixed>(ADAM);
}

#[test]
fn fixed_saturations_are_counted_as_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    // Batches of 1 and 2 rows: the output deltas (p − y)/B leave the delta operand range
    // (NUMERICS.md §13.2) and saturate; a large learning rate makes more.
    let case = Case {
        name: "saturating",
        inputs: 6,
        hidden: &[5],
        classes: 4,
        activation: Activation::Tanh,
        init: Init::GlorotUniform,
        optimizer: Optimizer::Sgd(Sgd { lr: 1.5, momentum: 0.9, weight_decay: 0.0 }),
        batches: &[1, 2, 1, 2, 1, 2],
    };
    let (x, labels) = synthetic(50, case.inputs, case.classes, 3);
    let saturations = compare::<Fixed>(&gpu, &case, &acts::<Fixed>(&x), &labels, |_| {}).unwrap();
    assert!(saturations > 0, "the case saturates");
    // Weights at the edge of Q8.24 saturate their operands and the update.
    let tweak = |p: &mut [samebits::fixed::Param]| {
        p[0] = samebits::fixed::Param::MAX;
        p[3] = samebits::fixed::Param::MIN;
    };
    let edge = compare::<Fixed>(&gpu, &case, &acts::<Fixed>(&x), &labels, tweak).unwrap();
    assert!(edge > saturations, "edge weights saturate more ({edge} vs {saturations})");
}

fn tiny_float_case() -> Case {
    Case {
        name: "tiny",
        inputs: 2,
        hidden: &[4],
        classes: 2,
        activation: Activation::Tanh,
        init: Init::GlorotUniform,
        optimizer: Optimizer::Sgd(Sgd { lr: 0.5, momentum: 0.0, weight_decay: 0.0 }),
        batches: &[2, 2],
    }
}

#[test]
fn non_finite_values_stop_the_step_as_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let case = tiny_float_case();
    let labels = [0, 1];
    // An infinite input: tanh saturates, layer 1's weight gradient x·dz does not.
    let err = compare::<Float>(&gpu, &case, &[f32::INFINITY, 0.0, 1.0, 1.0], &labels, |_| {}).unwrap_err();
    assert_eq!((err.step, err.layer, err.tensor), (1, Some(1), Tensor::WeightGradients));
    // Infinite output biases: the logits are ∞ − ∞ = NaN after max subtraction.
    let x = [0.5, -0.5, 1.0, 0.25];
    let err = compare::<Float>(&gpu, &case, &x, &labels, |p| {
        let n = p.len();
        p[n - 2] = f32::INFINITY;
        p[n - 1] = f32::INFINITY;
    })
    .unwrap_err();
    assert_eq!((err.step, err.layer, err.tensor), (1, None, Tensor::Loss));
    // Weight decay 2 on a weight of f32::MAX overflows in the update.
    let case = Case { optimizer: Optimizer::Sgd(Sgd { lr: 0.5, momentum: 0.0, weight_decay: 2.0 }), ..case };
    let err = compare::<Float>(&gpu, &case, &x, &labels, |p| p[3] = f32::MAX).unwrap_err();
    assert_eq!((err.step, err.layer, err.tensor, err.index), (1, Some(1), Tensor::Weights, 3));
}

/// The short golden runs of tests/tests/training.rs with every step on the device (and with
/// the CPU alongside, digests compared after every step): the CPU goldens.
#[test]
fn short_runs_on_opencl_match_the_cpu_goldens() {
    if gpu().is_none() {
        return;
    }
    let (train_set, test_set) = builtin_digits_split();
    let runs = short_runs()
        .into_iter()
        .zip(golden::SHORT_RUNS)
        .chain(short_fixed_runs().into_iter().zip(golden::SHORT_FIXED_RUNS));
    for ((name, config), (golden_name, want)) in runs {
        assert_eq!(name, golden_name);
        for device in [DeviceKind::Opencl, DeviceKind::Both] {
            let config = TrainConfig { device, ..config.clone() };
            let result = train::run(&config, &train_set, &test_set, &mut Quiet).unwrap();
            let path = if config.path == PathKind::Fixed { "fixed" } else { "float" };
            check_golden(&format!("{path} {name} on {device:?}"), &result.digest.to_string(), want);
            assert!(result.opencl_device.is_some());
        }
    }
}

/// `samebits train --device opencl` and `--path fixed --device opencl`: the default runs'
/// goldens, and the CPU's accuracy (evaluated on the CPU from the device's parameters).
#[test]
fn default_runs_on_opencl_match_the_cpu_goldens() {
    if gpu().is_none() {
        return;
    }
    for (path, want) in [("float", golden::DEFAULT_RUN), ("fixed", golden::DEFAULT_FIXED_RUN)] {
        let report = train_json(&["--path", path, "--device", "opencl"]);
        check_golden(&format!("default {path} run on OpenCL"), report["digest"].as_str().unwrap(), want);
        assert_eq!(report["test_correct"], 276, "92.93 % as on the CPU");
        assert_eq!(report["saturations"], 0);
        assert_eq!(report["device"], "opencl");
    }
}

/// train_fixed.cl performs integer operations only: no floating-point type or literal in its
/// code (comments aside). The f32 program's rules are checked with math_f32.cl's
/// (tests/tests/opencl_math_f32.rs).
#[test]
fn the_fixed_training_kernels_have_no_floating_point() {
    let code: String = samebits_gpu_kernels::TRAIN_FIXED
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    for word in ["float", "double", "half"] {
        assert!(
            !code.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w.starts_with(word)),
            "train_fixed.cl uses {word}"
        );
    }
    assert!(!code.contains("-cl-"), "no build options in the source");
}
