//! Reading a trace back, checking every line: a bad file is refused with its name, the line
//! and what is wrong, never half-read.

use super::format::{self, EndRecord, Header, OpRecord, Record, StepRecord, FORMAT, VERSION};
use samebits::digest::digest_words;
use samebits::model::Op;
use std::path::{Path, PathBuf};

/// A step with the operations recorded before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub record: StepRecord,
    /// Empty at level `steps`.
    pub ops: Vec<OpRecord>,
    /// Parameter bits per tensor, where the record holds them.
    pub values: Option<Vec<Vec<u32>>>,
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub file: PathBuf,
    pub header: Header,
    pub steps: Vec<Step>,
    /// Operations of a step that did not finish (the run stopped with an error in it).
    pub unfinished_ops: Vec<OpRecord>,
    pub end: EndRecord,
}

/// Why a file could not be read as a trace: `FILE:LINE: what`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "cannot read {}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads and checks the trace in `path`.
pub fn read(path: &Path) -> Result<Trace, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError { file: path.into(), line: 0, message: e.to_string() })?;
    parse(&bytes, path)
}

/// One line of JSON, as a message for the user when it is not.
fn json_line(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("corrupted record: not valid JSON ({e})"))
}

/// Reads and checks a trace held in `bytes`; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Trace, ReadError> {
    let fail = |line: usize, message: String| ReadError { file: path.into(), line, message };
    if bytes.is_empty() {
        return Err(fail(1, "empty file, not a samebits trace".into()));
    }
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // A complete file ends with a newline, which leaves one empty piece; anything else after
    // the last newline is a record cut short.
    let last = lines.pop().unwrap_or_default();
    let cut = if last.is_empty() { None } else { Some(lines.len() + 1) };
    if lines.is_empty() {
        // One line without a newline: judge the header first, then report the cut.
        lines.push(last);
    }

    let text = |n: usize, raw: &[u8]| -> Result<String, ReadError> {
        std::str::from_utf8(raw).map(str::to_string).map_err(|_| fail(n, "not text (invalid UTF-8)".into()))
    };
    let first = text(1, lines[0]).map_err(|_| fail(1, "not a samebits trace (the first line is not text)".into()))?;
    let header = serde_json::from_str::<serde_json::Value>(&first)
        .ok()
        .filter(|v| v.get("format").and_then(|f| f.as_str()) == Some(FORMAT))
        .ok_or_else(|| fail(1, format!("not a samebits trace (no \"format\": \"{FORMAT}\" header)")))?;
    match header.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == VERSION as u64 => {}
        Some(v) => {
            return Err(fail(1, format!("trace format version {v}; this samebits reads version {VERSION} only")));
        }
        None => return Err(fail(1, "header without a format version".into())),
    }
    let header: Header = serde_json::from_value(header).map_err(|e| fail(1, format!("bad header: {e}")))?;
    check_header(&header).map_err(|m| fail(1, format!("bad header: {m}")))?;
    if cut == Some(1) {
        return Err(fail(1, "truncated: the header line does not end (the run stopped while writing it)".into()));
    }

    let mut steps: Vec<Step> = Vec::new();
    let mut ops: Vec<OpRecord> = Vec::new();
    let mut end = None;
    for (i, raw) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        if end.is_some() {
            return Err(fail(n, "record after the end record".into()));
        }
        let line = text(n, raw)?;
        let value = json_line(&line).map_err(|m| fail(n, m))?;
        let record: Record = serde_json::from_value(value).map_err(|e| fail(n, format!("bad record: {e}")))?;
        let expected_step = steps.last().map_or(1, |s| s.record.step + 1);
        match record {
            Record::Op(op) => {
                check_op(&header, &op, expected_step).map_err(|m| fail(n, m))?;
                ops.push(op);
            }
            Record::Step(step) => {
                let values = check_step(&header, &step, expected_step).map_err(|m| fail(n, m))?;
                steps.push(Step { record: step, ops: std::mem::take(&mut ops), values });
            }
            Record::End(e) => {
                if e.steps != steps.len() as u64 {
                    return Err(fail(n, format!("end record says {} steps, the trace holds {}", e.steps, steps.len())));
                }
                if !matches!(e.status.as_str(), "ok" | "error") {
                    return Err(fail(n, format!("end record with status \"{}\" (expected ok or error)", e.status)));
                }
                end = Some(e);
            }
        }
    }
    if let Some(n) = cut {
        return Err(fail(n, "truncated: the last record does not end (the run stopped while writing it)".into()));
    }
    let Some(end) = end else {
        let after = steps.last().map_or("the header".to_string(), |s| format!("step {}", s.record.step));
        return Err(fail(
            lines.len() + 1,
            format!("truncated: no end record after {after} (the run stopped or was killed before it finished)"),
        ));
    };
    Ok(Trace { file: path.into(), header, steps, unfinished_ops: ops, end })
}

fn check_header(h: &Header) -> Result<(), String> {
    if !matches!(h.path.as_str(), "float" | "fixed") {
        return Err(format!("path \"{}\" (expected float or fixed)", h.path));
    }
    if let Some(t) = h.tensors.iter().find(|t| t.tensor != "weights" && t.tensor != "biases") {
        return Err(format!("tensor \"{}\" (expected weights or biases)", t.tensor));
    }
    if !format::is_digest(&h.dataset.digest) {
        return Err("dataset digest is not 64 hex digits".into());
    }
    Ok(())
}

fn check_op(h: &Header, op: &OpRecord, expected_step: u64) -> Result<(), String> {
    if op.step != expected_step {
        return Err(format!("operation of step {} where step {expected_step} was expected", op.step));
    }
    let layers = h.tensors.len() / 2;
    if op.layer == 0 || op.layer > layers {
        return Err(format!("operation of layer {}; the model has {layers} layers", op.layer));
    }
    if Op::from_name(&op.op).is_none() {
        return Err(format!("unknown operation \"{}\"", op.op));
    }
    if !format::is_digest(&op.digest) {
        return Err("corrupted record: operation digest is not 64 hex digits".into());
    }
    Ok(())
}

/// Checks a step record; returns its parameter values when it holds them.
fn check_step(h: &Header, s: &StepRecord, expected_step: u64) -> Result<Option<Vec<Vec<u32>>>, String> {
    if s.step != expected_step {
        return Err(format!("step {} where step {expected_step} was expected", s.step));
    }
    if s.loss.len() != 8 || format::hex_words(&s.loss).is_none() {
        return Err("corrupted record: loss is not 8 hex digits".into());
    }
    if s.digests.len() != h.tensors.len() {
        return Err(format!("{} tensor digests; the header lists {} tensors", s.digests.len(), h.tensors.len()));
    }
    if let Some((i, _)) = s.digests.iter().enumerate().find(|(_, d)| !format::is_digest(d)) {
        return Err(format!("corrupted record: the digest of {} is not 64 hex digits", h.tensors[i].label()));
    }
    let Some(values) = &s.values else { return Ok(None) };
    if values.len() != h.tensors.len() {
        return Err(format!("values for {} tensors; the header lists {}", values.len(), h.tensors.len()));
    }
    let mut out = Vec::with_capacity(values.len());
    for ((hex, t), digest) in values.iter().zip(&h.tensors).zip(&s.digests) {
        let words = format::hex_words(hex).filter(|w| w.len() == t.len).ok_or_else(|| {
            format!("corrupted record: the values of {} are not {} words of 8 hex digits", t.label(), t.len)
        })?;
        if digest_words(words.iter().copied()).to_string() != *digest {
            return Err(format!("corrupted record: the values of {} do not match their digest", t.label()));
        }
        out.push(words);
    }
    Ok(Some(out))
}
