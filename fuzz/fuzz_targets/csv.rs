//! The CSV reader (`samebits_harness::data::parse_csv`) on arbitrary text.
//!
//! The first byte picks the options, so both modes are fuzzed: bit 0 = `header`; bits 1..=4 =
//! `n_classes` (0 → `None`, inferred; k → `Some(k - 1)`, so 0 and 1 — always refused — are
//! reached too). The rest, when it is UTF-8, is the file's text. Accepted input must keep the
//! `Dataset` invariants (`features.len() == rows × n_features`, every label `< n_classes`,
//! at least 2 classes, every feature finite).
#![no_main]

use libfuzzer_sys::fuzz_target;
use samebits_harness::data::{parse_csv, CsvOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let n_classes = match (flags >> 1) & 0x0f {
        0 => None,
        k => Some(usize::from(k) - 1),
    };
    let opts = CsvOptions { header: flags & 1 == 1, n_classes };
    match parse_csv(text, "fuzz.csv", &opts) {
        Ok(ds) => {
            assert!(ds.rows() > 0, "accepted a CSV without rows");
            assert!(ds.n_features > 0, "accepted a CSV without features");
            assert_eq!(ds.features.len(), ds.rows() * ds.n_features);
            assert!(ds.n_classes >= 2);
            if let Some(n) = n_classes {
                assert_eq!(ds.n_classes, n);
            }
            assert!(ds.labels.iter().all(|&l| (l as usize) < ds.n_classes));
            assert!(ds.features.iter().all(|f| f.is_finite()));
        }
        Err(e) => {
            // Every error is one line naming the source.
            let message = e.to_string();
            assert!(!message.contains('\n'), "error message on several lines: {message:?}");
        }
    }
});
