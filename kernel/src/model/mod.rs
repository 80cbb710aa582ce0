//! A sequential MLP and its training step over caller-provided buffers.
//!
//! Contract: NUMERICS.md §6–§9. The caller owns every buffer (`Vec`s in the harness, static
//! arrays in firmware); [`Trainer::sizes`] says how large each must be. Nothing here
//! allocates.

mod error;
mod init;
mod layout;
mod spec;
mod trainer;

pub use error::{NonFinite, SetupError, Tensor};
pub use init::Init;
pub use layout::BufferSizes;
pub use spec::{LayerSpec, MlpSpec, DEFAULT_MAX_LAYERS};
pub use trainer::{Batch, Buffers, Trainer};
