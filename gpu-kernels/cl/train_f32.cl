// The float path's training step in OpenCL C: twins of `samebits::model::Trainer::train_step`
// (kernel/src/model/trainer.rs) with `samebits::arith::Float`, operation by operation
// (docs/NUMERICS.md §5, §6, §7, §9, §10).
//
// Built after math_f32.cl (FLOAT_PROGRAM), whose sb_expf, sb_logf, sb_tanhf, sb_sigmoidf and
// sb_sqrtf are the twins of samebits::math. Every sum is one work item's sequential loop in the
// order the contract writes; no two work items ever add into the same value, so the device's
// scheduling cannot change a bit. Every float literal has an `f` suffix (an unsuffixed literal is
// a double). The host side is harness/src/opencl/trainer.rs; each kernel's argument list is the
// same as its namesake in train_fixed.cl, so that one host loop drives both paths.
//
// Buffers: `acts` holds the gathered input and every layer's output, each region max_batch rows
// (offsets from the host); `params`, `grads` and `state` are laid out as the kernel's Trainer lays
// them out (layer 1 weights `inputs × outputs` row-major, layer 1 biases, layer 2 weights, …;
// optimizer state interleaved per parameter); `partials` holds chunk c's partial of parameter e
// at `c·stride + e`; `status` is the step's report read back by the host (SB_STATUS_* below).

#pragma OPENCL FP_CONTRACT OFF

// Words of the status buffer (harness/src/opencl/trainer.rs: STATUS_*).
#define SB_STATUS_LOSS 0u        // the batch's mean loss, as its bits
#define SB_STATUS_LOSS_BAD 1u    // 1 when the loss is NaN or infinite
#define SB_STATUS_GRAD_FIRST 2u  // first non-finite gradient's index (UINT_MAX: none)
#define SB_STATUS_PARAM_FIRST 3u // first non-finite updated parameter's index (UINT_MAX: none)
#define SB_STATUS_SAT 4u         // saturations (always 0 on this path)

// Activation codes (harness/src/opencl/trainer.rs: activation_code).
#define SB_ACT_NONE 0u
#define SB_ACT_RELU 1u
#define SB_ACT_TANH 2u
#define SB_ACT_SIGMOID 3u

// BATCH_CHUNK of kernel/src/linalg/tree_sum.rs (NUMERICS.md §5.2).
#define SB_BATCH_CHUNK 16u
// Deepest stack sb_tree_*_push needs: one entry per bit of a 32-bit chunk count, plus one.
#define SB_TREE_DEPTH 33

// Twin of `!f32::is_finite` (Float::param_is_finite / act_is_finite): exponent all ones.
bool sb_nonfinite(float x) {
    return (as_uint(x) & 0x7f800000u) == 0x7f800000u;
}

// Twin of Float::relu (kernel/src/arith/float.rs): z > 0 ? z : +0.
float sb_relu(float z) {
    return z > 0.0f ? z : 0.0f;
}

// Twin of Activation::forward (kernel/src/layers/activation.rs) for one value, Float.
float sb_activation_forward(uint activation, float z) {
    if (activation == SB_ACT_RELU) {
        return sb_relu(z);
    } else if (activation == SB_ACT_TANH) {
        return sb_tanhf(z); // Float::tanh = samebits::math::tanh
    } else if (activation == SB_ACT_SIGMOID) {
        return sb_sigmoidf(z); // Float::sigmoid = samebits::math::sigmoid
    }
    return z;
}

// Twin of Activation::backward (kernel/src/layers/activation.rs) for one value, Float:
// Float::relu_grad, Float::tanh_grad `da · (1 − a·a)`, Float::sigmoid_grad `da · (a · (1 − a))`.
float sb_activation_backward(uint activation, float a, float da) {
    if (activation == SB_ACT_RELU) {
        return a > 0.0f ? da : 0.0f;
    } else if (activation == SB_ACT_TANH) {
        return da * (1.0f - a * a);
    } else if (activation == SB_ACT_SIGMOID) {
        return da * (a * (1.0f - a));
    }
    return da;
}

// The pairwise tree of NUMERICS.md §5.2 over partials pushed one at a time, left to right: twin of
// `tree` in kernel/src/linalg/tree_sum.rs (split at the largest power of two below the length,
// left part first), without recursion. Pushing merges equal-sized complete subtrees as a binary
// counter does, `left + right`, so the stack holds the complete subtrees of sizes the binary digits
// of n, largest first; sb_tree_f32_finish adds them right to left, `left + (rest)`, which is the
// recursive split: tree(7) = T4 + (T2 + T1).
typedef struct {
    float value[SB_TREE_DEPTH];
    uint size[SB_TREE_DEPTH];
    int top;
} sb_tree_f32;

void sb_tree_f32_push(sb_tree_f32* t, float v) {
    uint size = 1u;
    while (t->top > 0 && t->size[t->top - 1] == size) {
        t->top -= 1;
        v = t->value[t->top] + v;
        size *= 2u;
    }
    t->value[t->top] = v;
    t->size[t->top] = size;
    t->top += 1;
}

float sb_tree_f32_finish(sb_tree_f32* t) {
    float acc = t->value[t->top - 1];
    for (int i = t->top - 2; i >= 0; i--) {
        acc = t->value[i] + acc;
    }
    return acc;
}

// Twin of the gather at the start of Trainer::train_step: input row r ← features row indices[r].
// One work item per input value.
__kernel void sb_gather(__global const float* features, __global const uint* indices, __global float* acts,
                        uint rows, uint inputs) {
    uint g = get_global_id(0);
    if (g >= rows * inputs) {
        return;
    }
    uint r = g / inputs;
    uint i = g % inputs;
    acts[g] = features[indices[r] * inputs + i];
}

// Twin of `forward` in trainer.rs for one layer: Dense::forward (kernel/src/layers/dense.rs, the
// §5.1 product of linalg/matmul.rs: inner = +0, then inner + x·w for i ascending; Float::flush
// keeps the run, Float::forward_out adds the bias last) and Activation::forward. One work item per
// output z[r][o]. On this path the product operands are the values themselves (x from `acts`,
// w from `params`); `status` is unused (the fixed twin counts saturations in it).
__kernel void sb_dense_forward(__global const float* x, uint x_off, __global const float* w, uint w_off,
                               __global const float* params, uint b_off, __global float* acts, uint z_off, uint rows,
                               uint inputs, uint outputs, uint activation, __global uint* status) {
    uint g = get_global_id(0);
    if (g >= rows * outputs) {
        return;
    }
    uint r = g / outputs;
    uint o = g % outputs;
    __global const float* x_row = x + x_off + r * inputs;
    __global const float* w_col = w + w_off + o;
    float inner = 0.0f;
    for (uint i = 0u; i < inputs; i++) {
        inner = inner + x_row[i] * w_col[i * outputs];
    }
    float z = inner + params[b_off + o];
    acts[z_off + g] = sb_activation_forward(activation, z);
}

// Twin of samebits::layers::softmax_cross_entropy_row (kernel/src/layers/softmax_ce.rs, NUMERICS.md
// §6.3) as `loss_and_output_gradient` in trainer.rs calls it: one work item per batch row writes
// the row's dL/dz into `dz` and its loss into `loss_rows`.
__kernel void sb_softmax_ce(__global const float* acts, uint z_off, __global const uint* labels,
                            __global const uint* indices, __global float* dz, __global float* loss_rows, uint rows,
                            uint classes, __global uint* status) {
    uint r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    __global const float* z = acts + z_off + r * classes;
    __global float* d = dz + r * classes;
    uint label = labels[indices[r]];
    // argmax: the first index of the maximum (strict > scan).
    uint best = 0u;
    for (uint j = 1u; j < classes; j++) {
        if (z[j] > z[best]) {
            best = j;
        }
    }
    float m = z[best];
    float z_y = z[label];
    float s = 0.0f;
    for (uint j = 0u; j < classes; j++) {
        float e = sb_expf(z[j] - m);
        d[j] = e;
        s = s + e;
    }
    float loss = sb_logf(s) - (z_y - m);
    float batch = (float)rows; // exact: rows < 2^24
    for (uint j = 0u; j < classes; j++) {
        float p = d[j] / s;
        d[j] = (j == label ? p - 1.0f : p) / batch;
    }
    loss_rows[r] = loss;
}

// Twin of the loss sum of `loss_and_output_gradient` in trainer.rs: chunk sums of 16 rows,
// ascending from +0 (Float::acc_act), the §5.2 tree (Float::acc_add), then Float::loss_mean (one
// division by the row count); and of the loss check of Trainer::train_step. One work item.
__kernel void sb_loss_mean(__global const float* loss_rows, uint rows, __global uint* status) {
    if (get_global_id(0) != 0u) {
        return;
    }
    sb_tree_f32 tree;
    tree.top = 0;
    for (uint r0 = 0u; r0 < rows; r0 += SB_BATCH_CHUNK) {
        uint r1 = min(rows, r0 + SB_BATCH_CHUNK);
        float chunk = 0.0f;
        for (uint r = r0; r < r1; r++) {
            chunk = chunk + loss_rows[r];
        }
        sb_tree_f32_push(&tree, chunk);
    }
    float loss = sb_tree_f32_finish(&tree) / (float)rows;
    status[SB_STATUS_LOSS] = as_uint(loss);
    status[SB_STATUS_LOSS_BAD] = sb_nonfinite(loss) ? 1u : 0u;
}

// Twin of the chunk loop of `backward` in trainer.rs with Dense::backward_params: for chunk c of
// the batch (rows 16c … min(16c + 16, rows) − 1), dw[i][o] = Σ_r x[r][i]·dz[r][o] (the §5.1 product
// xᵀ·dz, r ascending from +0) and db[o] = Σ_r dz[r][o] (Float::acc_param, r ascending from +0),
// stored at partials[c·stride + offset + e] for the layer's parameter e (weights, then biases).
// One work item per (chunk, parameter of the layer).
__kernel void sb_dense_backward_params(__global const float* x, uint x_off, __global const float* dz_ops,
                                       __global const float* dz, __global float* partials, uint rows, uint inputs,
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
    float acc = 0.0f;
    if (e < inputs * outputs) {
        uint i = e / outputs;
        uint o = e % outputs;
        for (uint r = r0; r < r1; r++) {
            acc = acc + x[x_off + r * inputs + i] * dz_ops[r * outputs + o];
        }
    } else {
        uint o = e - inputs * outputs;
        for (uint r = r0; r < r1; r++) {
            acc = acc + dz[r * outputs + o];
        }
    }
    partials[c * stride + offset + e] = acc;
}

// Twin of the input-gradient step of `backward` in trainer.rs: Dense::backward_input
// (dx[r][i] = Σ_o dz[r][o]·w[i][o], o ascending from +0, the §5.1 product dz·Wᵀ; Float::input_grad
// keeps it) then Activation::backward of the previous layer through its output a (in `acts`).
// One work item per dx[r][i].
__kernel void sb_dense_backward_input(__global const float* dz_ops, __global const float* w, uint w_off,
                                      __global const float* acts, uint a_off, __global float* dx, uint rows,
                                      uint inputs, uint outputs, uint activation, __global uint* status) {
    uint g = get_global_id(0);
    if (g >= rows * inputs) {
        return;
    }
    uint r = g / inputs;
    uint i = g % inputs;
    __global const float* dz_row = dz_ops + r * outputs;
    __global const float* w_row = w + w_off + i * outputs;
    float inner = 0.0f;
    for (uint o = 0u; o < outputs; o++) {
        inner = inner + dz_row[o] * w_row[o];
    }
    dx[g] = sb_activation_backward(activation, acts[a_off + g], inner);
}

// Twin of `combine_partials` in trainer.rs: grads[e] = the §5.2 tree (tree_sum_with, Float::acc_add)
// over the chunk partials of parameter e, then Float::weight_grad / Float::bias_grad (both keep the
// sum). Not run after a non-finite loss (train_step stops before it). One work item per parameter.
__kernel void sb_combine(__global const float* partials, __global float* grads, uint n, uint nchunks, uint stride,
                         __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n || status[SB_STATUS_LOSS_BAD] != 0u) {
        return;
    }
    sb_tree_f32 tree;
    tree.top = 0;
    for (uint c = 0u; c < nchunks; c++) {
        sb_tree_f32_push(&tree, partials[c * stride + e]);
    }
    grads[e] = sb_tree_f32_finish(&tree);
}

// Twin of `first_nonfinite` in trainer.rs (NUMERICS.md §10): the smallest index of a NaN or
// infinity among values[0 … n−1] goes to status[slot] (atomic_min; the host maps it to layer,
// tensor and element). One work item per value.
__kernel void sb_first_nonfinite(__global const float* values, uint n, __global uint* status, uint slot) {
    uint e = get_global_id(0);
    if (e < n && sb_nonfinite(values[e])) {
        atomic_min(status + slot, e);
    }
}

// Whether train_step has stopped before its update (a non-finite loss or gradient).
bool sb_stopped(__global const uint* status) {
    return status[SB_STATUS_LOSS_BAD] != 0u || status[SB_STATUS_GRAD_FIRST] != UINT_MAX;
}

// Twin of Sgd::update with Float (the default Arithmetic::sgd_update: Float::scale `c · x`,
// Float::add, Float::sub; NUMERICS.md §7.1), per parameter: g = grad + (λ·w); v = (μ·v) + g;
// w = w − (η·v). One work item per parameter.
__kernel void sb_sgd(__global float* params, __global const float* grads, __global float* state, uint n, float lr,
                     float momentum, float weight_decay, __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n || sb_stopped(status)) {
        return;
    }
    float w = params[e];
    float g = grads[e] + weight_decay * w;
    float v = momentum * state[e] + g;
    state[e] = v;
    params[e] = w - lr * v;
}

// Twin of samebits::optim::adam_update_f32 (kernel/src/optim/adam.rs, NUMERICS.md §7.2) for one
// parameter, state [m, v] interleaved; beta1_power and beta2_power are the step's AdamStep
// (advanced on the host by Float::adam_advance). One work item per parameter.
__kernel void sb_adam(__global float* params, __global const float* grads, __global float* state, uint n, float lr,
                      float beta1, float beta2, float eps, float weight_decay, float beta1_power, float beta2_power,
                      __global uint* status) {
    uint e = get_global_id(0);
    if (e >= n || sb_stopped(status)) {
        return;
    }
    float one_minus_b1 = 1.0f - beta1;
    float one_minus_b2 = 1.0f - beta2;
    float c1 = 1.0f - beta1_power;
    float c2 = 1.0f - beta2_power;
    float w = params[e];
    float g = grads[e] + weight_decay * w;
    float m = beta1 * state[2u * e] + one_minus_b1 * g;
    float v = beta2 * state[2u * e + 1u] + one_minus_b2 * (g * g);
    state[2u * e] = m;
    state[2u * e + 1u] = v;
    params[e] = w - (lr * (m / c1)) / (sb_sqrtf(v / c2) + eps);
}
