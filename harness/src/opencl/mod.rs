//! The OpenCL path: the kernel's training step on an OpenCL device, with the programs of
//! `samebits-gpu-kernels`.
//!
//! [`runtime`] finds, checks and drives devices.

pub mod runtime;

pub use runtime::{list_devices, DeviceInfo, Gpu, OpenClError};
