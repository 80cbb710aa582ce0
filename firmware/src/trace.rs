//! The run's trace in the host's format (docs/TRACE.md, version 1), printed as it is produced:
//! each line goes to semihosting stdout after the marker `trace: `, which keeps it apart from
//! the human lines, in chunks of a small buffer, so the trace never takes more RAM than that.

use crate::data::LAYERS;
use core::fmt::{self, Write};
use samebits::arith::Arithmetic;
use samebits::digest::{digest_words, Digest};
use samebits::model::Trainer;

/// What precedes every trace line on stdout (scripts/matrix-firmware.sh strips it).
pub const MARKER: &str = "trace: ";

/// Bytes gathered before one semihosting write: each write is a trap into the emulator, so
/// one per hex digit would make the values records slow.
const CHUNK: usize = 128;

/// Writes trace lines to `out`.
pub struct Trace<'w> {
    out: &'w mut dyn Write,
    buf: [u8; CHUNK],
    len: usize,
    /// Steps recorded.
    steps: u64,
}

impl<'w> Trace<'w> {
    /// Prints `header` (the whole first line, built by build.rs) and returns the trace.
    pub fn start(out: &'w mut dyn Write, header: &str) -> Self {
        let mut t = Self { out, buf: [0; CHUNK], len: 0, steps: 0 };
        t.line(format_args!("{header}"));
        t
    }

    fn flush(&mut self) {
        // Only whole `str`s go into the buffer, so it always holds UTF-8.
        if let Ok(s) = core::str::from_utf8(&self.buf[..self.len]) {
            let _ = self.out.write_str(s);
        }
        self.len = 0;
    }

    /// One line: the marker, `content`, a newline.
    fn line(&mut self, content: fmt::Arguments<'_>) {
        let _ = self.write_str(MARKER);
        let _ = self.write_fmt(content);
        let _ = self.write_str("\n");
        self.flush();
    }

    /// The record of step `step` of epoch `epoch`, with `trainer`'s parameters after it;
    /// `epoch_end` adds every parameter's bits, as the host's trace holds them after each
    /// epoch's last step.
    pub fn step<N: Arithmetic>(
        &mut self,
        step: u64,
        epoch: u32,
        loss: N::Act,
        trainer: &Trainer<'_, N, LAYERS>,
        epoch_end: bool,
    ) {
        let tensors = || (0..LAYERS).flat_map(|l| <[&[N::Param]; 2]>::from(trainer.layer_params(l)));
        let _ = write!(self, "{MARKER}{{\"record\":\"step\",\"step\":{step},\"epoch\":{epoch},");
        let _ = write!(self, "\"loss\":\"{:08x}\",\"digests\":[", N::act_bits(loss));
        for (i, t) in tensors().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            let _ = write!(self, "{comma}\"{}\"", digest_words(t.iter().map(|p| N::param_bits(*p))));
        }
        let _ = self.write_str("]");
        if epoch_end {
            let _ = self.write_str(",\"values\":[");
            for (i, t) in tensors().enumerate() {
                let _ = self.write_str(if i == 0 { "\"" } else { ",\"" });
                for p in t {
                    let _ = write!(self, "{:08x}", N::param_bits(*p));
                }
                let _ = self.write_str("\"");
            }
            let _ = self.write_str("]");
        }
        let _ = self.write_str("}\n");
        self.flush();
        self.steps = step;
    }

    /// The last line: the run finished with `digest`, or stopped with `error`.
    pub fn end(&mut self, result: Result<&Digest, &dyn fmt::Display>) {
        let steps = self.steps;
        match result {
            Ok(d) => {
                self.line(format_args!("{{\"record\":\"end\",\"steps\":{steps},\"status\":\"ok\",\"digest\":\"{d}\"}}"))
            }
            Err(e) => {
                let _ =
                    write!(self, "{MARKER}{{\"record\":\"end\",\"steps\":{steps},\"status\":\"error\",\"error\":\"");
                let _ = write!(Escaped(self), "{e}");
                let _ = self.write_str("\"}\n");
                self.flush();
            }
        }
    }
}

impl Write for Trace<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.len + s.len() > CHUNK {
            self.flush();
        }
        if s.len() > CHUNK {
            return self.out.write_str(s);
        }
        self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

/// Writes into a JSON string: quotes, backslashes and control characters escaped.
struct Escaped<'t, 'w>(&'t mut Trace<'w>);

impl Write for Escaped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' | '\\' => write!(self.0, "\\{c}")?,
                c if (c as u32) < 0x20 => write!(self.0, "\\u{:04x}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}
