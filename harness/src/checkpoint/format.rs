//! The checkpoint file: a fixed header, a body of little-endian fields, a SHA-256 trailer.
//!
//! ```text
//! offset  size  field
//!      0    16  magic "SBCHECKPOINT\r\n\x1a\n" (the \r\n and \x1a catch text-mode copies)
//!     16     4  format version (FORMAT_VERSION)
//!     20     4  contract version (samebits::CONTRACT_VERSION of the run)
//!     24     8  body length B
//!     32     B  body (the fields of `Checkpoint`, in the order `encode` writes them)
//!   32+B    32  SHA-256 of bytes 0 .. 32+B
//! ```
//!
//! Every integer is little-endian, every float its IEEE bits, every string a u32 length and
//! UTF-8, every word list a u64 count and u32 words. Decoding checks the magic, the versions,
//! the length (a truncated file), the checksum (a corrupted one) and then every field, and
//! refuses anything left over: a file is read whole or not at all.

use super::{Checkpoint, DataIdentity, Position};
use crate::config::{DataSource, DeviceKind, MathKind, OptimizerKind, PathKind, SimdChoice, TrainConfig};
use crate::train::EpochStats;
use samebits::digest::{Digest, Sha256};
use samebits::layers::Activation;
use samebits::model::Init;
use std::fmt;

/// The first 16 bytes of every checkpoint.
pub const MAGIC: [u8; 16] = *b"SBCHECKPOINT\r\n\x1a\n";
/// The layout this code writes and reads; any other is refused.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 32;
const TRAILER_LEN: usize = 32;

/// Why bytes are not a checkpoint this build can resume.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckpointError {
    /// The file does not start with the magic: some other file.
    NotACheckpoint,
    /// A checkpoint of another layout.
    FormatVersion { found: u32 },
    /// Shorter than its header says: a write that did not finish, or a cut copy.
    Truncated { expected: u64, found: u64 },
    /// Longer than its header says.
    TrailingBytes { extra: u64 },
    /// The checksum does not match the content.
    Corrupted,
    /// Written under another numerical contract: its run cannot be continued with these bits.
    ContractVersion { found: u32 },
    /// The checksum matches but a field makes no sense (written by something else).
    Malformed(String),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::NotACheckpoint => f.write_str("not a samebits checkpoint (wrong magic bytes)"),
            CheckpointError::FormatVersion { found } => write!(
                f,
                "checkpoint format version {found}; this samebits reads version {FORMAT_VERSION} only"
            ),
            CheckpointError::Truncated { expected, found } => {
                write!(f, "checkpoint is truncated: {found} bytes, its header says {expected}")
            }
            CheckpointError::TrailingBytes { extra } => {
                write!(f, "checkpoint has {extra} bytes after its end: not written by samebits")
            }
            CheckpointError::Corrupted => f.write_str("checkpoint is corrupted: its SHA-256 checksum does not match"),
            CheckpointError::ContractVersion { found } => write!(
                f,
                "checkpoint was written under numerical contract v{found}; this samebits implements v{}, whose bits differ",
                samebits::CONTRACT_VERSION
            ),
            CheckpointError::Malformed(what) => write!(f, "checkpoint is malformed: {what}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

/// Appends little-endian fields.
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn words(&mut self, words: &[u32]) {
        self.u64(words.len() as u64);
        for w in words {
            self.u32(*w);
        }
    }
}

/// Reads the fields back, refusing reads past the end.
struct Reader<'b> {
    bytes: &'b [u8],
}

type Field<T> = Result<T, CheckpointError>;

fn malformed<T>(what: impl Into<String>) -> Field<T> {
    Err(CheckpointError::Malformed(what.into()))
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize, what: &str) -> Field<&'b [u8]> {
        if n > self.bytes.len() {
            return malformed(format!("{what} runs past the end of the body"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn array<const K: usize>(&mut self, what: &str) -> Field<[u8; K]> {
        let mut a = [0; K];
        a.copy_from_slice(self.take(K, what)?);
        Ok(a)
    }
    fn u8(&mut self, what: &str) -> Field<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    fn bool(&mut self, what: &str) -> Field<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => malformed(format!("{what} is {b}, not 0 or 1")),
        }
    }
    fn u32(&mut self, what: &str) -> Field<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Field<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn usize(&mut self, what: &str) -> Field<usize> {
        let v = self.u64(what)?;
        usize::try_from(v).or_else(|_| malformed(format!("{what} {v} does not fit this machine")))
    }
    fn f32(&mut self, what: &str) -> Field<f32> {
        Ok(f32::from_bits(self.u32(what)?))
    }
    fn f64(&mut self, what: &str) -> Field<f64> {
        Ok(f64::from_bits(self.u64(what)?))
    }
    fn str(&mut self, what: &str) -> Field<&'b str> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes).or_else(|_| malformed(format!("{what} is not UTF-8")))
    }
    fn words(&mut self, what: &str) -> Field<Vec<u32>> {
        let count = self.u64(what)?;
        // Checked before allocating: a count is never trusted beyond the bytes present.
        if count > (self.bytes.len() / 4) as u64 {
            return malformed(format!("{what} claims {count} words, more than the body holds"));
        }
        let bytes = self.take(count as usize * 4, what)?;
        Ok(bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

fn name_of<T: Copy + PartialEq>(table: &[(&'static str, T)], value: T) -> &'static str {
    table.iter().find(|(_, v)| *v == value).map_or("?", |(n, _)| n)
}

fn value_of<T: Copy>(table: &[(&'static str, T)], name: &str, what: &str) -> Field<T> {
    match table.iter().find(|(n, _)| *n == name) {
        Some((_, v)) => Ok(*v),
        None => malformed(format!("unknown {what} '{}'", name.escape_debug())),
    }
}

const PATHS: [(&str, PathKind); 2] = [("float", PathKind::Float), ("fixed", PathKind::Fixed)];
const MATHS: [(&str, MathKind); 2] = [("portable", MathKind::Portable), ("platform", MathKind::Platform)];
const OPTIMIZERS: [(&str, OptimizerKind); 2] = [("sgd", OptimizerKind::Sgd), ("adam", OptimizerKind::Adam)];

impl Checkpoint {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(256 + 4 * (self.params.len() + self.opt_state.len())));
        let c = &self.config;
        w.str(name_of(&PATHS, c.path));
        w.str(name_of(&MATHS, c.math));
        match &c.data {
            DataSource::Digits => w.str("digits"),
            DataSource::Csv { path, header, classes, test_fraction } => {
                w.str("csv");
                w.str(&path.to_string_lossy());
                w.u8(u8::from(*header));
                w.u8(u8::from(classes.is_some()));
                w.u64(classes.unwrap_or(0) as u64);
                w.f64(*test_fraction);
            }
        }
        w.u32(c.hidden.len() as u32);
        for width in &c.hidden {
            w.u64(*width as u64);
        }
        w.str(c.activation.name());
        w.str(c.init.name());
        w.str(name_of(&OPTIMIZERS, c.optimizer));
        for x in [c.lr, c.momentum, c.weight_decay] {
            w.u32(x.to_bits());
        }
        w.u64(c.batch as u64);
        w.u32(c.epochs);
        w.u64(c.seed);
        w.u64(self.every);

        let d = &self.data;
        for n in [d.n_features, d.n_classes, d.train_rows, d.test_rows] {
            w.u64(n as u64);
        }
        w.0.extend_from_slice(&d.digest.0);

        let p = &self.position;
        w.u32(p.epoch);
        w.u64(p.batches_done);
        for s in p.order_state {
            w.u32(s);
        }
        w.f64(p.loss_sum);

        w.u64(self.steps);
        w.u64(self.saturations);
        w.u32(self.adam_powers[0]);
        w.u32(self.adam_powers[1]);
        w.u32(self.history.len() as u32);
        for e in &self.history {
            w.u32(e.epoch);
            w.f64(e.train_loss);
            w.f64(e.test_accuracy);
            w.u64(e.saturations);
        }
        w.u64(self.test_correct as u64);
        w.words(&self.params);
        w.words(&self.opt_state);

        let body = w.0;
        let mut file = Vec::with_capacity(HEADER_LEN + body.len() + TRAILER_LEN);
        file.extend_from_slice(&MAGIC);
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.extend_from_slice(&samebits::CONTRACT_VERSION.to_le_bytes());
        file.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file.extend_from_slice(&body);
        let mut sha = Sha256::new();
        sha.update(&file);
        file.extend_from_slice(&sha.finalize());
        file
    }

    /// Reads a checkpoint's bytes, checking everything [`Checkpoint::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            // A prefix of the magic (an empty file too) is a checkpoint cut short in its first bytes.
            return if MAGIC.starts_with(bytes) {
                Err(CheckpointError::Truncated {
                    expected: (HEADER_LEN + TRAILER_LEN) as u64,
                    found: bytes.len() as u64,
                })
            } else {
                Err(CheckpointError::NotACheckpoint)
            };
        }
        if bytes.len() < HEADER_LEN {
            return Err(CheckpointError::Truncated { expected: HEADER_LEN as u64, found: bytes.len() as u64 });
        }
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let format = word(16);
        if format != FORMAT_VERSION {
            return Err(CheckpointError::FormatVersion { found: format });
        }
        let contract = word(20);
        let mut len = [0; 8];
        len.copy_from_slice(&bytes[24..32]);
        let body_len = u64::from_le_bytes(len);
        let expected = body_len.saturating_add((HEADER_LEN + TRAILER_LEN) as u64);
        let found = bytes.len() as u64;
        if found < expected {
            return Err(CheckpointError::Truncated { expected, found });
        }
        if found > expected {
            return Err(CheckpointError::TrailingBytes { extra: found - expected });
        }
        let end = bytes.len() - TRAILER_LEN;
        let mut sha = Sha256::new();
        sha.update(&bytes[..end]);
        if sha.finalize()[..] != bytes[end..] {
            return Err(CheckpointError::Corrupted);
        }
        // Trusted only now that the checksum holds.
        if contract != samebits::CONTRACT_VERSION {
            return Err(CheckpointError::ContractVersion { found: contract });
        }
        let mut r = Reader { bytes: &bytes[HEADER_LEN..end] };
        let checkpoint = read_body(&mut r)?;
        if !r.bytes.is_empty() {
            return malformed(format!("{} bytes after the last field", r.bytes.len()));
        }
        checkpoint.check()?;
        Ok(checkpoint)
    }

    /// Relations between fields that the checksum cannot vouch for.
    fn check(&self) -> Field<()> {
        let c = &self.config;
        c.validate().or_else(|e| malformed(format!("its configuration is invalid: {e}")))?;
        let p = &self.position;
        if p.epoch == 0 || p.epoch > c.epochs.saturating_add(1) {
            return malformed(format!("epoch {} of a {}-epoch run", p.epoch, c.epochs));
        }
        if self.history.len() as u64 != u64::from(p.epoch - 1) {
            return malformed(format!("{} epochs of history at epoch {}", self.history.len(), p.epoch));
        }
        if self.history.iter().enumerate().any(|(i, e)| e.epoch as usize != i + 1) {
            return malformed("the epoch history is out of order");
        }
        let batches = self.data.train_rows.div_ceil(c.batch) as u64;
        if p.batches_done >= batches.max(1) {
            return malformed(format!("{} batches done of an epoch of {batches}", p.batches_done));
        }
        let expected_steps = u64::from(p.epoch - 1) * batches + p.batches_done;
        if self.steps != expected_steps {
            return malformed(format!("step {} at epoch {} batch {}", self.steps, p.epoch, p.batches_done));
        }
        if self.every == 0 {
            return malformed("a checkpoint interval of 0 steps");
        }
        Ok(())
    }
}

fn read_body(r: &mut Reader<'_>) -> Field<Checkpoint> {
    let path = value_of(&PATHS, r.str("path")?, "path")?;
    let math = value_of(&MATHS, r.str("math")?, "math")?;
    let data = match r.str("data source")? {
        "digits" => DataSource::Digits,
        "csv" => {
            let path = r.str("CSV path")?.into();
            let header = r.bool("CSV header flag")?;
            let has_classes = r.bool("class count flag")?;
            let classes = r.usize("class count")?;
            let test_fraction = r.f64("test fraction")?;
            DataSource::Csv { path, header, classes: has_classes.then_some(classes), test_fraction }
        }
        other => return malformed(format!("unknown data source '{}'", other.escape_debug())),
    };
    let layers = r.u32("hidden layer count")?;
    if layers as usize > samebits::model::DEFAULT_MAX_LAYERS {
        return malformed(format!("{layers} hidden layers"));
    }
    let hidden = (0..layers).map(|_| r.usize("hidden width")).collect::<Field<Vec<usize>>>()?;
    let activation = r.str("activation")?;
    let activation = Activation::from_name(activation)
        .map_or_else(|| malformed(format!("unknown activation '{}'", activation.escape_debug())), Ok)?;
    let init = r.str("initialisation")?;
    let init = Init::from_name(init)
        .map_or_else(|| malformed(format!("unknown initialisation '{}'", init.escape_debug())), Ok)?;
    let optimizer = value_of(&OPTIMIZERS, r.str("optimizer")?, "optimizer")?;
    let lr = r.f32("learning rate")?;
    let momentum = r.f32("momentum")?;
    let weight_decay = r.f32("weight decay")?;
    let batch = r.usize("batch size")?;
    let epochs = r.u32("epoch count")?;
    let seed = r.u64("seed")?;
    let every = r.u64("checkpoint interval")?;
    let config = TrainConfig {
        path,
        math,
        data,
        hidden,
        activation,
        init,
        optimizer,
        lr,
        momentum,
        weight_decay,
        batch,
        epochs,
        seed,
        // Settings that never change a bit: the resuming command line chooses them.
        threads: 1,
        simd: SimdChoice::Auto,
        device: DeviceKind::Cpu,
        device_index: None,
    };
    let data = DataIdentity {
        n_features: r.usize("feature count")?,
        n_classes: r.usize("class count")?,
        train_rows: r.usize("training row count")?,
        test_rows: r.usize("test row count")?,
        digest: Digest(r.array("data digest")?),
    };
    let position = Position {
        epoch: r.u32("epoch")?,
        batches_done: r.u64("batches done")?,
        order_state: [r.u32("order state")?, r.u32("order state")?, r.u32("order state")?, r.u32("order state")?],
        loss_sum: r.f64("loss sum")?,
    };
    let steps = r.u64("step count")?;
    let saturations = r.u64("saturation count")?;
    let adam_powers = [r.u32("Adam power")?, r.u32("Adam power")?];
    let epochs_done = r.u32("history length")?;
    if epochs_done > epochs {
        return malformed(format!("{epochs_done} epochs of history in a {epochs}-epoch run"));
    }
    let history = (0..epochs_done)
        .map(|_| {
            Ok(EpochStats {
                epoch: r.u32("history epoch")?,
                train_loss: r.f64("history loss")?,
                test_accuracy: r.f64("history accuracy")?,
                saturations: r.u64("history saturations")?,
            })
        })
        .collect::<Field<Vec<_>>>()?;
    let test_correct = r.usize("test correct count")?;
    let params = r.words("parameters")?;
    let opt_state = r.words("optimizer state")?;
    Ok(Checkpoint {
        config,
        every,
        data,
        position,
        steps,
        saturations,
        adam_powers,
        history,
        test_correct,
        params,
        opt_state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample() -> Checkpoint {
        let config = TrainConfig {
            data: DataSource::Csv {
                path: PathBuf::from("/data/x.csv"),
                header: true,
                classes: Some(3),
                test_fraction: 0.25,
            },
            hidden: vec![4, 2],
            epochs: 3,
            batch: 5,
            ..TrainConfig::default()
        };
        Checkpoint {
            config,
            every: 2,
            data: DataIdentity { n_features: 3, n_classes: 3, train_rows: 12, test_rows: 4, digest: Digest([7; 32]) },
            position: Position { epoch: 2, batches_done: 1, order_state: [1, 2, 3, 4], loss_sum: 0.75 },
            steps: 4,
            saturations: 0,
            adam_powers: [1.0f32.to_bits(), 1.0f32.to_bits()],
            history: vec![EpochStats { epoch: 1, train_loss: 1.5, test_accuracy: 0.5, saturations: 0 }],
            test_correct: 2,
            params: (0..37).map(|i| i * 0x0101_0101).collect(),
            opt_state: (0..37).collect(),
        }
    }

    #[test]
    fn decoding_gives_back_what_was_encoded() {
        let c = sample();
        assert_eq!(Checkpoint::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            let e = Checkpoint::decode(&bytes[..len]).unwrap_err();
            assert!(matches!(e, CheckpointError::Truncated { .. }), "cut at {len}: {e}");
        }
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let bytes = sample().encode();
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(Checkpoint::decode(&b).is_err(), "bit {bit} flipped and accepted");
        }
    }

    #[test]
    fn other_files_and_versions_are_named() {
        assert_eq!(Checkpoint::decode(b"1,2,3\n4,5,6\n"), Err(CheckpointError::NotACheckpoint));
        let mut b = sample().encode();
        b[16] = 2;
        assert_eq!(Checkpoint::decode(&b), Err(CheckpointError::FormatVersion { found: 2 }));
        // Another contract with a valid checksum: refused for its contract, not as corrupted.
        let mut b = sample().encode();
        b[20] = 99;
        let end = b.len() - TRAILER_LEN;
        let mut sha = Sha256::new();
        sha.update(&b[..end]);
        let sum = sha.finalize();
        b[end..].copy_from_slice(&sum);
        assert_eq!(Checkpoint::decode(&b), Err(CheckpointError::ContractVersion { found: 99 }));
        let mut b = sample().encode();
        b.push(0);
        assert_eq!(Checkpoint::decode(&b), Err(CheckpointError::TrailingBytes { extra: 1 }));
    }

    #[test]
    fn inconsistent_fields_are_refused_even_with_a_valid_checksum() {
        for broken in [
            Checkpoint { steps: 5, ..sample() },
            Checkpoint { every: 0, ..sample() },
            Checkpoint { history: vec![], ..sample() },
            Checkpoint { position: Position { batches_done: 3, ..sample().position }, ..sample() },
            Checkpoint { position: Position { epoch: 5, ..sample().position }, ..sample() },
        ] {
            let e = Checkpoint::decode(&broken.encode()).unwrap_err();
            assert!(matches!(e, CheckpointError::Malformed(_)), "{e}");
        }
    }
}
