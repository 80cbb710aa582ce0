//! Element-wise activations: ReLU, Tanh, Sigmoid.
//!
//! Contract: NUMERICS.md §6.2. The backward pass is written in terms of the activation's
//! *output* `a`, so only one buffer per layer is kept and no transcendental function is
//! evaluated twice.

use crate::arith::Arithmetic;
use crate::fixed::narrow::Saturations;

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
    /// Contract: NUMERICS.md §6.2 (float), §13.4 (fixed) — ReLU: `z > 0 ? z : 0`; Tanh and
    /// Sigmoid: the path's [`Arithmetic::tanh`] and [`Arithmetic::sigmoid`].
    #[inline(always)]
    pub fn forward<N: Arithmetic>(self, z_to_a: &mut [N::Act]) {
        match self {
            Activation::Relu => z_to_a.iter_mut().for_each(|v| *v = N::relu(*v)),
            Activation::Tanh => z_to_a.iter_mut().for_each(|v| *v = N::tanh(*v)),
            Activation::Sigmoid => z_to_a.iter_mut().for_each(|v| *v = N::sigmoid(*v)),
        }
    }

    /// `dz = da · f′(z)` in place, with `f′` written in terms of the output `a`.
    ///
    /// Contract: NUMERICS.md §6.2 — ReLU: `a > 0 ? da : 0`; Tanh: `da · (1 − a·a)`;
    /// Sigmoid: `da · (a · (1 − a))`; each operation rounded (narrowed, in fixed point) in
    /// that order.
    #[inline(always)]
    pub fn backward<N: Arithmetic>(self, a: &[N::Act], da_to_dz: &mut [N::Param], sat: &Saturations) {
        let pairs = da_to_dz.iter_mut().zip(a);
        match self {
            Activation::Relu => pairs.for_each(|(d, a)| *d = N::relu_grad(*a, *d)),
            Activation::Tanh => pairs.for_each(|(d, a)| *d = N::tanh_grad(*a, *d, sat)),
            Activation::Sigmoid => pairs.for_each(|(d, a)| *d = N::sigmoid_grad(*a, *d, sat)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::Float;

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
        Activation::Relu.forward::<Float>(&mut v);
        assert_eq!(v.map(f32::to_bits), [0.0f32, 0.0, 0.0, 2.5].map(f32::to_bits));
        let mut d = [3.0, 3.0, 3.0, 3.0];
        Activation::Relu.backward::<Float>(&v, &mut d, &Saturations::new());
        assert_eq!(d, [0.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn tanh_and_sigmoid_derivatives_from_output() {
        let mut a = [0.0f32];
        Activation::Tanh.forward::<Float>(&mut a);
        let mut d = [2.0f32];
        Activation::Tanh.backward::<Float>(&a, &mut d, &Saturations::new());
        assert_eq!(d, [2.0], "tanh'(0) = 1");
        let mut s = [0.0f32];
        Activation::Sigmoid.forward::<Float>(&mut s);
        assert_eq!(s, [0.5]);
        let mut d = [2.0f32];
        Activation::Sigmoid.backward::<Float>(&s, &mut d, &Saturations::new());
        assert_eq!(d, [0.5], "sigmoid'(0) = 1/4");
    }
}
