// Fixed-point math of the samebits kernel in OpenCL C: integer operations only.
//
// Twins of `samebits::fixed` (kernel/src/fixed/narrow.rs, kernel/src/fixed/math/) and of the
// per-element operations of `samebits::arith::Fixed` (kernel/src/arith/fixed.rs), following
// docs/NUMERICS.md §13 and gpu-kernels/README.md. Each function names its Rust twin and performs
// the same operations in the same order with the same constants, so that a device computes the
// same bits as the CPU. This file contains no floating-point type, literal or operation.
//
// Integer rules of OpenCL C this file relies on: `long` is 64-bit two's complement, `>>` on a
// signed value is arithmetic, signed overflow is undefined (so every operation Rust performs with
// wrapping semantics, or that might overflow, is done on `ulong` and reinterpreted with `as_long`),
// shift counts are taken modulo the width (so a shift by 64 is never written: every shift below
// has a count in 0..63, checked or proven where it is computed), and integer division truncates
// toward zero (C99).
//
// OpenCL C has no 128-bit integer. Rust's `i128` arithmetic is reproduced by `sb_i128`, a
// two's-complement (lo, hi) pair whose operations give exactly the bits of the Rust operation
// whenever the Rust operation does not overflow (and wrap like Rust's release builds when it
// does). `sb_u128` is the unsigned pair used inside the division.
//
// Saturation counts: Rust counts clamps in a `Saturations` cell per task and adds the total to a
// shared counter; here each clamp is one `atomic_inc` on a `__global uint` counter. Totals are
// equal (the Rust cell saturates at 2^32 − 1 where `atomic_inc` wraps; neither is reached).

// ---------------------------------------------------------------------------------------------
// Formats (kernel/src/fixed/mod.rs)
// ---------------------------------------------------------------------------------------------

// samebits::fixed::ACT_FRAC: fractional bits of Q16.16 activations.
#define SB_ACT_FRAC 16u
// samebits::fixed::PARAM_FRAC: fractional bits of Q8.24 parameters.
#define SB_PARAM_FRAC 24u
// samebits::fixed::SCALAR_FRAC: fractional bits of Q2.30 scalars and probabilities.
#define SB_SCALAR_FRAC 30u
// 1 in Q30 (`ONE_Q30` of kernel/src/arith/fixed.rs, math/tanh.rs, math/sigmoid.rs).
#define SB_ONE_Q30 (1L << 30)
// 1 in Q16 (`ONE_Q16` of kernel/src/arith/fixed.rs).
#define SB_ONE_Q16 (1L << 16)
// samebits::fixed::ACT_OPERAND_FRAC: fractional bits of an activation product operand (Q5.10).
#define SB_ACT_OPERAND_FRAC 10u
// samebits::fixed::WEIGHT_OPERAND_FRAC: fractional bits of a weight product operand (Q1.10).
#define SB_WEIGHT_OPERAND_FRAC 10u
// samebits::fixed::DELTA_OPERAND_FRAC: fractional bits of a delta product operand (Q−3.14).
#define SB_DELTA_OPERAND_FRAC 14u
// samebits::fixed::SHORT_OPERAND_MAX: largest magnitude of a weight or delta operand.
#define SB_SHORT_OPERAND_MAX 2047L
// samebits::fixed::PRODUCT_BLOCK: products summed in an i32 run before it is added to the i64 sum.
#define SB_PRODUCT_BLOCK 32u

// ---------------------------------------------------------------------------------------------
// Exact signed 128-bit integers: the twins of Rust's i128 operations used by the kernel
// ---------------------------------------------------------------------------------------------

// A signed 128-bit integer in two's complement: the value is hi·2^64 + lo, hi signed.
typedef struct {
    ulong lo;
    long hi;
} sb_i128;

// An unsigned 128-bit integer hi·2^64 + lo (inside the division only).
typedef struct {
    ulong lo;
    ulong hi;
} sb_u128;

// Rust: `i128::from(x)` (sign extension).
sb_i128 sb_i128_from_long(long x) {
    sb_i128 r;
    r.lo = (ulong)x;
    r.hi = x >> 63;
    return r;
}

// Rust: `x as i64` for an i128 (keeps the low 64 bits).
long sb_i128_to_long(sb_i128 x) {
    return as_long(x.lo);
}

// Rust: `x as i32` for an i128 (keeps the low 32 bits).
int sb_i128_to_int(sb_i128 x) {
    return as_int((uint)x.lo);
}

// Rust: `x as i32` for an i64 (keeps the low 32 bits; a C cast of an out-of-range value to
// int would be implementation-defined).
int sb_long_to_int(long x) {
    return as_int((uint)x);
}

// Rust: `a + b` on i128 (wrapping on overflow, as Rust's release builds; the kernel's sums
// never overflow).
sb_i128 sb_i128_add(sb_i128 a, sb_i128 b) {
    sb_i128 r;
    r.lo = a.lo + b.lo;
    ulong carry = r.lo < a.lo ? 1ul : 0ul;
    r.hi = as_long((ulong)a.hi + (ulong)b.hi + carry);
    return r;
}

// Rust: `a - b` on i128 (wrapping on overflow).
sb_i128 sb_i128_sub(sb_i128 a, sb_i128 b) {
    sb_i128 r;
    r.lo = a.lo - b.lo;
    ulong borrow = a.lo < b.lo ? 1ul : 0ul;
    r.hi = as_long((ulong)a.hi - (ulong)b.hi - borrow);
    return r;
}

// Rust: `-a` on i128 (wrapping: −i128::MIN is i128::MIN).
sb_i128 sb_i128_neg(sb_i128 a) {
    sb_i128 zero;
    zero.lo = 0ul;
    zero.hi = 0L;
    return sb_i128_sub(zero, a);
}

// Rust: `i128::from(a) * i128::from(b)`: the exact product of two i64 (it always fits).
// `mul_hi` gives the exact high half of the signed 128-bit product; the low half is the
// wrapping unsigned product.
sb_i128 sb_i128_mul_ll(long a, long b) {
    sb_i128 r;
    r.lo = (ulong)a * (ulong)b;
    r.hi = mul_hi(a, b);
    return r;
}

// Rust: `a * b` on i128 (the low 128 bits of the product, i.e. the exact product whenever it
// fits, which is every product the kernel forms). Two's complement multiplication modulo 2^128:
// lo·lo in full, plus the cross terms' low halves in the high word.
sb_i128 sb_i128_mul(sb_i128 a, sb_i128 b) {
    sb_i128 r;
    r.lo = a.lo * b.lo;
    r.hi = as_long(mul_hi(a.lo, b.lo) + a.lo * (ulong)b.hi + (ulong)a.hi * b.lo);
    return r;
}

// Rust: `a >> s` on i128 (arithmetic), for s in 0..=127.
sb_i128 sb_i128_shr(sb_i128 a, uint s) {
    sb_i128 r;
    if (s == 0u) {
        return a;
    }
    if (s < 64u) {
        r.lo = (a.lo >> s) | ((ulong)a.hi << (64u - s));
        r.hi = a.hi >> s;
    } else {
        r.lo = (ulong)(a.hi >> (s - 64u));
        r.hi = a.hi >> 63;
    }
    return r;
}

// Rust: `a << s` on i128 (bits shifted out are lost, as in Rust), for s in 0..=127.
sb_i128 sb_i128_shl(sb_i128 a, uint s) {
    sb_i128 r;
    if (s == 0u) {
        return a;
    }
    if (s < 64u) {
        r.hi = as_long(((ulong)a.hi << s) | (a.lo >> (64u - s)));
        r.lo = a.lo << s;
    } else {
        r.hi = as_long(a.lo << (s - 64u));
        r.lo = 0ul;
    }
    return r;
}

// Rust: `a == b` on i128.
bool sb_i128_eq(sb_i128 a, sb_i128 b) {
    return a.hi == b.hi && a.lo == b.lo;
}

// Rust: `a < b` on i128.
bool sb_i128_lt(sb_i128 a, sb_i128 b) {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

// Rust: `a > b` on i128.
bool sb_i128_gt(sb_i128 a, sb_i128 b) {
    return sb_i128_lt(b, a);
}

// Rust: `a <= b` on i128.
bool sb_i128_le(sb_i128 a, sb_i128 b) {
    return !sb_i128_lt(b, a);
}

// Rust: `a >= b` on i128.
bool sb_i128_ge(sb_i128 a, sb_i128 b) {
    return !sb_i128_lt(a, b);
}

// Rust: `a & 1 == 1` on i128 (the parity of a two's complement value is its lowest bit).
bool sb_i128_is_odd(sb_i128 a) {
    return (a.lo & 1ul) == 1ul;
}

// Rust: `Ord::clamp(x, lowest, highest)` on i128, for lowest <= highest.
sb_i128 sb_i128_clamp(sb_i128 x, sb_i128 lowest, sb_i128 highest) {
    if (sb_i128_lt(x, lowest)) {
        return lowest;
    }
    if (sb_i128_gt(x, highest)) {
        return highest;
    }
    return x;
}

// Leading zeros of a u128 (128 for 0).
uint sb_u128_clz(sb_u128 a) {
    return a.hi != 0ul ? (uint)clz(a.hi) : 64u + (uint)clz(a.lo);
}

// a < b on u128.
bool sb_u128_lt(sb_u128 a, sb_u128 b) {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

// ⌊n / d⌋ and n mod d on u128, d ≠ 0: restoring binary long division over the quotient's
// bits (exact integer arithmetic, so any correct algorithm gives the same result as Rust's).
void sb_u128_divmod(sb_u128 n, sb_u128 d, sb_u128* q, sb_u128* r) {
    if (n.hi == 0ul && d.hi == 0ul) {
        q->lo = n.lo / d.lo;
        q->hi = 0ul;
        r->lo = n.lo % d.lo;
        r->hi = 0ul;
        return;
    }
    q->lo = 0ul;
    q->hi = 0ul;
    if (sb_u128_lt(n, d)) {
        *r = n;
        return;
    }
    // d·2^shift has the same top bit as n; the quotient has at most shift + 1 bits.
    uint shift = sb_u128_clz(d) - sb_u128_clz(n);
    sb_u128 dd;
    if (shift == 0u) {
        dd = d;
    } else if (shift < 64u) {
        dd.hi = (d.hi << shift) | (d.lo >> (64u - shift));
        dd.lo = d.lo << shift;
    } else {
        dd.hi = d.lo << (shift - 64u);
        dd.lo = 0ul;
    }
    sb_u128 rem = n;
    for (int i = (int)shift; i >= 0; i--) {
        // q = 2q
        q->hi = (q->hi << 1) | (q->lo >> 63);
        q->lo = q->lo << 1;
        if (!sb_u128_lt(rem, dd)) {
            ulong borrow = rem.lo < dd.lo ? 1ul : 0ul;
            rem.lo = rem.lo - dd.lo;
            rem.hi = rem.hi - dd.hi - borrow;
            q->lo |= 1ul;
        }
        // dd = dd / 2
        dd.lo = (dd.lo >> 1) | (dd.hi << 63);
        dd.hi = dd.hi >> 1;
    }
    *r = rem;
}

// Rust: `n.div_euclid(d)` and `n.rem_euclid(d)` on i128, for d > 0 (the only divisors the
// kernel uses): the floor quotient and the remainder in [0, d).
void sb_i128_divmod_euclid(sb_i128 n, sb_i128 d, sb_i128* q, sb_i128* r) {
    bool negative = n.hi < 0L;
    // |n| as a u128: exact for every n, including i128::MIN (2^127).
    sb_i128 abs_n = negative ? sb_i128_neg(n) : n;
    sb_u128 un, ud, uq, ur;
    un.lo = abs_n.lo;
    un.hi = (ulong)abs_n.hi;
    ud.lo = d.lo;
    ud.hi = (ulong)d.hi;
    sb_u128_divmod(un, ud, &uq, &ur);
    sb_i128 sq, sr;
    sq.lo = uq.lo;
    sq.hi = as_long(uq.hi);
    sr.lo = ur.lo;
    sr.hi = as_long(ur.hi);
    if (!negative) {
        *q = sq;
        *r = sr;
    } else if (sr.lo == 0ul && sr.hi == 0L) {
        // n = −|n| = −(uq·d): exact.
        *q = sb_i128_neg(sq);
        *r = sr;
    } else {
        // n = −(uq·d + ur) = (−uq − 1)·d + (d − ur), with d − ur in (0, d).
        *q = sb_i128_sub(sb_i128_neg(sq), sb_i128_from_long(1L));
        *r = sb_i128_sub(d, sr);
    }
}

// ---------------------------------------------------------------------------------------------
// Narrowing: kernel/src/fixed/narrow.rs
// ---------------------------------------------------------------------------------------------

// Twin of samebits::fixed::narrow::round_shift (kernel/src/fixed/narrow.rs): x / 2^shift
// rounded to nearest, ties to even, for shift in 0..=63.
//
// Rust computes ((x as i128 + half_minus_one + odd) >> shift) as i64 with
// half_minus_one = 2^(shift−1) − 1 and odd = (x >> shift) & 1. Writing x = floor·2^shift + low
// (floor = x >> shift, low = x mod 2^shift in [0, 2^shift)), that 128-bit value is exactly
// floor + ((low + half_minus_one + odd) >> shift): the sum in the parentheses is below
// 2^shift + 2^(shift−1) ≤ 2^63 + 2^62, so it is exact in a ulong and its shift is the carry
// (0 or 1), and floor + carry cannot overflow (floor < 2^(63−shift) when the carry is 1).
// Same result as the Rust expression for every i64 x, without 128-bit arithmetic.
long sb_round_shift(long x, uint shift) {
    if (shift == 0u) {
        return x;
    }
    ulong half_minus_one = (1ul << (shift - 1u)) - 1ul;
    long fl = x >> shift; // ⌊x / 2^shift⌋
    ulong odd = (ulong)(fl & 1L);
    ulong low = (ulong)x & ((1ul << shift) - 1ul); // x − fl·2^shift, in [0, 2^shift)
    ulong carry = (low + half_minus_one + odd) >> shift;
    return fl + (long)carry;
}

// Twin of samebits::fixed::narrow::round_shift_i128 (kernel/src/fixed/narrow.rs): x / 2^shift
// rounded to nearest, ties to even, for shift in 0..=127.
sb_i128 sb_round_shift_i128(sb_i128 x, uint shift) {
    if (shift == 0u) {
        return x;
    }
    sb_i128 fl = sb_i128_shr(x, shift); // Rust: floor
    sb_i128 rest = sb_i128_sub(x, sb_i128_shl(fl, shift));
    sb_i128 halfway = sb_i128_shl(sb_i128_from_long(1L), shift - 1u); // Rust: half
    if (sb_i128_gt(rest, halfway) || (sb_i128_eq(rest, halfway) && sb_i128_is_odd(fl))) {
        return sb_i128_add(fl, sb_i128_from_long(1L));
    }
    return fl;
}

// Twin of samebits::fixed::narrow::div_round_i128 (kernel/src/fixed/narrow.rs): n / d for
// d > 0, rounded to nearest, ties to even. d ≤ 0 gives 0 (Rust: a debug assertion, then 0).
sb_i128 sb_div_round_i128(sb_i128 n, sb_i128 d) {
    sb_i128 zero = sb_i128_from_long(0L);
    if (sb_i128_le(d, zero)) {
        return zero;
    }
    sb_i128 q, r;
    sb_i128_divmod_euclid(n, d, &q, &r);
    sb_i128 twice = sb_i128_add(r, r); // Rust: 2 * r
    if (sb_i128_gt(twice, d) || (sb_i128_eq(twice, d) && sb_i128_is_odd(q))) {
        return sb_i128_add(q, sb_i128_from_long(1L));
    }
    return q;
}

// Twin of samebits::fixed::narrow::Saturations::clamp (kernel/src/fixed/narrow.rs): x clamped
// to i32, one `atomic_inc` of *sat per clamp.
int sb_clamp(long x, __global uint* sat) {
    if (x > (long)INT_MAX) {
        atomic_inc(sat);
        return INT_MAX;
    } else if (x < (long)INT_MIN) {
        atomic_inc(sat);
        return INT_MIN;
    } else {
        return (int)x;
    }
}

// Twin of samebits::fixed::narrow::Saturations::clamp_to (kernel/src/fixed/narrow.rs): x
// clamped to [lowest, highest] (Rust: `Ord::clamp`), one `atomic_inc` of *sat when it moved.
long sb_clamp_to(long x, long lowest, long highest, __global uint* sat) {
    long clamped = x < lowest ? lowest : (x > highest ? highest : x);
    if (clamped != x) {
        atomic_inc(sat);
    }
    return clamped;
}

// Twin of samebits::fixed::narrow::Saturations::narrow (kernel/src/fixed/narrow.rs):
// round_shift(x, shift) clamped to i32, counting a clamp.
int sb_narrow(long x, uint shift, __global uint* sat) {
    return sb_clamp(sb_round_shift(x, shift), sat);
}

// ---------------------------------------------------------------------------------------------
// Elementary functions: kernel/src/fixed/math/
// ---------------------------------------------------------------------------------------------

// Twin of samebits::fixed::math::div_round (kernel/src/fixed/math/div_round.rs): n / d for
// d > 0, rounded to nearest, ties to even; d ≤ 0 gives 0 (Rust: a debug assertion, then 0).
// n.div_euclid(d) and n.rem_euclid(d) for d > 0 are C's truncating quotient and remainder
// moved down by one step when the remainder is negative (exact: no overflow is possible for
// d > 0, and the quotient only moves down when n < 0 and d ≥ 2).
long sb_div_round(long n, long d) {
    if (d <= 0L) {
        return 0L;
    }
    long q = n / d;
    long r = n % d;
    if (r < 0L) {
        q -= 1L;
        r += d;
    }
    long rest = d - r; // in (0, d]: no overflow
    if (r > rest || (r == rest && (q & 1L) == 1L)) {
        return q + 1L;
    }
    return q;
}

// Twin of samebits::fixed::math::isqrt_u64 (kernel/src/fixed/math/isqrt.rs): ⌊√x⌋, exactly,
// for every u64, by the digit-by-digit method.
uint sb_isqrt_u64(ulong x) {
    if (x == 0ul) {
        return 0u;
    }
    ulong bit = 1ul << ((63ul - clz(x)) & ~1ul);
    ulong rem = x;
    ulong root = 0ul;
    while (bit != 0ul) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return (uint)root;
}

// Twin of samebits::fixed::math::sqrt_round_u64 (kernel/src/fixed/math/isqrt.rs): √x rounded
// to nearest (there are no ties), saturating at u32::MAX.
uint sb_sqrt_round_u64(ulong x) {
    uint r = sb_isqrt_u64(x);
    ulong rem = x - (ulong)r * (ulong)r;
    if (rem > (ulong)r) {
        return r == UINT_MAX ? UINT_MAX : r + 1u; // Rust: r.saturating_add(1)
    }
    return r;
}

// Constants of kernel/src/fixed/math/exp.rs and ln.rs.
// `Q`: fractional bits of the internal values.
#define SB_Q62 62u
// `ONE`: 1 in Q62.
#define SB_ONE_Q62 (1L << 62)
// exp.rs `LOG2E_Q62`: round(log2(e)·2^62).
#define SB_LOG2E_Q62 0x5c551d94ae0bf85eL
// exp.rs and ln.rs `LN2_Q62`: round(ln(2)·2^62).
#define SB_LN2_Q62 0x2c5c85fdf473de6bL
// ln.rs `SQRT2_Q62`: round(√2·2^62).
#define SB_SQRT2_Q62 0x5a827999fcef3242L
// exp.rs `TABLE_BITS`.
#define SB_EXP_TABLE_BITS 5u
// exp.rs `T_FRAC` = 16 + Q.
#define SB_EXP_T_FRAC (16u + SB_Q62)

// exp.rs `INV_FACTORIAL`: 1/k! in Q62 for k = 0..=6, each div_round(2^62, k!) (the values
// Rust's const evaluation gives; checked against samebits::fixed::math::div_round by the tests).
__constant long SB_INV_FACTORIAL[7] = {
    0x4000000000000000L, // div_round(ONE, 1)  (ONE)
    0x4000000000000000L, // div_round(ONE, 1)  (ONE)
    0x2000000000000000L, // div_round(ONE, 2)
    0x0aaaaaaaaaaaaaabL, // div_round(ONE, 6)
    0x02aaaaaaaaaaaaabL, // div_round(ONE, 24)
    0x0088888888888889L, // div_round(ONE, 120)
    0x0016c16c16c16c17L, // div_round(ONE, 720)
};

// ln.rs `INV_ODD`: 1/(2i + 1) in Q62 for i = 0..=8, each div_round(2^62, 2i + 1).
__constant long SB_INV_ODD[9] = {
    0x4000000000000000L, // ONE
    0x1555555555555555L, // div_round(ONE, 3)
    0x0ccccccccccccccdL, // div_round(ONE, 5)
    0x0924924924924925L, // div_round(ONE, 7)
    0x071c71c71c71c71cL, // div_round(ONE, 9)
    0x05d1745d1745d174L, // div_round(ONE, 11)
    0x04ec4ec4ec4ec4ecL, // div_round(ONE, 13)
    0x0444444444444444L, // div_round(ONE, 15)
    0x03c3c3c3c3c3c3c4L, // div_round(ONE, 17)
};

// exp.rs `EXP2_Q62`: 2^(j/32) in Q62 for j = 0..32, copied from the Rust table.
__constant long SB_EXP2_Q62[32] = {
    0x4000000000000000L, // 2^(0/32)
    0x4166c34c5615d0ecL, // 2^(1/32)
    0x42d561b3e6243d8aL, // 2^(2/32)
    0x444c0740496d4294L, // 2^(3/32)
    0x45cae0f1f545eb73L, // 2^(4/32)
    0x47521cc5a2e6a9e0L, // 2^(5/32)
    0x48e1e9b9d588e19bL, // 2^(6/32)
    0x4a7a77d47f7b84b1L, // 2^(7/32)
    0x4c1bf828c6dc54b8L, // 2^(8/32)
    0x4dc69cdceaa72a9cL, // 2^(9/32)
    0x4f7a993048d088d7L, // 2^(10/32)
    0x513821818624b40cL, // 2^(11/32)
    0x52ff6b54d8a89c75L, // 2^(12/32)
    0x54d0ad5a753e077cL, // 2^(13/32)
    0x56ac1f752150a563L, // 2^(14/32)
    0x5891fac0e95612c8L, // 2^(15/32)
    0x5a827999fcef3242L, // 2^(16/32)
    0x5c7dd7a3b17dcf75L, // 2^(17/32)
    0x5e8451cfac061b5fL, // 2^(18/32)
    0x6096266533384a2bL, // 2^(19/32)
    0x62b39508aa836d6fL, // 2^(20/32)
    0x64dcdec3371793d1L, // 2^(21/32)
    0x6712460a8fc24072L, // 2^(22/32)
    0x69540ec8f895722dL, // 2^(23/32)
    0x6ba27e656b4eb57aL, // 2^(24/32)
    0x6dfddbcbed791babL, // 2^(25/32)
    0x70666f76154a7089L, // 2^(26/32)
    0x72dc8373be41a454L, // 2^(27/32)
    0x75606373ee921c97L, // 2^(28/32)
    0x77f25ccdee6d7ae6L, // 2^(29/32)
    0x7a92be8a92436616L, // 2^(30/32)
    0x7d41d96db915019dL, // 2^(31/32)
};

// Twin of samebits::fixed::math::exp_q16_to_q30 (kernel/src/fixed/math/exp.rs): e^(d/2^16) in
// Q30 for d ≤ 0 in Q16; d > 0 is treated as 0. The Rust i128 values are sb_i128 here, every
// operation the same in the same order.
int sb_exp_q16_to_q30(int d) {
    if (d >= 0) {
        return 1 << 30;
    }
    // 1. t in Q78.
    sb_i128 t = sb_i128_mul_ll((long)d, SB_LOG2E_Q62);
    // 2. n = −⌊t⌋ ≥ 1, f = t + n in Q78.
    sb_i128 n = sb_i128_neg(sb_i128_shr(t, SB_EXP_T_FRAC));
    if (sb_i128_ge(n, sb_i128_from_long(32L))) {
        return 0;
    }
    sb_i128 f = sb_i128_add(t, sb_i128_shl(n, SB_EXP_T_FRAC));
    // 3. f = j/32 + r (Rust: `as usize`; j is in [0, 32)).
    uint j = (uint)sb_i128_shr(f, SB_EXP_T_FRAC - SB_EXP_TABLE_BITS).lo;
    sb_i128 r = sb_i128_sub(f, sb_i128_shl(sb_i128_from_long((long)j), SB_EXP_T_FRAC - SB_EXP_TABLE_BITS));
    // 4. y = r·ln 2 in Q62.
    r = sb_round_shift_i128(r, SB_EXP_T_FRAC - SB_Q62);
    sb_i128 y = sb_round_shift_i128(sb_i128_mul(r, sb_i128_from_long(SB_LN2_Q62)), SB_Q62);
    // 5. e^y by Horner's rule, highest degree first.
    sb_i128 p = sb_i128_from_long(SB_INV_FACTORIAL[6]);
    int k = 6;
    while (k > 0) {
        k -= 1;
        p = sb_i128_add(sb_i128_from_long(SB_INV_FACTORIAL[k]), sb_round_shift_i128(sb_i128_mul(p, y), SB_Q62));
    }
    // 6. 2^f in Q62.
    sb_i128 two_f = sb_round_shift_i128(sb_i128_mul(sb_i128_from_long(SB_EXP2_Q62[j]), p), SB_Q62);
    // 7. 2^f · 2^−n in Q30 (Rust: `n as u32`, `as i32`).
    return sb_i128_to_int(sb_round_shift_i128(two_f, (SB_Q62 - 30u) + (uint)n.lo));
}

// Twin of samebits::fixed::math::ln_q30_to_q16 (kernel/src/fixed/math/ln.rs): ln(s/2^30) in
// Q16 for s > 0; s ≤ 0 gives i32::MIN.
int sb_ln_q30_to_q16(long s) {
    if (s <= 0L) {
        return INT_MIN;
    }
    // 1. s = 2^p·m, m ∈ [1, 2) in Q62 (p ≤ 62, the shift is exact: m < 2^63).
    uint p = 63u - (uint)clz(s);
    sb_i128 m = sb_i128_from_long(as_long((ulong)s << (SB_Q62 - p)));
    // 2–3. u = (m − 1)/(m + 1), or (m − 2)/(m + 2) when m > √2.
    int k;
    sb_i128 num, den;
    sb_i128 one = sb_i128_from_long(SB_ONE_Q62);
    if (sb_i128_gt(m, sb_i128_from_long(SB_SQRT2_Q62))) {
        sb_i128 two = sb_i128_mul(sb_i128_from_long(2L), one);
        k = (int)p - 29;
        num = sb_i128_sub(m, two);
        den = sb_i128_add(m, two);
    } else {
        k = (int)p - 30;
        num = sb_i128_sub(m, one);
        den = sb_i128_add(m, one);
    }
    // num·2^62 / den rounded to nearest, ties to even.
    sb_i128 wide = sb_i128_shl(num, SB_Q62);
    sb_i128 q, r;
    sb_i128_divmod_euclid(wide, den, &q, &r);
    sb_i128 den_minus_r = sb_i128_sub(den, r);
    sb_i128 u = (sb_i128_gt(r, den_minus_r) || (sb_i128_eq(r, den_minus_r) && sb_i128_is_odd(q)))
                    ? sb_i128_add(q, sb_i128_from_long(1L))
                    : q;
    // 4. ln m = 2u·(1 + u²/3 + … + u¹⁶/17), Horner in u².
    sb_i128 u2 = sb_round_shift_i128(sb_i128_mul(u, u), SB_Q62);
    sb_i128 sum = sb_i128_from_long(SB_INV_ODD[8]);
    int i = 8;
    while (i > 0) {
        i -= 1;
        sum = sb_i128_add(sb_i128_from_long(SB_INV_ODD[i]), sb_round_shift_i128(sb_i128_mul(sum, u2), SB_Q62));
    }
    sb_i128 ln_m = sb_round_shift_i128(sb_i128_mul(sum, u), SB_Q62 - 1u);
    // 5. k·ln 2 + ln m, then the single narrowing to Q16.
    sb_i128 total = sb_i128_add(sb_i128_mul(sb_i128_from_long((long)k), sb_i128_from_long(SB_LN2_Q62)), ln_m);
    return sb_i128_to_int(sb_round_shift_i128(total, SB_Q62 - 16u));
}

// Twin of samebits::fixed::math::tanh_q16 (kernel/src/fixed/math/tanh.rs): tanh(x/2^16) in
// Q16, exactly odd.
int sb_tanh_q16(int x) {
    uint a = x < 0 ? 0u - (uint)x : (uint)x; // Rust: x.unsigned_abs(), |x| ≤ 2^31
    int arg = a >= (1u << 30) ? INT_MIN : -2 * (int)a;
    long e = (long)sb_exp_q16_to_q30(arg); // [0, 2^30]
    int t = sb_long_to_int(sb_div_round((SB_ONE_Q30 - e) << 16, SB_ONE_Q30 + e)); // [0, 2^16]
    if (x < 0) {
        return -t;
    } else {
        return t;
    }
}

// Twin of samebits::fixed::math::sigmoid_q16 (kernel/src/fixed/math/sigmoid.rs):
// σ(x/2^16) in Q16, with σ(x) + σ(−x) = 2^16 exactly.
int sb_sigmoid_q16(int x) {
    if (x >= 0) {
        long e = (long)sb_exp_q16_to_q30(-x);
        return sb_long_to_int(sb_div_round(SB_ONE_Q30 << 16, SB_ONE_Q30 + e));
    } else {
        long e = (long)sb_exp_q16_to_q30(x);
        return sb_long_to_int(sb_div_round(e << 16, SB_ONE_Q30 + e));
    }
}

// ---------------------------------------------------------------------------------------------
// The fixed path's per-element operations: samebits::arith::Fixed (kernel/src/arith/fixed.rs)
//
// Raw integers stand for the formats: Act = Q16.16 as int, Param = Q8.24 as int, Scalar =
// Q2.30 as int (their `to_bits()`), Acc = long.
// ---------------------------------------------------------------------------------------------

// Twin of Fixed::act_operand: an activation (Q16) as a product operand, Q5.10 over all of i16,
// rounded half to even, clamped and counted.
short sb_fixed_act_operand(int a, __global uint* sat) {
    long x = sb_round_shift((long)a, SB_ACT_FRAC - SB_ACT_OPERAND_FRAC);
    return (short)sb_clamp_to(x, (long)SHRT_MIN, (long)SHRT_MAX, sat);
}

// Twin of Fixed::weight_operand: a weight (Q24) as a product operand, Q1.10 in
// [−2047, 2047], rounded half to even, clamped and counted.
short sb_fixed_weight_operand(int w, __global uint* sat) {
    long x = sb_round_shift((long)w, SB_PARAM_FRAC - SB_WEIGHT_OPERAND_FRAC);
    return (short)sb_clamp_to(x, -SB_SHORT_OPERAND_MAX, SB_SHORT_OPERAND_MAX, sat);
}

// Twin of Fixed::delta_operand: a delta (Q24) as a product operand, Q−3.14 in [−2047, 2047],
// rounded half to even, clamped and counted.
short sb_fixed_delta_operand(int d, __global uint* sat) {
    long x = sb_round_shift((long)d, SB_PARAM_FRAC - SB_DELTA_OPERAND_FRAC);
    return (short)sb_clamp_to(x, -SB_SHORT_OPERAND_MAX, SB_SHORT_OPERAND_MAX, sat);
}

// Twin of Fixed::inner_mul_add: inner + a·b in i32. Exact for runs of at most
// SB_PRODUCT_BLOCK products of operands (every product is below 2^26); computed with wrapping
// (unsigned) addition, the bits of Rust's release builds should a caller break that bound.
int sb_fixed_inner_mul_add(int inner, short a, short b) {
    return as_int((uint)inner + (uint)((int)a * (int)b));
}

// Twin of Fixed::flush: a finished i32 run added to the i64 sum, wrapping addition.
long sb_fixed_flush(long acc, int inner) {
    return as_long((ulong)acc + (ulong)(long)inner);
}

// Twin of Fixed::acc_param and Fixed::acc_act: acc + x, wrapping addition.
long sb_fixed_acc_int(long acc, int x) {
    return as_long((ulong)acc + (ulong)(long)x);
}

// Twin of Fixed::acc_add: a + b of two partial sums, wrapping addition.
long sb_fixed_acc_add(long a, long b) {
    return as_long((ulong)a + (ulong)b);
}

// Twin of Fixed::forward_out: the Q20 sum (Q10 activations × Q10 weights) moved to Q24 (Rust's
// `<<` on i64, bits shifted out lost), plus the Q24 bias (wrapping addition), narrowed to Q16.
int sb_fixed_forward_out(long acc, int bias, __global uint* sat) {
    long sum = as_long(((ulong)acc << (SB_PARAM_FRAC - (SB_ACT_OPERAND_FRAC + SB_WEIGHT_OPERAND_FRAC))) +
                       (ulong)(long)bias);
    return sb_narrow(sum, SB_PARAM_FRAC - SB_ACT_FRAC, sat);
}

// Twin of Fixed::weight_grad: Q10 activations × Q14 deltas, a sum already in Q24, saturated.
int sb_fixed_weight_grad(long acc, __global uint* sat) {
    return sb_clamp(acc, sat);
}

// Twin of Fixed::bias_grad: Q24 sum → Q24 (saturated).
int sb_fixed_bias_grad(long acc, __global uint* sat) {
    return sb_clamp(acc, sat);
}

// Twin of Fixed::input_grad: Q14 deltas × Q10 weights, a sum already in Q24, saturated.
int sb_fixed_input_grad(long acc, __global uint* sat) {
    return sb_clamp(acc, sat);
}

// Twin of Fixed::loss_mean: the Q16 sum / rows, rounded half to even, clamped (the Rust
// function counts into a local `Saturations` it then drops, so no clamp is counted here either).
int sb_fixed_loss_mean(long sum, long rows) {
    long q = sb_div_round(sum, rows);
    return q > (long)INT_MAX ? INT_MAX : (q < (long)INT_MIN ? INT_MIN : (int)q);
}

// Twin of Fixed::relu: z > 0 ? z : 0 (Q16).
int sb_fixed_relu(int z) {
    return z > 0 ? z : 0;
}

// Twin of Fixed::relu_grad: a > 0 ? da : 0.
int sb_fixed_relu_grad(int a, int da) {
    return a > 0 ? da : 0;
}

// Twin of Fixed::tanh_grad: 1 − a² rounded to Q16, then da·(1 − a²) (Q40) narrowed to Q24.
// The products are formed with wrapping (unsigned) multiplication: the same bits as Rust's
// whenever they fit in an i64, which they always do for a tanh output |a| ≤ 2^16.
int sb_fixed_tanh_grad(int a, int da, __global uint* sat) {
    long a64 = (long)a;
    long one_minus_a2 = SB_ONE_Q16 - sb_round_shift(a64 * a64, SB_ACT_FRAC);
    return sb_narrow(as_long((ulong)(long)da * (ulong)one_minus_a2), SB_ACT_FRAC, sat);
}

// Twin of Fixed::sigmoid_grad: a·(1 − a) rounded to Q16, then da·a(1 − a) (Q40) narrowed to
// Q24. Wrapping products as in sb_fixed_tanh_grad (exact for a sigmoid output 0 ≤ a ≤ 2^16).
int sb_fixed_sigmoid_grad(int a, int da, __global uint* sat) {
    long a64 = (long)a;
    long slope = sb_round_shift(as_long((ulong)a64 * (ulong)(SB_ONE_Q16 - a64)), SB_ACT_FRAC);
    return sb_narrow(as_long((ulong)(long)da * (ulong)slope), SB_ACT_FRAC, sat);
}

// Twin of Fixed::tanh: tanh_q16 on the raw Q16 value.
int sb_fixed_tanh(int z) {
    return sb_tanh_q16(z);
}

// Twin of Fixed::sigmoid: sigmoid_q16 on the raw Q16 value.
int sb_fixed_sigmoid(int z) {
    return sb_sigmoid_q16(z);
}

// Twin of Fixed::scale: x (Q24) · c (Q30) = Q54, narrowed to Q24.
int sb_fixed_scale(int x, int c, __global uint* sat) {
    return sb_narrow((long)x * (long)c, SB_SCALAR_FRAC, sat);
}

// Twin of Fixed::add: a + b (Q24), saturated.
int sb_fixed_add(int a, int b, __global uint* sat) {
    return sb_clamp((long)a + (long)b, sat);
}

// Twin of Fixed::sub: a − b (Q24), saturated.
int sb_fixed_sub(int a, int b, __global uint* sat) {
    return sb_clamp((long)a - (long)b, sat);
}

// Twin of the `advance` closure of Fixed::adam_advance: β^t = round(β^(t−1) · β) in Q30, from
// the Q30 bits of β^(t−1) and of β (`Fixed::scalar(beta).to_bits()`, converted on the host).
int sb_fixed_adam_advance_power(int power, int beta) {
    return sb_long_to_int(sb_round_shift((long)power * (long)beta, SB_SCALAR_FRAC));
}

// Twin of Fixed::init_limit: sqrt(6·2^48 / n) rounded, i.e. sqrt(6/n) in Q24, for n ≥ 1.
int sb_fixed_init_limit(long n) {
    long square = sb_div_round(6L << (2u * SB_PARAM_FRAC), n);
    return as_int(sb_sqrt_round_u64((ulong)square)); // Rust: `as u64`, then `as i32`
}

// Twin of Fixed::init_weight: (2u − 1)·limit from one generator word, rounded to Q24.
int sb_fixed_init_weight(uint word, int limit) {
    long two_u_minus_one = 2L * (long)(word >> 8) - (1L << SB_PARAM_FRAC);
    return sb_long_to_int(sb_round_shift(two_u_minus_one * (long)limit, SB_PARAM_FRAC));
}

// The loop-invariant scalars of Fixed::adam_update (kernel/src/arith/fixed.rs), computed once
// per step by sb_fixed_adam_scalars.
typedef struct {
    long b1;           // β1 in Q30
    long b2;           // β2 in Q30
    long lr;           // η in Q30
    int wd;            // λ in Q30 (a Scalar)
    long one_minus_b1; // 2^30 − β1
    long one_minus_b2; // 2^30 − β2
    long c1;           // max(2^30 − β1^t, 1)
    long c2;           // max(2^30 − β2^t, 1)
    long eps;          // max(ε in Q24, 1)
} sb_fixed_adam_scalars_t;

// Twin of the preamble of Fixed::adam_update (kernel/src/arith/fixed.rs), before its loop.
// The host converts the f32 hyper-parameters once (NUMERICS.md §13.6), as the Rust function
// does with its `q30` closure and `Param::saturating_from_num`:
//   beta1_q30, beta2_q30, lr_q30, wd_q30 = Fixed::scalar(x).to_bits();
//   eps_q24 = Param::saturating_from_num(adam.eps).to_bits();
//   beta1_power_q30, beta2_power_q30 = the AdamStep's powers' to_bits().
sb_fixed_adam_scalars_t sb_fixed_adam_scalars(int beta1_q30, int beta2_q30, int lr_q30, int wd_q30, int eps_q24,
                                              int beta1_power_q30, int beta2_power_q30) {
    sb_fixed_adam_scalars_t s;
    s.b1 = (long)beta1_q30;
    s.b2 = (long)beta2_q30;
    s.lr = (long)lr_q30;
    s.wd = wd_q30;
    s.one_minus_b1 = SB_ONE_Q30 - s.b1;
    s.one_minus_b2 = SB_ONE_Q30 - s.b2;
    long c1 = SB_ONE_Q30 - (long)beta1_power_q30;
    long c2 = SB_ONE_Q30 - (long)beta2_power_q30;
    s.c1 = c1 > 1L ? c1 : 1L;
    s.c2 = c2 > 1L ? c2 : 1L;
    long eps = (long)eps_q24;
    s.eps = eps > 1L ? eps : 1L;
    return s;
}

// Twin of the loop body of Fixed::adam_update (kernel/src/arith/fixed.rs) for one parameter:
// *w the weight (Q24), grad its gradient (Q24), *m_state, *v_lo, *v_hi its three state words
// (`state[3i..3i + 3]`: m in Q24, then v in Q48 as low and high 32-bit words). Updates *w and
// the state in place, counting saturations in *sat. The pointers are private (OpenCL C 1.2): a
// kernel loads the five words from its buffers, calls this, and stores the four results back.
void sb_fixed_adam_param(sb_fixed_adam_scalars_t s, int* w, int grad, int* m_state, int* v_lo, int* v_hi,
                         __global uint* sat) {
    long g = (long)sb_fixed_add(grad, sb_fixed_scale(*w, s.wd, sat), sat);
    // m: Q30·Q24 + Q30·Q24 = Q54 → Q24 (i64 arithmetic, wrapping like Rust's release builds;
    // it cannot overflow for β1 in [0, 2)).
    int m = sb_narrow(as_long((ulong)s.b1 * (ulong)(long)*m_state + (ulong)s.one_minus_b1 * (ulong)g), SB_SCALAR_FRAC,
                      sat);
    // v: Q30·Q48 + Q30·Q48 = Q78 → Q48, in 128 bits.
    long v_old = as_long(((ulong)(long)*v_hi << 32) | (ulong)(uint)*v_lo);
    long g2 = g * g; // |g| ≤ 2^31: at most 2^62
    sb_i128 v_wide =
        sb_round_shift_i128(sb_i128_add(sb_i128_mul_ll(s.b2, v_old), sb_i128_mul_ll(s.one_minus_b2, g2)), SB_SCALAR_FRAC);
    long v = sb_i128_to_long(sb_i128_clamp(v_wide, sb_i128_from_long(0L), sb_i128_from_long(LONG_MAX)));
    *m_state = m;
    *v_lo = sb_long_to_int(v);
    *v_hi = sb_long_to_int(v >> 32);
    // m̂ = m / c1 (Q24), v̂ = v / c2 (Q48, at most 2^62).
    sb_i128 m_hat = sb_div_round_i128(sb_i128_shl(sb_i128_from_long((long)m), SB_SCALAR_FRAC), sb_i128_from_long(s.c1));
    sb_i128 v_hat = sb_i128_clamp(
        sb_div_round_i128(sb_i128_shl(sb_i128_from_long(v), SB_SCALAR_FRAC), sb_i128_from_long(s.c2)),
        sb_i128_from_long(0L), sb_i128_from_long(1L << 62));
    sb_i128 denominator =
        sb_i128_add(sb_i128_from_long((long)sb_sqrt_round_u64(v_hat.lo)), sb_i128_from_long(s.eps));
    // (η·m̂) / (√v̂ + ε): Q30·Q24 / (Q24·2^6) = Q24.
    sb_i128 update = sb_div_round_i128(sb_i128_mul(sb_i128_from_long(s.lr), m_hat),
                                       sb_i128_shl(denominator, SB_SCALAR_FRAC - SB_PARAM_FRAC));
    sb_i128 w_new = sb_i128_clamp(sb_i128_sub(sb_i128_from_long((long)*w), update), sb_i128_from_long(LONG_MIN),
                                  sb_i128_from_long(LONG_MAX));
    *w = sb_clamp(sb_i128_to_long(w_new), sat);
}
