//! Each layer's forward and backward pass on fixed inputs: one digest per output.

use samebits::layers::{softmax_cross_entropy_row, Activation, Dense};
use samebits::linalg::{tree_sum_into, BATCH_CHUNK};
use samebits_tests::{check_golden, digest_hex, golden, uniform};

/// 19 rows (a full 16-row chunk plus 3), 37 inputs, 29 outputs: every remainder path of the
/// blocked matrix product is taken.
const ROWS: usize = 19;
const LAYER: Dense = Dense { inputs: 37, outputs: 29 };

#[test]
fn dense_forward_and_backward() {
    let x = uniform(1, ROWS * LAYER.inputs, 2.0);
    let w = uniform(2, LAYER.weights_len(), 0.5);
    let b = uniform(3, LAYER.outputs, 0.1);
    let dz = uniform(4, ROWS * LAYER.outputs, 1.0);

    let mut z = vec![0.0; ROWS * LAYER.outputs];
    LAYER.forward(&x, &w, &b, &mut z);
    check_golden("DENSE_FORWARD", &digest_hex(&z), golden::DENSE_FORWARD);

    // Parameter gradients: one partial per chunk, combined by the tree (§5.2).
    let chunks: Vec<std::ops::Range<usize>> =
        (0..ROWS).step_by(BATCH_CHUNK).map(|r| r..ROWS.min(r + BATCH_CHUNK)).collect();
    let stride = LAYER.params_len();
    let mut partials = vec![0.0; chunks.len() * stride];
    for (c, rows) in chunks.iter().enumerate() {
        let (dw, db) = partials[c * stride..][..stride].split_at_mut(LAYER.weights_len());
        let (x_c, dz_c) = (&x[rows.start * 37..rows.end * 37], &dz[rows.start * 29..rows.end * 29]);
        LAYER.backward_params(x_c, dz_c, dw, db);
    }
    let mut grads = vec![0.0; stride];
    tree_sum_into(&mut grads, &partials, stride, 0, chunks.len());
    check_golden("DENSE_BACKWARD_PARAMS", &digest_hex(&grads), golden::DENSE_BACKWARD_PARAMS);

    let mut wt = vec![0.0; LAYER.weights_len()];
    LAYER.transpose(&w, &mut wt);
    let mut dx = vec![0.0; ROWS * LAYER.inputs];
    LAYER.backward_input(&dz, &wt, &mut dx);
    check_golden("DENSE_BACKWARD_INPUT", &digest_hex(&dx), golden::DENSE_BACKWARD_INPUT);
}

#[test]
fn activations_forward_and_backward() {
    // Inputs over [-12, 12): saturating regions, the origin and denormal-free gradients.
    let z = uniform(5, 4096, 12.0);
    let da = uniform(6, 4096, 1.0);
    for (activation, want_a, want_dz) in [
        (Activation::Relu, golden::RELU_FORWARD, golden::RELU_BACKWARD),
        (Activation::Tanh, golden::TANH_FORWARD, golden::TANH_BACKWARD),
        (Activation::Sigmoid, golden::SIGMOID_FORWARD, golden::SIGMOID_BACKWARD),
    ] {
        let mut a = z.clone();
        activation.forward(&mut a);
        check_golden(&format!("{} forward", activation.name()), &digest_hex(&a), want_a);
        let mut d = da.clone();
        activation.backward(&a, &mut d);
        check_golden(&format!("{} backward", activation.name()), &digest_hex(&d), want_dz);
    }
}

#[test]
fn softmax_cross_entropy() {
    let classes = 10;
    let rows = 50;
    let mut z = uniform(8, rows * classes, 20.0);
    let losses: Vec<f32> = z
        .chunks_exact_mut(classes)
        .enumerate()
        .map(|(r, row)| softmax_cross_entropy_row(row, r % classes, rows))
        .collect();
    check_golden("SOFTMAX_CE_LOSS", &digest_hex(&losses), golden::SOFTMAX_CE_LOSS);
    check_golden("SOFTMAX_CE_GRADIENT", &digest_hex(&z), golden::SOFTMAX_CE_GRADIENT);
}
