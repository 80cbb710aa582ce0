//! The OpenCL path: the kernel's training step on an OpenCL device, with the programs of
//! `samebits-gpu-kernels`.
//!
//! [`runtime`] finds, checks and drives devices; [`trainer`] runs the training step there,
//! bit for bit the CPU's.

pub mod runtime;
pub mod trainer;

pub use runtime::{list_devices, DeviceInfo, Gpu, OpenClError};
pub use trainer::{locate_param, DevicePath, OpenClTrainer, StepError};
