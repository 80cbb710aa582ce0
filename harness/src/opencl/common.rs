//! What the OpenCL path reports — devices, errors, where a parameter lies — on every
//! platform, WebAssembly included: there the harness has no OpenCL, but the command line still
//! names these types and says in one line why a device cannot be used.

use samebits::model::{MlpSpec, NonFinite};
use std::fmt;

/// Why OpenCL could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenClError {
    /// No OpenCL library (`libOpenCL.so.1`, `OpenCL.dll`) could be loaded.
    NoLibrary,
    /// The library loaded but offers no device.
    NoDevice,
    /// `--device-index` names a device that does not exist.
    NoSuchDevice { index: usize, count: usize },
    /// The device lacks what NUMERICS.md needs.
    Unsuitable { device: String, missing: String },
    /// A program failed to build; the build log follows.
    Build { device: String, log: String },
    /// An OpenCL call failed.
    Call { what: &'static str, code: i32 },
    /// A model or data set too large for the device kernels' 32-bit indices.
    TooLarge { what: String },
    /// The platform has no OpenCL at all (WebAssembly): named by its architecture.
    NotOnThisPlatform { arch: &'static str },
}

impl fmt::Display for OpenClError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoLibrary => write!(
                f,
                "OpenCL is not available: no OpenCL library could be loaded (install an OpenCL ICD loader and a driver, e.g. Debian's ocl-icd-libopencl1 and pocl-opencl-icd)"
            ),
            Self::NoDevice => write!(f, "OpenCL is installed but offers no device (no platform or driver found)"),
            Self::NoSuchDevice { index, count } => {
                write!(f, "no OpenCL device {index}: there are {count} (see `samebits devices`)")
            }
            Self::Unsuitable { device, missing } => write!(f, "OpenCL device {device} refused: {missing}"),
            Self::Build { device, log } => {
                write!(f, "OpenCL program failed to build on {device}; build log: {}", log.trim().replace('\n', " | "))
            }
            Self::Call { what, code } => write!(f, "OpenCL call {what} failed with error {code}"),
            Self::TooLarge { what } => write!(f, "too large for the OpenCL kernels (32-bit indices): {what}"),
            Self::NotOnThisPlatform { arch } => write!(f, "OpenCL is not available on this platform ({arch})"),
        }
    }
}

impl std::error::Error for OpenClError {}

/// Result of an OpenCL operation.
pub type Result<T> = std::result::Result<T, OpenClError>;

/// What `samebits devices` prints of one device, and what decides whether it can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Position in the list of all devices of all platforms (`--device-index`).
    pub index: usize,
    pub platform: String,
    pub name: String,
    pub vendor: String,
    /// `OpenCL x.y …`.
    pub version: String,
    pub driver: String,
    pub compute_units: u32,
    /// `CL_FP_DENORM` in `CL_DEVICE_SINGLE_FP_CONFIG`: f32 subnormals kept (NUMERICS.md §2).
    pub denormals: bool,
    /// `CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT`: `-cl-fp32-correctly-rounded-divide-sqrt` works.
    pub correctly_rounded_divide_sqrt: bool,
}

impl DeviceInfo {
    /// What the device lacks for bit-exact f32 training, or `None` if nothing.
    pub fn missing(&self) -> Option<String> {
        let mut missing = Vec::new();
        if !self.denormals {
            missing.push("no f32 denormal support (CL_FP_DENORM), so subnormal results would be flushed to zero");
        }
        if !self.correctly_rounded_divide_sqrt {
            missing.push("no correctly rounded f32 divide and sqrt (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)");
        }
        (!missing.is_empty()).then(|| missing.join("; "))
    }

    pub(crate) fn label(&self) -> String {
        format!("{} '{}' ({})", self.index, self.name, self.platform)
    }
}

impl fmt::Display for DeviceInfo {
    /// `index 'name' (platform)`, as errors and reports name a device.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Why a device step failed.
#[derive(Debug, Clone, PartialEq)]
pub enum StepError {
    /// NaN or infinity, named as the CPU trainer names it (NUMERICS.md §10).
    NonFinite(NonFinite),
    /// The device failed.
    OpenCl(OpenClError),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::NonFinite(e) => e.fmt(f),
            StepError::OpenCl(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StepError {}

impl From<OpenClError> for StepError {
    fn from(e: OpenClError) -> Self {
        StepError::OpenCl(e)
    }
}

/// Where the flat parameter index `index` lies: (layer from 1, bias or weight, index within
/// the tensor). `None` past the end.
pub fn locate_param(spec: &MlpSpec, index: usize) -> Option<(usize, bool, usize)> {
    let mut offset = 0;
    for (l, layer) in spec.layers().iter().enumerate() {
        let d = layer.dense;
        if index < offset + d.params_len() {
            let within = index - offset;
            return Some(if within < d.weights_len() {
                (l + 1, false, within)
            } else {
                (l + 1, true, within - d.weights_len())
            });
        }
        offset += d.params_len();
    }
    None
}
