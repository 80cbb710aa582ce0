//! Each layer's forward and backward pass on fixed inputs: one digest per output.

use samebits::arith::Float;
use samebits::fixed::narrow::Saturations;
use samebits::layers::{softmax_cross_entropy_row, Activation, Dense};
use samebits::linalg::{tree_sum_into, VectorUnit, BATCH_CHUNK};
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
    let sat = Saturations::new();

    let mut z = vec![0.0; ROWS * LAYER.outputs];
    LAYER.forward::<Float>(VectorUnit::baseline(), &x, &w, &b, &mut z, &sat);
    check_golden("DENSE_FORWARD", &digest_hex(&z), golden::DENSE_FORWARD);

    // Parameter gradients: one partial per chunk, combined by the tree (§5.2).
    let chunks: Vec<std::ops::Range<usize>> =
        (0..ROWS).step_by(BATCH_CHUNK).map(|r| r..ROWS.min(r + BATCH_CHUNK)).collect();
    let stride = LAYER.params_len();
    let mut partials = vec![0.0; chunks.len() * stride];
    for (c, rows) in chunks.iter().enumerate() {
        let (dw, db) = partials[c * stride..][..stride].split_at_mut(LAYER.weights_len());
        let (x_c, dz_c) = (&x[rows.start * 37..rows.end * 37], &dz[rows.start * 29..rows.end * 29]);
        LAYER.backward_params::<Float>(VectorUnit::baseline(), x_c, dz_c, dz_c, dw, db);
    }
    let mut grads = vec![0.0; stride];
    tree_sum_into(&mut grads, &partials, stride, 0, chunks.len());
    check_golden("DENSE_BACKWARD_PARAMS", &digest_hex(&grads), golden::DENSE_BACKWARD_PARAMS);

    let mut wt = vec![0.0; LAYER.weights_len()];
    LAYER.transpose(&w, &mut wt);
    let mut dx = vec![0.0; ROWS * LAYER.inputs];
    LAYER.backward_input::<Float>(VectorUnit::baseline(), &dz, &wt, &mut dx, &sat);
    check_golden("DENSE_BACKWARD_INPUT", &digest_hex(&dx), golden::DENSE_BACKWARD_INPUT);
}

#[test]
fn activations_forward_and_backward() {
    // Inputs over [-12, 12): saturating regions, the origin and denormal-free gradients.
    let z = uniform(5, 4096, 12.0);
    let da = uniform(6, 4096, 1.0);
    let sat = Saturations::new();
    for (activation, want_a, want_dz) in [
        (Activation::Relu, golden::RELU_FORWARD, golden::RELU_BACKWARD),
        (Activation::Tanh, golden::TANH_FORWARD, golden::TANH_BACKWARD),
        (Activation::Sigmoid, golden::SIGMOID_FORWARD, golden::SIGMOID_BACKWARD),
    ] {
        let mut a = z.clone();
        activation.forward::<Float>(&mut a);
        check_golden(&format!("{} forward", activation.name()), &digest_hex(&a), want_a);
        let mut d = da.clone();
        activation.backward::<Float>(&a, &mut d, &sat);
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

/// The fixed path's layers on the same inputs (the incoming gradient scaled to the delta operand
/// range), converted to Q16.16 / Q8.24 and to product operands (NUMERICS.md §13).
#[test]
fn fixed_point_layers() {
    use samebits::arith::{Arithmetic, Fixed};
    use samebits::fixed::{Act, Param};
    let to_act = |v: Vec<f32>| -> Vec<Act> { v.into_iter().map(|x| Fixed::act_from_f32(x).unwrap()).collect() };
    let to_param = |v: Vec<f32>| -> Vec<Param> { v.into_iter().map(Param::from_num).collect() };
    let words = |v: &[Param]| v.iter().map(|p| p.to_bits()).collect::<Vec<i32>>();
    let act_words = |v: &[Act]| v.iter().map(|p| p.to_bits()).collect::<Vec<i32>>();
    let sat = Saturations::new();

    let x = to_act(uniform(1, ROWS * LAYER.inputs, 2.0));
    let w = to_param(uniform(2, LAYER.weights_len(), 0.5));
    let b = to_param(uniform(3, LAYER.outputs, 0.1));
    let dz = to_param(uniform(4, ROWS * LAYER.outputs, 0.1));
    let ops = |len: usize| vec![0i16; len];
    let (mut x_ops, mut w_ops, mut dz_ops) = (ops(x.len()), ops(w.len()), ops(dz.len()));
    Fixed::act_operands_into(&x, &mut x_ops, &sat);
    Fixed::weight_operands_into(&w, &mut w_ops, &sat);
    Fixed::delta_operands_into(&dz, &mut dz_ops, &sat);
    let mut z = vec![Act::ZERO; ROWS * LAYER.outputs];
    LAYER.forward::<Fixed>(VectorUnit::baseline(), &x_ops, &w_ops, &b, &mut z, &sat);
    let mut dw = vec![0i64; LAYER.weights_len()];
    let mut db = vec![0i64; LAYER.outputs];
    LAYER.backward_params::<Fixed>(VectorUnit::baseline(), &x_ops, &dz_ops, &dz, &mut dw, &mut db);
    let mut wt = ops(LAYER.weights_len());
    LAYER.transpose(&w_ops, &mut wt);
    let mut dx = vec![Param::ZERO; ROWS * LAYER.inputs];
    LAYER.backward_input::<Fixed>(VectorUnit::baseline(), &dz_ops, &wt, &mut dx, &sat);
    assert_eq!(sat.get(), 0, "these values fit every format");
    let dw: Vec<Param> = dw.into_iter().map(|acc| Fixed::weight_grad(acc, &sat)).collect();
    let summary = format!("{:?}{:?}{:?}", act_words(&z), words(&dw), words(&dx));
    check_golden("FIXED_DENSE", &sha_hex(summary.as_bytes()), golden::FIXED_DENSE);

    let z = to_act(uniform(5, 4096, 12.0));
    let da = to_param(uniform(6, 4096, 1.0));
    let mut all = String::new();
    for activation in Activation::ALL {
        let mut a = z.clone();
        activation.forward::<Fixed>(&mut a);
        let mut d = da.clone();
        activation.backward::<Fixed>(&a, &mut d, &sat);
        all += &format!("{:?}{:?}", act_words(&a), words(&d));
    }
    check_golden("FIXED_ACTIVATIONS", &sha_hex(all.as_bytes()), golden::FIXED_ACTIVATIONS);

    let logits = to_act(uniform(8, 50 * 10, 20.0));
    let mut dz = vec![Param::ZERO; 50 * 10];
    let losses: Vec<Act> = logits
        .chunks_exact(10)
        .zip(dz.chunks_exact_mut(10))
        .enumerate()
        .map(|(r, (z, d))| Fixed::softmax_cross_entropy_row(z, r % 10, 50, d, &sat))
        .collect();
    let summary = format!("{:?}{:?}", act_words(&losses), words(&dz));
    check_golden("FIXED_SOFTMAX_CE", &sha_hex(summary.as_bytes()), golden::FIXED_SOFTMAX_CE);
    assert_eq!(sat.get(), 0, "nothing here should saturate");
}

/// SHA-256 of bytes, as hex.
fn sha_hex(bytes: &[u8]) -> String {
    let mut h = samebits::digest::Sha256::new();
    h.update(bytes);
    samebits::digest::Digest(h.finalize()).to_string()
}
