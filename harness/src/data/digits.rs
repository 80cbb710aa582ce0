//! The built-in dataset: UCI Optical Recognition of Handwritten Digits.
//!
//! `data/digits.csv` holds the 1797 8×8 digit images of the UCI "Optical
//! Recognition of Handwritten Digits" dataset (Alpaydin & Kaynak, CC BY 4.0),
//! one image per line: 64 pixel counts 0..=16, row by row, then the digit
//! 0..=9; no header. It is compiled into the binary so that the default run
//! needs no download and cannot pick up a different copy of the data.

use super::csv::{parse_csv, CsvOptions};
use super::dataset::Dataset;

/// Rows of the built-in training split: the first 1500 rows train, the last
/// 297 test. A fixed cut (the file's own order, no shuffling) so every run
/// everywhere trains and evaluates on the same rows.
pub const DIGITS_TRAIN_ROWS: usize = 1500;

/// The raw file, embedded at compile time.
const DIGITS_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv"));

/// Pixel counts range over 0..=16 (each is the number of set pixels in a 4×4
/// block of the original 32×32 bitmap).
const PIXEL_MAX: f32 = 16.0;

/// The whole built-in digits dataset: 1797 rows, 64 features, 10 classes.
///
/// Features are `pixel / 16.0`, scaling into [0, 1]. That is exact: the
/// pixels are integers 0..=16, exact in f32, and dividing by a power of two
/// only changes the exponent, so every feature is exactly `k / 16` and the
/// data carry no rounding at all into training.
pub fn builtin_digits() -> Dataset {
    // The embedded file is fixed at compile time and the tests below parse
    // it, so this cannot fail in a tested build. Going through the same
    // parser as user files means that parser is exercised on every run.
    let mut ds =
        parse_csv(DIGITS_CSV, "data/digits.csv (built in)", &CsvOptions { header: false, n_classes: Some(10) })
            .expect("the embedded data/digits.csv is valid (checked by the unit tests)");
    for v in &mut ds.features {
        *v /= PIXEL_MAX;
    }
    ds
}

/// The built-in digits split into (train, test): the first
/// [`DIGITS_TRAIN_ROWS`] rows and the remaining 297.
pub fn builtin_digits_split() -> (Dataset, Dataset) {
    builtin_digits().split_at_row(DIGITS_TRAIN_ROWS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROWS: usize = 1797;

    #[test]
    fn shape_and_label_range() {
        let ds = builtin_digits();
        assert_eq!(ds.rows(), ROWS);
        assert_eq!(ds.n_features, 64);
        assert_eq!(ds.n_classes, 10);
        assert_eq!(ds.features.len(), ROWS * 64);
        assert!(ds.labels.iter().all(|&l| l < 10));
        // Every digit occurs, so n_classes = 10 is not just an upper bound.
        for digit in 0..10 {
            assert!(ds.labels.contains(&digit), "digit {digit} missing");
        }
    }

    #[test]
    fn every_feature_is_an_exact_sixteenth() {
        let ds = builtin_digits();
        for &v in &ds.features {
            let k = v * 16.0;
            assert!(k.fract() == 0.0 && (0.0..=16.0).contains(&k), "{v}");
            // k / 16 reproduces the stored bits exactly.
            assert_eq!((k / 16.0).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn first_row_matches_the_first_line_of_the_file() {
        let ds = builtin_digits();
        let first_line = DIGITS_CSV.lines().next().unwrap();
        let cells: Vec<u32> = first_line.split(',').map(|c| c.parse().unwrap()).collect();
        assert_eq!(cells.len(), 65);
        let want: Vec<f32> = cells[..64].iter().map(|&p| p as f32 / 16.0).collect();
        assert_eq!(ds.row(0), want.as_slice());
        assert_eq!(ds.labels[0], cells[64]);
        // A known value, so a wrong file or a wrong scale both fail here.
        assert_eq!(&ds.row(0)[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
    }

    #[test]
    fn split_is_first_1500_then_297() {
        let all = builtin_digits();
        let (train, test) = builtin_digits_split();
        assert_eq!(train.rows(), DIGITS_TRAIN_ROWS);
        assert_eq!(test.rows(), ROWS - DIGITS_TRAIN_ROWS);
        assert_eq!(test.rows(), 297);
        assert_eq!((train.n_classes, test.n_classes), (10, 10));
        assert_eq!(train.row(0), all.row(0));
        assert_eq!(test.row(0), all.row(DIGITS_TRAIN_ROWS));
        assert_eq!(test.row(296), all.row(ROWS - 1));
        assert_eq!(test.labels[..], all.labels[DIGITS_TRAIN_ROWS..]);
    }
}
