// Element-wise kernels exposing the functions of math_fixed.cl (built after it), so that
// tests/tests/opencl_math_fixed.rs can compare each with its Rust twin bit for bit.
//
// Every kernel has the signature `(in, out, n)` of `Gpu::map`: `out` has as many elements as
// `in`. Functions of several arguments read fixed-size records of i64 words from `in` and write
// the record of the same index in `out`; a saturation count goes to a `uint` inside the output
// record (the buffer starts zeroed), so that each record has a counter of its own. Integer
// operations only.

// One input i32, one output i32.
#define SB_TEST_I32(NAME, FN)                                                                \
    __kernel void test_##NAME(__global const int* in, __global int* out, uint n) {           \
        size_t i = get_global_id(0);                                                         \
        if (i < n) {                                                                         \
            out[i] = FN(in[i]);                                                              \
        }                                                                                    \
    }

SB_TEST_I32(exp_q16_to_q30, sb_exp_q16_to_q30)
SB_TEST_I32(tanh_q16, sb_tanh_q16)
SB_TEST_I32(sigmoid_q16, sb_sigmoid_q16)
SB_TEST_I32(fixed_tanh, sb_fixed_tanh)
SB_TEST_I32(fixed_sigmoid, sb_fixed_sigmoid)
SB_TEST_I32(fixed_relu, sb_fixed_relu)

// ln: i64 in, the i32 result sign-extended.
__kernel void test_ln_q30_to_q16(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) {
        out[i] = (long)sb_ln_q30_to_q16(in[i]);
    }
}

// isqrt and sqrt_round: a u64 (as i64 bits) in; isqrt_u64 in the low 32 bits of the output,
// sqrt_round_u64 in the high 32 bits.
__kernel void test_sqrt_u64(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) {
        ulong x = as_ulong(in[i]);
        out[i] = as_long((ulong)sb_isqrt_u64(x) | ((ulong)sb_sqrt_round_u64(x) << 32));
    }
}

// Records of 4: in [x, shift, _, _] → out [round_shift(x, shift), narrow(x, shift), clamp(x),
// saturations counted by the narrow and the clamp].
__kernel void test_round_shift(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (4 * i + 3 >= n) {
        return;
    }
    long x = in[4 * i];
    uint shift = (uint)in[4 * i + 1];
    __global uint* sat = (__global uint*)(out + 4 * i + 3);
    out[4 * i] = sb_round_shift(x, shift);
    out[4 * i + 1] = (long)sb_narrow(x, shift, sat);
    out[4 * i + 2] = (long)sb_clamp(x, sat);
}

// Records of 4: in [x.lo, x.hi, shift, _] → out [round_shift_i128(x, shift).lo, .hi, 0, 0].
__kernel void test_round_shift_i128(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (4 * i + 3 >= n) {
        return;
    }
    sb_i128 x;
    x.lo = as_ulong(in[4 * i]);
    x.hi = in[4 * i + 1];
    sb_i128 r = sb_round_shift_i128(x, (uint)in[4 * i + 2]);
    out[4 * i] = as_long(r.lo);
    out[4 * i + 1] = r.hi;
}

// Records of 2: in [n, d] → out [div_round(n, d), 0].
__kernel void test_div_round(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (2 * i + 1 >= n) {
        return;
    }
    out[2 * i] = sb_div_round(in[2 * i], in[2 * i + 1]);
}

// Records of 16: in [a.lo, a.hi, b.lo, b.hi, s, ...] → out [a + b, a − b, a·b, a >> s, a << s,
// mul_ll(a.lo, b.lo), −a (each lo, hi), flags, clamp(a, min(b, c), max(b, c)).lo] with
// c = in[5..7] and flags = eq | lt << 1 | gt << 2 | le << 3 | ge << 4 | odd(a) << 5.
__kernel void test_i128_ops(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (16 * i + 15 >= n) {
        return;
    }
    __global const long* rec = in + 16 * i;
    __global long* res = out + 16 * i;
    sb_i128 a, b, c;
    a.lo = as_ulong(rec[0]);
    a.hi = rec[1];
    b.lo = as_ulong(rec[2]);
    b.hi = rec[3];
    uint s = (uint)rec[4];
    c.lo = as_ulong(rec[5]);
    c.hi = rec[6];
    sb_i128 r;
    r = sb_i128_add(a, b);
    res[0] = as_long(r.lo);
    res[1] = r.hi;
    r = sb_i128_sub(a, b);
    res[2] = as_long(r.lo);
    res[3] = r.hi;
    r = sb_i128_mul(a, b);
    res[4] = as_long(r.lo);
    res[5] = r.hi;
    r = sb_i128_shr(a, s);
    res[6] = as_long(r.lo);
    res[7] = r.hi;
    r = sb_i128_shl(a, s);
    res[8] = as_long(r.lo);
    res[9] = r.hi;
    r = sb_i128_mul_ll(as_long(a.lo), as_long(b.lo));
    res[10] = as_long(r.lo);
    res[11] = r.hi;
    r = sb_i128_neg(a);
    res[12] = as_long(r.lo);
    res[13] = r.hi;
    res[14] = (long)((sb_i128_eq(a, b) ? 1 : 0) | (sb_i128_lt(a, b) ? 2 : 0) | (sb_i128_gt(a, b) ? 4 : 0) |
                     (sb_i128_le(a, b) ? 8 : 0) | (sb_i128_ge(a, b) ? 16 : 0) | (sb_i128_is_odd(a) ? 32 : 0));
    sb_i128 lowest = sb_i128_lt(b, c) ? b : c;
    sb_i128 highest = sb_i128_lt(b, c) ? c : b;
    r = sb_i128_clamp(a, lowest, highest);
    res[15] = as_long(r.lo) ^ r.hi;
}

// Records of 8: in [n.lo, n.hi, d.lo, d.hi, ...] → out [n.div_euclid(d), n.rem_euclid(d),
// div_round_i128(n, d), each lo, hi; 0, 0].
__kernel void test_i128_div(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (8 * i + 7 >= n) {
        return;
    }
    __global const long* rec = in + 8 * i;
    __global long* res = out + 8 * i;
    sb_i128 num, den, q, r;
    num.lo = as_ulong(rec[0]);
    num.hi = rec[1];
    den.lo = as_ulong(rec[2]);
    den.hi = rec[3];
    sb_i128_divmod_euclid(num, den, &q, &r);
    res[0] = as_long(q.lo);
    res[1] = q.hi;
    res[2] = as_long(r.lo);
    res[3] = r.hi;
    sb_i128 dr = sb_div_round_i128(num, den);
    res[4] = as_long(dr.lo);
    res[5] = dr.hi;
}

// Records of 2 for the helpers of Fixed: in [a, b] → out [RESULT, saturations]. RESULT may use
// `a`, `b` (longs) and `sat` (the record's counter).
#define SB_TEST_PAIR(NAME, RESULT)                                                           \
    __kernel void test_##NAME(__global const long* in, __global long* out, uint n) {         \
        size_t i = get_global_id(0);                                                         \
        if (2 * i + 1 >= n) {                                                                \
            return;                                                                          \
        }                                                                                    \
        long a = in[2 * i];                                                                  \
        long b = in[2 * i + 1];                                                              \
        __global uint* sat = (__global uint*)(out + 2 * i + 1);                              \
        (void)b;                                                                             \
        (void)sat;                                                                           \
        out[2 * i] = (long)(RESULT);                                                         \
    }

SB_TEST_PAIR(fixed_forward_out, sb_fixed_forward_out(a, (int)b, sat))
SB_TEST_PAIR(fixed_weight_grad, sb_fixed_weight_grad(a, sat))
SB_TEST_PAIR(fixed_bias_grad, sb_fixed_bias_grad(a, sat))
SB_TEST_PAIR(fixed_input_grad, sb_fixed_input_grad(a, sat))
SB_TEST_PAIR(fixed_act_operand, sb_fixed_act_operand((int)a, sat))
SB_TEST_PAIR(fixed_weight_operand, sb_fixed_weight_operand((int)a, sat))
SB_TEST_PAIR(fixed_delta_operand, sb_fixed_delta_operand((int)a, sat))
SB_TEST_PAIR(clamp_to, sb_clamp_to(a, -(b & 0xffffffffL), b >> 32, sat))
SB_TEST_PAIR(fixed_loss_mean, sb_fixed_loss_mean(a, b))
SB_TEST_PAIR(fixed_relu_grad, sb_fixed_relu_grad((int)a, (int)b))
SB_TEST_PAIR(fixed_tanh_grad, sb_fixed_tanh_grad((int)a, (int)b, sat))
SB_TEST_PAIR(fixed_sigmoid_grad, sb_fixed_sigmoid_grad((int)a, (int)b, sat))
SB_TEST_PAIR(fixed_scale, sb_fixed_scale((int)a, (int)b, sat))
SB_TEST_PAIR(fixed_add, sb_fixed_add((int)a, (int)b, sat))
SB_TEST_PAIR(fixed_sub, sb_fixed_sub((int)a, (int)b, sat))
SB_TEST_PAIR(fixed_adam_advance_power, sb_fixed_adam_advance_power((int)a, (int)b))
SB_TEST_PAIR(fixed_init_limit, sb_fixed_init_limit(a))
SB_TEST_PAIR(fixed_init_weight, sb_fixed_init_weight((uint)a, (int)b))

// Records of 8: in [acc, inner, a, b, c, x, _, _] (inner and x i32, a and b i16) → out
// [inner_mul_add(inner, a, b), flush(acc, inner), acc_int(acc, x), acc_add(acc, c), 0, …].
__kernel void test_fixed_acc(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (8 * i + 7 >= n) {
        return;
    }
    __global const long* rec = in + 8 * i;
    __global long* res = out + 8 * i;
    long acc = rec[0];
    int inner = (int)rec[1];
    res[0] = (long)sb_fixed_inner_mul_add(inner, (short)rec[2], (short)rec[3]);
    res[1] = sb_fixed_flush(acc, inner);
    res[2] = sb_fixed_acc_int(acc, (int)rec[5]);
    res[3] = sb_fixed_acc_add(acc, rec[4]);
}

// Records of 16: in [w, g, m, v_lo, v_hi, β1, β2, η, λ, ε, β1^t, β2^t, ...] (raw Q24 / Q30
// words) → out [w, m, v_lo, v_hi, saturations, c1, c2, eps, 1 − β1, 1 − β2, 0, …] after one
// sb_fixed_adam_param.
__kernel void test_fixed_adam(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    if (16 * i + 15 >= n) {
        return;
    }
    __global const long* rec = in + 16 * i;
    __global long* res = out + 16 * i;
    int w = (int)rec[0];
    int g = (int)rec[1];
    int m = (int)rec[2];
    int v_lo = (int)rec[3];
    int v_hi = (int)rec[4];
    sb_fixed_adam_scalars_t s = sb_fixed_adam_scalars((int)rec[5], (int)rec[6], (int)rec[7], (int)rec[8], (int)rec[9],
                                                      (int)rec[10], (int)rec[11]);
    __global uint* sat = (__global uint*)(res + 4);
    sb_fixed_adam_param(s, &w, g, &m, &v_lo, &v_hi, sat);
    res[0] = (long)w;
    res[1] = (long)m;
    res[2] = (long)v_lo;
    res[3] = (long)v_hi;
    res[5] = s.c1;
    res[6] = s.c2;
    res[7] = s.eps;
    res[8] = s.one_minus_b1;
    res[9] = s.one_minus_b2;
}

// The constant tables, for comparison with their Rust definitions: out[0..7] INV_FACTORIAL,
// out[7..16] INV_ODD, out[16..48] EXP2_Q62, out[48] LOG2E_Q62, out[49] LN2_Q62,
// out[50] SQRT2_Q62. Run over 64 elements.
__kernel void test_constants(__global const long* in, __global long* out, uint n) {
    size_t i = get_global_id(0);
    (void)in;
    if (i >= n) {
        return;
    }
    long v = 0L;
    if (i < 7) {
        v = SB_INV_FACTORIAL[i];
    } else if (i < 16) {
        v = SB_INV_ODD[i - 7];
    } else if (i < 48) {
        v = SB_EXP2_Q62[i - 16];
    } else if (i == 48) {
        v = SB_LOG2E_Q62;
    } else if (i == 49) {
        v = SB_LN2_Q62;
    } else if (i == 50) {
        v = SB_SQRT2_Q62;
    }
    out[i] = v;
}
