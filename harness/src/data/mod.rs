//! Datasets: the built-in handwritten digits and user CSV files.
//!
//! # CSV format
//!
//! One sample per line, cells separated by commas:
//!
//! ```text
//! 0.25,1.5,-3,2
//! 1e-3, 7 ,0.5,0
//! ```
//!
//! - Every column but the last is a numeric feature; the **last column is the
//!   class label**, an integer `0..n_classes`. At least 2 columns (one
//!   feature, one label), and every row has as many columns as the first.
//! - Spaces and tabs around a cell are ignored. No quoting: `"1"` is an error.
//! - Features are read with Rust's `str::parse::<f32>()` (`3`, `-0.5`,
//!   `1e-3`, `+2.` are all fine). It rounds correctly from decimal to f32, so
//!   the same text gives bit-identical features on every platform. Values are
//!   used as written, with no scaling. NaN and infinity are rejected, as are
//!   numbers too large for f32 (such as `1e39`).
//! - Labels are written in decimal digits only (`2`, not `2.0` or `+2`), and
//!   are at most 4294967294. With `n_classes` given, every label must be
//!   below it; otherwise `n_classes` is the largest label + 1. Either way
//!   there must be at least 2 classes.
//! - Optional header: with `header: true` the first line is skipped unread.
//! - Lines end in `\n` or `\r\n`; the last line may or may not have one.
//!   Blank lines are errors, including a second newline at the end.
//! - The file is UTF-8; a byte order mark at its start is ignored.
//!
//! Files are streamed: loading holds the parsed numbers and one line of text,
//! never the whole file, and can report its progress
//! ([`load_csv_with_progress`]).
//!
//! Errors are one line each and point at the file, line and column, e.g.
//! `data.csv:17: expected 65 columns, found 64`. Line numbers count every
//! physical line, the header included.
//!
//! No rows are shuffled or reordered anywhere in this module; splits are
//! fixed cuts (see [`split_test_fraction`]), so a given file always yields
//! the same training data.
//!
//! ```
//! use samebits_harness::data::{parse_csv, split_test_fraction, CsvOptions};
//!
//! let text = "x,y,label\n0.25,1.5,1\n1e-3, 7 ,0\n2,2,1\n-1,0,0\n";
//! let opts = CsvOptions { header: true, n_classes: None };
//! let ds = parse_csv(text, "example.csv", &opts).unwrap();
//! assert_eq!((ds.rows(), ds.n_features, ds.n_classes), (4, 2, 2));
//! let (train, test) = split_test_fraction(ds, 0.25).unwrap();
//! assert_eq!((train.rows(), test.rows()), (3, 1));
//!
//! let err = parse_csv("1,2,0\n3,1\n", "data.csv", &CsvOptions::default()).unwrap_err();
//! assert_eq!(err.to_string(), "data.csv:2: expected 3 columns, found 2 \
//!     (the first data row, line 1, sets the column count)");
//! ```

mod csv;
mod dataset;
mod digits;
mod error;

pub use csv::{load_csv, load_csv_with_progress, parse_csv, CsvOptions, LoadStage, MAX_LABEL};
pub use dataset::{split_test_fraction, Dataset};
pub use digits::{builtin_digits, builtin_digits_split, DIGITS_TRAIN_ROWS};
pub use error::{DataError, Excerpt, EXCERPT_CHARS};

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the module documentation, kept in step with it.
    const EXAMPLE: &str = "0.25,1.5,-3,2\n1e-3, 7 ,0.5,0\n";

    #[test]
    fn documented_example_parses() {
        let ds = parse_csv(EXAMPLE, "example.csv", &CsvOptions::default()).unwrap();
        assert_eq!(ds.rows(), 2);
        assert_eq!(ds.n_features, 3);
        assert_eq!(ds.n_classes, 3);
        assert_eq!(ds.row(1), &[1e-3, 7.0, 0.5]);
        assert_eq!(ds.labels, vec![2, 0]);
    }

    #[test]
    fn user_data_and_builtin_data_share_the_dataset_type() {
        // A CSV written from the built-in data's first rows reads back to the
        // same values (scaled back to pixel counts, which are exact).
        let (train, _) = builtin_digits_split();
        let mut text = String::new();
        for i in 0..3 {
            let cells: Vec<String> = train.row(i).iter().map(|v| (v * 16.0).to_string()).collect();
            text.push_str(&format!("{},{}\n", cells.join(","), train.labels[i]));
        }
        let opts = CsvOptions { header: false, n_classes: Some(10) };
        let ds = parse_csv(&text, "roundtrip.csv", &opts).unwrap();
        assert_eq!(ds.rows(), 3);
        assert_eq!(ds.labels[..], train.labels[..3]);
        for i in 0..3 {
            let scaled: Vec<f32> = ds.row(i).iter().map(|v| v / 16.0).collect();
            assert_eq!(scaled.as_slice(), train.row(i));
        }
    }
}
