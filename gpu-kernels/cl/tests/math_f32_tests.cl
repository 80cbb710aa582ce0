// Element-wise test kernels over the f32 math twins (math_f32.cl, built before this file): each
// maps f32 bit patterns to the bit patterns of one function's results, so that
// tests/tests/opencl_math_f32.rs can compare them with the Rust functions bit for bit.

#pragma OPENCL FP_CONTRACT OFF

__kernel void test_expf(__global const uint* in, __global uint* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = as_uint(sb_expf(as_float(in[i])));
}

__kernel void test_logf(__global const uint* in, __global uint* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = as_uint(sb_logf(as_float(in[i])));
}

__kernel void test_tanhf(__global const uint* in, __global uint* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = as_uint(sb_tanhf(as_float(in[i])));
}

__kernel void test_sqrtf(__global const uint* in, __global uint* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = as_uint(sb_sqrtf(as_float(in[i])));
}

__kernel void test_sigmoidf(__global const uint* in, __global uint* out, uint n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = as_uint(sb_sigmoidf(as_float(in[i])));
}
