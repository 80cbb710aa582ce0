//! Set-up shared by the criterion benchmarks: the fixtures live in the harness
//! ([`samebits_harness::bench`]) so that `samebits bench` and these benchmarks time the same
//! work. See that module for what is set up outside the timed loops.

pub use samebits_harness::bench::{path_kind, DenseCase, Epoch, EpochFixture};
