//! The OpenCL path: the kernel's training step on an OpenCL device, with the programs of
//! `samebits-gpu-kernels`.
//!
//! [`runtime`] finds, checks and drives devices; [`trainer`] runs the training step there,
//! bit for bit the CPU's. WebAssembly has no OpenCL (and `opencl3` does not build there): on
//! it, `unavailable` stands in for both with the same names, and every way into a device fails
//! with [`OpenClError::NotOnThisPlatform`].

mod common;
#[cfg(not(target_family = "wasm"))]
pub mod runtime;
#[cfg(not(target_family = "wasm"))]
pub mod trainer;
#[cfg(target_family = "wasm")]
mod unavailable;

pub use common::{locate_param, DeviceInfo, OpenClError, Result, StepError};
#[cfg(not(target_family = "wasm"))]
pub use runtime::{list_devices, Gpu};
#[cfg(not(target_family = "wasm"))]
pub use trainer::{DevicePath, OpenClTrainer};
#[cfg(target_family = "wasm")]
pub use unavailable::{list_devices, DevicePath, Gpu, OpenClTrainer};
