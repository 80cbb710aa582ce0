//! The OpenCL twins of the fixed-point math (gpu-kernels/cl/math_fixed.cl) against their Rust
//! functions (`samebits::fixed`, `samebits::arith::Fixed`), bit for bit.
//!
//! Each test runs an element-wise kernel of gpu-kernels/cl/tests/math_fixed_tests.cl over many
//! inputs and compares every output with the Rust function's. Without an OpenCL device the tests
//! print why and pass, unless `SAMEBITS_REQUIRE_OPENCL` is set. The sweeps over all 2^32 inputs of
//! exp, tanh and sigmoid are `#[ignore]`d and also need `SAMEBITS_OPENCL_EXHAUSTIVE=1`.
// WebAssembly has no OpenCL (the harness only refuses there), so these tests do not exist there.
#![cfg(not(target_family = "wasm"))]

use samebits::arith::{Arithmetic, Fixed};
use samebits::fixed::math::{
    div_round, exp_q16_to_q30, isqrt_u64, ln_q30_to_q16, sigmoid_q16, sqrt_round_u64, tanh_q16,
};
use samebits::fixed::narrow::{div_round_i128, round_shift, round_shift_i128, Saturations};
use samebits::fixed::{Act, Operand, Param, Scalar};
use samebits::optim::{Adam, AdamStep};
use samebits_gpu_kernels::{MATH_FIXED, MATH_FIXED_TESTS};
use samebits_harness::opencl::runtime::Built;
use samebits_harness::opencl::Gpu;
use samebits_tests::opencl::{gpu, spread_u32};
use std::fmt::Debug;

/// The device and the program `[MATH_FIXED, MATH_FIXED_TESTS]`, or `None` without a device.
///
/// The two sources are joined here into one string (which is what OpenCL does with several):
/// cl3 0.13.2's `create_program_with_source` passes a `&[&str]` as if it were an array of C
/// string pointers, so a build from more than one source crashes wherever that is not avoided.
fn program() -> Option<(Gpu, Built)> {
    let gpu = gpu()?;
    let source = [MATH_FIXED, MATH_FIXED_TESTS].join("\n");
    let built = gpu.build(&[&source]).unwrap_or_else(|e| panic!("{e}"));
    Some((gpu, built))
}

/// SplitMix64: deterministic test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n ≤ 2^32; the tiny bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    /// An i64 of random magnitude (2^0 … 2^63) and sign.
    fn wide_i64(&mut self) -> i64 {
        (self.next() as i64) >> self.below(64)
    }

    /// An i128 of random magnitude (2^0 … 2^127) and sign.
    fn wide_i128(&mut self) -> i128 {
        let x = (i128::from(self.next() as i64) << 64) | i128::from(self.next());
        x >> self.below(128)
    }

    /// An i32 of random magnitude and sign.
    fn wide_i32(&mut self) -> i32 {
        (self.next() as i32) >> self.below(32)
    }

    /// A float in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `f` over `xs` on every available thread, in order.
fn par_map<T: Sync, U: Send>(xs: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = xs.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = xs.chunks(chunk).map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<U>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// Asserts `got == want` element by element, naming the first mismatches and their inputs.
#[track_caller]
fn assert_same<I: Debug, O: PartialEq + Debug>(what: &str, inputs: &[I], got: &[O], want: &[O]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let bad: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    if !bad.is_empty() {
        let shown: Vec<String> = bad
            .iter()
            .take(8)
            .map(|&i| format!("  input {:?}: device {:?}, Rust {:?}", inputs[i], got[i], want[i]))
            .collect();
        panic!("{what}: {} of {} outputs differ, first:\n{}", bad.len(), got.len(), shown.join("\n"));
    }
}

/// `n` u64 spread over all 2^64: `i · step` for an odd `step` close to 2^64 / n.
fn spread_u64(n: usize) -> impl Iterator<Item = u64> {
    let step = (u64::MAX / n as u64) | 1;
    (0..n as u64).map(move |i| i.wrapping_mul(step))
}

/// A saturation counter stored as a `uint` inside an i64 word (either half, whatever the
/// device's byte order).
fn count(word: i64) -> u32 {
    (word as u64 as u32).wrapping_add((word as u64 >> 32) as u32)
}

/// The edges of the i32 functions: both ends, around 0, and the thresholds of exp, tanh and
/// sigmoid documented in kernel/src/fixed/math/.
fn i32_edges() -> Vec<i32> {
    let mut v = vec![i32::MIN, i32::MIN + 1, i32::MIN + 2, -2, -1, 0, 1, 2, i32::MAX - 1, i32::MAX];
    let d31 = (-31.0 * core::f64::consts::LN_2 * 65536.0).floor() as i32;
    for c in [1_408_208, 1_408_209, -d31, 408_831, 772_240, 1 << 30, 1 << 29, 1 << 16, 1 << 15] {
        for x in c - 5..=c + 5 {
            v.extend([x, -x]);
        }
    }
    v
}

/// Spread i32 inputs for the normal run: 2^24 over all of i32, every input in [−2^17, 2^17],
/// and the edges.
fn i32_inputs() -> Vec<i32> {
    let mut v: Vec<i32> = spread_u32(1 << 24).map(|x| x as i32).collect();
    v.extend(-(1 << 17)..=(1 << 17));
    v.extend(i32_edges());
    v
}

fn compare_i32(gpu: &Gpu, built: &Built, kernel: &str, inputs: &[i32], f: impl Fn(i32) -> i32 + Sync) {
    let got: Vec<i32> = gpu.map(built, kernel, inputs).unwrap();
    let want = par_map(inputs, |&x| f(x));
    assert_same(kernel, inputs, &got, &want);
}

#[test]
fn exp_matches_on_a_spread_of_all_i32() {
    let Some((gpu, built)) = program() else { return };
    compare_i32(&gpu, &built, "test_exp_q16_to_q30", &i32_inputs(), exp_q16_to_q30);
}

#[test]
fn tanh_matches_on_a_spread_of_all_i32() {
    let Some((gpu, built)) = program() else { return };
    compare_i32(&gpu, &built, "test_tanh_q16", &i32_inputs(), tanh_q16);
}

#[test]
fn sigmoid_matches_on_a_spread_of_all_i32() {
    let Some((gpu, built)) = program() else { return };
    compare_i32(&gpu, &built, "test_sigmoid_q16", &i32_inputs(), sigmoid_q16);
}

#[test]
fn activations_of_fixed_match() {
    let Some((gpu, built)) = program() else { return };
    let mut inputs: Vec<i32> = spread_u32(1 << 16).map(|x| x as i32).collect();
    inputs.extend(i32_edges());
    compare_i32(&gpu, &built, "test_fixed_tanh", &inputs, |x| Fixed::tanh(Act::from_bits(x)).to_bits());
    compare_i32(&gpu, &built, "test_fixed_sigmoid", &inputs, |x| Fixed::sigmoid(Act::from_bits(x)).to_bits());
    compare_i32(&gpu, &built, "test_fixed_relu", &inputs, |x| Fixed::relu(Act::from_bits(x)).to_bits());
}

/// i64 inputs: 2^20 spread over all of u64, 2^20 of random magnitude, every power of two and
/// its neighbours, and small values.
fn i64_inputs(seed: u64) -> Vec<i64> {
    let mut rng = Rng(seed);
    let mut v: Vec<i64> = spread_u64(1 << 20).map(|x| x as i64).collect();
    v.extend((0..1 << 20).map(|_| rng.wide_i64()));
    for p in 0..64 {
        let b = 1u64 << p;
        for x in [b.wrapping_sub(2), b.wrapping_sub(1), b, b + 1, b + 2] {
            v.extend([x as i64, (x as i64).wrapping_neg()]);
        }
    }
    v.extend(-1000..=1000);
    v.extend([i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX]);
    v
}

#[test]
fn ln_matches_on_spread_i64_and_edges() {
    let Some((gpu, built)) = program() else { return };
    let mut inputs = i64_inputs(1);
    // Both sides of the √2 switch in every binade, and the softmax denominators near 2^30·k.
    let sqrt2 = std::f64::consts::SQRT_2;
    for p in 0..63 {
        let c = (sqrt2 * (1u64 << p) as f64) as i64;
        inputs.extend((c - 3).max(1)..=(c + 3).min(i64::MAX - 1));
    }
    for k in 1..=64i64 {
        inputs.extend((k << 30) - 3..=(k << 30) + 3);
    }
    let got: Vec<i64> = gpu.map(&built, "test_ln_q30_to_q16", &inputs).unwrap();
    let want = par_map(&inputs, |&s| i64::from(ln_q30_to_q16(s)));
    assert_same("ln_q30_to_q16", &inputs, &got, &want);
}

#[test]
fn isqrt_and_sqrt_round_match() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(2);
    let mut inputs = i64_inputs(3);
    inputs.extend(0..1 << 16);
    // Squares and their neighbours, up to the top of u64, where rounding saturates.
    for _ in 0..1 << 16 {
        let r = rng.next() >> (32 + rng.below(32));
        let sq = r * r;
        inputs.extend([sq.wrapping_sub(1), sq, sq + 1, sq + r, sq + r + 1].map(|x| x as i64));
    }
    let top = u64::MAX - (1u64 << 32); // (2^32 − 1)² = 2^64 − 2^33 + 1
    inputs.extend([top - 1, top, top + 1, top + 2, u64::MAX - 1, u64::MAX].map(|x| x as i64));
    let got: Vec<i64> = gpu.map(&built, "test_sqrt_u64", &inputs).unwrap();
    let want = par_map(&inputs, |&x| {
        let x = x as u64;
        (u64::from(isqrt_u64(x)) | (u64::from(sqrt_round_u64(x)) << 32)) as i64
    });
    assert_same("isqrt_u64 | sqrt_round_u64 << 32", &inputs, &got, &want);
}

#[test]
fn round_shift_narrow_and_clamp_match_for_every_shift() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(4);
    let mut xs: Vec<i64> = (0..4096).map(|_| rng.wide_i64()).collect();
    xs.extend([i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX, -2, -1, 0, 1, 2]);
    xs.extend([i64::from(i32::MIN), i64::from(i32::MAX)].into_iter().flat_map(|c| [c - 1, c, c + 1]));
    let mut records = Vec::new();
    for shift in 0..64u32 {
        let mut here = xs.clone();
        // Exact ties (k + 1/2)·2^shift and their neighbours, for even and odd k, both signs.
        if shift > 0 {
            for k in [0i64, 1, 2, 3, 1 << 20, (1 << 20) + 1, (i64::MAX >> shift) - 1, i64::MAX >> shift] {
                let tie = (k << shift).wrapping_add(1 << (shift - 1));
                for t in [tie.wrapping_sub(1), tie, tie.wrapping_add(1)] {
                    here.extend([t, t.wrapping_neg()]);
                }
            }
        }
        for x in here {
            records.extend([x, i64::from(shift), 0, 0]);
        }
    }
    let got: Vec<i64> = gpu.map(&built, "test_round_shift", &records).unwrap();
    let mut want = Vec::with_capacity(records.len());
    for r in records.chunks_exact(4) {
        let (x, shift) = (r[0], r[1] as u32);
        let sat = Saturations::new();
        let narrowed = sat.narrow(x, shift);
        let clamped = sat.clamp(x);
        want.push([round_shift(x, shift), i64::from(narrowed), i64::from(clamped), i64::from(sat.get())]);
    }
    let got: Vec<[i64; 4]> = got.chunks_exact(4).map(|r| [r[0], r[1], r[2], i64::from(count(r[3]))]).collect();
    let inputs: Vec<[i64; 2]> = records.chunks_exact(4).map(|r| [r[0], r[1]]).collect();
    assert_same("[round_shift, narrow, clamp, saturations]", &inputs, &got, &want);
}

fn split(x: i128) -> [i64; 2] {
    [x as i64, (x >> 64) as i64]
}

fn join(lo: i64, hi: i64) -> i128 {
    (i128::from(hi) << 64) | i128::from(lo as u64)
}

#[test]
fn round_shift_i128_matches_for_every_shift() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(5);
    let mut records = Vec::new();
    for shift in 0..128u32 {
        let mut xs: Vec<i128> = (0..512).map(|_| rng.wide_i128()).collect();
        xs.extend([i128::MIN, i128::MIN + 1, i128::MAX - 1, i128::MAX, -2, -1, 0, 1, 2]);
        if shift > 0 {
            for k in [0i128, 1, 2, 3, 12345] {
                let tie = (k << shift).wrapping_add(1 << (shift - 1));
                for t in [tie.wrapping_sub(1), tie, tie.wrapping_add(1)] {
                    xs.extend([t, t.wrapping_neg()]);
                }
            }
        }
        for x in xs {
            let [lo, hi] = split(x);
            records.extend([lo, hi, i64::from(shift), 0]);
        }
    }
    let got: Vec<i64> = gpu.map(&built, "test_round_shift_i128", &records).unwrap();
    let got: Vec<i128> = got.chunks_exact(4).map(|r| join(r[0], r[1])).collect();
    let inputs: Vec<(i128, u32)> = records.chunks_exact(4).map(|r| (join(r[0], r[1]), r[2] as u32)).collect();
    let want: Vec<i128> = inputs.iter().map(|&(x, s)| round_shift_i128(x, s)).collect();
    assert_same("round_shift_i128", &inputs, &got, &want);
}

#[test]
fn i128_helpers_match_rust_i128() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(6);
    let specials = [i128::MIN, i128::MIN + 1, -(1 << 64), -1, 0, 1, (1 << 64) - 1, 1 << 64, i128::MAX];
    let mut triples: Vec<(i128, i128, u32, i128)> = Vec::new();
    for i in 0..1 << 15 {
        let a = if i % 16 == 0 { specials[rng.below(specials.len() as u64) as usize] } else { rng.wide_i128() };
        let b = if i % 8 == 0 { a.wrapping_add(rng.below(3) as i128 - 1) } else { rng.wide_i128() };
        triples.push((a, b, rng.below(128) as u32, rng.wide_i128()));
    }
    for &a in &specials {
        for &b in &specials {
            triples.push((a, b, 64, 0));
        }
    }
    let mut records = Vec::new();
    for &(a, b, s, c) in &triples {
        let ([a0, a1], [b0, b1], [c0, c1]) = (split(a), split(b), split(c));
        records.extend([a0, a1, b0, b1, i64::from(s), c0, c1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    let got: Vec<i64> = gpu.map(&built, "test_i128_ops", &records).unwrap();
    let got: Vec<Vec<i128>> = got
        .chunks_exact(16)
        .map(|r| {
            let mut v: Vec<i128> = r[..14].chunks_exact(2).map(|p| join(p[0], p[1])).collect();
            v.extend([i128::from(r[14]), i128::from(r[15])]);
            v
        })
        .collect();
    let want: Vec<Vec<i128>> = triples
        .iter()
        .map(|&(a, b, s, c)| {
            let flags = (a == b) as i128
                | ((a < b) as i128) << 1
                | ((a > b) as i128) << 2
                | ((a <= b) as i128) << 3
                | ((a >= b) as i128) << 4
                | ((a & 1 == 1) as i128) << 5;
            let clamped = a.clamp(b.min(c), b.max(c));
            vec![
                a.wrapping_add(b),
                a.wrapping_sub(b),
                a.wrapping_mul(b),
                a >> s,
                a.wrapping_shl(s),
                i128::from(a as i64) * i128::from(b as i64),
                a.wrapping_neg(),
                flags,
                i128::from(clamped as i64 ^ (clamped >> 64) as i64),
            ]
        })
        .collect();
    assert_same("[add, sub, mul, shr, shl, mul_ll, neg, flags, clamp]", &triples, &got, &want);
}

#[test]
fn i128_division_matches_rust_i128() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(7);
    let mut pairs: Vec<(i128, i128)> = Vec::new();
    let divisors = [1i128, 2, 3, 7, (1 << 30) + 1, (1 << 64) - 1, 1 << 64, (1 << 64) + 1, (1 << 125) - 1, 1 << 125];
    let numerators = [i128::MIN, i128::MIN + 1, -(1 << 64), -1, 0, 1, (1 << 64) - 1, 1 << 64, i128::MAX];
    for &n in &numerators {
        for &d in &divisors {
            pairs.push((n, d));
        }
    }
    for _ in 0..1 << 15 {
        // Divisors of every width below 2^126 (so that div_round_i128's 2·r fits), numerators of
        // every width, and exact ties q·d + d/2 for even d.
        let d = (rng.wide_i128().unsigned_abs() >> 2).max(1) as i128;
        pairs.push((rng.wide_i128(), d));
        let d2 = ((rng.next() >> rng.below(63)) as i128 & !1).max(2);
        let q = i128::from(rng.wide_i64());
        pairs.push((q * d2 + d2 / 2, d2));
        pairs.push((q * d2 - d2 / 2, d2));
    }
    let mut records = Vec::new();
    for &(n, d) in &pairs {
        let ([n0, n1], [d0, d1]) = (split(n), split(d));
        records.extend([n0, n1, d0, d1, 0, 0, 0, 0]);
    }
    let got: Vec<i64> = gpu.map(&built, "test_i128_div", &records).unwrap();
    let got: Vec<[i128; 3]> =
        got.chunks_exact(8).map(|r| [join(r[0], r[1]), join(r[2], r[3]), join(r[4], r[5])]).collect();
    let want: Vec<[i128; 3]> =
        pairs.iter().map(|&(n, d)| [n.div_euclid(d), n.rem_euclid(d), div_round_i128(n, d)]).collect();
    assert_same("[div_euclid, rem_euclid, div_round_i128]", &pairs, &got, &want);

    // A divisor ≤ 0 gives 0 (the Rust function's release-build value; debug builds assert).
    let bad: Vec<i64> = [(5i128, 0i128), (5, -3), (i128::MIN, -1), (i128::MAX, i128::MIN)]
        .iter()
        .flat_map(|&(n, d)| [split(n), split(d), [0; 2], [0; 2]].concat())
        .collect();
    let got: Vec<i64> = gpu.map(&built, "test_i128_div", &bad).unwrap();
    let rounded: Vec<i128> = got.chunks_exact(8).map(|r| join(r[4], r[5])).collect();
    assert_eq!(rounded, [0; 4]);
}

#[test]
fn div_round_matches() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(8);
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    let ns = [i64::MIN, i64::MIN + 1, i64::MIN / 2, -1, 0, 1, i64::MAX / 2, i64::MAX - 1, i64::MAX];
    let ds = [1, 2, 3, 4, 5, 7, 1 << 30, (1 << 31) + 1, i64::MAX / 2, i64::MAX / 2 + 1, i64::MAX - 1, i64::MAX];
    for n in ns {
        for d in ds {
            pairs.push((n, d));
        }
    }
    for n in -300..=300 {
        for d in 1..=40 {
            pairs.push((n, d));
        }
    }
    for _ in 0..1 << 17 {
        let d = (rng.wide_i64().unsigned_abs() >> 1).max(1) as i64;
        pairs.push((rng.wide_i64(), d));
        let d2 = ((rng.next() >> (34 + rng.below(30))) as i64 & !1).max(2);
        let q = (rng.next() as i64) >> 34;
        pairs.push((d2 * q + d2 / 2, d2));
    }
    let records: Vec<i64> = pairs.iter().flat_map(|&(n, d)| [n, d]).collect();
    let got: Vec<i64> = gpu.map(&built, "test_div_round", &records).unwrap();
    let got: Vec<i64> = got.chunks_exact(2).map(|r| r[0]).collect();
    let want: Vec<i64> = pairs.iter().map(|&(n, d)| div_round(n, d)).collect();
    assert_same("div_round", &pairs, &got, &want);

    // A divisor ≤ 0 gives 0 (the Rust function's release-build value; debug builds assert).
    let got: Vec<i64> = gpu.map(&built, "test_div_round", &[7, 0, i64::MIN, -1, 5, -3]).unwrap();
    assert_eq!([got[0], got[2], got[4]], [0, 0, 0]);
}

/// Runs a two-argument helper kernel on `pairs` and compares `[result, saturations]` with `f`,
/// which returns the Rust result and the count of a fresh `Saturations`.
fn compare_pairs(
    gpu: &Gpu,
    built: &Built,
    kernel: &str,
    pairs: &[(i64, i64)],
    f: impl Fn(i64, i64, &Saturations) -> i64,
) {
    let records: Vec<i64> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let got: Vec<i64> = gpu.map(built, kernel, &records).unwrap();
    let got: Vec<(i64, u32)> = got.chunks_exact(2).map(|r| (r[0], count(r[1]))).collect();
    let want: Vec<(i64, u32)> = pairs
        .iter()
        .map(|&(a, b)| {
            let sat = Saturations::new();
            let r = f(a, b, &sat);
            (r, sat.get())
        })
        .collect();
    assert_same(kernel, pairs, &got, &want);
}

fn act(x: i64) -> Act {
    Act::from_bits(x as i32)
}

fn param(x: i64) -> Param {
    Param::from_bits(x as i32)
}

#[test]
fn helpers_of_fixed_match() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(9);
    const N: usize = 1 << 15;
    let edges32 = [i32::MIN, i32::MIN + 1, -(1 << 24), -(1 << 16), -1, 0, 1, 1 << 16, 1 << 24, i32::MAX - 1, i32::MAX];
    let mut i32_pairs: Vec<(i64, i64)> =
        (0..N).map(|_| (i64::from(rng.wide_i32()), i64::from(rng.wide_i32()))).collect();
    for a in edges32 {
        for b in edges32 {
            i32_pairs.push((i64::from(a), i64::from(b)));
        }
    }
    let mut acc_pairs: Vec<(i64, i64)> = (0..N).map(|_| (rng.wide_i64(), i64::from(rng.wide_i32()))).collect();
    for a in [i64::MIN, i64::MIN + 1, -(1 << 55), -1, 0, 1, 1 << 55, i64::MAX] {
        for b in edges32 {
            acc_pairs.push((a, i64::from(b)));
        }
    }
    // Activations as tanh and sigmoid produce them (|a| ≤ 2^16), and beyond, up to the 2^23
    // where Rust's i64 products would overflow (its debug builds panic there).
    let grad_pairs: Vec<(i64, i64)> = (0..N)
        .map(|i| {
            let a = if i % 2 == 0 { rng.below(1 << 17) as i64 - (1 << 16) } else { rng.wide_i32() as i64 >> 8 };
            (a, i64::from(rng.wide_i32()))
        })
        .chain(edges32.iter().flat_map(|&da| {
            [-(1 << 23), -(1 << 16), -1, 0, 1, 1 << 15, 1 << 16, (1 << 23) - 1].map(|a| (a, i64::from(da)))
        }))
        .collect();

    compare_pairs(&gpu, &built, "test_fixed_forward_out", &acc_pairs, |a, b, s| {
        i64::from(Fixed::forward_out(a, param(b), s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_weight_grad", &acc_pairs, |a, _, s| {
        i64::from(Fixed::weight_grad(a, s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_bias_grad", &acc_pairs, |a, _, s| {
        i64::from(Fixed::bias_grad(a, s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_input_grad", &acc_pairs, |a, _, s| {
        i64::from(Fixed::input_grad(a, s).to_bits())
    });
    let loss_pairs: Vec<(i64, i64)> =
        acc_pairs.iter().map(|&(a, b)| (a, (b.unsigned_abs() % 5000 + 1) as i64)).collect();
    compare_pairs(&gpu, &built, "test_fixed_loss_mean", &loss_pairs, |a, b, _| {
        i64::from(Fixed::loss_mean(a, b as usize).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_relu_grad", &i32_pairs, |a, b, _| {
        i64::from(Fixed::relu_grad(act(a), param(b)).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_tanh_grad", &grad_pairs, |a, b, s| {
        i64::from(Fixed::tanh_grad(act(a), param(b), s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_sigmoid_grad", &grad_pairs, |a, b, s| {
        i64::from(Fixed::sigmoid_grad(act(a), param(b), s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_scale", &i32_pairs, |a, b, s| {
        i64::from(Fixed::scale(param(a), Scalar::from_bits(b as i32), s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_add", &i32_pairs, |a, b, s| {
        i64::from(Fixed::add(param(a), param(b), s).to_bits())
    });
    compare_pairs(&gpu, &built, "test_fixed_sub", &i32_pairs, |a, b, s| {
        i64::from(Fixed::sub(param(a), param(b), s).to_bits())
    });

    // init: every fan-in up to 2^14, then random ones; every kind of word and limit.
    let mut n_pairs: Vec<(i64, i64)> = (1..=1 << 14).map(|n| (n, 0)).collect();
    n_pairs.extend((0..1 << 12).map(|_| ((rng.next() >> (1 + rng.below(62))).max(1) as i64, 0)));
    compare_pairs(&gpu, &built, "test_fixed_init_limit", &n_pairs, |n, _, _| {
        i64::from(Fixed::init_limit(n as usize).to_bits())
    });
    let word_pairs: Vec<(i64, i64)> = i32_pairs.iter().map(|&(a, b)| (i64::from(a as u32), b)).collect();
    compare_pairs(&gpu, &built, "test_fixed_init_weight", &word_pairs, |w, l, _| {
        i64::from(Fixed::init_weight(w as u32, param(l)).to_bits())
    });

    // Product operands: every kind of activation, weight and delta.
    let one: Vec<(i64, i64)> =
        acc_pairs.iter().map(|&(_, b)| (b, 0)).chain((-70_000..70_000).map(|x| (x, 0))).collect();
    compare_pairs(&gpu, &built, "test_fixed_act_operand", &one, |a, _, s| i64::from(Fixed::act_operand(act(a), s)));
    compare_pairs(&gpu, &built, "test_fixed_weight_operand", &one, |a, _, s| {
        i64::from(Fixed::weight_operand(param(a), s))
    });
    compare_pairs(&gpu, &built, "test_fixed_delta_operand", &one, |a, _, s| {
        i64::from(Fixed::delta_operand(param(a), s))
    });
    // clamp_to(x, −lo, hi) with lo and hi packed as hi·2^32 + lo (so that −lo ≤ 0 ≤ hi).
    let bounds: Vec<(i64, i64)> = (0..N)
        .map(|_| {
            let (lo, hi) = (rng.next() >> (32 + rng.below(32)), rng.next() >> (33 + rng.below(31)));
            (rng.wide_i64(), ((hi << 32) | lo) as i64)
        })
        .collect();
    compare_pairs(&gpu, &built, "test_clamp_to", &bounds, |x, b, s| s.clamp_to(x, -(b & 0xffff_ffff), b >> 32));

    // The sums: i32 runs of products, wrapping i64 sums.
    let mut records: Vec<[i64; 8]> = (0..N)
        .map(|_| {
            let inner = i64::from(rng.wide_i32() >> 1); // |inner| ≤ 2^30: the run cannot overflow
            let (a, b) = (i64::from(rng.wide_i32() as i16), i64::from(rng.wide_i32() as i16));
            [rng.wide_i64(), inner, a, b, rng.wide_i64(), i64::from(rng.wide_i32()), 0, 0]
        })
        .collect();
    let (min16, max16) = (i64::from(i16::MIN), i64::from(i16::MAX));
    records.extend([
        [i64::MAX, (1 << 30) - 1, min16, min16, i64::MAX, i64::from(i32::MIN), 0, 0],
        [i64::MIN, -(1 << 30), min16, max16, i64::MIN, i64::from(i32::MAX), 0, 0],
    ]);
    let flat: Vec<i64> = records.iter().flatten().copied().collect();
    let got: Vec<i64> = gpu.map(&built, "test_fixed_acc", &flat).unwrap();
    let got: Vec<[i64; 4]> = got.chunks_exact(8).map(|r| [r[0], r[1], r[2], r[3]]).collect();
    let want: Vec<[i64; 4]> = records
        .iter()
        .map(|&[acc, inner, a, b, c, x, _, _]| {
            let (p, q) = (Fixed::acc_param(acc, param(x)), Fixed::acc_act(acc, act(x)));
            assert_eq!(p, q, "acc_param and acc_act share one OpenCL twin");
            [
                i64::from(Fixed::inner_mul_add(inner as i32, a as Operand, b as Operand)),
                Fixed::flush(acc, inner as i32),
                p,
                Fixed::acc_add(acc, c),
            ]
        })
        .collect();
    assert_same("[inner_mul_add, flush, acc_param, acc_add]", &records, &got, &want);
}

#[test]
fn adam_power_advance_matches() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(10);
    let mut pairs = Vec::new();
    let mut want = Vec::new();
    for i in 0..1 << 14 {
        let beta = if i % 4 == 0 { [0.9f32, 0.999, 0.0, 1.0, 0.5][rng.below(5) as usize] } else { rng.unit() };
        let power = if i % 3 == 0 { rng.wide_i32() } else { (rng.next() >> 34) as i32 };
        let adam = Adam { beta1: beta, beta2: beta, ..Adam::with_lr(0.01) };
        let mut step = AdamStep { beta1_power: Scalar::from_bits(power), beta2_power: Scalar::from_bits(power) };
        Fixed::adam_advance(&mut step, &adam);
        pairs.push((i64::from(power), i64::from(Fixed::scalar(beta).to_bits())));
        want.push((i64::from(step.beta1_power.to_bits()), 0u32));
    }
    let records: Vec<i64> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let got: Vec<i64> = gpu.map(&built, "test_fixed_adam_advance_power", &records).unwrap();
    let got: Vec<(i64, u32)> = got.chunks_exact(2).map(|r| (r[0], count(r[1]))).collect();
    assert_same("adam_advance", &pairs, &got, &want);
}

/// One Adam configuration with its step's powers.
struct AdamCase {
    adam: Adam,
    step: AdamStep<Scalar>,
    steps: u32,
}

fn adam_cases(rng: &mut Rng) -> Vec<AdamCase> {
    let lrs = [1e-3f32, 1e-2, 0.1, 0.5, 1.0, 1.999, 3e-4];
    let beta1s = [0.9f32, 0.0, 0.5, 0.99, 0.999_999, 1.0];
    let beta2s = [0.999f32, 0.9999, 0.5, 0.0, 0.99, 1.0];
    let epss = [1e-7f32, 1e-8, 1e-3, 0.5, 0.0, 100.0];
    let wds = [0.0f32, 1e-4, 0.01, 0.5, 1.5, 1.999];
    let pick =
        |v: &[f32], rng: &mut Rng| if rng.below(3) == 0 { rng.unit() } else { v[rng.below(v.len() as u64) as usize] };
    (0..64)
        .map(|i| {
            let adam = Adam {
                lr: pick(&lrs, rng),
                beta1: pick(&beta1s, rng),
                beta2: pick(&beta2s, rng),
                eps: pick(&epss, rng),
                weight_decay: pick(&wds, rng),
            };
            // Steps 1 and 2 (the largest corrections), then random counts up to 2000.
            let steps = match i {
                0 | 1 => i + 1,
                _ => 1 + rng.below(2000) as u32,
            };
            let mut step = Fixed::adam_start();
            for _ in 0..steps {
                Fixed::adam_advance(&mut step, &adam);
            }
            AdamCase { adam, step, steps }
        })
        .collect()
}

/// One parameter's `[w, g, m, v_lo, v_hi]`: realistic values mostly, extreme ones often.
fn adam_param(rng: &mut Rng) -> [i32; 5] {
    let small = |rng: &mut Rng| (rng.next() as i32) >> (8 + rng.below(24));
    let any = |rng: &mut Rng| match rng.below(8) {
        0 => [i32::MIN, i32::MAX, 0, -1, 1][rng.below(5) as usize],
        _ => rng.wide_i32(),
    };
    let extreme = rng.below(4) == 0;
    let (w, g, m) = if extreme { (any(rng), any(rng), any(rng)) } else { (small(rng), small(rng), small(rng)) };
    let v: i64 = match rng.below(6) {
        0 => [0, 1, i64::MAX, i64::MIN, -1, 1 << 62, (1 << 62) + 1][rng.below(7) as usize],
        1 => rng.next() as i64,
        2 => rng.wide_i64(),
        // v as Adam keeps it: about g² in Q48, non-negative.
        _ => (rng.next() >> (1 + rng.below(63))) as i64,
    };
    [w, g, m, v as i32, (v >> 32) as i32]
}

#[test]
fn adam_param_matches_fixed_adam_update() {
    let Some((gpu, built)) = program() else { return };
    let mut rng = Rng(11);
    let cases = adam_cases(&mut rng);
    const PER_CASE: usize = 2048;
    let mut records = Vec::new();
    let mut inputs = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let q30 = |x: f32| i64::from(Fixed::scalar(x).to_bits());
        let eps_q24 = i64::from(Param::saturating_from_num(case.adam.eps).to_bits());
        let scalars = [
            q30(case.adam.beta1),
            q30(case.adam.beta2),
            q30(case.adam.lr),
            q30(case.adam.weight_decay),
            eps_q24,
            i64::from(case.step.beta1_power.to_bits()),
            i64::from(case.step.beta2_power.to_bits()),
        ];
        for _ in 0..PER_CASE {
            let p = adam_param(&mut rng);
            records.extend(p.map(i64::from));
            records.extend(scalars);
            records.extend([0; 4]);
            inputs.push((c, p));
        }
    }
    let got: Vec<i64> = gpu.map(&built, "test_fixed_adam", &records).unwrap();
    let got_params: Vec<[i64; 5]> =
        got.chunks_exact(16).map(|r| [r[0], r[1], r[2], r[3], i64::from(count(r[4]))]).collect();
    let want: Vec<[i64; 5]> = par_map(&inputs, |&(c, [w, g, m, v_lo, v_hi])| {
        let case = &cases[c];
        let mut params = [Param::from_bits(w)];
        let grads = [Param::from_bits(g)];
        let mut state = [Param::from_bits(m), Param::from_bits(v_lo), Param::from_bits(v_hi)];
        let sat = Saturations::new();
        Fixed::adam_update(&case.adam, &case.step, &mut params, &grads, &mut state, &sat);
        [params[0], state[0], state[1], state[2]]
            .map(|p| i64::from(p.to_bits()))
            .into_iter()
            .chain([i64::from(sat.get())])
            .collect::<Vec<_>>()
            .try_into()
            .unwrap()
    });
    let labels: Vec<String> = inputs
        .iter()
        .map(|(c, p)| format!("{:?} after {} steps, [w, g, m, v_lo, v_hi] = {p:?}", cases[*c].adam, cases[*c].steps))
        .collect();
    assert_same("adam [w, m, v_lo, v_hi, saturations]", &labels, &got_params, &want);

    // The loop-invariant scalars, against their definitions in Fixed::adam_update.
    for (rec, &(c, _)) in got.chunks_exact(16).zip(&inputs).step_by(PER_CASE) {
        let case = &cases[c];
        let one = 1i64 << 30;
        let q30 = |x: f32| i64::from(Fixed::scalar(x).to_bits());
        let eps = i64::from(Param::saturating_from_num(case.adam.eps).to_bits()).max(1);
        let c1 = (one - i64::from(case.step.beta1_power.to_bits())).max(1);
        let c2 = (one - i64::from(case.step.beta2_power.to_bits())).max(1);
        assert_eq!(
            rec[5..10],
            [c1, c2, eps, one - q30(case.adam.beta1), one - q30(case.adam.beta2)],
            "{:?}",
            case.adam
        );
    }
}

/// The first hex constant on `line`, with its `_` separators removed.
fn hex_after(line: &str) -> i64 {
    let start = line.find("0x").expect("a hex constant") + 2;
    let digits: String =
        line[start..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '_').filter(|c| *c != '_').collect();
    u64::from_str_radix(&digits, 16).unwrap() as i64
}

#[test]
fn constant_tables_match_the_rust_definitions() {
    let Some((gpu, built)) = program() else { return };
    let got: Vec<i64> = gpu.map(&built, "test_constants", &[0i64; 64]).unwrap();
    let one = 1i64 << 62;
    let factorials = [1, 1, 2, 6, 24, 120, 720];
    let inv_factorial: Vec<i64> = factorials.iter().map(|&f| div_round(one, f)).collect();
    assert_eq!(got[0..7], inv_factorial[..], "INV_FACTORIAL");
    let inv_odd: Vec<i64> = (0..9).map(|i| div_round(one, 2 * i + 1)).collect();
    assert_eq!(got[7..16], inv_odd[..], "INV_ODD");
    // The tables and constants as written in the Rust sources.
    let exp_rs = include_str!("../../kernel/src/fixed/math/exp.rs");
    let ln_rs = include_str!("../../kernel/src/fixed/math/ln.rs");
    let exp2: Vec<i64> =
        exp_rs.lines().filter(|l| l.trim_start().starts_with("0x") && l.contains("// 2^(")).map(hex_after).collect();
    assert_eq!(exp2.len(), 32, "EXP2_Q62 in exp.rs");
    assert_eq!(got[16..48], exp2[..], "EXP2_Q62");
    let constant =
        |src: &str, name: &str| hex_after(src.lines().find(|l| l.starts_with(&format!("const {name}: i64"))).unwrap());
    assert_eq!(got[48], constant(exp_rs, "LOG2E_Q62"), "LOG2E_Q62");
    assert_eq!(got[49], constant(exp_rs, "LN2_Q62"), "LN2_Q62");
    assert_eq!(got[49], constant(ln_rs, "LN2_Q62"), "LN2_Q62 of ln.rs");
    assert_eq!(got[50], constant(ln_rs, "SQRT2_Q62"), "SQRT2_Q62");
}

/// All 2^32 inputs of a Q16 function, in chunks of 2^24, when `SAMEBITS_OPENCL_EXHAUSTIVE=1`.
fn exhaustive(kernel: &str, f: impl Fn(i32) -> i32 + Sync) {
    if std::env::var("SAMEBITS_OPENCL_EXHAUSTIVE").as_deref() != Ok("1") {
        println!("skipped: {kernel} over all 2^32 inputs needs SAMEBITS_OPENCL_EXHAUSTIVE=1");
        return;
    }
    let Some((gpu, built)) = program() else { return };
    const CHUNK: u64 = 1 << 24;
    for c in 0..(1u64 << 32) / CHUNK {
        let inputs: Vec<i32> = (c * CHUNK..(c + 1) * CHUNK).map(|x| x as u32 as i32).collect();
        compare_i32(&gpu, &built, kernel, &inputs, &f);
    }
    println!("{kernel}: all 2^32 inputs identical");
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1 -- --ignored (release)"]
fn exp_matches_on_all_i32() {
    exhaustive("test_exp_q16_to_q30", exp_q16_to_q30);
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1 -- --ignored (release)"]
fn tanh_matches_on_all_i32() {
    exhaustive("test_tanh_q16", tanh_q16);
}

#[test]
#[ignore = "all 2^32 inputs: run with SAMEBITS_OPENCL_EXHAUSTIVE=1 -- --ignored (release)"]
fn sigmoid_matches_on_all_i32() {
    exhaustive("test_sigmoid_q16", sigmoid_q16);
}
