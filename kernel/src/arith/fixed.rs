//! The fixed-point path: NUMERICS.md §13.
//!
//! Products multiply 16-bit operands narrowed once from the stored values; runs of 32 products
//! sum exactly in an i32 and runs add exactly into an i64 (wrapping addition is associative, so
//! every order and grouping gives the same sum, exact whenever the true sum fits, §13.2); each
//! finished value is narrowed once to its stored format with round-half-to-even and saturation
//! (§13.3).

use super::Arithmetic;
use crate::fixed::math::{div_round, exp_q16_to_q30, ln_q30_to_q16, sigmoid_q16, sqrt_round_u64, tanh_q16};
use crate::fixed::narrow::{div_round_i128, round_shift, round_shift_i128, Saturations};
use crate::fixed::{
    Act, Operand, Param, Scalar, ACT_FRAC, ACT_OPERAND_FRAC, DELTA_OPERAND_FRAC, PARAM_FRAC, PRODUCT_BLOCK,
    SCALAR_FRAC, SHORT_OPERAND_MAX, WEIGHT_OPERAND_FRAC,
};
use crate::layers::argmax;
use crate::linalg::{MatmulShape, VectorUnit};
use crate::optim::{Adam, AdamStep, Sgd};

/// Fixed-point arithmetic: activations Q16.16, parameters Q8.24, scalars Q2.30, 16-bit product
/// operands, exact i32 runs of products in exact i64 sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fixed;

/// 1 in Q30.
const ONE_Q30: i64 = 1 << SCALAR_FRAC;
/// 1 in Q16.
const ONE_Q16: i64 = 1 << ACT_FRAC;

#[inline(always)]
fn act(raw: i32) -> Act {
    Act::from_bits(raw)
}

#[inline(always)]
fn param(raw: i32) -> Param {
    Param::from_bits(raw)
}

impl Arithmetic for Fixed {
    type Act = Act;
    type Param = Param;
    type Acc = i64;
    type Scalar = Scalar;

    const NAME: &'static str = "fixed";
    /// `m` (Q24) and `v` (Q48, 64 bits stored as two words: low, high).
    const ADAM_STATE_PER_PARAM: usize = 3;

    type Operand = Operand;
    type Inner = i32;
    const PRODUCT_BLOCK: usize = PRODUCT_BLOCK;
    const COPIES_OPERANDS: bool = true;
    /// Wrapping i64 addition is associative and commutative (§13.2).
    const EXACT_SUMS: bool = true;

    #[inline(always)]
    fn acc_zero() -> i64 {
        0
    }
    #[inline(always)]
    fn inner_zero() -> i32 {
        0
    }
    /// Exact: |a·b| < 2²⁶ and a run has at most 32 products (§13.2), so the i32 never
    /// overflows (debug builds would stop if a caller broke the bound).
    #[inline(always)]
    fn inner_mul_add(inner: i32, a: Operand, b: Operand) -> i32 {
        inner + a as i32 * b as i32
    }
    #[inline(always)]
    fn flush(acc: i64, inner: i32) -> i64 {
        acc.wrapping_add(inner as i64)
    }
    /// Exact sums in any grouping: on x86-64, pairs of products at a time with SSE2 (the same
    /// results as the portable loop, tested in `linalg::simd`).
    #[inline(always)]
    fn matmul<Out>(
        unit: VectorUnit,
        shape: MatmulShape,
        a: &[Operand],
        b: &[Operand],
        c: &mut [Out],
        finish: impl Fn(usize, i64) -> Out,
    ) {
        crate::linalg::matmul_i16_with(unit, shape, a, b, c, finish)
    }
    /// Q16 → Q5.10 over all of i16 (§13.2).
    #[inline(always)]
    fn act_operand(a: Act, sat: &Saturations) -> Operand {
        let x = round_shift(a.to_bits() as i64, ACT_FRAC - ACT_OPERAND_FRAC);
        sat.clamp_to(x, i16::MIN as i64, i16::MAX as i64) as Operand
    }
    /// Q24 → Q1.10 in [−2047, 2047] (§13.2).
    #[inline(always)]
    fn weight_operand(w: Param, sat: &Saturations) -> Operand {
        let x = round_shift(w.to_bits() as i64, PARAM_FRAC - WEIGHT_OPERAND_FRAC);
        sat.clamp_to(x, -SHORT_OPERAND_MAX, SHORT_OPERAND_MAX) as Operand
    }
    /// Q24 → Q−3.14 in [−2047, 2047] (§13.2).
    #[inline(always)]
    fn delta_operand(d: Param, sat: &Saturations) -> Operand {
        let x = round_shift(d.to_bits() as i64, PARAM_FRAC - DELTA_OPERAND_FRAC);
        sat.clamp_to(x, -SHORT_OPERAND_MAX, SHORT_OPERAND_MAX) as Operand
    }
    #[inline(always)]
    fn act_operands_into(src: &[Act], dst: &mut [Operand], sat: &Saturations) {
        narrow_operands(src, dst, ACT_FRAC - ACT_OPERAND_FRAC, i16::MIN as i32, i16::MAX as i32, sat, Act::to_bits);
    }
    #[inline(always)]
    fn weight_operands_into(src: &[Param], dst: &mut [Operand], sat: &Saturations) {
        let max = SHORT_OPERAND_MAX as i32;
        narrow_operands(src, dst, PARAM_FRAC - WEIGHT_OPERAND_FRAC, -max, max, sat, Param::to_bits);
    }
    #[inline(always)]
    fn delta_operands_into(src: &[Param], dst: &mut [Operand], sat: &Saturations) {
        let max = SHORT_OPERAND_MAX as i32;
        narrow_operands(src, dst, PARAM_FRAC - DELTA_OPERAND_FRAC, -max, max, sat, Param::to_bits);
    }
    fn act_operands(_: &[Act]) -> Option<&[Operand]> {
        None
    }
    fn param_operands(_: &[Param]) -> Option<&[Operand]> {
        None
    }
    #[inline(always)]
    fn acc_param(acc: i64, p: Param) -> i64 {
        acc.wrapping_add(p.to_bits() as i64)
    }
    #[inline(always)]
    fn acc_act(acc: i64, l: Act) -> i64 {
        acc.wrapping_add(l.to_bits() as i64)
    }
    #[inline(always)]
    fn acc_add(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    /// Q20 sum (Q10 activations × Q10 weights) moved to Q24, plus the Q24 bias, narrowed to
    /// Q16. The shift is exact: the sum is below 2⁴² for any layer of at most 2¹⁶ inputs.
    #[inline(always)]
    fn forward_out(acc: i64, bias: Param, sat: &Saturations) -> Act {
        const SUM_FRAC: u32 = ACT_OPERAND_FRAC + WEIGHT_OPERAND_FRAC;
        let sum = (acc << (PARAM_FRAC - SUM_FRAC)).wrapping_add(bias.to_bits() as i64);
        act(sat.narrow(sum, PARAM_FRAC - ACT_FRAC))
    }
    /// Q10 activations × Q14 deltas: the sum is already Q24.
    #[inline(always)]
    fn weight_grad(acc: i64, sat: &Saturations) -> Param {
        const _: () = assert!(ACT_OPERAND_FRAC + DELTA_OPERAND_FRAC == PARAM_FRAC);
        param(sat.clamp(acc))
    }
    /// Q24 sum → Q24.
    #[inline(always)]
    fn bias_grad(acc: i64, sat: &Saturations) -> Param {
        param(sat.clamp(acc))
    }
    /// Q14 deltas × Q10 weights: the sum is already Q24.
    #[inline(always)]
    fn input_grad(acc: i64, sat: &Saturations) -> Param {
        const _: () = assert!(DELTA_OPERAND_FRAC + WEIGHT_OPERAND_FRAC == PARAM_FRAC);
        param(sat.clamp(acc))
    }
    /// Q16 sum / rows, rounded half to even.
    fn loss_mean(sum: i64, rows: usize) -> Act {
        act(Saturations::new().clamp(div_round(sum, rows as i64)))
    }

    #[inline(always)]
    fn relu(z: Act) -> Act {
        if z > Act::ZERO {
            z
        } else {
            Act::ZERO
        }
    }
    #[inline]
    fn tanh(z: Act) -> Act {
        act(tanh_q16(z.to_bits()))
    }
    #[inline]
    fn sigmoid(z: Act) -> Act {
        act(sigmoid_q16(z.to_bits()))
    }
    #[inline(always)]
    fn relu_grad(a: Act, da: Param) -> Param {
        if a > Act::ZERO {
            da
        } else {
            Param::ZERO
        }
    }
    /// `1 − a²` rounded to Q16, then `da · (1 − a²)` (Q40) narrowed to Q24.
    #[inline]
    fn tanh_grad(a: Act, da: Param, sat: &Saturations) -> Param {
        let a = a.to_bits() as i64;
        let one_minus_a2 = ONE_Q16 - round_shift(a * a, ACT_FRAC);
        param(sat.narrow(da.to_bits() as i64 * one_minus_a2, ACT_FRAC))
    }
    /// `a·(1 − a)` rounded to Q16, then `da · a(1 − a)` (Q40) narrowed to Q24.
    #[inline]
    fn sigmoid_grad(a: Act, da: Param, sat: &Saturations) -> Param {
        let a = a.to_bits() as i64;
        let slope = round_shift(a * (ONE_Q16 - a), ACT_FRAC);
        param(sat.narrow(da.to_bits() as i64 * slope, ACT_FRAC))
    }

    /// NUMERICS.md §13.5. The steps are those of §6.3, but `e_j` and `p_j` are Q30, `s` an
    /// exact i64 Q30 sum and the loss Q16 — formats of their own, which is why this is not
    /// shared with the float path.
    fn softmax_cross_entropy_row(z: &[Act], label: usize, batch: usize, dz: &mut [Param], sat: &Saturations) -> Act {
        assert!(label < z.len(), "label out of range");
        let m = z[argmax(z)].to_bits() as i64;
        let mut s = 0i64;
        for (d, z_j) in dz.iter_mut().zip(z) {
            // z_j − m ≤ 0; below i32::MIN exp is 0 anyway.
            let diff = (z_j.to_bits() as i64 - m).max(i32::MIN as i64) as i32;
            let e = exp_q16_to_q30(diff);
            // e_j (Q30) is parked in dz until the sum is known.
            *d = param(e);
            s += e as i64;
        }
        let loss = ln_q30_to_q16(s) as i64 - (z[label].to_bits() as i64 - m);
        // p (Q30) − [j = y] divided by batch·2⁶ is (p − [j = y]) / batch in Q24.
        let divisor = (batch as i64) << (SCALAR_FRAC - PARAM_FRAC);
        for (j, d) in dz.iter_mut().enumerate() {
            let p = div_round((d.to_bits() as i64) << SCALAR_FRAC, s);
            let target = if j == label { ONE_Q30 } else { 0 };
            *d = param(sat.clamp(div_round(p - target, divisor)));
        }
        act(sat.clamp(loss))
    }

    /// NUMERICS.md §13.6: the f32 value rounded to Q2.30 (nearest, ties to even), saturated.
    fn scalar(x: f32) -> Scalar {
        Scalar::saturating_from_num(x)
    }
    /// Q24 × Q30 = Q54, narrowed to Q24.
    #[inline(always)]
    fn scale(x: Param, c: Scalar, sat: &Saturations) -> Param {
        param(sat.narrow(x.to_bits() as i64 * c.to_bits() as i64, SCALAR_FRAC))
    }
    #[inline(always)]
    fn add(a: Param, b: Param, sat: &Saturations) -> Param {
        param(sat.clamp(a.to_bits() as i64 + b.to_bits() as i64))
    }
    #[inline(always)]
    fn sub(a: Param, b: Param, sat: &Saturations) -> Param {
        param(sat.clamp(a.to_bits() as i64 - b.to_bits() as i64))
    }
    /// The loop of the trait's `sgd_update` with the same results, written for speed when every
    /// hyper-parameter is below 1 (the usual case): in 32-bit lanes that vectorise
    /// ([`scale_below_one`]), the clamps counted locally, no weight-decay product when λ = 0
    /// (which adds exactly 0). Otherwise the formula itself, with `scale`, `add` and `sub`.
    #[inline(always)]
    fn sgd_update(sgd: &Sgd, params: &mut [Param], grads: &[Param], velocity: &mut [Param], sat: &Saturations) {
        let q30 = |x: f32| Self::scalar(x).to_bits();
        let (lr, momentum, decay) = (q30(sgd.lr), q30(sgd.momentum), q30(sgd.weight_decay));
        let below_one = [lr, momentum, decay].iter().all(|c| (0..1 << SCALAR_FRAC).contains(c));
        let n = match (below_one, decay == 0) {
            (true, true) => sgd_below_one::<false>(lr as u32, momentum as u32, 0, params, grads, velocity),
            (true, false) => sgd_below_one::<true>(lr as u32, momentum as u32, decay as u32, params, grads, velocity),
            (false, _) => {
                let (lr, momentum, decay) =
                    (Scalar::from_bits(lr), Scalar::from_bits(momentum), Scalar::from_bits(decay));
                for ((w, g), v) in params.iter_mut().zip(grads).zip(velocity.iter_mut()) {
                    let g = Self::add(*g, Self::scale(*w, decay, sat), sat);
                    *v = Self::add(Self::scale(*v, momentum, sat), g, sat);
                    *w = Self::sub(*w, Self::scale(*v, lr, sat), sat);
                }
                0
            }
        };
        sat.add(n);
    }
    /// `β^t ← round(β^(t−1) · β)` in Q30.
    fn adam_advance(step: &mut AdamStep<Scalar>, adam: &Adam) {
        let advance = |power: Scalar, beta: f32| {
            let product = power.to_bits() as i64 * Self::scalar(beta).to_bits() as i64;
            Scalar::from_bits(round_shift(product, SCALAR_FRAC) as i32)
        };
        step.beta1_power = advance(step.beta1_power, adam.beta1);
        step.beta2_power = advance(step.beta2_power, adam.beta2);
    }
    fn adam_start() -> AdamStep<Scalar> {
        AdamStep { beta1_power: Scalar::ONE, beta2_power: Scalar::ONE }
    }
    /// NUMERICS.md §13.7. `v` averages g², whose useful range (2⁻⁴⁰ … 1) Q24 cannot hold,
    /// so it is kept as Q48 in 64 bits: the reason Adam is written per path.
    #[inline(always)]
    fn adam_update(
        adam: &Adam,
        step: &AdamStep<Scalar>,
        params: &mut [Param],
        grads: &[Param],
        state: &mut [Param],
        sat: &Saturations,
    ) {
        let q30 = |x: f32| Self::scalar(x).to_bits() as i64;
        let (b1, b2, lr, wd) = (q30(adam.beta1), q30(adam.beta2), q30(adam.lr), Self::scalar(adam.weight_decay));
        let (one_minus_b1, one_minus_b2) = (ONE_Q30 - b1, ONE_Q30 - b2);
        let c1 = (ONE_Q30 - step.beta1_power.to_bits() as i64).max(1);
        let c2 = (ONE_Q30 - step.beta2_power.to_bits() as i64).max(1);
        // ε in Q24, at least one step so the denominator is never 0.
        let eps = (Param::saturating_from_num(adam.eps).to_bits() as i64).max(1);
        for ((w, g), st) in params.iter_mut().zip(grads).zip(state.chunks_exact_mut(3)) {
            let g = Self::add(*g, Self::scale(*w, wd, sat), sat).to_bits() as i64;
            // m: Q30·Q24 + Q30·Q24 = Q54 → Q24.
            let m = sat.narrow(b1 * st[0].to_bits() as i64 + one_minus_b1 * g, SCALAR_FRAC);
            // v: Q30·Q48 + Q30·Q48 = Q78 → Q48, in 128 bits.
            let v_old = ((st[2].to_bits() as i64) << 32) | (st[1].to_bits() as u32 as i64);
            let v = round_shift_i128(b2 as i128 * v_old as i128 + one_minus_b2 as i128 * (g * g) as i128, SCALAR_FRAC);
            let v = v.clamp(0, i64::MAX as i128) as i64;
            st[0] = param(m);
            st[1] = param(v as u32 as i32);
            st[2] = param((v >> 32) as i32);
            // m̂ = m / c1 (Q24), v̂ = v / c2 (Q48, at most 2⁶² so its root fits 31 bits).
            let m_hat = div_round_i128((m as i128) << SCALAR_FRAC, c1 as i128);
            let v_hat = div_round_i128((v as i128) << SCALAR_FRAC, c2 as i128).clamp(0, 1 << 62);
            let denominator = sqrt_round_u64(v_hat as u64) as i128 + eps as i128;
            // (η·m̂) / (√v̂ + ε): Q30·Q24 / (Q24·2⁶) = Q24.
            let update = div_round_i128(lr as i128 * m_hat, denominator << (SCALAR_FRAC - PARAM_FRAC));
            *w = param(sat.clamp((w.to_bits() as i128 - update).clamp(i64::MIN as i128, i64::MAX as i128) as i64));
        }
    }

    /// NUMERICS.md §13.6: `sqrt(6 · 2⁴⁸ / n)` rounded, i.e. `sqrt(6/n)` in Q24.
    fn init_limit(n: usize) -> Param {
        let square = div_round(6i64 << (2 * PARAM_FRAC), n as i64);
        param(sqrt_round_u64(square as u64) as i32)
    }
    /// NUMERICS.md §13.6: `2u − 1` is exact in Q24 (`u` has 24 bits); one rounded product.
    fn init_weight(word: u32, limit: Param) -> Param {
        let two_u_minus_one = 2 * (word >> 8) as i64 - (1 << PARAM_FRAC);
        param(round_shift(two_u_minus_one * limit.to_bits() as i64, PARAM_FRAC) as i32)
    }

    fn param_bits(p: Param) -> u32 {
        p.to_bits() as u32
    }
    fn param_from_bits(bits: u32) -> Param {
        Param::from_bits(bits as i32)
    }
    fn scalar_bits(s: Scalar) -> u32 {
        s.to_bits() as u32
    }
    fn scalar_from_bits(bits: u32) -> Scalar {
        Scalar::from_bits(bits as i32)
    }
    fn act_bits(a: Act) -> u32 {
        a.to_bits() as u32
    }
    fn param_is_finite(_: Param) -> bool {
        true
    }
    fn act_is_finite(_: Act) -> bool {
        true
    }
    /// NUMERICS.md §13.1: the f32 value rounded to the activation operand grid, Q5.10
    /// (nearest, ties to even), so that the first layer's operands are the inputs exactly;
    /// `None` outside [−32, 32) or for NaN.
    fn act_from_f32(x: f32) -> Option<Act> {
        let q = fixed::types::I6F10::checked_from_num(x)?;
        Some(act((q.to_bits() as i32) << (ACT_FRAC - ACT_OPERAND_FRAC)))
    }
    fn act_to_f64(a: Act) -> f64 {
        a.to_num::<f64>()
    }
    fn param_to_f64(p: Param) -> f64 {
        p.to_num::<f64>()
    }
}

/// `dst[i] ← clamp(round_shift(bits(src[i]), shift), min, max)` for 32-bit values, in 32-bit
/// arithmetic (the same results as `round_shift` on i64: the rest plus one never overflows), so
/// that the loop vectorises; the clamps are counted once at the end.
#[inline(always)]
fn narrow_operands<T: Copy>(
    src: &[T],
    dst: &mut [Operand],
    shift: u32,
    min: i32,
    max: i32,
    sat: &Saturations,
    bits: impl Fn(T) -> i32,
) {
    let (mask, half) = ((1i32 << shift) - 1, 1i32 << (shift - 1));
    let mut clamped = 0u32;
    for (d, v) in dst.iter_mut().zip(src) {
        let x = bits(*v);
        let floor = x >> shift;
        let rounded = floor + (((x & mask) + (floor & 1)) > half) as i32;
        let c = rounded.clamp(min, max);
        clamped += (c != rounded) as u32;
        *d = c as Operand;
    }
    sat.add(clamped);
}

/// `round(x · c / 2³⁰)`, ties to even, for `0 ≤ c < 2³⁰`: the fixed path's `scale` (§13.7),
/// which cannot saturate for such `c`, in 32-bit arithmetic after one 32×32→64-bit unsigned
/// product (SSE2's `pmuludq`).
///
/// With `u = (x mod 2³²)·c` and `s` the sign of x, `x·c = u − 2³²·c·s`: the two differ by a
/// multiple of 2³², so `x·c / 2³⁰` and `u / 2³⁰` have the same remainder and floors of the same
/// parity, and `u / 2³⁰` rounded half to even, `(u + 2²⁹ − 1 + odd) >> 30` (below 2⁶³), minus
/// `4·c·s` is the result, exact modulo 2³² (and the true value fits i32).
#[inline(always)]
fn scale_below_one(x: i32, c: u32) -> i32 {
    let u = x as u32 as u64 * c as u64;
    let odd = (u >> SCALAR_FRAC) & 1;
    let rounded = ((u + (1 << (SCALAR_FRAC - 1)) - 1 + odd) >> SCALAR_FRAC) as u32;
    rounded.wrapping_sub((x >> 31) as u32 & (c << 2)) as i32
}

/// `a + b` saturated to i32, adding 1 to `count` if it was.
#[inline(always)]
fn add_sat(a: i32, b: i32, count: &mut u32) -> i32 {
    let s = a.saturating_add(b);
    *count += (s != a.wrapping_add(b)) as u32;
    s
}

/// SGD with `lr`, `momentum`, `decay` (Q30) all below 1; returns the clamps.
#[inline(always)]
fn sgd_below_one<const DECAY: bool>(
    lr: u32,
    momentum: u32,
    decay: u32,
    params: &mut [Param],
    grads: &[Param],
    velocity: &mut [Param],
) -> u32 {
    let mut n = 0u32;
    for ((w, g), v) in params.iter_mut().zip(grads).zip(velocity.iter_mut()) {
        let (w0, mut g) = (w.to_bits(), g.to_bits());
        if DECAY {
            g = add_sat(g, scale_below_one(w0, decay), &mut n);
        }
        let v1 = add_sat(scale_below_one(v.to_bits(), momentum), g, &mut n);
        let w1 = add_sat(w0, scale_below_one(v1, lr).wrapping_neg(), &mut n);
        *v = param(v1);
        *w = param(w1);
    }
    n
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Words at the edges of i32 as often as in between.
    fn words(n: usize, seed: u32) -> Vec<i32> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                match x % 8 {
                    0 => i32::MAX,
                    1 => i32::MIN,
                    2 => (x >> 16) as i32 - 32768,
                    _ => x as i32,
                }
            })
            .collect()
    }

    /// The fast SGD loops give the bits and the saturation count of the formula written with
    /// the path's own `scale`, `add` and `sub` (the trait's default loop).
    #[test]
    fn fast_sgd_equals_the_formula() {
        // Fewer values under miri, which interprets every operation; the edges stay as frequent.
        let n = if cfg!(miri) { 64 } else { 4096 };
        for (i, (lr, momentum, weight_decay)) in
            [(0.05, 0.9, 0.0), (0.5, 0.99, 0.01), (0.999, 0.0, 0.999), (1.5, 0.9, 0.0), (0.1, 0.5, 1.9)]
                .into_iter()
                .enumerate()
        {
            let sgd = Sgd { lr, momentum, weight_decay };
            let w0: Vec<Param> = words(n, 3 * i as u32 + 1).into_iter().map(param).collect();
            let g: Vec<Param> = words(n, 3 * i as u32 + 2).into_iter().map(param).collect();
            let v0: Vec<Param> = words(n, 3 * i as u32 + 3).into_iter().map(param).collect();
            let (mut w_fast, mut v_fast) = (w0.clone(), v0.clone());
            let fast = Saturations::new();
            Fixed::sgd_update(&sgd, &mut w_fast, &g, &mut v_fast, &fast);
            let (mut w_ref, mut v_ref) = (w0.clone(), v0.clone());
            let reference = Saturations::new();
            let (lr, momentum, decay) = (Fixed::scalar(lr), Fixed::scalar(momentum), Fixed::scalar(weight_decay));
            for ((w, g), v) in w_ref.iter_mut().zip(&g).zip(v_ref.iter_mut()) {
                let g = Fixed::add(*g, Fixed::scale(*w, decay, &reference), &reference);
                *v = Fixed::add(Fixed::scale(*v, momentum, &reference), g, &reference);
                *w = Fixed::sub(*w, Fixed::scale(*v, lr, &reference), &reference);
            }
            assert_eq!((w_fast, v_fast), (w_ref, v_ref), "{sgd:?}");
            assert_eq!(fast.get(), reference.get(), "{sgd:?}");
            assert!(reference.get() > 0, "the edge values saturate");
        }
    }

    /// The slice conversions give the bits and saturations of the per-value ones.
    #[test]
    fn operand_slices_equal_one_value_at_a_time() {
        let raw = words(if cfg!(miri) { 512 } else { 8192 }, 9); // fewer under miri
        let acts: Vec<Act> = raw.iter().map(|w| act(*w)).collect();
        let params: Vec<Param> = raw.iter().map(|w| param(*w)).collect();
        let mut got = std::vec![0i16; raw.len()];
        for kind in 0..3 {
            let (fast, one) = (Saturations::new(), Saturations::new());
            let want: Vec<i16> = match kind {
                0 => {
                    Fixed::act_operands_into(&acts, &mut got, &fast);
                    acts.iter().map(|a| Fixed::act_operand(*a, &one)).collect()
                }
                1 => {
                    Fixed::weight_operands_into(&params, &mut got, &fast);
                    params.iter().map(|p| Fixed::weight_operand(*p, &one)).collect()
                }
                _ => {
                    Fixed::delta_operands_into(&params, &mut got, &fast);
                    params.iter().map(|p| Fixed::delta_operand(*p, &one)).collect()
                }
            };
            assert_eq!(got, want, "kind {kind}");
            assert_eq!(fast.get(), one.get(), "kind {kind}");
        }
    }

    #[test]
    fn operand_rounding_and_ranges() {
        let sat = Saturations::new();
        // Q16 → Q10: 2⁻¹¹ is a tie and rounds to even (0); 3·2⁻¹¹ rounds up to 2·2⁻¹⁰.
        assert_eq!(Fixed::act_operand(act(32), &sat), 0);
        assert_eq!(Fixed::act_operand(act(96), &sat), 2);
        assert_eq!(Fixed::act_operand(act(-96), &sat), -2);
        // Q24 → Q10 weights stop at ±2047; Q24 → Q14 deltas too.
        assert_eq!(Fixed::weight_operand(param(2047 << 14), &sat), 2047);
        assert_eq!(sat.get(), 0);
        assert_eq!(Fixed::weight_operand(param(2048 << 14), &sat), 2047);
        assert_eq!(Fixed::delta_operand(param(-(3000 << 10)), &sat), -2047);
        assert_eq!(sat.get(), 2);
        // Inputs: 1/16 steps are exact, values are rounded to 2⁻¹⁰, and the range is [−32, 32).
        assert_eq!(Fixed::act_from_f32(0.0625).unwrap().to_bits(), 4096);
        assert_eq!(Fixed::act_from_f32(0.3).unwrap().to_bits(), 307 << 6);
        assert!(Fixed::act_from_f32(31.999).is_some() && Fixed::act_from_f32(-32.0).is_some());
        assert!(Fixed::act_from_f32(32.0).is_none() && Fixed::act_from_f32(f32::NAN).is_none());
    }
}
