//! Writing a trace while training: one line per record, flushed at once, so that a run that
//! crashes leaves every finished record readable.

use super::format::{self, EndRecord, Header, Level, OpRecord, Record, StepRecord, TensorInfo, FORMAT, VERSION};
use crate::config::TrainConfig;
use crate::data::Dataset;
use crate::train::{RunError, RunResult};
use samebits::arith::Arithmetic;
use samebits::digest::digest_words;
use samebits::model::{Op, StepObserver};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What to record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceOptions {
    pub level: Level,
    /// Record every parameter's bits every this many steps (0: only after each epoch's last
    /// step, where they are always recorded).
    pub values_every: u64,
    /// Changes one bit during the run: for tests of the comparison only.
    pub fault: Option<Fault>,
}

/// Flips the lowest bit of one element of one tensor the step hands to observers (one unit in
/// the last place of a float or fixed-point value). It exists for fault-injection tests, which
/// check that `samebits compare` names the step, layer and operation where runs part; a real
/// run never has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Counting from 1.
    pub step: u64,
    /// Counting from 1.
    pub layer: usize,
    /// [`Op::Backward`], [`Op::Gradients`] or [`Op::Update`] (parameter-format tensors).
    pub op: Op,
    /// Element within the tensor the observer is given.
    pub index: usize,
}

/// A trace being written.
pub struct Tracer {
    out: Box<dyn Write>,
    file: PathBuf,
    options: TraceOptions,
    tensors: Vec<TensorInfo>,
    /// The first write error, worded for the user; later records are not attempted.
    failed: Option<String>,
    /// Steps recorded.
    steps: u64,
}

impl Tracer {
    /// Creates `path` and writes the header for a run of `config` on `train` and `test`. An
    /// existing file is refused and left as it was unless `overwrite` is set.
    pub fn create(
        path: &Path,
        options: TraceOptions,
        overwrite: bool,
        config: &TrainConfig,
        train: &Dataset,
        test: &Dataset,
    ) -> Result<Self, String> {
        let file = if overwrite { File::create(path) } else { File::create_new(path) };
        let file = file.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{} already exists and was left as it was (pass --overwrite to replace it)", path.display())
            }
            _ => format!("cannot create trace {}: {e}", path.display()),
        })?;
        let tracer = Self::with_writer(Box::new(BufWriter::new(file)), path, options, config, train, test);
        tracer.check()?;
        Ok(tracer)
    }

    /// As [`Tracer::create`], writing to `out`; `name` names it in messages.
    pub fn with_writer(
        out: Box<dyn Write>,
        name: &Path,
        options: TraceOptions,
        config: &TrainConfig,
        train: &Dataset,
        test: &Dataset,
    ) -> Self {
        let tensors = format::tensors(config, train.n_features, train.n_classes);
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            samebits_version: env!("CARGO_PKG_VERSION").into(),
            contract_version: samebits::CONTRACT_VERSION,
            path: match config.path {
                crate::config::PathKind::Float => "float".into(),
                crate::config::PathKind::Fixed => "fixed".into(),
            },
            level: options.level,
            values_every: options.values_every,
            tensors: tensors.clone(),
            config: serde_json::to_value(config).unwrap_or_default(),
            dataset: format::DatasetInfo {
                train_rows: train.rows(),
                test_rows: test.rows(),
                features: train.n_features,
                classes: train.n_classes,
                digest: format::dataset_digest(train, test).to_string(),
            },
            environment: crate::env::Fingerprint::collect().to_json(),
        };
        let mut tracer = Self { out, file: name.to_path_buf(), options, tensors, failed: None, steps: 0 };
        tracer.write(&header);
        tracer
    }

    /// `Err` with the first write error.
    pub fn check(&self) -> Result<(), String> {
        self.failed.clone().map_or(Ok(()), Err)
    }

    /// Whether the step must be observed layer by layer.
    pub fn observes(&self) -> bool {
        self.options.level == Level::Ops || self.options.fault.is_some()
    }

    fn write(&mut self, value: &impl Serialize) {
        if self.failed.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut self.out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        if let Err(e) = result {
            self.failed = Some(format!("cannot write trace {}: {e}", self.file.display()));
        }
    }

    /// The record of step `step` of epoch `epoch`, with the parameters after it; `epoch_end`:
    /// the epoch's last step.
    pub fn step<N: Arithmetic>(&mut self, step: u64, epoch: u32, loss: N::Act, params: &[N::Param], epoch_end: bool) {
        let mut digests = Vec::with_capacity(self.tensors.len());
        let every = self.options.values_every;
        let with_values = epoch_end || (every > 0 && step.is_multiple_of(every));
        let mut values = Vec::new();
        let mut offset = 0;
        for t in &self.tensors {
            let tensor = &params[offset.min(params.len())..(offset + t.len).min(params.len())];
            offset += t.len;
            digests.push(digest_words(tensor.iter().map(|p| N::param_bits(*p))).to_string());
            if with_values {
                values.push(format::words_hex(tensor.iter().map(|p| N::param_bits(*p))));
            }
        }
        let loss = format!("{:08x}", N::act_bits(loss));
        let values = with_values.then_some(values);
        self.steps = step;
        self.write(&Record::Step(StepRecord { step, epoch, loss, digests, values }));
    }

    /// The last record: how `result` ended.
    pub fn end(&mut self, result: &Result<RunResult, RunError>) {
        let steps = self.steps;
        let record = match result {
            Ok(r) => EndRecord { steps: r.steps, status: "ok".into(), digest: Some(r.digest.to_string()), error: None },
            Err(e) => EndRecord { steps, status: "error".into(), digest: None, error: Some(e.to_string()) },
        };
        self.write(&Record::End(record));
    }

    /// The observer that records the step's operations (at level `ops`) and applies the fault.
    pub fn observer(&mut self) -> Observer<'_> {
        Observer { tracer: self }
    }

    fn op(&mut self, step: u64, layer: usize, op: Op, words: impl Iterator<Item = u32> + Clone) {
        if self.options.level != Level::Ops {
            return;
        }
        let len = words.clone().count();
        let digest = digest_words(words).to_string();
        self.write(&Record::Op(OpRecord { step, layer, op: op.name().into(), len, digest }));
    }
}

/// Records each layer operation of a step into its [`Tracer`].
pub struct Observer<'t> {
    tracer: &'t mut Tracer,
}

impl<N: Arithmetic> StepObserver<N> for Observer<'_> {
    fn activations(&mut self, step: u64, layer: usize, op: Op, values: &mut [N::Act]) {
        self.tracer.op(step, layer, op, values.iter().map(|a| N::act_bits(*a)));
    }

    fn params(&mut self, step: u64, layer: usize, op: Op, values: &mut [N::Param]) {
        if let Some(f) = self.tracer.options.fault {
            if (f.step, f.layer, f.op) == (step, layer, op) {
                if let Some(v) = values.get_mut(f.index) {
                    *v = N::param_from_bits(N::param_bits(*v) ^ 1);
                }
            }
        }
        self.tracer.op(step, layer, op, values.iter().map(|p| N::param_bits(*p)));
    }
}
