//! The host's digests for the run in train.args, recorded from
//!
//! ```text
//! cargo build --release -p samebits-harness --locked
//! target/release/samebits train $(cat firmware/train.args) --threads 1 --path float --json
//! target/release/samebits train $(cat firmware/train.args) --threads 1 --path fixed --json
//! ```
//!
//! (field `digest`). Changing train.args or the CSV changes them: record them again.

/// `--path float`.
pub const FLOAT: &str = "291793ea4b2b94fc974e02bf498d17d74a1a5a31bad69941534cb531de07f60e";
/// `--path fixed`.
pub const FIXED: &str = "3cd8add44cb81b3d2c9136026c9c2cb714e57509e6b11fd249d937562f47e9a9";
