//! Layers, each an explicit forward/backward pair over caller-provided buffers.
//!
//! Every function works on a block of whole rows, so an [`Executor`](crate::exec::Executor)
//! can hand different row blocks to different threads; the result of a row never depends on
//! the block it was computed in.

mod activation;
mod dense;
mod softmax_ce;

pub use activation::Activation;
pub use dense::Dense;
pub use softmax_ce::{argmax, softmax_cross_entropy_row, softmax_cross_entropy_row_with};
