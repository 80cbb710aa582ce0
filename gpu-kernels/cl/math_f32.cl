// f32 elementary functions of the float path: OpenCL C twins of `samebits::math` (NUMERICS.md §4).
//
// sb_expf, sb_logf, sb_tanhf (with sb_expm1f and sb_scalbnf) are line-by-line ports of the pinned
// libm 0.2.16 (the Rust crate, itself a port of musl/FreeBSD msun): the same f32 operations in the
// same order, the same constants (as the bit patterns libm's decimal literals parse to, checked
// against libm's own hex comments), and bit reinterpretation (as_float/as_uint) exactly where libm
// uses from_bits/to_bits. libm's `force_eval!` lines only raise floating-point exception flags,
// which OpenCL cannot observe, so they are omitted (each place is marked). Every float literal has
// an `f` suffix: an unsuffixed literal is a double and would move the arithmetic to f64.
//
// Rules (gpu-kernels/README.md): no contraction into FMA (pragma below), no mad/fma/native_*, no
// built-in exp/log/tanh/expm1/ldexp. tests/tests/opencl_math_f32.rs checks every function against
// its Rust twin bit for bit.

#pragma OPENCL FP_CONTRACT OFF

// ---------------------------------------------------------------------------------------------
// scalbnf

// Twin of libm 0.2.16 scalbnf (src/math/scalbn.rs, i.e. generic::scalbn in
// src/math/generic/scalbn.rs instantiated for f32), used by sb_expf as libm's expf uses scalbnf.
// For f32: EXP_MAX = 127, EXP_MIN = -126, SIG_BITS + 1 = 24, EXP_BIAS = 127.
float sb_scalbnf(float x, int n) {
    // 2 ^ Emax = 0x1p127 (from_parts(false, EXP_BIAS << 1, 0)).
    const float f_exp_max = as_float(0x7f000000u);
    // 2 ^ Emin = 0x1p-126 (from_parts(false, 1, 0)).
    const float f_exp_min = as_float(0x00800000u);
    // 2 ^ sig_total_bits = 0x1p24 (from_parts(false, 24 + EXP_BIAS, 0)).
    const float f_pow_subnorm = as_float(0x4b800000u);

    if (n > 127) {
        x *= f_exp_max;
        n -= 127;
        if (n > 127) {
            x *= f_exp_max;
            n -= 127;
            if (n > 127) {
                n = 127;
            }
        }
    } else if (n < -126) {
        // F::BITS > 16 branch. mul = 0x1p-102 (exact product), add = 126 - 24 = 102.
        const float mul = f_exp_min * f_pow_subnorm;
        const int add = 102;

        x *= mul;
        n += add;

        if (n < -126) {
            x *= mul;
            n += add;

            if (n < -126) {
                n = -126;
            }
        }
    }

    // from_parts(false, (EXP_BIAS + n) as u32, 0): the exponent field masked with EXP_SAT.
    const float scale = as_float((((uint)(127 + n)) & 0xffu) << 23);
    return x * scale;
}

// ---------------------------------------------------------------------------------------------
// expf

#define SB_EXPF_LN2_HI as_float(0x3f317200u)  /* 6.9314575195e-01 */
#define SB_EXPF_LN2_LO as_float(0x35bfbe8eu)  /* 1.4286067653e-06 */
#define SB_EXPF_INV_LN2 as_float(0x3fb8aa3bu) /* 1.4426950216e+00 */
#define SB_EXPF_P1 as_float(0x3e2aaa8fu)      /* 1.6666625440e-1,  0xaaaa8f.0p-26 */
#define SB_EXPF_P2 as_float(0xbb355215u)      /* -2.7667332906e-3, -0xb55215.0p-32 */

// HALF in libm's expf.
__constant float sb_expf_half[2] = {0.5f, -0.5f};

// Twin of libm 0.2.16 expf (src/math/expf.rs), used by samebits::math::exp.
float sb_expf(float x) {
    const float x1p127 = as_float(0x7f000000u); // 0x1p127f === 2 ^ 127
    // x1p_126 (0x1p-126f) is used only by a force_eval!, omitted below.
    uint hx = as_uint(x);
    const int sign = (int)(hx >> 31); /* sign bit of x */
    const bool signb = sign != 0;
    hx &= 0x7fffffffu; /* high word of |x| */

    /* special cases */
    if (hx >= 0x42aeac50u) {
        /* if |x| >= -87.33655f or NaN */
        if (hx > 0x7f800000u) {
            /* NaN */
            return x;
        }
        if ((hx >= 0x42b17218u) && (!signb)) {
            /* x >= 88.722839f */
            /* overflow */
            x *= x1p127;
            return x;
        }
        if (signb) {
            /* underflow */
            // force_eval!(-x1p_126 / x) omitted: it only raises FP exception flags.
            if (hx >= 0x42cff1b5u) {
                /* x <= -103.972084f */
                return 0.0f;
            }
        }
    }

    /* argument reduction */
    int k;
    float hi;
    float lo;
    if (hx > 0x3eb17218u) {
        /* if |x| > 0.5 ln2 */
        if (hx > 0x3f851592u) {
            /* if |x| > 1.5 ln2 */
            // Rust `as i32` truncates toward zero like (int); |k| <= 150 here, always in range.
            k = (int)(SB_EXPF_INV_LN2 * x + sb_expf_half[sign]);
        } else {
            k = 1 - sign - sign;
        }
        const float kf = (float)k;
        hi = x - kf * SB_EXPF_LN2_HI; /* k*ln2hi is exact here */
        lo = kf * SB_EXPF_LN2_LO;
        x = hi - lo;
    } else if (hx > 0x39000000u) {
        /* |x| > 2**-14 */
        k = 0;
        hi = x;
        lo = 0.0f;
    } else {
        /* raise inexact */
        // force_eval!(x1p127 + x) omitted: it only raises FP exception flags.
        return 1.0f + x;
    }

    /* x is now in primary range */
    const float xx = x * x;
    const float c = x - xx * (SB_EXPF_P1 + xx * SB_EXPF_P2);
    const float y = 1.0f + (x * c / (2.0f - c) - lo + hi);
    if (k == 0) {
        return y;
    } else {
        return sb_scalbnf(y, k);
    }
}

// ---------------------------------------------------------------------------------------------
// logf

#define SB_LOGF_LN2_HI as_float(0x3f317180u) /* 6.9313812256e-01 */
#define SB_LOGF_LN2_LO as_float(0x3717f7d1u) /* 9.0580006145e-06 */
/* |(log(1+s)-log(1-s))/s - Lg(s)| < 2**-34.24 (~[-4.95e-11, 4.97e-11]). */
#define SB_LOGF_LG1 as_float(0x3f2aaaaau) /* 0.66666662693, 0xaaaaaa.0p-24 */
#define SB_LOGF_LG2 as_float(0x3eccce13u) /* 0.40000972152, 0xccce13.0p-25 */
#define SB_LOGF_LG3 as_float(0x3e91e9eeu) /* 0.28498786688, 0x91e9ee.0p-25 */
#define SB_LOGF_LG4 as_float(0x3e789e26u) /* 0.24279078841, 0xf89e26.0p-26 */

// Twin of libm 0.2.16 logf (src/math/logf.rs), used by samebits::math::ln.
float sb_logf(float x) {
    const float x1p25 = as_float(0x4c000000u); // 0x1p25f === 2 ^ 25

    uint ix = as_uint(x);
    int k = 0;

    if ((ix < 0x00800000u) || ((ix >> 31) != 0u)) {
        /* x < 2**-126  */
        if (ix << 1 == 0u) {
            return -1.0f / (x * x); /* log(+-0)=-inf */
        }
        if ((ix >> 31) != 0u) {
            return (x - x) / 0.0f; /* log(-#) = NaN */
        }
        /* subnormal number, scale up x */
        k -= 25;
        x *= x1p25;
        ix = as_uint(x);
    } else if (ix >= 0x7f800000u) {
        return x;
    } else if (ix == 0x3f800000u) {
        return 0.0f;
    }

    /* reduce x into [sqrt(2)/2, sqrt(2)] */
    ix += 0x3f800000u - 0x3f3504f3u;
    k += ((int)(ix >> 23)) - 0x7f;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    x = as_float(ix);

    const float f = x - 1.0f;
    const float s = f / (2.0f + f);
    const float z = s * s;
    const float w = z * z;
    const float t1 = w * (SB_LOGF_LG2 + w * SB_LOGF_LG4);
    const float t2 = z * (SB_LOGF_LG1 + w * SB_LOGF_LG3);
    const float r = t2 + t1;
    const float hfsq = 0.5f * f * f;
    const float dk = (float)k;
    return s * (hfsq + r) + dk * SB_LOGF_LN2_LO - hfsq + f + dk * SB_LOGF_LN2_HI;
}

// ---------------------------------------------------------------------------------------------
// expm1f

#define SB_EXPM1F_LN2_HI as_float(0x3f317180u)  /* 6.9313812256e-01 */
#define SB_EXPM1F_LN2_LO as_float(0x3717f7d1u)  /* 9.0580006145e-06 */
#define SB_EXPM1F_INV_LN2 as_float(0x3fb8aa3bu) /* 1.4426950216e+00 */
#define SB_EXPM1F_Q1 as_float(0xbd088868u)      /* -3.3333212137e-2, -0x888868.0p-28 */
#define SB_EXPM1F_Q2 as_float(0x3acf3010u)      /* 1.5807170421e-3,  0xcf3010.0p-33 */

// Twin of libm 0.2.16 expm1f (src/math/expm1f.rs), used by sb_tanhf as libm's tanhf uses expm1f.
float sb_expm1f(float x) {
    const float x1p127 = as_float(0x7f000000u); // 0x1p127f === 2 ^ 127

    uint hx = as_uint(x);
    const bool sign = (hx >> 31) != 0u;
    hx &= 0x7fffffffu;

    /* filter out huge and non-finite argument */
    if (hx >= 0x4195b844u) {
        /* if |x|>=27*ln2 */
        if (hx > 0x7f800000u) {
            /* NaN */
            return x;
        }
        if (sign) {
            return -1.0f;
        }
        if (hx > 0x42b17217u) {
            /* x > log(FLT_MAX) */
            x *= x1p127;
            return x;
        }
    }

    int k;
    float hi;
    float lo;
    float c = 0.0f;
    /* argument reduction */
    if (hx > 0x3eb17218u) {
        /* if  |x| > 0.5 ln2 */
        if (hx < 0x3F851592u) {
            /* and |x| < 1.5 ln2 */
            if (!sign) {
                hi = x - SB_EXPM1F_LN2_HI;
                lo = SB_EXPM1F_LN2_LO;
                k = 1;
            } else {
                hi = x + SB_EXPM1F_LN2_HI;
                lo = -SB_EXPM1F_LN2_LO;
                k = -1;
            }
        } else {
            // Rust `as i32` truncates toward zero like (int); |k| <= 128 here, always in range.
            k = (int)(SB_EXPM1F_INV_LN2 * x + (sign ? -0.5f : 0.5f));
            const float t = (float)k;
            hi = x - t * SB_EXPM1F_LN2_HI; /* t*ln2_hi is exact here */
            lo = t * SB_EXPM1F_LN2_LO;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (hx < 0x33000000u) {
        /* when |x|<2**-25, return x */
        // force_eval!(x * x) for subnormal x omitted: it only raises FP exception flags.
        return x;
    } else {
        k = 0;
    }

    /* x is now in primary range */
    const float hfx = 0.5f * x;
    const float hxs = x * hfx;
    const float r1 = 1.0f + hxs * (SB_EXPM1F_Q1 + hxs * SB_EXPM1F_Q2);
    const float t = 3.0f - r1 * hfx;
    float e = hxs * ((r1 - t) / (6.0f - x * t));
    if (k == 0) {
        /* c is 0 */
        return x - (x * e - hxs);
    }
    e = x * (e - c) - c;
    e -= hxs;
    /* exp(x) ~ 2^k (x_reduced - e + 1) */
    if (k == -1) {
        return 0.5f * (x - e) - 0.5f;
    }
    if (k == 1) {
        if (x < -0.25f) {
            return -2.0f * (e - (x + 0.5f));
        }
        return 1.0f + 2.0f * (x - e);
    }
    const float twopk = as_float((uint)((0x7f + k) << 23)); /* 2^k */
    if (k < 0 || k > 56) {
        /* suffice to return exp(x)-1 */
        float y = x - e + 1.0f;
        if (k == 128) {
            y = y * 2.0f * x1p127;
        } else {
            y = y * twopk;
        }
        return y - 1.0f;
    }
    const float uf = as_float((uint)((0x7f - k) << 23)); /* 2^-k */
    if (k < 23) {
        return (x - e + (1.0f - uf)) * twopk;
    } else {
        return (x - (e + uf) + 1.0f) * twopk;
    }
}

// ---------------------------------------------------------------------------------------------
// tanhf

// Twin of libm 0.2.16 tanhf (src/math/tanhf.rs), used by samebits::math::tanh.
float sb_tanhf(float x) {
    /* x = |x| */
    uint ix = as_uint(x);
    const bool sign = (ix >> 31) != 0u;
    ix &= 0x7fffffffu;
    x = as_float(ix);
    const uint w = ix;

    float tt;
    if (w > 0x3f0c9f54u) {
        /* |x| > log(3)/2 ~= 0.5493 or nan */
        if (w > 0x41200000u) {
            /* |x| > 10 */
            tt = 1.0f + 0.0f / x;
        } else {
            const float t = sb_expm1f(2.0f * x);
            tt = 1.0f - 2.0f / (t + 2.0f);
        }
    } else if (w > 0x3e82c578u) {
        /* |x| > log(5/3)/2 ~= 0.2554 */
        const float t = sb_expm1f(2.0f * x);
        tt = t / (t + 2.0f);
    } else if (w >= 0x00800000u) {
        /* |x| >= 0x1p-126 */
        const float t = sb_expm1f(-2.0f * x);
        tt = -t / (t + 2.0f);
    } else {
        /* |x| is subnormal */
        // force_eval!(x * x) omitted: it only raises FP exception flags.
        tt = x;
    }
    return sign ? -tt : tt;
}

// ---------------------------------------------------------------------------------------------
// sqrtf

// Twin of samebits::math::sqrt (libm 0.2.16 sqrtf, src/math/sqrt.rs: a correctly rounded square
// root). The OpenCL built-in sqrt is correctly rounded under -cl-fp32-correctly-rounded-divide-sqrt
// (BUILD_OPTIONS in gpu-kernels/src/lib.rs; devices without CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT are
// refused), and a correctly rounded result is unique, so it has the same bits as libm's sqrtf.
float sb_sqrtf(float x) {
    return sqrt(x);
}

// ---------------------------------------------------------------------------------------------
// sigmoid

// Twin of samebits::math::sigmoid (kernel/src/math/sigmoid.rs): 1 / (1 + exp(-x)), in that
// order, with sb_expf for exp and one correctly rounded division.
float sb_sigmoidf(float x) {
    return 1.0f / (1.0f + sb_expf(-x));
}
