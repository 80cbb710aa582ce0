//! Fully connected layer: z = x·W + b.
//!
//! Contract: NUMERICS.md §6.1. Weights are stored row-major as `inputs × outputs`
//! (`w[i * outputs + o]`), so the forward pass and the weight gradient both run along
//! contiguous outputs and vectorise across them without reordering any sum (§5.1).

use crate::arith::Arithmetic;
use crate::fixed::narrow::Saturations;
use crate::linalg::{MatmulShape, VectorUnit};

/// Shape of a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    /// Width of the input.
    pub inputs: usize,
    /// Width of the output.
    pub outputs: usize,
}

impl Dense {
    /// Number of weights (`inputs × outputs`).
    pub const fn weights_len(&self) -> usize {
        self.inputs * self.outputs
    }

    /// Weights plus biases.
    pub const fn params_len(&self) -> usize {
        self.weights_len() + self.outputs
    }

    /// Forward pass for a block of rows: `z[r][o] = (Σ_i x[r][i]·w[i][o]) + b[o]`.
    ///
    /// Contract: NUMERICS.md §6.1 — the dot product in the order of §5.1 (in runs, §13.2),
    /// then the bias added once, last ([`Arithmetic::forward_out`]). `x` is rows×inputs and `w`
    /// inputs×outputs, both as product operands ([`Arithmetic::act_operand`],
    /// [`Arithmetic::weight_operand`]); `z` is rows×outputs.
    #[inline(always)]
    pub fn forward<N: Arithmetic>(
        &self,
        unit: VectorUnit,
        x: &[N::Operand],
        w: &[N::Operand],
        b: &[N::Param],
        z: &mut [N::Act],
        sat: &Saturations,
    ) {
        let rows = z.len() / self.outputs;
        let shape = MatmulShape::row_major(rows, self.outputs, self.inputs);
        N::matmul(unit, shape, x, w, z, |o, acc| N::forward_out(acc, b[o], sat));
    }

    /// Parameter-gradient partial sums of one chunk of rows (§5.2): `dw = xᵀ·dz`,
    /// `db[o] = Σ_r dz[r][o]`, left in the accumulator format.
    ///
    /// Contract: NUMERICS.md §6.1 and §5.2 — each element is summed over the chunk's rows in
    /// ascending order from +0; [`crate::model::Trainer`] combines the chunks and narrows.
    /// `x` and `dz_operands` are the chunk's activations and deltas as product operands; the
    /// bias sums use the deltas themselves (`dz`).
    #[inline(always)]
    pub fn backward_params<N: Arithmetic>(
        &self,
        unit: VectorUnit,
        x: &[N::Operand],
        dz_operands: &[N::Operand],
        dz: &[N::Param],
        dw: &mut [N::Acc],
        db: &mut [N::Acc],
    ) {
        let rows = dz.len() / self.outputs;
        let shape = MatmulShape::transposed_a(self.inputs, self.outputs, rows);
        N::matmul(unit, shape, x, dz_operands, dw, |_, acc| acc);
        db.fill(N::acc_zero());
        for dz_row in dz.chunks_exact(self.outputs) {
            for (db_o, dz_ro) in db.iter_mut().zip(dz_row) {
                *db_o = N::acc_param(*db_o, *dz_ro);
            }
        }
    }

    /// Input gradient for a block of rows: `dx[r][i] = Σ_o dz[r][o]·w[i][o]`.
    ///
    /// Contract: NUMERICS.md §6.1 — summed over o ascending from +0, then narrowed
    /// ([`Arithmetic::input_grad`]). `dz` are the deltas as product operands and `wt` the
    /// transpose of the weight operands (`outputs × inputs`, from [`Dense::transpose`]), so
    /// that the sum runs along contiguous memory.
    #[inline(always)]
    pub fn backward_input<N: Arithmetic>(
        &self,
        unit: VectorUnit,
        dz: &[N::Operand],
        wt: &[N::Operand],
        dx: &mut [N::Param],
        sat: &Saturations,
    ) {
        let rows = dx.len() / self.inputs;
        let shape = MatmulShape::row_major(rows, self.inputs, self.outputs);
        N::matmul(unit, shape, dz, wt, dx, |_, acc| N::input_grad(acc, sat));
    }

    /// `wt[o][i] = w[i][o]`: an exact copy, no arithmetic.
    pub fn transpose<T: Copy>(&self, w: &[T], wt: &mut [T]) {
        self.transpose_rows(w, 0, &mut wt[..self.weights_len()]);
    }

    /// Rows `first..` of the transpose (`wt_rows[r][i] = w[i][first + r]`, whole rows of
    /// `inputs`), so that the executor can split the copy by output.
    pub fn transpose_rows<T: Copy>(&self, w: &[T], first: usize, wt_rows: &mut [T]) {
        for (r, wt_row) in wt_rows.chunks_exact_mut(self.inputs).enumerate() {
            for (i, dst) in wt_row.iter_mut().enumerate() {
                *dst = w[i * self.outputs + first + r];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::Float;

    const L: Dense = Dense { inputs: 3, outputs: 2 };
    const X: [f32; 6] = [1.0, 2.0, 3.0, -1.0, 0.5, 0.25];
    const W: [f32; 6] = [0.5, -1.0, 0.25, 2.0, -0.125, 1.0];
    const B: [f32; 2] = [0.1, -0.2];

    #[test]
    fn forward_small_case_by_hand() {
        let mut z = [0.0; 4];
        L.forward::<Float>(VectorUnit::baseline(), &X, &W, &B, &mut z, &Saturations::new());
        // Row 0: o0 = 0.5 + 0.5 - 0.375 = 0.625, + 0.1; o1 = -1 + 4 + 3 = 6, - 0.2.
        assert_eq!(z, [0.625 + 0.1, 6.0 - 0.2, -0.5 + 0.125 - 0.03125 + 0.1, 1.0 + 1.0 + 0.25 - 0.2]);
    }

    #[test]
    fn backward_params_small_case_by_hand() {
        let dz = [1.0, -1.0, 2.0, 0.5];
        let (mut dw, mut db) = ([0.0; 6], [0.0; 2]);
        L.backward_params::<Float>(VectorUnit::baseline(), &X, &dz, &dz, &mut dw, &mut db);
        assert_eq!(dw, [1.0 - 2.0, -1.0 - 0.5, 2.0 + 1.0, -2.0 + 0.25, 3.0 + 0.5, -3.0 + 0.125]);
        assert_eq!(db, [3.0, -0.5]);
    }

    #[test]
    fn backward_input_uses_the_transpose() {
        let mut wt = [0.0; 6];
        L.transpose(&W, &mut wt);
        assert_eq!(wt, [0.5, 0.25, -0.125, -1.0, 2.0, 1.0]);
        let dz = [1.0, -1.0, 2.0, 0.5];
        let mut dx = [0.0; 6];
        L.backward_input::<Float>(VectorUnit::baseline(), &dz, &wt, &mut dx, &Saturations::new());
        assert_eq!(dx, [1.5, -1.75, -1.125, 0.5, 1.5, 0.25]);
    }
}
