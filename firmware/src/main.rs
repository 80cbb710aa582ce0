//! Trains the model of `train.args` on a Cortex-M microcontroller, on both arithmetic paths, in
//! static buffers, and prints each path's parameter digest, which must equal the host's
//! (`samebits train` with the same flags), then the RAM and flash it used.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod arena;
mod data;
mod expected;
mod host;
mod ram;
mod run;
mod trace;

use arena::arena_for;
use core::fmt::Write;
use cortex_m_rt::entry;
use samebits::arith::{Fixed, Float};
use samebits::digest::to_hex;
use trace::Trace;

type FloatArena = arena_for!(Float, data::FLOAT_SIZES);
type FixedArena = arena_for!(Fixed, data::FIXED_SIZES);

#[entry]
fn main() -> ! {
    // `#[entry]` hands these to `main` as `&'static mut`, once: no allocator, no unsafe.
    static mut FLOAT: FloatArena = FloatArena::zeroed(0.0, 0.0, 0.0, 0.0);
    static mut FIXED: FixedArena = FixedArena::zeroed(samebits::fixed::Param::ZERO, samebits::fixed::Act::ZERO, 0, 0);
    static mut ORDER: [u32; data::TRAIN_ROWS] = [0; data::TRAIN_ROWS];

    let mut out = host::stdout();
    let _ = write!(out, "samebits firmware on {}: MLP {}", data::TARGET, data::FEATURES);
    for width in data::HIDDEN {
        let _ = write!(out, "-{width}");
    }
    let _ = writeln!(
        out,
        "-{}, {} training and {} test rows, {} epochs",
        data::CLASSES,
        data::TRAIN_ROWS,
        data::TEST_ROWS,
        data::EPOCHS
    );
    let float = traced(&mut out, data::TRACE_HEADER_FLOAT, |t| run::train(FLOAT.buffers(), &data::FLOAT, ORDER, t));
    let float = report(&mut out, "float", float, expected::FLOAT);
    let fixed = traced(&mut out, data::TRACE_HEADER_FIXED, |t| run::train(FIXED.buffers(), &data::FIXED, ORDER, t));
    let fixed = report(&mut out, "fixed", fixed, expected::FIXED);
    let usage = ram::usage();
    let _ = writeln!(
        out,
        "ram {} bytes (static {} + stack {}) of {}, flash {} bytes",
        usage.statics + usage.stack,
        usage.statics,
        usage.stack,
        usage.ram,
        usage.flash
    );
    host::exit(float && fixed)
}

/// Runs `train` with its trace on `out`: the header line, the records `train` writes, the end.
fn traced(
    out: &mut impl Write,
    header: &str,
    train: impl FnOnce(&mut Trace<'_>) -> Result<run::Outcome, run::Failure>,
) -> Result<run::Outcome, run::Failure> {
    let mut trace = Trace::start(out, header);
    let result = train(&mut trace);
    match &result {
        Ok(o) => trace.end(Ok(&o.digest)),
        Err(e) => trace.end(Err(e)),
    }
    result
}

/// Prints `<path> <digest> test <correct>/<rows> saturations <n>` and whether the digest is the
/// recorded one; returns whether it is.
fn report(out: &mut impl Write, path: &str, result: Result<run::Outcome, run::Failure>, expected: &str) -> bool {
    match result {
        Ok(o) => {
            let same = to_hex(&o.digest.0) == expected.as_bytes();
            let _ = write!(
                out,
                "{path} {} test {}/{} saturations {}",
                o.digest,
                o.test_correct,
                data::TEST_ROWS,
                o.saturations
            );
            let _ = if same { writeln!(out) } else { writeln!(out, " expected {expected}") };
            same
        }
        Err(e) => {
            let _ = writeln!(out, "{path} failed: {e}");
            false
        }
    }
}
