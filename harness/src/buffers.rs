//! Heap buffers for the kernel, allocated once before training.

use samebits::arith::Arithmetic;
use samebits::model::{BufferSizes, Buffers};

/// The seven buffers a [`samebits::model::Trainer`] works in, owned.
pub struct OwnedBuffers<N: Arithmetic> {
    params: Vec<N::Param>,
    grads: Vec<N::Param>,
    opt_state: Vec<N::Param>,
    act_scratch: Vec<N::Act>,
    param_scratch: Vec<N::Param>,
    acc_scratch: Vec<N::Acc>,
    operand_scratch: Vec<N::Operand>,
}

/// A zeroed vector, or an error naming the buffer when the memory cannot be had.
fn zeroed<T: Copy + Default>(len: usize, what: &str) -> Result<Vec<T>, String> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        format!("not enough memory for the model's {what} ({len} values); use a smaller model or batch")
    })?;
    v.resize(len, T::default());
    Ok(v)
}

impl<N: Arithmetic> OwnedBuffers<N> {
    /// Zeroed buffers of the given sizes (from [`samebits::model::Trainer::sizes`]).
    pub fn new(sizes: &BufferSizes) -> Result<Self, String> {
        Ok(Self {
            params: zeroed(sizes.params, "parameters")?,
            grads: zeroed(sizes.grads, "gradients")?,
            opt_state: zeroed(sizes.opt_state, "optimizer state")?,
            act_scratch: zeroed(sizes.act_scratch, "activations")?,
            param_scratch: zeroed(sizes.param_scratch, "deltas")?,
            acc_scratch: zeroed(sizes.acc_scratch, "gradient partial sums")?,
            operand_scratch: zeroed(sizes.operand_scratch, "product operands")?,
        })
    }

    /// Borrows all seven for a trainer.
    pub fn buffers(&mut self) -> Buffers<'_, N> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            opt_state: &mut self.opt_state,
            act_scratch: &mut self.act_scratch,
            param_scratch: &mut self.param_scratch,
            acc_scratch: &mut self.acc_scratch,
            operand_scratch: &mut self.operand_scratch,
        }
    }
}
