//! The trace format, version [`VERSION`]: JSON Lines, one header then records
//! (docs/TRACE.md describes every field).

use crate::config::TrainConfig;
use crate::data::Dataset;
use samebits::digest::{digest_words, Digest};
use serde::{Deserialize, Serialize};

/// The header's `format` value.
pub const FORMAT: &str = "samebits-trace";
/// The format version this samebits writes and reads. It changes when a field changes meaning
/// or a required field is added or removed; a new optional field does not change it, and
/// readers ignore fields they do not know.
pub const VERSION: u32 = 1;

/// How much a trace records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One record per step: the loss and the digest of every parameter tensor.
    #[default]
    Steps,
    /// Also one record per layer operation: forward output, backward `dL/dz`, gradients and
    /// updated parameters (CPU only).
    Ops,
}

impl Level {
    /// Name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Level::Steps => "steps",
            Level::Ops => "ops",
        }
    }
}

/// One parameter tensor: a layer's weights or biases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Counting from 1.
    pub layer: usize,
    /// `"weights"` or `"biases"`.
    pub tensor: String,
    /// Number of elements.
    pub len: usize,
}

impl TensorInfo {
    /// `layer 2 weights`.
    pub fn label(&self) -> String {
        format!("layer {} {}", self.layer, self.tensor)
    }
}

/// The data a run trained and tested on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub train_rows: usize,
    pub test_rows: usize,
    pub features: usize,
    pub classes: usize,
    /// SHA-256 ([`dataset_digest`]) of the training and test features and labels.
    pub digest: String,
}

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The samebits release that wrote the trace.
    pub samebits_version: String,
    /// `samebits::CONTRACT_VERSION` of the kernel that trained.
    pub contract_version: u32,
    /// `"float"` or `"fixed"`: how parameter bits are read (IEEE f32 or Q8.24 words).
    pub path: String,
    /// What the records hold.
    pub level: Level,
    /// Parameter values are recorded every this many steps (0: only after each epoch's last step).
    pub values_every: u64,
    /// The parameter tensors in storage order; every step record lists one digest per entry.
    pub tensors: Vec<TensorInfo>,
    /// The run's full configuration, as `samebits train --json` prints it.
    pub config: serde_json::Value,
    /// The training and test data.
    pub dataset: DatasetInfo,
    /// The environment fingerprint (`samebits env --json`): groups of entries with a `key`,
    /// a `value` and whether a difference `can_change_bits`.
    pub environment: serde_json::Value,
}

/// A record after the header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Op(OpRecord),
    Step(StepRecord),
    End(EndRecord),
}

/// One layer operation of a step (`level: ops`), written before the step's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub step: u64,
    pub layer: usize,
    /// `forward`, `backward`, `gradients` or `update` (`samebits::model::Op`).
    pub op: String,
    /// Number of values.
    pub len: usize,
    /// SHA-256 of their bits (NUMERICS.md §11 word order).
    pub digest: String,
}

/// A finished step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Counting from 1.
    pub step: u64,
    /// Counting from 1.
    pub epoch: u32,
    /// The batch's mean loss, its 32 bits as 8 hex digits.
    pub loss: String,
    /// The parameters after the step: one SHA-256 per tensor of the header, in its order.
    pub digests: Vec<String>,
    /// Every parameter's bits, one hex string per tensor (8 digits per element, in order), on
    /// the steps `values_every` names and after each epoch's last step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// The last line: how the run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndRecord {
    /// Steps completed.
    pub steps: u64,
    /// `"ok"` or `"error"`.
    pub status: String,
    /// The final digest (NUMERICS.md §11), when the run finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Why the run stopped, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The parameter tensors of `config` on data with `features` inputs and `classes` outputs.
pub fn tensors(config: &TrainConfig, features: usize, classes: usize) -> Vec<TensorInfo> {
    let widths: Vec<usize> =
        std::iter::once(features).chain(config.hidden.iter().copied()).chain(std::iter::once(classes)).collect();
    let mut out = Vec::new();
    for (l, pair) in widths.windows(2).enumerate() {
        out.push(TensorInfo { layer: l + 1, tensor: "weights".into(), len: pair[0].saturating_mul(pair[1]) });
        out.push(TensorInfo { layer: l + 1, tensor: "biases".into(), len: pair[1] });
    }
    out
}

/// SHA-256 over the training features, training labels, test features and test labels, each
/// value as its 32 bits little-endian (features as f32 bits): equal digests, equal data.
pub fn dataset_digest(train: &Dataset, test: &Dataset) -> Digest {
    let words = |d: &Dataset| {
        let features = d.features.iter().map(|x| x.to_bits());
        features.chain(d.labels.iter().copied()).collect::<Vec<u32>>()
    };
    digest_words(words(train).into_iter().chain(words(test)))
}

/// 32-bit words as 8 lowercase hex digits each.
pub fn words_hex(words: impl Iterator<Item = u32>) -> String {
    let mut s = String::new();
    for w in words {
        s.push_str(&format!("{w:08x}"));
    }
    s
}

/// The words of a hex string of 8 digits each, or `None` if it is not one.
pub fn hex_words(s: &str) -> Option<Vec<u32>> {
    if !s.len().is_multiple_of(8) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // ASCII only (checked), so every 8-byte chunk is a str.
    s.as_bytes().chunks(8).map(|c| u32::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok()).collect()
}

/// Whether `s` looks like a SHA-256 digest: 64 lowercase hex digits.
pub fn is_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Distance in units in the last place between two parameters' bits: for IEEE f32 the number of
/// representable values between them (+0 and −0 are 0 apart), for fixed point the difference of
/// the raw words.
pub fn ulp_distance(path: &str, a: u32, b: u32) -> u64 {
    if path == "fixed" {
        (a as i32 as i64 - b as i32 as i64).unsigned_abs()
    } else {
        let ordered = |x: u32| if x & 0x8000_0000 != 0 { -((x & 0x7fff_ffff) as i64) } else { x as i64 };
        (ordered(a) - ordered(b)).unsigned_abs()
    }
}

/// A parameter's bits as a number, for reports.
pub fn bits_value(path: &str, bits: u32) -> f64 {
    if path == "fixed" {
        bits as i32 as f64 / (1u64 << 24) as f64
    } else {
        f32::from_bits(bits) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulps_count_representable_values() {
        let one = 1.0f32.to_bits();
        assert_eq!(ulp_distance("float", one, one + 1), 1);
        assert_eq!(ulp_distance("float", 0x8000_0000, 0), 0);
        assert_eq!(ulp_distance("float", (-f32::from_bits(1)).to_bits(), f32::from_bits(1).to_bits()), 2);
        assert_eq!(ulp_distance("fixed", -1i32 as u32, 2), 3);
    }

    #[test]
    fn hex_round_trips() {
        let words = [0, 1, 0xdead_beef, u32::MAX];
        assert_eq!(hex_words(&words_hex(words.into_iter())).unwrap(), words);
        assert_eq!(hex_words("123"), None);
        assert_eq!(hex_words("1234567g"), None);
    }
}
