//! The OpenCL twins of the float path's elementary functions (gpu-kernels/cl/math_f32.cl)
//! against the Rust functions they port (`samebits::math`, NUMERICS.md §4), bit for bit.
//!
//! Each test runs one twin's element-wise kernel (gpu-kernels/cl/tests/math_f32_tests.cl) over
//! f32 bit patterns and compares every result's bits with the Rust function's. Two NaNs count
//! as equal whatever their sign and payload: a NaN stops training wherever it appears and the
//! digest hashes every NaN alike (NUMERICS.md §10, §11), so only "NaN or not" is observable.
//!
//! The normal run checks, per function, 2^24 patterns spread over all 2^32 plus the regions the
//! function's branches and callers care about. Per function, one ignored test checks all 2^32
//! patterns: `SAMEBITS_OPENCL_EXHAUSTIVE=1 cargo test --release -p samebits-tests --test
//! opencl_math_f32 -- --ignored`.
// WebAssembly has no OpenCL (the harness only refuses there), so these tests do not exist there.
#![cfg(not(target_family = "wasm"))]

use samebits::math::{exp, ln, sigmoid, sqrt, tanh};
use samebits_gpu_kernels::{MATH_F32, MATH_F32_TESTS, TRAIN_F32};
use samebits_harness::opencl::runtime::Built;
use samebits_harness::opencl::Gpu;
use samebits_tests::opencl::{gpu, spread_u32};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Patterns per kernel launch: 16 MiB in and out.
const SLICE: usize = 1 << 22;
/// Patterns per chunk of the exhaustive tests.
const CHUNK: u64 = 1 << 24;
/// Mismatches quoted in a failure message.
const QUOTED: usize = 16;

/// One twin: its test kernel and the Rust function it must equal.
#[derive(Clone, Copy)]
struct Twin {
    kernel: &'static str,
    rust: fn(f32) -> f32,
    name: &'static str,
}

const EXP: Twin = Twin { kernel: "test_expf", rust: exp, name: "exp" };
const LN: Twin = Twin { kernel: "test_logf", rust: ln, name: "ln" };
const TANH: Twin = Twin { kernel: "test_tanhf", rust: tanh, name: "tanh" };
const SQRT: Twin = Twin { kernel: "test_sqrtf", rust: sqrt, name: "sqrt" };
const SIGMOID: Twin = Twin { kernel: "test_sigmoidf", rust: sigmoid, name: "sigmoid" };

/// Equal bits, or both NaN (see the module documentation).
fn same(a: u32, b: u32) -> bool {
    a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
}

/// Mismatches found so far.
#[derive(Default)]
struct Mismatches {
    count: u64,
    /// The first few: (input, device, Rust) bits.
    quoted: Vec<(u32, u32, u32)>,
}

impl Mismatches {
    fn merge(&mut self, other: Mismatches) {
        self.count += other.count;
        let room = QUOTED.saturating_sub(self.quoted.len());
        self.quoted.extend(other.quoted.into_iter().take(room));
    }
}

/// Compares `device[i]` with the Rust function on `input[i]`, on every core.
fn compare(rust: fn(f32) -> f32, input: &[u32], device: &[u32]) -> Mismatches {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let part = input.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = input
            .chunks(part)
            .zip(device.chunks(part))
            .map(|(input, device)| {
                s.spawn(move || {
                    let mut found = Mismatches::default();
                    for (&x, &got) in input.iter().zip(device) {
                        let want = rust(f32::from_bits(x)).to_bits();
                        if !same(got, want) {
                            found.count += 1;
                            if found.quoted.len() < QUOTED {
                                found.quoted.push((x, got, want));
                            }
                        }
                    }
                    found
                })
            })
            .collect();
        let mut all = Mismatches::default();
        for w in workers {
            all.merge(w.join().unwrap());
        }
        all
    })
}

/// Runs one twin's kernel on inputs and compares with its Rust function.
struct Checker {
    gpu: Gpu,
    built: Built,
    twin: Twin,
    checked: u64,
    mismatches: Mismatches,
    pending: Vec<u32>,
    /// Held for the whole test, so that this file's tests take turns: each one already keeps
    /// every core busy (the device's threads, then the comparison's), and one at a time bounds
    /// the memory they hold.
    _turn: MutexGuard<'static, ()>,
}

/// See [`Checker::_turn`].
static TURN: Mutex<()> = Mutex::new(());

impl Checker {
    /// `None` (the test then passes) when there is no OpenCL device and none is required.
    fn new(twin: Twin) -> Option<Self> {
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let gpu = gpu()?;
        // One source string: `Gpu::build` given several sources crashes inside cl3 0.13.2
        // (create_program_with_source hands the `&[&str]` fat pointers to OpenCL as if they
        // were `*const c_char`s). OpenCL concatenates the sources anyway.
        let source = [MATH_F32, MATH_F32_TESTS].concat();
        let built = gpu.build(&[&source]).unwrap_or_else(|e| panic!("{e}"));
        Some(Self { gpu, built, twin, checked: 0, mismatches: Mismatches::default(), pending: Vec::new(), _turn: turn })
    }

    /// Queues `inputs` for checking (in launches of [`SLICE`]).
    fn check(&mut self, inputs: impl IntoIterator<Item = u32>) -> &mut Self {
        for x in inputs {
            self.pending.push(x);
            if self.pending.len() == SLICE {
                self.flush();
            }
        }
        self
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let device: Vec<u32> =
            self.gpu.map(&self.built, self.twin.kernel, &self.pending).unwrap_or_else(|e| panic!("{e}"));
        self.mismatches.merge(compare(self.twin.rust, &self.pending, &device));
        self.checked += self.pending.len() as u64;
        self.pending.clear();
    }

    /// Checks what is queued and asserts that nothing differed; returns the inputs checked.
    fn finish(&mut self) -> u64 {
        self.flush();
        let Twin { kernel, name, .. } = self.twin;
        let m = &self.mismatches;
        let quoted: String = m
            .quoted
            .iter()
            .map(|&(x, got, want)| {
                let (xf, gf, wf) = (f32::from_bits(x), f32::from_bits(got), f32::from_bits(want));
                format!("\n  input 0x{x:08x} ({xf:e}): device 0x{got:08x} ({gf:e}), Rust 0x{want:08x} ({wf:e})")
            })
            .collect();
        assert!(
            m.count == 0,
            "{kernel} differs from samebits::math::{name} on {} of {} inputs; the first {}:{quoted}",
            m.count,
            self.checked,
            m.quoted.len()
        );
        self.checked
    }
}

// ---- Input sets -------------------------------------------------------------------------------

/// 2^24 patterns spread over all 2^32 (sign, exponent and mantissa regions alike).
fn spread() -> impl Iterator<Item = u32> {
    spread_u32(1 << 24)
}

/// ±0, ±∞, NaNs (quiet, signalling, either sign, payloads), the extremes of each binade class.
fn specials() -> impl Iterator<Item = u32> {
    let positive = [
        0x0000_0000u32, // +0
        0x0000_0001,    // smallest subnormal
        0x0000_0002,
        0x0040_0000,
        0x007f_ffff, // largest subnormal
        0x0080_0000, // smallest normal
        0x0080_0001,
        0x3f00_0000, // 0.5
        0x3f7f_ffff,
        0x3f80_0000, // 1
        0x3f80_0001,
        0x4000_0000, // 2
        0x7f7f_ffff, // largest finite
        0x7f80_0000, // ∞
        0x7f80_0001, // signalling NaNs
        0x7fbf_ffff,
        0x7fc0_0000, // quiet NaNs
        0x7fc0_0001,
        0x7fff_ffff,
    ];
    positive.into_iter().flat_map(|b| [b, b | 0x8000_0000])
}

/// Every pattern within `radius` of each of `thresholds` (absolute-value bits), both signs.
fn around(thresholds: &'static [u32], radius: u32) -> impl Iterator<Item = u32> {
    thresholds.iter().flat_map(move |&t| {
        (t.saturating_sub(radius)..=t.saturating_add(radius).min(0x7fff_ffff)).flat_map(|b| [b, b | 0x8000_0000])
    })
}

/// `lo, lo + step, …` below `hi`; `lo` and `step` must make every value exact in f32.
fn grid(lo: f32, hi: f32, step: f32) -> impl Iterator<Item = u32> {
    let n = ((hi - lo) / step) as u32;
    (0..n).map(move |i| (lo + i as f32 * step).to_bits())
}

/// Patterns `from, from + stride, …` up to `to` (inclusive).
fn bits(from: u32, to: u32, stride: u32) -> impl Iterator<Item = u32> {
    (from..=to).step_by(stride as usize)
}

/// Subnormals of both signs, every `stride`-th.
fn subnormals(stride: u32) -> impl Iterator<Item = u32> {
    bits(1, 0x007f_ffff, stride).flat_map(|b| [b, b | 0x8000_0000])
}

/// expf's branch thresholds (|x| bits): the underflow/overflow/NaN filter (below it the result
/// is subnormal), overflow, result 0, the reductions at 0.5 ln 2 and 1.5 ln 2, the tiny-argument
/// shortcut at 2^-14; and where scalbnf's prescaling starts: k = -127 (x ≈ -126.5 ln 2) and
/// k = 128 (x ≈ 127.5 ln 2).
const EXPF_THRESHOLDS: &[u32] =
    &[0x42ae_ac50, 0x42b1_7218, 0x42cf_f1b5, 0x3eb1_7218, 0x3f85_1592, 0x3900_0000, 0x42af_5dc2, 0x42b0_c0a6];

// ---- The normal run ---------------------------------------------------------------------------

#[test]
fn expf_twin_matches_exp() {
    let Some(mut c) = Checker::new(EXP) else { return };
    let start = Instant::now();
    c.check(spread())
        .check(specials())
        .check(grid(-8.0, 8.0, 1.0 / 262_144.0)) // 2^-18: 4 Mi values
        .check(grid(-104.0, 1.0, 1.0 / 32_768.0)) // the softmax's z - max: 3.4 Mi values
        .check(grid(-128.0, 128.0, 1.0 / 1024.0)) // both saturations
        .check(subnormals(61))
        .check(around(EXPF_THRESHOLDS, 1 << 12));
    let n = c.finish();
    eprintln!("exp: {n} inputs in {:.1?}", start.elapsed());
}

#[test]
fn logf_twin_matches_ln() {
    let Some(mut c) = Checker::new(LN) else { return };
    let start = Instant::now();
    // The reduction boundary sqrt(2)/2's mantissa at every exponent.
    let boundaries = (1u32..255).flat_map(|e| {
        let t = e << 23 | 0x0035_04f3;
        t - 256..=t + 256
    });
    c.check(spread())
        .check(specials())
        .check(bits(0x3f80_0000, 0x3fff_ffff, 1)) // every f32 in [1, 2): 8 Mi
        .check(bits(0x3f00_0000, 0x3f7f_ffff, 3)) // [0.5, 1)
        .check(bits(0x3f80_0000, 0x4580_0000, 61)) // softmax denominators [1, 4096]
        .check(boundaries)
        .check(subnormals(61))
        .check(around(&[0x0080_0000, 0x3f80_0000, 0x7f80_0000], 1 << 12));
    let n = c.finish();
    eprintln!("ln: {n} inputs in {:.1?}", start.elapsed());
}

#[test]
fn tanhf_twin_matches_tanh() {
    let Some(mut c) = Checker::new(TANH) else { return };
    let start = Instant::now();
    // tanhf's thresholds, then expm1f's (taken at 2|x|, so one binade lower).
    let thresholds: &'static [u32] = &[
        0x3f0c_9f54,
        0x4120_0000,
        0x3e82_c578,
        0x0080_0000,
        0x4195_b844 - 0x0080_0000,
        0x3eb1_7218 - 0x0080_0000,
        0x3f85_1592 - 0x0080_0000,
        0x3300_0000 - 0x0080_0000,
    ];
    c.check(spread())
        .check(specials())
        .check(grid(-8.0, 8.0, 1.0 / 262_144.0)) // 2^-18: 4 Mi values
        .check(grid(-16.0, 16.0, 1.0 / 16_384.0))
        .check(bits(0x0080_0000, 0x3f0c_9f54, 509)) // the small-|x| branches, every binade
        .check(subnormals(61))
        .check(around(thresholds, 1 << 12));
    let n = c.finish();
    eprintln!("tanh: {n} inputs in {:.1?}", start.elapsed());
}

#[test]
fn sqrt_twin_matches_sqrt() {
    let Some(mut c) = Checker::new(SQRT) else { return };
    let start = Instant::now();
    c.check(spread())
        .check(specials())
        .check(bits(0x3f80_0000, 0x407f_ffff, 3)) // [1, 4): both exponent parities
        .check(bits(1, 0x007f_ffff, 7)) // positive subnormals
        .check(around(&[0x0080_0000, 0x7f80_0000], 1 << 12));
    let n = c.finish();
    eprintln!("sqrt: {n} inputs in {:.1?}", start.elapsed());
}

#[test]
fn sigmoid_twin_matches_sigmoid() {
    let Some(mut c) = Checker::new(SIGMOID) else { return };
    let start = Instant::now();
    c.check(spread())
        .check(specials())
        .check(grid(-8.0, 8.0, 1.0 / 262_144.0)) // 2^-18: 4 Mi values
        .check(grid(-128.0, 128.0, 1.0 / 4096.0)) // both saturations
        .check(subnormals(61))
        .check(around(EXPF_THRESHOLDS, 1 << 12)); // exp(-x): the same thresholds, signs swapped
    let n = c.finish();
    eprintln!("sigmoid: {n} inputs in {:.1?}", start.elapsed());
}

// ---- The sources themselves (no device needed) -----------------------------------------------

/// `source` without its comments (`//` to the end of the line, `/* … */`).
fn code_of(source: &str) -> String {
    let mut code = String::new();
    let mut rest = source;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |i| &r[i..]);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |i| &r[i + 2..]);
        } else {
            let c = rest.chars().next().unwrap();
            code.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    code
}

/// The identifiers `code` calls as functions (or declares), in order.
fn calls(code: &str) -> Vec<&str> {
    let mut called = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if code[i..].trim_start().starts_with('(') {
                called.push(&code[start..i]);
            }
        } else {
            i += 1;
        }
    }
    called
}

#[test]
fn the_sources_follow_the_gpu_kernels_rules() {
    // Built-ins that fuse operations or whose results are not the pinned libm's (gpu-kernels/README.md).
    const FORBIDDEN: &[&str] = &[
        "mad", "fma", "exp", "exp2", "exp10", "expm1", "log", "log2", "log10", "log1p", "tanh", "ldexp", "pow", "powr",
        "pown", "rootn", "rsqrt", "cbrt", "hypot",
    ];
    for (file, source) in
        [("math_f32.cl", MATH_F32), ("tests/math_f32_tests.cl", MATH_F32_TESTS), ("train_f32.cl", TRAIN_F32)]
    {
        let code = code_of(source);
        let first = code.lines().map(str::trim).find(|l| !l.is_empty());
        assert_eq!(first, Some("#pragma OPENCL FP_CONTRACT OFF"), "{file}: the first line of code");
        for name in calls(&code) {
            assert!(
                !FORBIDDEN.contains(&name) && !name.starts_with("native_") && !name.starts_with("half_"),
                "{file} calls the built-in {name}"
            );
        }
        assert!(!code.contains("-cl-"), "{file}: no build options in the source");
    }
    // The built-in sqrt once, in sb_sqrtf: correctly rounded under BUILD_OPTIONS.
    assert_eq!(calls(&code_of(MATH_F32)).iter().filter(|&&n| n == "sqrt").count(), 1, "math_f32.cl: sqrt calls");
}

// ---- Exhaustive (ignored; SAMEBITS_OPENCL_EXHAUSTIVE=1) ---------------------------------------

/// Checks `twin` on all 2^32 patterns, in chunks of [`CHUNK`], when `SAMEBITS_OPENCL_EXHAUSTIVE=1`.
fn exhaustive(twin: Twin) {
    if std::env::var("SAMEBITS_OPENCL_EXHAUSTIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set SAMEBITS_OPENCL_EXHAUSTIVE=1 to check {} on all 2^32 patterns", twin.kernel);
        return;
    }
    let Some(mut c) = Checker::new(twin) else { return };
    let start = Instant::now();
    let mut from = 0u64;
    while from < 1 << 32 {
        c.check((from..from + CHUNK).map(|b| b as u32));
        from += CHUNK;
    }
    let n = c.finish();
    assert_eq!(n, 1 << 32);
    eprintln!("{}: all {n} patterns in {:.1?}", twin.name, start.elapsed());
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1, in release"]
fn expf_twin_matches_exp_on_all_inputs() {
    exhaustive(EXP);
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1, in release"]
fn logf_twin_matches_ln_on_all_inputs() {
    exhaustive(LN);
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1, in release"]
fn tanhf_twin_matches_tanh_on_all_inputs() {
    exhaustive(TANH);
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1, in release"]
fn sqrt_twin_matches_sqrt_on_all_inputs() {
    exhaustive(SQRT);
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1, in release"]
fn sigmoid_twin_matches_sigmoid_on_all_inputs() {
    exhaustive(SIGMOID);
}
