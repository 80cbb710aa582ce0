//! The shape of a sequential MLP, with its capacity as a const generic.

use super::SetupError;
use crate::layers::{Activation, Dense};

/// Capacity used by the harness: up to 8 dense layers.
pub const DEFAULT_MAX_LAYERS: usize = 8;

/// One dense layer and the activation after it (`None` for the output layer, whose logits
/// go to the softmax cross-entropy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    /// The dense layer.
    pub dense: Dense,
    /// Activation after it, `None` for the output layer.
    pub activation: Option<Activation>,
}

/// A sequential MLP of at most `L` dense layers: inputs → hidden… → classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpSpec<const L: usize = DEFAULT_MAX_LAYERS> {
    layers: heapless::Vec<LayerSpec, L>,
}

impl<const L: usize> MlpSpec<L> {
    /// `inputs → hidden[0] → … → classes`, with `activation` after every hidden layer.
    pub fn new(inputs: usize, hidden: &[usize], classes: usize, activation: Activation) -> Result<Self, SetupError> {
        if classes < 2 {
            return Err(SetupError::TooFewClasses);
        }
        if inputs == 0 || hidden.contains(&0) {
            return Err(SetupError::ZeroWidth);
        }
        let mut layers = heapless::Vec::new();
        let mut width = inputs;
        let mut params: usize = 0;
        for (i, &next) in hidden.iter().chain(core::iter::once(&classes)).enumerate() {
            let activation = if i < hidden.len() { Some(activation) } else { None };
            let layer = LayerSpec { dense: Dense { inputs: width, outputs: next }, activation };
            // Every buffer size is a small multiple of the parameter count: keep it far from
            // overflowing `usize` on 32-bit targets too.
            params = width
                .checked_mul(next)
                .and_then(|w| w.checked_add(next))
                .and_then(|p| p.checked_add(params))
                .filter(|p| *p <= usize::MAX / 64)
                .ok_or(SetupError::TooLarge)?;
            layers.push(layer).map_err(|_| SetupError::TooManyLayers { max: L })?;
            width = next;
        }
        Ok(Self { layers })
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[LayerSpec] {
        &self.layers
    }

    /// Width of the input.
    pub fn inputs(&self) -> usize {
        self.layers[0].dense.inputs
    }

    /// Number of classes (width of the output layer).
    pub fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].dense.outputs
    }

    /// Number of parameters: every layer's weights then biases.
    pub fn params_len(&self) -> usize {
        self.layers.iter().map(|l| l.dense.params_len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_digits_model() {
        let spec = MlpSpec::<8>::new(64, &[128, 64], 10, Activation::Relu).unwrap();
        assert_eq!(spec.layers().len(), 3);
        assert_eq!(spec.params_len(), 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
        assert_eq!(spec.layers()[2].activation, None);
        assert_eq!(spec.classes(), 10);
    }

    #[test]
    fn capacity_is_enforced() {
        assert_eq!(MlpSpec::<2>::new(4, &[3, 3], 2, Activation::Tanh), Err(SetupError::TooManyLayers { max: 2 }));
        assert!(MlpSpec::<3>::new(4, &[3, 3], 2, Activation::Tanh).is_ok());
    }

    #[test]
    fn bad_widths() {
        assert_eq!(MlpSpec::<4>::new(4, &[0], 2, Activation::Relu), Err(SetupError::ZeroWidth));
        assert_eq!(MlpSpec::<4>::new(0, &[], 2, Activation::Relu), Err(SetupError::ZeroWidth));
        assert_eq!(MlpSpec::<4>::new(4, &[], 1, Activation::Relu), Err(SetupError::TooFewClasses));
        assert_eq!(MlpSpec::<4>::new(4, &[usize::MAX], 2, Activation::Relu), Err(SetupError::TooLarge));
        assert_eq!(
            MlpSpec::<4>::new(usize::MAX / 8, &[16], 2, Activation::Relu).map(|_| ()),
            Err(SetupError::TooLarge)
        );
    }
}
