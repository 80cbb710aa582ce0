//! The trace reader (`samebits_harness::trace::reader::parse`) and, on what it accepts, the
//! comparison (`samebits_harness::trace::compare`).
//!
//! Without a NUL byte the whole input is one trace: if it is read, it is compared with itself,
//! which must report identical runs. With a NUL byte (never in a real trace, which is JSON
//! Lines), the bytes before the first NUL are trace A and the bytes after it trace B; when both
//! are read, they are compared both ways and the divergence chart is drawn.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samebits_harness::trace::{self, reader};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    match data.iter().position(|&b| b == 0) {
        None => {
            if let Ok(t) = reader::parse(data, Path::new("fuzz.trace")) {
                let c = trace::compare(&t, &t);
                assert!(c.identical, "a trace differs from itself:\n{}", c.report);
            }
        }
        Some(at) => {
            let a = reader::parse(&data[..at], Path::new("a.trace"));
            let b = reader::parse(&data[at + 1..], Path::new("b.trace"));
            if let (Ok(a), Ok(b)) = (a, b) {
                let ab = trace::compare(&a, &b);
                let ba = trace::compare(&b, &a);
                assert_eq!(ab.identical, ba.identical, "compare is not symmetric");
                let figure = trace::divergence_figure(&ab);
                let _ = samebits_harness::plot::render_figure_svg(&figure);
            }
        }
    }
});
