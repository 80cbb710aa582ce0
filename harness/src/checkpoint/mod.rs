//! Checkpoints: everything that determines the rest of a run (NUMERICS.md §9.1), written
//! atomically, so that a run killed at any moment resumes with exactly the bits of the
//! uninterrupted one (docs/RELIABILITY.md).
//!
//! A checkpoint directory holds one file, [`FILE_NAME`]. A new checkpoint is written to
//! [`TEMP_NAME`] beside it, flushed to the disk, and renamed over the old one, so the last
//! good checkpoint stays in place until its successor is durable; a kill at any instant leaves
//! either the old or the new checkpoint, never a mixture.

mod format;
mod store;

pub use format::{CheckpointError, FORMAT_VERSION, MAGIC};
pub use store::{load, prepare_dir, write_atomic, FILE_NAME, PAUSE_ENV, TEMP_NAME};

use crate::config::TrainConfig;
use crate::data::Dataset;
use crate::train::EpochStats;
use samebits::digest::{Digest, Sha256};

/// Which data a run trained on: its shape and a digest of every value and label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataIdentity {
    pub n_features: usize,
    pub n_classes: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    /// SHA-256 over the shape, then every training value's bits and label, then the test set's.
    pub digest: Digest,
}

impl DataIdentity {
    /// The identity of a training and a test set.
    pub fn of(train: &Dataset, test: &Dataset) -> Self {
        let mut sha = Sha256::new();
        for n in [train.n_features, train.n_classes, train.rows(), test.rows()] {
            sha.update(&(n as u64).to_le_bytes());
        }
        // Words are hashed 1024 at a time: one `update` per value would cost more than the hash.
        let mut hash_words = |words: &mut dyn Iterator<Item = u32>| {
            let mut buffer = [0u8; 4096];
            loop {
                let mut len = 0;
                for (slot, word) in buffer.chunks_exact_mut(4).zip(&mut *words) {
                    slot.copy_from_slice(&word.to_le_bytes());
                    len += 4;
                }
                sha.update(&buffer[..len]);
                if len < buffer.len() {
                    break;
                }
            }
        };
        for set in [train, test] {
            hash_words(&mut set.features.iter().map(|x| x.to_bits()));
            hash_words(&mut set.labels.iter().copied());
        }
        Self {
            n_features: train.n_features,
            n_classes: train.n_classes,
            train_rows: train.rows(),
            test_rows: test.rows(),
            digest: Digest(sha.finalize()),
        }
    }
}

/// Where in the run a checkpoint was taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// The epoch in progress, counting from 1 (`epochs + 1` once the run has finished).
    pub epoch: u32,
    /// Batches of that epoch already trained.
    pub batches_done: u64,
    /// The shuffle stream's state before that epoch's permutation (NUMERICS.md §8.1).
    pub order_state: [u32; 4],
    /// Sum of that epoch's batch losses so far (f64, for the epoch's report).
    pub loss_sum: f64,
}

/// A checkpoint's whole content.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The settings that decide the bits; `threads`, `simd` and `device` are not stored.
    pub config: TrainConfig,
    /// Steps between checkpoints, the default for the resumed run.
    pub every: u64,
    pub data: DataIdentity,
    pub position: Position,
    /// Steps taken (the step after which the checkpoint was written).
    pub steps: u64,
    /// Fixed-point saturations so far.
    pub saturations: u64,
    /// Raw bits of Adam's β1ᵗ and β2ᵗ in the path's scalar format.
    pub adam_powers: [u32; 2],
    /// The finished epochs' reports.
    pub history: Vec<EpochStats>,
    /// Test rows classified correctly after the last finished epoch.
    pub test_correct: usize,
    /// Every parameter's raw bits.
    pub params: Vec<u32>,
    /// The optimizer state's raw bits.
    pub opt_state: Vec<u32>,
}

impl Checkpoint {
    /// Whether the run it was taken from had finished.
    pub fn finished(&self) -> bool {
        self.position.epoch > self.config.epochs
    }

    /// Steps of the whole run.
    pub fn total_steps(&self) -> u64 {
        u64::from(self.config.epochs) * self.data.train_rows.div_ceil(self.config.batch) as u64
    }
}
