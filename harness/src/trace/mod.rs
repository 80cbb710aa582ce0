//! Traces of training runs and their comparison (docs/TRACE.md).
//!
//! `samebits train --trace FILE` writes a header (versions, configuration, data digest,
//! environment fingerprint) and then one record per step — the loss and a digest of every
//! parameter tensor — and, at level `ops`, one record per layer operation ([`writer`]). The
//! format is JSON Lines ([`format`](mod@format)), one record per line, flushed as it is written.
//! `samebits compare A B` reads two traces ([`reader`]) and names the first step, operation,
//! tensor and element where they part, and the header differences that could explain it
//! ([`compare`](mod@compare)).

pub mod compare;
pub mod format;
pub mod reader;
pub mod writer;

pub use compare::{compare, Comparison};
pub use format::Level;
pub use reader::{read, ReadError, Trace};
pub use writer::{Fault, TraceOptions, Tracer};

use std::io::Write;
use std::path::Path;

/// Exit code of `samebits compare` for two traces that differ.
pub const EXIT_DIFFERENT: i32 = 1;
/// Exit code of `samebits compare` when a trace cannot be read.
pub const EXIT_ERROR: i32 = 2;

/// `samebits compare A B`: the report on `out`; exit 0 when the traces are identical, 1 when
/// they differ, 2 when one cannot be read (one line on `err`, `FILE:LINE: what`). With
/// `plot`, also draws both loss curves and the divergence per step as an SVG file (refused if
/// it exists, unless its flag says to overwrite it).
pub fn compare_command(
    a: &Path,
    b: &Path,
    plot: Option<(&Path, bool)>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let traces = read(a).and_then(|ta| Ok((ta, read(b)?)));
    let (ta, tb) = match traces {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "samebits: error: {e}");
            return EXIT_ERROR;
        }
    };
    let comparison = compare(&ta, &tb);
    if let Err(e) = out.write_all(comparison.report.as_bytes()) {
        let _ = writeln!(err, "samebits: error: cannot write output: {e}");
        return EXIT_ERROR;
    }
    if let Some((path, overwrite)) = plot {
        let figure = divergence_figure(&comparison);
        if let Err(e) = crate::plot::save(path, &crate::plot::render_figure_svg(&figure), overwrite) {
            let _ = writeln!(err, "samebits: error: {}", crate::plot::save_error(path, &e));
            return EXIT_ERROR;
        }
        let _ = writeln!(out, "plot written to {}", path.display());
    }
    if comparison.identical {
        0
    } else {
        EXIT_DIFFERENT
    }
}

/// Two panels: both runs' loss per step, and the largest distance in ulps between their
/// parameters per step (log scale; 0 where every tensor digest is equal, and only the steps
/// where it is known: equal digests or recorded values).
pub fn divergence_figure(c: &Comparison) -> crate::plot::Figure {
    use crate::plot::{Chart, Figure, Series};
    let loss = Chart {
        title: "training loss per step".into(),
        x_label: "step".into(),
        y_label: "batch loss".into(),
        log_y: false,
        series: vec![
            Series { name: "A".into(), points: c.losses[0].clone() },
            Series { name: "B".into(), points: c.losses[1].clone() },
        ],
    };
    let divergence = Chart {
        title: "divergence: largest parameter distance after each step".into(),
        x_label: "step".into(),
        y_label: "ulps (largest over all parameters)".into(),
        log_y: true,
        series: vec![Series { name: "A vs B".into(), points: c.divergence.clone() }],
    };
    Figure { title: "samebits compare".into(), panels: vec![loss, divergence] }
}
