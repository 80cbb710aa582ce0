//! The backward passes against finite differences of an independent f64 implementation.
//!
//! The kernel's f32 gradients of the batch-mean loss must agree with central differences of
//! the same loss computed entirely in f64 (std math, no kernel code), for every activation,
//! every layer and every parameter.

use samebits::arith::Float;
use samebits::exec::Sequential;
use samebits::layers::Activation;
use samebits::model::{Batch, Init, MlpSpec, Trainer};
use samebits::optim::{Optimizer, Sgd};
use samebits::rng::Xoshiro128PlusPlus;
use samebits_harness::buffers::OwnedBuffers;
use samebits_tests::uniform;

use rand_core::SeedableRng;

const INPUTS: usize = 5;
const HIDDEN: [usize; 2] = [7, 6];
const CLASSES: usize = 4;
/// 21 rows: two chunks (16 + 5), so the chunk tree is part of what is checked.
const ROWS: usize = 21;

/// Mean softmax cross-entropy of the MLP in f64.
fn loss_f64(params: &[f64], x: &[f64], labels: &[u32], activation: Activation) -> f64 {
    let widths = [INPUTS, HIDDEN[0], HIDDEN[1], CLASSES];
    let mut total = 0.0;
    for r in 0..ROWS {
        let mut a: Vec<f64> = x[r * INPUTS..][..INPUTS].to_vec();
        let mut offset = 0;
        for l in 0..3 {
            let (n_in, n_out) = (widths[l], widths[l + 1]);
            let (w, b) = params[offset..offset + n_in * n_out + n_out].split_at(n_in * n_out);
            let mut z: Vec<f64> =
                (0..n_out).map(|o| b[o] + (0..n_in).map(|i| a[i] * w[i * n_out + o]).sum::<f64>()).collect();
            if l < 2 {
                for v in &mut z {
                    *v = match activation {
                        Activation::Relu => v.max(0.0),
                        Activation::Tanh => v.tanh(),
                        Activation::Sigmoid => 1.0 / (1.0 + (-*v).exp()),
                    };
                }
            }
            a = z;
            offset += n_in * n_out + n_out;
        }
        let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = a.iter().map(|v| (v - m).exp()).sum();
        total += s.ln() - (a[labels[r] as usize] - m);
    }
    total / ROWS as f64
}

#[test]
fn gradients_match_f64_finite_differences() {
    let x = uniform(11, ROWS * INPUTS, 1.0);
    let labels: Vec<u32> = (0..ROWS as u32).map(|r| (r * 7 + 3) % CLASSES as u32).collect();
    let indices: Vec<u32> = (0..ROWS as u32).collect();
    for activation in Activation::ALL {
        let spec: MlpSpec = MlpSpec::new(INPUTS, &HIDDEN, CLASSES, activation).unwrap();
        let optimizer = Optimizer::Sgd(Sgd { lr: 0.1, momentum: 0.0, weight_decay: 0.0 });
        let mut owned = OwnedBuffers::<Float>::new(&Trainer::<Float>::sizes(&spec, &optimizer, ROWS)).unwrap();
        let mut trainer = Trainer::<Float>::new(spec, optimizer, ROWS, owned.buffers()).unwrap();
        trainer.init_params(Init::GlorotUniform, &mut Xoshiro128PlusPlus::seed_from_u64(3));
        // Non-zero biases, so their gradients matter too.
        let n = trainer.params().len();
        for (w, d) in trainer.params_mut().iter_mut().zip(uniform(12, n, 0.2)) {
            *w += d;
        }
        let before: Vec<f64> = trainer.params().iter().map(|v| *v as f64).collect();
        let batch = Batch { features: &x, labels: &labels, indices: &indices };
        let loss = trainer.train_step(&Sequential, &batch).unwrap();

        let x64: Vec<f64> = x.iter().map(|v| *v as f64).collect();
        assert!((loss as f64 - loss_f64(&before, &x64, &labels, activation)).abs() < 1e-5, "{activation:?} loss");
        let h = 1e-6;
        let mut worst = 0.0f64;
        for (i, grad) in trainer.grads().iter().enumerate() {
            let mut plus = before.clone();
            plus[i] += h;
            let mut minus = before.clone();
            minus[i] -= h;
            let numeric =
                (loss_f64(&plus, &x64, &labels, activation) - loss_f64(&minus, &x64, &labels, activation)) / (2.0 * h);
            let err = (*grad as f64 - numeric).abs() / (numeric.abs() + 1e-3);
            worst = worst.max(err);
            assert!(err < 1e-3, "{activation:?} parameter {i}: kernel {grad}, finite difference {numeric}");
        }
        assert!(worst > 0.0, "{activation:?}: the comparison did not run");
    }
}

#[test]
fn a_wrong_gradient_would_be_caught() {
    // The same comparison must fail when the gradient is off by 1 %.
    let numeric = 0.25f64;
    let wrong = numeric * 1.01;
    assert!((wrong - numeric).abs() / (numeric.abs() + 1e-3) >= 1e-3);
}
