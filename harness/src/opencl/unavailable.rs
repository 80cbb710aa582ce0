//! Stands in for the OpenCL runtime and trainer where there is no OpenCL (WebAssembly): the
//! same names, so that the command line and the training run are the same code everywhere,
//! but no device can be opened. [`Gpu`] and [`OpenClTrainer`] have no values, so the methods
//! that would need one cannot be reached.

use super::common::{DeviceInfo, OpenClError, Result, StepError};
use samebits::arith::{Arithmetic, Fixed, Float};
use samebits::model::MlpSpec;
use samebits::optim::Optimizer;
use std::convert::Infallible;
use std::marker::PhantomData;

/// The error of every way into a device on this platform.
fn unavailable() -> OpenClError {
    OpenClError::NotOnThisPlatform { arch: std::env::consts::ARCH }
}

/// A device handle: none exist here.
#[derive(Clone, Debug)]
pub enum Device {}

/// Fails: there is no OpenCL library to ask.
pub fn list_devices() -> Result<Vec<(DeviceInfo, Device)>> {
    Err(unavailable())
}

/// An opened device: none can be opened here.
pub struct Gpu(Infallible);

impl Gpu {
    /// Fails: there is no OpenCL here.
    pub fn open(_index: Option<usize>) -> Result<Self> {
        Err(unavailable())
    }

    pub fn info(&self) -> &DeviceInfo {
        match self.0 {}
    }
}

/// The paths the OpenCL programs implement (as the real trait, without the device details).
pub trait DevicePath: Arithmetic {}
impl DevicePath for Float {}
impl DevicePath for Fixed {}

/// The device trainer: it needs a [`Gpu`], so none exists here.
pub struct OpenClTrainer<'g, N: DevicePath>(Infallible, PhantomData<(&'g Gpu, N)>);

impl<'g, N: DevicePath> OpenClTrainer<'g, N> {
    pub fn new(gpu: &'g Gpu, _spec: MlpSpec, _optimizer: Optimizer, _max_batch: usize) -> Result<Self> {
        match gpu.0 {}
    }

    pub fn load_data(&mut self, _features: &[N::Act], _labels: &[u32]) -> Result<()> {
        match self.0 {}
    }

    pub fn set_params(&mut self, _params: &[N::Param]) -> Result<()> {
        match self.0 {}
    }

    pub fn restore(
        &mut self,
        _params: &[N::Param],
        _opt_state: &[N::Param],
        _state: samebits::model::TrainerState<N::Scalar>,
    ) -> Result<()> {
        match self.0 {}
    }

    pub fn state(&self) -> samebits::model::TrainerState<N::Scalar> {
        match self.0 {}
    }

    pub fn opt_state(&self) -> Result<Vec<N::Param>> {
        match self.0 {}
    }

    pub fn steps(&self) -> u64 {
        match self.0 {}
    }

    pub fn saturations(&self) -> u64 {
        match self.0 {}
    }

    pub fn params(&self) -> Result<Vec<N::Param>> {
        match self.0 {}
    }

    pub fn train_step(&mut self, _indices: &[u32]) -> std::result::Result<N::Act, StepError> {
        match self.0 {}
    }

    pub fn train_epoch(
        &mut self,
        _order: &[u32],
        _batch: usize,
        _on_step: &mut dyn FnMut(u64),
    ) -> std::result::Result<f64, StepError> {
        match self.0 {}
    }
}
