//! The fixed-point path: NUMERICS.md §13.
//!
//! Products go into an i64 accumulator exactly (wrapping addition is associative, so the sum
//! is the same in any order and exact whenever the true sum fits, §13.2); each finished value
//! is narrowed once to its stored format with round-half-to-even and saturation (§13.3).

use super::Arithmetic;
use crate::fixed::math::{div_round, exp_q16_to_q30, ln_q30_to_q16, sigmoid_q16, sqrt_round_u64, tanh_q16};
use crate::fixed::narrow::{div_round_i128, round_shift, round_shift_i128, Saturations};
use crate::fixed::{Act, Param, Scalar, ACT_FRAC, PARAM_FRAC, SCALAR_FRAC};
use crate::layers::argmax;
use crate::optim::{Adam, AdamStep};

/// Fixed-point arithmetic: activations Q16.16, parameters Q8.24, scalars Q2.30, i64 sums.
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

    #[inline(always)]
    fn acc_zero() -> i64 {
        0
    }
    /// Q16 × Q24 = Q40, exact.
    #[inline(always)]
    fn acc_act_param(acc: i64, a: Act, p: Param) -> i64 {
        acc.wrapping_add(a.to_bits() as i64 * p.to_bits() as i64)
    }
    /// Q24 × Q24 = Q48, exact.
    #[inline(always)]
    fn acc_param_param(acc: i64, a: Param, b: Param) -> i64 {
        acc.wrapping_add(a.to_bits() as i64 * b.to_bits() as i64)
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

    /// Q40 sum + bias (Q24 → Q40), narrowed to Q16.
    #[inline(always)]
    fn forward_out(acc: i64, bias: Param, sat: &Saturations) -> Act {
        // The bias moves from Q24 to the sum's Q40.
        let sum = acc.wrapping_add((bias.to_bits() as i64) << ACT_FRAC);
        act(sat.narrow(sum, PARAM_FRAC))
    }
    /// Q40 → Q24.
    #[inline(always)]
    fn weight_grad(acc: i64, sat: &Saturations) -> Param {
        param(sat.narrow(acc, ACT_FRAC))
    }
    /// Q24 sum → Q24.
    #[inline(always)]
    fn bias_grad(acc: i64, sat: &Saturations) -> Param {
        param(sat.clamp(acc))
    }
    /// Q48 → Q24.
    #[inline(always)]
    fn input_grad(acc: i64, sat: &Saturations) -> Param {
        param(sat.narrow(acc, PARAM_FRAC))
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
    fn param_is_finite(_: Param) -> bool {
        true
    }
    fn act_is_finite(_: Act) -> bool {
        true
    }
    /// NUMERICS.md §13.1: the f32 value rounded to Q16.16 (nearest, ties to even); `None`
    /// outside [−32768, 32768) or for NaN.
    fn act_from_f32(x: f32) -> Option<Act> {
        Act::checked_from_num(x)
    }
    fn act_to_f64(a: Act) -> f64 {
        a.to_num::<f64>()
    }
    fn param_to_f64(p: Param) -> f64 {
        p.to_num::<f64>()
    }
}
