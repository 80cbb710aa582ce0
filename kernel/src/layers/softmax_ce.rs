//! Softmax fused with cross-entropy, max-subtracted.
//!
//! Contract: NUMERICS.md §6.3. Fusing the two gives the gradient `p − onehot` directly and a
//! loss `ln(Σ exp(z − m)) − (z_y − m)` that never takes the logarithm of a rounded
//! probability, so it stays finite even when the softmax underflows.

use crate::math::{ElementaryF32, Portable};

/// Index of the first largest value (`>` comparison, so ties go to the lowest index).
///
/// Contract: NUMERICS.md §6.3 (prediction) and §13.5. Used for accuracy and the softmax's
/// maximum; NaN never reaches it because training stops on non-finite values first.
pub fn argmax<T: PartialOrd>(row: &[T]) -> usize {
    let mut best = 0;
    for (j, v) in row.iter().enumerate().skip(1) {
        if *v > row[best] {
            best = j;
        }
    }
    best
}

/// One row: turns logits into `dL/dz` in place and returns the row's loss.
///
/// Contract: NUMERICS.md §6.3:
/// `m = max_j z_j` (first maximum); `e_j = exp(z_j − m)`; `s = Σ_j e_j` (j ascending from
/// +0); `loss = ln(s) − (z_y − m)`; `dz_j = (e_j / s − [j = y]) / batch`.
/// `batch` is the number of rows in the whole batch, so that the batch gradient is the
/// gradient of the *mean* loss.
///
/// # Panics
/// If `label >= z.len()` (the harness validates labels when it loads data).
pub fn softmax_cross_entropy_row(z_to_dz: &mut [f32], label: usize, batch: usize) -> f32 {
    softmax_cross_entropy_row_with::<Portable>(z_to_dz, label, batch)
}

/// [`softmax_cross_entropy_row`] with the `exp` and `ln` of `M` (the contract's: [`Portable`]).
///
/// # Panics
/// If `label >= z.len()`.
pub fn softmax_cross_entropy_row_with<M: ElementaryF32>(z_to_dz: &mut [f32], label: usize, batch: usize) -> f32 {
    assert!(label < z_to_dz.len(), "label out of range");
    let m = z_to_dz[argmax(z_to_dz)];
    let z_y = z_to_dz[label];
    let mut s = 0.0f32;
    for v in z_to_dz.iter_mut() {
        *v = M::exp(*v - m);
        s = s + *v;
    }
    let loss = M::ln(s) - (z_y - m);
    let batch = batch as f32;
    for (j, v) in z_to_dz.iter_mut().enumerate() {
        let p = *v / s;
        *v = (if j == label { p - 1.0 } else { p }) / batch;
    }
    loss
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::math;

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[5.0]), 0);
    }

    #[test]
    fn uniform_logits() {
        let mut z = [0.0f32; 4];
        let loss = softmax_cross_entropy_row(&mut z, 2, 1);
        assert_eq!(loss, math::ln(4.0));
        assert_eq!(z, [0.25, 0.25, -0.75, 0.25]);
    }

    #[test]
    fn gradient_sums_to_zero_and_matches_f64() {
        let logits = [1.5f32, -2.0, 0.25, 3.0, -0.5];
        let mut z = logits;
        let loss = softmax_cross_entropy_row(&mut z, 3, 2);
        let m = 3.0f64;
        let s: f64 = logits.iter().map(|v| (*v as f64 - m).exp()).sum();
        let want = s.ln() - (logits[3] as f64 - m);
        assert!((loss as f64 - want).abs() < 1e-6);
        for (j, v) in z.iter().enumerate() {
            let p = (logits[j] as f64 - m).exp() / s;
            let want = (p - if j == 3 { 1.0 } else { 0.0 }) / 2.0;
            assert!((*v as f64 - want).abs() < 1e-7, "dz[{j}]");
        }
    }

    #[test]
    fn huge_logits_stay_finite() {
        let mut z = [1.0e30f32, -1.0e30, 0.0];
        let loss = softmax_cross_entropy_row(&mut z, 1, 1);
        assert!(loss.is_finite() && loss > 1.0e29);
        assert!(z.iter().all(|v| v.is_finite()));
    }
}
