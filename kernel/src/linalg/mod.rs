//! The two reductions every layer is built from.
//!
//! Contract: NUMERICS.md §5. A sum's order is part of the result, so each reduction here has
//! exactly one order, written down, and every implementation detail (register blocking,
//! vector lanes, thread splits) works across *independent* sums, never inside one.

#[forbid(unsafe_code)]
mod matmul;
// The kernel's one module with unsafe code (see the crate root).
pub mod simd;
#[forbid(unsafe_code)]
mod tree_sum;

pub use matmul::{matmul, matmul_with, MatmulShape};
pub use simd::{matmul_f32_with, matmul_i16_with, matmul_on, vectorised, UnitKind, VectorUnit, Work};
pub use tree_sum::{chunk_count, tree_sum_in_place, tree_sum_into, tree_sum_with, BATCH_CHUNK};
