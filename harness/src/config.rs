//! Everything that determines a training run, with the documented defaults.

use samebits::layers::Activation;
use samebits::model::{Init, DEFAULT_MAX_LAYERS};
use samebits::optim::{Adam, Optimizer, Sgd};
use serde::Serialize;
use std::path::PathBuf;

/// Where the samples come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// The built-in UCI digits: first 1500 rows train, last 297 test, pixels / 16.
    Digits,
    /// A user CSV file; the last `test_fraction` of its rows are held out.
    Csv { path: PathBuf, header: bool, classes: Option<usize>, test_fraction: f64 },
}

/// Optimizer choice on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// SGD with momentum (NUMERICS.md §7.1).
    Sgd,
    /// Adam (NUMERICS.md §7.2).
    Adam,
}

/// Which arithmetic the kernel trains in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// IEEE binary32 (NUMERICS.md §2–§12).
    #[default]
    Float,
    /// Fixed point, integer operations only (NUMERICS.md §13).
    Fixed,
}

/// Where the float path's transcendental functions (`exp`, `ln`, `tanh`, the sigmoid's `exp`)
/// come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum MathKind {
    /// The contract's (NUMERICS.md §4): the same bits on every platform.
    #[default]
    Portable,
    /// The platform's C library ([`crate::platform_math`]): only to show that its digests differ
    /// between platforms. Float path, CPU only.
    Platform,
}

/// Where the training steps run. The result is the same bits on every device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// The host CPU (threads: `--threads`).
    #[default]
    Cpu,
    /// An OpenCL device: every training step there; evaluation on the CPU from its parameters.
    Opencl,
    /// CPU and OpenCL side by side, parameters compared after every step.
    Both,
}

/// Which vector unit the CPU's matrix products use (`--simd`). Every unit gives the same bits;
/// naming one is for measuring and for checking exactly that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SimdChoice {
    /// The widest unit the processor has.
    #[default]
    Auto,
    /// Plain loops, no vector code of our own.
    Portable,
    /// x86 SSE2, 4 lanes.
    Sse2,
    /// x86 AVX2, 8 lanes.
    Avx2,
    /// x86 AVX-512 (F and BW), 16 lanes.
    Avx512,
    /// Arm NEON, 4 lanes.
    Neon,
}

impl From<samebits::linalg::UnitKind> for SimdChoice {
    fn from(kind: samebits::linalg::UnitKind) -> Self {
        use samebits::linalg::UnitKind;
        match kind {
            UnitKind::Portable => SimdChoice::Portable,
            UnitKind::Sse2 => SimdChoice::Sse2,
            UnitKind::Avx2 => SimdChoice::Avx2,
            UnitKind::Avx512 => SimdChoice::Avx512,
            UnitKind::Neon => SimdChoice::Neon,
        }
    }
}

impl SimdChoice {
    /// The unit kind named, `None` for `auto`.
    pub fn kind(self) -> Option<samebits::linalg::UnitKind> {
        use samebits::linalg::UnitKind;
        match self {
            SimdChoice::Auto => None,
            SimdChoice::Portable => Some(UnitKind::Portable),
            SimdChoice::Sse2 => Some(UnitKind::Sse2),
            SimdChoice::Avx2 => Some(UnitKind::Avx2),
            SimdChoice::Avx512 => Some(UnitKind::Avx512),
            SimdChoice::Neon => Some(UnitKind::Neon),
        }
    }
}

/// A complete training configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainConfig {
    pub path: PathKind,
    /// `Platform` makes a run that is not reproducible across platforms (see [`MathKind`]).
    pub math: MathKind,
    pub data: DataSource,
    pub hidden: Vec<usize>,
    #[serde(serialize_with = "activation_name")]
    pub activation: Activation,
    #[serde(serialize_with = "init_name")]
    pub init: Init,
    pub optimizer: OptimizerKind,
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    pub batch: usize,
    pub epochs: u32,
    pub seed: u64,
    pub threads: usize,
    /// The CPU's vector unit (never changes a bit of the result).
    pub simd: SimdChoice,
    /// Where the steps run (never changes a bit of the result).
    pub device: DeviceKind,
    /// The OpenCL device (`samebits devices`); `None`: the first usable one.
    pub device_index: Option<usize>,
}

impl Default for TrainConfig {
    /// The default run: digits, MLP 64-128-64-10 ReLU, SGD lr 0.05 momentum 0.9, batch 32,
    /// 20 epochs, seed 42, one thread.
    fn default() -> Self {
        Self {
            path: PathKind::Float,
            math: MathKind::Portable,
            data: DataSource::Digits,
            hidden: vec![128, 64],
            activation: Activation::Relu,
            init: Init::GlorotUniform,
            optimizer: OptimizerKind::Sgd,
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            batch: 32,
            epochs: 20,
            seed: 42,
            threads: 1,
            simd: SimdChoice::Auto,
            device: DeviceKind::Cpu,
            device_index: None,
        }
    }
}

/// Most classes a model may have: a label such as 4000000000 in a CSV is far more likely a
/// wrong column than a real class, and would need gigabytes of weights.
pub const MAX_CLASSES: usize = 65_536;

/// Widest hidden layer accepted: wider ones are almost certainly a typo, and their weights
/// would not fit in memory next to the others.
pub const MAX_WIDTH: usize = 65_536;

impl TrainConfig {
    /// The optimizer with its hyper-parameters.
    pub fn optimizer(&self) -> Optimizer {
        match self.optimizer {
            OptimizerKind::Sgd => {
                Optimizer::Sgd(Sgd { lr: self.lr, momentum: self.momentum, weight_decay: self.weight_decay })
            }
            OptimizerKind::Adam => Optimizer::Adam(Adam { weight_decay: self.weight_decay, ..Adam::with_lr(self.lr) }),
        }
    }

    /// Whether the run can use its `math`: platform math exists only for the float path on the
    /// CPU (the fixed path has its own integer functions; the OpenCL programs have the
    /// contract's).
    pub fn check_math(&self) -> Result<(), String> {
        if self.math == MathKind::Portable {
            return Ok(());
        }
        if self.path != PathKind::Float {
            return Err("--math platform needs --path float (the fixed path has only its own integer functions)".into());
        }
        if self.device != DeviceKind::Cpu {
            return Err(
                "--math platform needs --device cpu (the OpenCL programs have only the portable functions)".into()
            );
        }
        Ok(())
    }

    /// Checks the values the command line cannot check alone.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch == 0 {
            return Err("--batch must be at least 1".into());
        }
        if self.epochs == 0 {
            return Err("--epochs must be at least 1".into());
        }
        if self.device_index.is_some() && self.device == DeviceKind::Cpu {
            return Err("--device-index needs --device opencl or --device both".into());
        }
        if self.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!("--lr must be a positive finite number, got {}", self.lr));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(format!("--momentum must be in [0, 1), got {}", self.momentum));
        }
        if self.path == PathKind::Fixed {
            // Hyper-parameters become Q2.30 scalars (NUMERICS.md §13.6).
            for (flag, value) in [("--lr", self.lr), ("--weight-decay", self.weight_decay)] {
                if value >= 2.0 {
                    return Err(format!("{flag} must be below 2 on the fixed path (Q2.30), got {value}"));
                }
            }
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(format!("--weight-decay must be a non-negative finite number, got {}", self.weight_decay));
        }
        if self.hidden.len() + 1 > DEFAULT_MAX_LAYERS {
            return Err(format!(
                "--hidden lists {} layers; at most {} hidden layers",
                self.hidden.len(),
                DEFAULT_MAX_LAYERS - 1
            ));
        }
        if self.hidden.contains(&0) {
            return Err("--hidden widths must be at least 1".into());
        }
        if let Some(&width) = self.hidden.iter().find(|&&w| w > MAX_WIDTH) {
            return Err(format!("--hidden width {width} is too large; at most {MAX_WIDTH}"));
        }
        if let DataSource::Csv { test_fraction, classes, .. } = &self.data {
            if !(0.0..1.0).contains(test_fraction) {
                return Err(format!("--test-fraction must be in [0, 1), got {test_fraction}"));
            }
            if let Some(classes) = classes {
                if !(2..=MAX_CLASSES).contains(classes) {
                    return Err(format!("--classes must be between 2 and {MAX_CLASSES}, got {classes}"));
                }
            }
        }
        Ok(())
    }
}

fn activation_name<S: serde::Serializer>(a: &Activation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.name())
}

fn init_name<S: serde::Serializer>(i: &Init, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(i.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_documented() {
        let c = TrainConfig::default();
        c.validate().unwrap();
        assert_eq!((c.hidden.as_slice(), c.batch, c.epochs, c.seed), (&[128, 64][..], 32, 20, 42));
        assert_eq!(c.optimizer(), Optimizer::Sgd(Sgd { lr: 0.05, momentum: 0.9, weight_decay: 0.0 }));
    }

    #[test]
    fn rejects_bad_values() {
        let bad = [
            TrainConfig { batch: 0, ..Default::default() },
            TrainConfig { epochs: 0, ..Default::default() },
            TrainConfig { lr: f32::NAN, ..Default::default() },
            TrainConfig { lr: -1.0, ..Default::default() },
            TrainConfig { momentum: 1.0, ..Default::default() },
            TrainConfig { hidden: vec![4; 8], ..Default::default() },
            TrainConfig { hidden: vec![0], ..Default::default() },
            TrainConfig { hidden: vec![usize::MAX], ..Default::default() },
            TrainConfig { path: PathKind::Fixed, lr: 2.0, ..Default::default() },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }
}
