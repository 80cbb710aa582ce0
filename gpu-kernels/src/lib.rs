//! OpenCL C twins of the samebits kernel's functions, as source strings.
//!
//! Each `.cl` file in `cl/` mirrors Rust functions of the `samebits` kernel operation by
//! operation, and each OpenCL function names its Rust twin in a comment, so that a device
//! computes the same bits as the CPU (docs/NUMERICS.md, gpu-kernels/README.md). The host side
//! (building, running, checking devices) is in the harness.

#![no_std]
#![forbid(unsafe_code)]

/// Options every program is built with: correctly rounded f32 division and square root
/// (NUMERICS.md §2), and nothing that relaxes IEEE semantics.
pub const BUILD_OPTIONS: &str = "-cl-std=CL1.2 -cl-fp32-correctly-rounded-divide-sqrt";

/// f32 elementary functions: ports of the pinned `libm` 0.2.16 `expf`, `logf`, `tanhf` (with
/// `expm1f`, `scalbnf`) and of the kernel's own `sigmoid` (`samebits::math`).
pub const MATH_F32: &str = include_str!("../cl/math_f32.cl");
/// Fixed-point helpers and elementary functions: twins of `samebits::fixed` (narrowing,
/// integer exp/ln/tanh/sigmoid/sqrt, 128-bit helpers for Adam).
pub const MATH_FIXED: &str = include_str!("../cl/math_fixed.cl");
/// The float path's training-step kernels (layers, loss, sums, optimizers).
pub const TRAIN_F32: &str = include_str!("../cl/train_f32.cl");
/// The fixed path's training-step kernels, integer operations only.
pub const TRAIN_FIXED: &str = include_str!("../cl/train_fixed.cl");
/// Element-wise kernels that expose each f32 math function, for comparing it with its Rust twin.
pub const MATH_F32_TESTS: &str = include_str!("../cl/tests/math_f32_tests.cl");
/// Element-wise kernels that expose each fixed-point math function.
pub const MATH_FIXED_TESTS: &str = include_str!("../cl/tests/math_fixed_tests.cl");

/// The sources of the float path's program, in build order.
pub const FLOAT_PROGRAM: [&str; 2] = [MATH_F32, TRAIN_F32];
/// The sources of the fixed path's program, in build order.
pub const FIXED_PROGRAM: [&str; 2] = [MATH_FIXED, TRAIN_FIXED];
