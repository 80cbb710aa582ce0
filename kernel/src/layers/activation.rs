//! Element-wise activations: ReLU, Tanh, Sigmoid.
//!
//! Contract: NUMERICS.md §6.2. The backward pass is written in terms of the activation's
//! *output* `a`, so only one buffer per layer is kept and no transcendental function is
//! evaluated twice.

use crate::math;

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// Rectified linear unit: max(z, +0).
    Relu,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
}

impl Activation {
    /// Every activation, in the order used for names and indices.
    pub const ALL: [Activation; 3] = [Activation::Relu, Activation::Tanh, Activation::Sigmoid];

    /// Lower-case name as used on the command line and in traces.
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// Parses a lower-case name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// `a = f(z)` in place.
    ///
    /// Contract: NUMERICS.md §6.2 — ReLU: `z > 0 ? z : +0`; Tanh: [`math::tanh`];
    /// Sigmoid: [`math::sigmoid`].
    pub fn forward(self, z_to_a: &mut [f32]) {
        match self {
            Activation::Relu => z_to_a.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
            Activation::Tanh => z_to_a.iter_mut().for_each(|v| *v = math::tanh(*v)),
            Activation::Sigmoid => z_to_a.iter_mut().for_each(|v| *v = math::sigmoid(*v)),
        }
    }

    /// `dz = da · f′(z)` in place, with `f′` written in terms of the output `a`.
    ///
    /// Contract: NUMERICS.md §6.2 — ReLU: `a > 0 ? da : +0`; Tanh: `da · (1 − a·a)`;
    /// Sigmoid: `da · (a · (1 − a))`; each operation rounded, in that order.
    pub fn backward(self, a: &[f32], da_to_dz: &mut [f32]) {
        let pairs = da_to_dz.iter_mut().zip(a);
        match self {
            Activation::Relu => pairs.for_each(|(d, a)| *d = if *a > 0.0 { *d } else { 0.0 }),
            Activation::Tanh => pairs.for_each(|(d, a)| *d = *d * (1.0 - *a * *a)),
            Activation::Sigmoid => pairs.for_each(|(d, a)| *d = *d * (*a * (1.0 - *a))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(Activation::from_name(a.name()), Some(a));
        }
        assert_eq!(Activation::from_name("gelu"), None);
    }

    #[test]
    fn relu_forward_backward() {
        let mut v = [-1.0, -0.0, 0.0, 2.5];
        Activation::Relu.forward(&mut v);
        assert_eq!(v.map(f32::to_bits), [0.0f32, 0.0, 0.0, 2.5].map(f32::to_bits));
        let mut d = [3.0, 3.0, 3.0, 3.0];
        Activation::Relu.backward(&v, &mut d);
        assert_eq!(d, [0.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn tanh_and_sigmoid_derivatives_from_output() {
        let mut a = [0.0f32];
        Activation::Tanh.forward(&mut a);
        let mut d = [2.0f32];
        Activation::Tanh.backward(&a, &mut d);
        assert_eq!(d, [2.0], "tanh'(0) = 1");
        let mut s = [0.0f32];
        Activation::Sigmoid.forward(&mut s);
        assert_eq!(s, [0.5]);
        let mut d = [2.0f32];
        Activation::Sigmoid.backward(&s, &mut d);
        assert_eq!(d, [0.5], "sigmoid'(0) = 1/4");
    }
}
