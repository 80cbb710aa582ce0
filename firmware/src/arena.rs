//! The seven buffers a trainer works in, as one value whose capacities are const generics, so
//! that a `static` holds them (in `.bss`: every element starts as zero bits).

use samebits::arith::Arithmetic;
use samebits::model::Buffers;

/// Buffers for path `N`: `P` parameters (and as many gradients), `S` optimizer-state values,
/// and the `A` activation, `D` parameter-format, `C` accumulator and `O` operand temporaries
/// that [`samebits::model::Trainer::sizes`] asks for.
pub struct Arena<
    N: Arithmetic,
    const P: usize,
    const S: usize,
    const A: usize,
    const D: usize,
    const C: usize,
    const O: usize,
> {
    params: [N::Param; P],
    grads: [N::Param; P],
    opt_state: [N::Param; S],
    act: [N::Act; A],
    param: [N::Param; D],
    acc: [N::Acc; C],
    operand: [N::Operand; O],
}

impl<N: Arithmetic, const P: usize, const S: usize, const A: usize, const D: usize, const C: usize, const O: usize>
    Arena<N, P, S, A, D, C, O>
{
    /// Every buffer filled with the given zeros (one per element type).
    pub const fn zeroed(param: N::Param, act: N::Act, acc: N::Acc, operand: N::Operand) -> Self {
        Self {
            params: [param; P],
            grads: [param; P],
            opt_state: [param; S],
            act: [act; A],
            param: [param; D],
            acc: [acc; C],
            operand: [operand; O],
        }
    }

    /// Lends all seven to a trainer.
    pub fn buffers(&mut self) -> Buffers<'_, N> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            opt_state: &mut self.opt_state,
            act_scratch: &mut self.act,
            param_scratch: &mut self.param,
            acc_scratch: &mut self.acc,
            operand_scratch: &mut self.operand,
        }
    }
}

/// The arena of path `N` sized by `sizes` (a `BufferSizes` constant from build.rs).
macro_rules! arena_for {
    ($path:ty, $sizes:expr) => {
        $crate::arena::Arena<
            $path,
            { $sizes.params },
            { $sizes.opt_state },
            { $sizes.act_scratch },
            { $sizes.param_scratch },
            { $sizes.acc_scratch },
            { $sizes.operand_scratch },
        >
    };
}
pub(crate) use arena_for;
