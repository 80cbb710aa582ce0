//! Errors the kernel reports instead of producing meaningless bits.

use core::fmt;

/// A tensor of the training step, for naming where a non-finite value appeared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tensor {
    /// The batch loss.
    Loss,
    /// A layer's weights after the update.
    Weights,
    /// A layer's biases after the update.
    Biases,
    /// A layer's weight gradients.
    WeightGradients,
    /// A layer's bias gradients.
    BiasGradients,
}

impl Tensor {
    /// Name used in messages and traces.
    pub const fn name(self) -> &'static str {
        match self {
            Tensor::Loss => "loss",
            Tensor::Weights => "weights",
            Tensor::Biases => "biases",
            Tensor::WeightGradients => "weight gradients",
            Tensor::BiasGradients => "bias gradients",
        }
    }
}

/// NaN or ±∞ in the loss, a gradient or a parameter: training stops (NUMERICS.md §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFinite {
    /// The training step that produced it, counting from 1.
    pub step: u64,
    /// The layer (counting from 1), or `None` for the loss.
    pub layer: Option<usize>,
    /// Which tensor of the layer.
    pub tensor: Tensor,
    /// Index of the first non-finite element within the tensor.
    pub index: usize,
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.layer {
            Some(layer) => write!(
                f,
                "non-finite value (NaN or infinity) at step {} in layer {} {} (element {}); training stopped",
                self.step,
                layer,
                self.tensor.name(),
                self.index
            ),
            None => write!(f, "non-finite loss at step {}; training stopped (try a smaller learning rate)", self.step),
        }
    }
}

/// The model, batch size or buffers handed to the kernel do not fit together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// More layers than the model's capacity `L`.
    TooManyLayers {
        /// The capacity.
        max: usize,
    },
    /// A layer of width 0.
    ZeroWidth,
    /// Fewer than two classes: there is nothing to classify.
    TooFewClasses,
    /// Batch size 0.
    ZeroBatch,
    /// The parameter count overflows the sizes the kernel can address.
    TooLarge,
    /// A caller-provided buffer has the wrong length.
    BufferSize {
        /// Which buffer.
        buffer: &'static str,
        /// Floats the model needs.
        expected: usize,
        /// Floats provided.
        found: usize,
    },
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::TooManyLayers { max } => write!(f, "too many layers: at most {max} dense layers"),
            SetupError::ZeroWidth => write!(f, "a layer width is 0"),
            SetupError::TooFewClasses => write!(f, "need at least 2 classes"),
            SetupError::ZeroBatch => write!(f, "batch size must be at least 1"),
            SetupError::TooLarge => write!(f, "the model has too many parameters to address"),
            SetupError::BufferSize { buffer, expected, found } => {
                write!(f, "{buffer} buffer holds {found} values, the model needs {expected}")
            }
        }
    }
}

impl core::error::Error for NonFinite {}
impl core::error::Error for SetupError {}
