//! # samebits — bit-reproducible neural-network training
//!
//! The same seed, code and data give the same weights, bit for bit, on every platform: x86
//! and ARM, Windows and Linux, a laptop, a microcontroller and a GPU. This crate is the
//! training math itself, `#![no_std]` and allocation-free, written against the numerical
//! contract in `docs/NUMERICS.md` (version [`CONTRACT_VERSION`]). Every public function names
//! the section of the contract it follows.
//!
//! Layout, from the bottom up:
//! - [`arith`]: the two arithmetic paths every layer is written over, f32 and fixed point;
//! - [`math`]: the only elementary functions the float path uses (pinned `libm`, our own formulas);
//! - [`fixed`]: fixed-point formats, narrowing, and the integer elementary functions;
//! - [`linalg`]: the two reductions with a written order (matrix product, batch tree sum);
//! - [`layers`]: forward/backward pairs over caller-provided buffers;
//! - [`optim`]: SGD with momentum and Adam, element-wise;
//! - [`rng`]: xoshiro128++, shuffling and initialisation inputs;
//! - [`model`]: an MLP of at most `L` layers and its training step;
//! - [`exec`]: how the step hands independent rows to one or many threads;
//! - [`digest`]: SHA-256 over parameter bits.
#![no_std]
// Unsafe code is forbidden in every module but one: the products' vector code (linalg/simd/),
// whose `unsafe` blocks each say why they are sound. `forbid` at the crate root would reach that
// module too (no inner `allow` can lift a `forbid`), so the root denies unsafe code — a new
// module starts without it — and every module declaration but `linalg` forbids it, as does
// `linalg` for each of its modules but `simd` (tests/tests/contract.rs keeps it so).
#![deny(unsafe_code)]
#![warn(missing_docs)]
// `acc = acc + a * b` is written out, not as `+=`, so that each line reads like the formula in
// NUMERICS.md it implements; the two forms compile to the same single rounded addition.
#![allow(clippy::assign_op_pattern)]

#[forbid(unsafe_code)]
pub mod arith;
#[forbid(unsafe_code)]
pub mod digest;
#[forbid(unsafe_code)]
pub mod exec;
#[forbid(unsafe_code)]
pub mod fixed;
#[forbid(unsafe_code)]
pub mod layers;
pub mod linalg;
#[forbid(unsafe_code)]
pub mod math;
#[forbid(unsafe_code)]
pub mod model;
#[forbid(unsafe_code)]
pub mod optim;
#[forbid(unsafe_code)]
pub mod rng;

/// Version of the numerical contract (`docs/NUMERICS.md`). Golden digests are valid for one
/// contract version; any change to the bits the kernel produces bumps it.
pub const CONTRACT_VERSION: u32 = 2;
