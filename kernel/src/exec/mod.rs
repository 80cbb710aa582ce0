//! How the kernel hands independent work to whoever runs it.
//!
//! Contract: NUMERICS.md §5. The kernel only ever parallelises over *independent outputs*:
//! rows of a batch, chunks of a batch reduction, elements of a parameter vector. Each output
//! is computed by the same sequence of operations whichever block it lands in, so an
//! executor may cut the work anywhere along row boundaries and run the pieces in any order
//! on any number of threads without changing a bit. The kernel itself is single-threaded and
//! allocation-free; the harness supplies a threaded executor.

use crate::linalg::VectorUnit;

/// A work hint that marks a section as worth splitting whenever it has several rows: the
/// kernel passes it where the rows' data already lives on the threads that computed it, so that
/// each thread goes on with its own rows (see `model::trainer`). Only a hint; it changes no bit.
pub const WORTH_SPLITTING: usize = 1 << 24;

/// A task over one block of rows: `(first_row, a_block, b_block)`.
pub type RowTask<'t, A, B> = dyn Fn(usize, &mut [A], &mut [B]) + Sync + 't;

/// Runs a task over disjoint blocks of whole rows, with a given vector unit.
pub trait Executor {
    /// The vector unit the matrix products may use on the threads this executor runs. Every
    /// unit gives the same bits (NUMERICS.md §5.1); the default is what the compile target
    /// guarantees ([`VectorUnit::baseline`]). A host executor can offer more after detecting
    /// the processor's features.
    fn vector_unit(&self) -> VectorUnit {
        VectorUnit::baseline()
    }

    /// How many threads the executor spreads work across (a hint for speed: the kernel groups
    /// batch chunks so that each thread can reduce its own; no grouping changes a bit).
    fn parallelism(&self) -> usize {
        1
    }

    /// Cuts `a` into blocks of whole `a_row`-element rows and `b` into the same rows of
    /// `b_row` elements, and calls `task(first_row, a_block, b_block)` once per block so that
    /// every row is covered exactly once, in any order and on any thread. `b_row` may be 0,
    /// in which case `b` is empty and every `b_block` is empty.
    ///
    /// `work_per_row` estimates the floating-point operations one row costs, so that an
    /// executor can keep work too small to be worth a thread hand-off on one thread. It is a
    /// hint for speed only: no split changes a result.
    ///
    /// # Panics
    /// Implementations may panic if `a_row == 0` or if `a` and `b` do not hold the same
    /// number of rows (caller bugs).
    fn for_each_row_block2<A: Send, B: Send>(
        &self,
        a: &mut [A],
        a_row: usize,
        b: &mut [B],
        b_row: usize,
        work_per_row: usize,
        task: &RowTask<'_, A, B>,
    );

    /// [`Executor::for_each_row_block2`] with a single output.
    fn for_each_row_block<A: Send>(
        &self,
        a: &mut [A],
        a_row: usize,
        work_per_row: usize,
        task: &(dyn Fn(usize, &mut [A]) + Sync),
    ) {
        self.for_each_row_block2(a, a_row, &mut [] as &mut [u8], 0, work_per_row, &|row, a_block, _| {
            task(row, a_block)
        });
    }
}

/// Checks the arguments of [`Executor::for_each_row_block2`] and returns the row count.
///
/// Shared by every implementation so that they all reject the same caller bugs.
pub fn row_count<A, B>(a: &[A], a_row: usize, b: &[B], b_row: usize) -> usize {
    assert!(a_row > 0 && a.len().is_multiple_of(a_row), "executor: output is not whole rows");
    let rows = a.len() / a_row;
    assert!(b.len() == rows * b_row, "executor: second output has a different row count");
    rows
}

/// Runs everything on the calling thread, as one block.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl Executor for Sequential {
    fn for_each_row_block2<A: Send, B: Send>(
        &self,
        a: &mut [A],
        a_row: usize,
        b: &mut [B],
        b_row: usize,
        _work_per_row: usize,
        task: &RowTask<'_, A, B>,
    ) {
        if row_count(a, a_row, b, b_row) > 0 {
            task(0, a, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_runs_one_block_covering_everything() {
        let mut a = [0u32; 6];
        let mut b = [0u8; 3];
        Sequential.for_each_row_block2(&mut a, 2, &mut b, 1, 1, &|row, a, b| {
            assert_eq!(row, 0);
            a.fill(1);
            b.fill(2);
        });
        assert_eq!(a, [1; 6]);
        assert_eq!(b, [2; 3]);
    }

    #[test]
    #[should_panic(expected = "different row count")]
    fn mismatched_rows_are_a_bug() {
        Sequential.for_each_row_block2(&mut [0u8; 4], 2, &mut [0u8; 3], 1, 1, &|_, _, _| {});
    }
}
