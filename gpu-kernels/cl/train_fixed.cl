// The fixed path's training step in OpenCL C: twins of `samebits::model::Trainer::train_step`
// (kernel/src/model/trainer.rs) with `samebits::arith::Fixed` (kernel/src/arith/fixed.rs),
// operation by operation (docs/NUMERICS.md §13, with the orders of §5 and the run of §9).
//
// Built after math_fixed.cl (FIXED_PROGRAM), whose sb_* helpers are the twins of the per-element
// operations of Fixed and of samebits::fixed. Integer operations only. Sums of products are exact
// (runs of at most SB_PRODUCT_BLOCK products in an i32, added to an i64), so their order cannot
// change a bit; they are still formed in the order of §5.1 and §5.2. Values are narrowed only
// where the Rust code narrows them, with the same helpers; every clamp is one atomic_inc of
// status[SB_STATUS_SAT], and each value is converted to its product operand exactly once per step
// (weights) or per layer (activations, deltas), as the Rust trainer does, so the counts are equal.
// Each kernel's argument list is that of its namesake in train_f32.cl (harness/src/opencl/
// trainer.rs drives both); raw integers stand for the formats: Q16.16 activations and Q8.24
// parameters as int, operands as short, accumulators as long.

// Words of the status buffer (harness/src/opencl/trainer.rs: STATUS_*).
#define SB_STATUS_LOSS 0u        // the batch's mean loss (Q16 bits)
#define SB_STATUS_LOSS_BAD 1u    // never set: fixed-point values are always finite
#define SB_STATUS_GRAD_FIRST 2u  // never set
#define SB_STATUS_PARAM_FIRST 3u // never set
#define SB_STATUS_SAT 4u         // saturations of the step (NUMERICS.md §13.3)

// Activation codes (harness/src/opencl/trainer.rs: activation_code).
#define SB_ACT_NONE 0u
#define SB_ACT_RELU 1u
#define SB_ACT_TANH 2u
#define SB_ACT_SIGMOID 3u

// BATCH_CHUNK of kernel/src/linalg/tree_sum.rs (NUMERICS.md §5.2).
#define SB_BATCH_CHUNK 16u
// Deepest stack sb_tree_long_push needs: one entry per bit of a 32-bit chunk count, plus one.
#define SB_TREE_DEPTH 33

// Operand kinds of sb_operands.
#define SB_OPERAND_ACT 0u
#define SB_OPERAND_WEIGHT 1u
#define SB_OPERAND_DELTA 2u

// Twin of Activation::forward (kernel/src/layers/activation.rs) for one value, Fixed.
int sb_activation_forward(uint activation, int z) {
    if (activation == SB_ACT_RELU) {
        return sb_fixed_relu(z);
    } else if (activation == SB_ACT_TANH) {
        return sb_fixed_tanh(z);
    } else if (activation == SB_ACT_SIGMOID) {
        return sb_fixed_sigmoid(z);
    }
    return z;
}

// Twin of Activation::backward (kernel/src/layers/activation.rs) for one value, Fixed.
int sb_activation_backward(uint activation, int a, int da, __global uint* sat) {
    if (activation == SB_ACT_RELU) {
        return sb_fixed_relu_grad(a, da);
    } else if (activation == SB_ACT_TANH) {
        return sb_fixed_tanh_grad(a, da, sat);
    } else if (activation == SB_ACT_SIGMOID) {
        return sb_fixed_sigmoid_grad(a, da, sat);
    }
    return da;
}

// The pairwise tree of NUMERICS.md §5.2 (twin of `tree` in kernel/src/linalg/tree_sum.rs with
// Fixed::acc_add), partials pushed left to right; the same stack as sb_tree_f32 in train_f32.cl.
// Wrapping i64 addition is associative, so any grouping gives these bits; the tree is kept so that
// the two paths perform the same steps.
typedef struct {
    long value[SB_TREE_DEPTH];
    uint size[SB_TREE_DEPTH];
    int top;
} sb_tree_long;

void sb_tree_long_push(sb_tree_long* t, long v) {
    uint size = 1u;
    while (t->top > 0 && t->size[t->top - 1] == size) {
        t->top -= 1;
        v = sb_fixed_acc_add(t->value[t->top], v);
        size *= 2u;
    }
    t->value[t->top] = v;
    t->size[t->top] = size;
    t->top += 1;
}

long sb_tree_long_finish(sb_tree_long* t) {
    long acc = t->value[t->top - 1];
    for (int i = t->top - 2; i >= 0; i--) {
        acc = sb_fixed_acc_add(t->value[i], acc);
    }
    return acc;
}

// Twin of the gather at the start of Trainer::train_step: input row r ← features row indices[r]
// (Q16 words). One work item per input value.
__kernel void sb_gather(__global const int* features, __global const uint* indices, __global int* acts, uint rows,
                        uint inputs) {
    uint g = get_global_id(0);
    if (g >= rows * inputs) {
        return;
    }
    uint r = g / inputs;
    uint i = g % inputs;
    acts[g] = features[indices[r] * inputs + i];
}

// Twin of `to_operands` in trainer.rs with Fixed::act_operands_into (kind SB_OPERAND_ACT, from
// Q16 activations), Fixed::weight_operands_into (SB_OPERAND_WEIGHT, from Q24 weights) or
// Fixed::delta_operands_into (SB_OPERAND_DELTA, from Q24 deltas): dst[dst_off + e] ← the operand
// of src[src_off + e] for e < n, clamps counted. One work item per value.
__kernel void sb_operands(__global const int* src, uint src_off, __global short* dst, uint dst_off, uint n, uint kind,
                          __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n) {
        return;
    }
    __global uint* sat = status + SB_STATUS_SAT;
    int v = src[src_off + e];
    short op;
    if (kind == SB_OPERAND_ACT) {
        op = sb_fixed_act_operand(v, sat);
    } else if (kind == SB_OPERAND_WEIGHT) {
        op = sb_fixed_weight_operand(v, sat);
    } else {
        op = sb_fixed_delta_operand(v, sat);
    }
    dst[dst_off + e] = op;
}

// Twin of `forward` in trainer.rs for one layer: Dense::forward (the §5.1 product of
// linalg/matmul.rs over operands, in runs of SB_PRODUCT_BLOCK: inner = 0, inner + x·w with
// Fixed::inner_mul_add, Fixed::flush into the i64 sum), Fixed::forward_out (bias, narrowing to
// Q16) and Activation::forward. x are the layer input's operands, w the weights' operands (laid
// out like the parameters), the bias read from `params`. One work item per output z[r][o].
__kernel void sb_dense_forward(__global const short* x, uint x_off, __global const short* w, uint w_off,
                               __global const int* params, uint b_off, __global int* acts, uint z_off, uint rows,
                               uint inputs, uint outputs, uint activation, __global uint* status) {
    uint g = get_global_id(0);
    if (g >= rows * outputs) {
        return;
    }
    __global uint* sat = status + SB_STATUS_SAT;
    uint r = g / outputs;
    uint o = g % outputs;
    __global const short* x_row = x + x_off + r * inputs;
    __global const short* w_col = w + w_off + o;
    long acc = 0L;
    for (uint p0 = 0u; p0 < inputs; p0 += SB_PRODUCT_BLOCK) {
        uint p1 = min(inputs, p0 + SB_PRODUCT_BLOCK);
        int inner = 0;
        for (uint i = p0; i < p1; i++) {
            inner = sb_fixed_inner_mul_add(inner, x_row[i], w_col[i * outputs]);
        }
        acc = sb_fixed_flush(acc, inner);
    }
    int z = sb_fixed_forward_out(acc, params[b_off + o], sat);
    acts[z_off + g] = sb_activation_forward(activation, z);
}

// Twin of Fixed::softmax_cross_entropy_row (kernel/src/arith/fixed.rs, NUMERICS.md §13.5) as
// `loss_and_output_gradient` in trainer.rs calls it: one work item per batch row writes the
// row's dL/dz (Q24) into `dz` and its loss (Q16) into `loss_rows`.
__kernel void sb_softmax_ce(__global const int* acts, uint z_off, __global const uint* labels,
                            __global const uint* indices, __global int* dz, __global int* loss_rows, uint rows,
                            uint classes, __global uint* status) {
    uint r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    __global uint* sat = status + SB_STATUS_SAT;
    __global const int* z = acts + z_off + r * classes;
    __global int* d = dz + r * classes;
    uint label = labels[indices[r]];
    // argmax: the first index of the maximum (strict > scan).
    uint best = 0u;
    for (uint j = 1u; j < classes; j++) {
        if (z[j] > z[best]) {
            best = j;
        }
    }
    long m = (long)z[best];
    long s = 0L;
    for (uint j = 0u; j < classes; j++) {
        // z_j − m ≤ 0; below i32::MIN exp is 0 anyway.
        long diff = (long)z[j] - m;
        int e = sb_exp_q16_to_q30((int)(diff > (long)INT_MIN ? diff : (long)INT_MIN));
        d[j] = e; // e_j (Q30) is parked in dz until the sum is known
        s += (long)e;
    }
    long loss = (long)sb_ln_q30_to_q16(s) - ((long)z[label] - m);
    // p (Q30) − [j = y] divided by batch·2⁶ is (p − [j = y]) / batch in Q24.
    long divisor = (long)rows << (SB_SCALAR_FRAC - SB_PARAM_FRAC);
    for (uint j = 0u; j < classes; j++) {
        long p = sb_div_round((long)d[j] << SB_SCALAR_FRAC, s);
        long target = j == label ? SB_ONE_Q30 : 0L;
        d[j] = sb_clamp(sb_div_round(p - target, divisor), sat);
    }
    loss_rows[r] = sb_clamp(loss, sat);
}

// Twin of the loss sum of `loss_and_output_gradient` in trainer.rs: chunk sums of 16 rows from 0
// (Fixed::acc_act), the §5.2 tree (Fixed::acc_add), then Fixed::loss_mean. One work item.
__kernel void sb_loss_mean(__global const int* loss_rows, uint rows, __global uint* status) {
    if (get_global_id(0) != 0u) {
        return;
    }
    sb_tree_long tree;
    tree.top = 0;
    for (uint r0 = 0u; r0 < rows; r0 += SB_BATCH_CHUNK) {
        uint r1 = min(rows, r0 + SB_BATCH_CHUNK);
        long chunk = 0L;
        for (uint r = r0; r < r1; r++) {
            chunk = sb_fixed_acc_int(chunk, loss_rows[r]);
        }
        sb_tree_long_push(&tree, chunk);
    }
    status[SB_STATUS_LOSS] = as_uint(sb_fixed_loss_mean(sb_tree_long_finish(&tree), (long)rows));
    status[SB_STATUS_LOSS_BAD] = 0u;
}

// Twin of the chunk loop of `backward` in trainer.rs with Dense::backward_params: for chunk c
// (rows 16c … min(16c + 16, rows) − 1), dw[i][o] = Σ_r x[r][i]·dz[r][o] over the operands (runs of
// SB_PRODUCT_BLOCK products, r ascending) and db[o] = Σ_r dz[r][o] over the stored Q24 deltas
// (Fixed::acc_param), stored at partials[c·stride + offset + e]. x are the layer input's operands
// (from its forward pass), dz_ops the deltas' operands. One work item per (chunk, parameter).
__kernel void sb_dense_backward_params(__global const short* x, uint x_off, __global const short* dz_ops,
                                       __global const int* dz, __global long* partials, uint rows, uint inputs,
                                       uint outputs, uint stride, uint offset) {
    uint params_len = inputs * outputs + outputs;
    uint g = get_global_id(0);
    uint nchunks = (rows + SB_BATCH_CHUNK - 1u) / SB_BATCH_CHUNK;
    if (g >= nchunks * params_len) {
        return;
    }
    uint c = g / params_len;
    uint e = g % params_len;
    uint r0 = c * SB_BATCH_CHUNK;
    uint r1 = min(rows, r0 + SB_BATCH_CHUNK);
    long acc = 0L;
    if (e < inputs * outputs) {
        uint i = e / outputs;
        uint o = e % outputs;
        for (uint p0 = r0; p0 < r1; p0 += SB_PRODUCT_BLOCK) {
            uint p1 = min(r1, p0 + SB_PRODUCT_BLOCK);
            int inner = 0;
            for (uint r = p0; r < p1; r++) {
                inner = sb_fixed_inner_mul_add(inner, x[x_off + r * inputs + i], dz_ops[r * outputs + o]);
            }
            acc = sb_fixed_flush(acc, inner);
        }
    } else {
        uint o = e - inputs * outputs;
        for (uint r = r0; r < r1; r++) {
            acc = sb_fixed_acc_int(acc, dz[r * outputs + o]);
        }
    }
    partials[c * stride + offset + e] = acc;
}

// Twin of the input-gradient step of `backward` in trainer.rs: Dense::backward_input over operands
// (dx[r][i] = Σ_o dz[r][o]·w[i][o], runs of SB_PRODUCT_BLOCK, o ascending; Fixed::input_grad) then
// Activation::backward of the previous layer through its output a (in `acts`). One work item per
// dx[r][i].
__kernel void sb_dense_backward_input(__global const short* dz_ops, __global const short* w, uint w_off,
                                      __global const int* acts, uint a_off, __global int* dx, uint rows, uint inputs,
                                      uint outputs, uint activation, __global uint* status) {
    uint g = get_global_id(0);
    if (g >= rows * inputs) {
        return;
    }
    __global uint* sat = status + SB_STATUS_SAT;
    uint r = g / inputs;
    uint i = g % inputs;
    __global const short* dz_row = dz_ops + r * outputs;
    __global const short* w_row = w + w_off + i * outputs;
    long acc = 0L;
    for (uint p0 = 0u; p0 < outputs; p0 += SB_PRODUCT_BLOCK) {
        uint p1 = min(outputs, p0 + SB_PRODUCT_BLOCK);
        int inner = 0;
        for (uint o = p0; o < p1; o++) {
            inner = sb_fixed_inner_mul_add(inner, dz_row[o], w_row[o]);
        }
        acc = sb_fixed_flush(acc, inner);
    }
    int da = sb_fixed_input_grad(acc, sat);
    dx[g] = sb_activation_backward(activation, acts[a_off + g], da, sat);
}

// Twin of `combine_partials` in trainer.rs: grads[e] = the §5.2 tree over the chunk partials of
// parameter e, then Fixed::weight_grad or Fixed::bias_grad — both `clamp` to i32, counted, so one
// call serves weights and biases. One work item per parameter.
__kernel void sb_combine(__global const long* partials, __global int* grads, uint n, uint nchunks, uint stride,
                         __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n || status[SB_STATUS_LOSS_BAD] != 0u) {
        return;
    }
    sb_tree_long tree;
    tree.top = 0;
    for (uint c = 0u; c < nchunks; c++) {
        sb_tree_long_push(&tree, partials[c * stride + e]);
    }
    grads[e] = sb_fixed_weight_grad(sb_tree_long_finish(&tree), status + SB_STATUS_SAT);
}

// Twin of `first_nonfinite` in trainer.rs: fixed-point values are always finite
// (Fixed::param_is_finite), so this reports nothing; kept so that both programs have the kernel.
__kernel void sb_first_nonfinite(__global const int* values, uint n, __global uint* status, uint slot) {
}

// Twin of Sgd::update with Fixed (NUMERICS.md §13.7): the formula of the default
// Arithmetic::sgd_update with Fixed::scale, Fixed::add and Fixed::sub, whose results and clamp
// counts Fixed's faster loops reproduce (tested in kernel/src/arith/fixed.rs). lr, momentum and
// weight_decay are the Q30 bits of Fixed::scalar of each. One work item per parameter.
__kernel void sb_sgd(__global int* params, __global const int* grads, __global int* state, uint n, int lr,
                     int momentum, int weight_decay, __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n) {
        return;
    }
    __global uint* sat = status + SB_STATUS_SAT;
    int w = params[e];
    int g = sb_fixed_add(grads[e], sb_fixed_scale(w, weight_decay, sat), sat);
    int v = sb_fixed_add(sb_fixed_scale(state[e], momentum, sat), g, sat);
    state[e] = v;
    params[e] = sb_fixed_sub(w, sb_fixed_scale(v, lr, sat), sat);
}

// Twin of Fixed::adam_update (kernel/src/arith/fixed.rs, NUMERICS.md §13.7) for one parameter,
// state [m, v low word, v high word]: sb_fixed_adam_scalars and sb_fixed_adam_param of
// math_fixed.cl. The arguments are the Q30 bits of Fixed::scalar of lr, β1, β2 and λ, ε in Q24
// (Param::saturating_from_num), and the step's AdamStep powers (advanced on the host by
// Fixed::adam_advance). One work item per parameter.
__kernel void sb_adam(__global int* params, __global const int* grads, __global int* state, uint n, int lr, int beta1,
                      int beta2, int eps, int weight_decay, int beta1_power, int beta2_power,
                      __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n) {
        return;
    }
    sb_fixed_adam_scalars_t s =
        sb_fixed_adam_scalars(beta1, beta2, lr, weight_decay, eps, beta1_power, beta2_power);
    int w = params[e];
    int m = state[3u * e];
    int v_lo = state[3u * e + 1u];
    int v_hi = state[3u * e + 2u];
    sb_fixed_adam_param(s, &w, grads[e], &m, &v_lo, &v_hi, status + SB_STATUS_SAT);
    params[e] = w;
    state[3u * e] = m;
    state[3u * e + 1u] = v_lo;
    state[3u * e + 2u] = v_hi;
}
