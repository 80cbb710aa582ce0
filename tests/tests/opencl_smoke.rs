//! The OpenCL runtime itself: a device opens, a program builds, buffers round-trip.
// WebAssembly has no OpenCL (the harness only refuses there), so these tests do not exist there.
#![cfg(not(target_family = "wasm"))]

use samebits_tests::opencl::gpu;

#[test]
fn a_trivial_kernel_runs_and_copies_bits() {
    let Some(gpu) = gpu() else { return };
    let built = gpu
        .build(&["__kernel void copy(__global const uint* in, __global uint* out, uint n) { size_t i = get_global_id(0); if (i < n) out[i] = in[i] ^ 1u; }"])
        .unwrap();
    let input: Vec<u32> = (0..1000).collect();
    let out: Vec<u32> = gpu.map(&built, "copy", &input).unwrap();
    assert_eq!(out, input.iter().map(|v| v ^ 1).collect::<Vec<_>>());
}

#[test]
fn a_build_error_carries_the_build_log() {
    let Some(gpu) = gpu() else { return };
    let err = gpu.build(&["__kernel void broken(__global uint* out) { out[0] = undefined_name; }"]).err().unwrap();
    let message = err.to_string();
    assert!(message.contains("failed to build") && message.contains("undefined_name"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
}
