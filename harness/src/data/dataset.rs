//! The in-memory dataset and deterministic ways to split it.

use super::error::DataError;

/// A classification dataset held in memory.
///
/// Features are stored in one flat row-major vector rather than a vector per
/// row: one allocation, rows contiguous in the order training reads them, and
/// nothing per row but the numbers themselves.
///
/// Invariants kept by every constructor in this module (the fields are public,
/// so code that builds a `Dataset` by hand must keep them too):
/// `features.len() == labels.len() * n_features` and every label is
/// `< n_classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Row-major, `rows() × n_features` values.
    pub features: Vec<f32>,
    /// One class label per row, each in `0..n_classes`.
    pub labels: Vec<u32>,
    /// Values per row.
    pub n_features: usize,
    /// Number of classes; may exceed the largest label present (a split can
    /// lose a class, and the model's output width must not change with it).
    pub n_classes: usize,
}

impl Dataset {
    /// Number of rows (samples).
    pub fn rows(&self) -> usize {
        // Labels, not features / n_features: correct even when n_features is 0.
        self.labels.len()
    }

    /// The features of row `i`.
    ///
    /// # Panics
    ///
    /// If `i >= self.rows()`, like slice indexing.
    pub fn row(&self, i: usize) -> &[f32] {
        let start = i * self.n_features;
        &self.features[start..start + self.n_features]
    }

    /// Splits into the first `n` rows and the rest; both keep `n_features`
    /// and `n_classes`.
    ///
    /// Takes `self` by value so that the rows are moved, not copied: only the
    /// tail is reallocated.
    ///
    /// # Panics
    ///
    /// If `n > self.rows()`, like [`slice::split_at`].
    pub fn split_at_row(mut self, n: usize) -> (Dataset, Dataset) {
        assert!(n <= self.rows(), "split_at_row: row {n} is past the end ({} rows)", self.rows());
        let tail_features = self.features.split_off(n * self.n_features);
        let tail_labels = self.labels.split_off(n);
        // split_off leaves the head's capacity as it was; give the tail's share
        // back so a long-lived training set does not pin the test set's memory.
        self.features.shrink_to_fit();
        self.labels.shrink_to_fit();
        let tail = Dataset {
            features: tail_features,
            labels: tail_labels,
            n_features: self.n_features,
            n_classes: self.n_classes,
        };
        (self, tail)
    }
}

/// Splits user data into (train, test), holding out the LAST
/// `floor(rows × fraction)` rows as the test set.
///
/// Deterministic by construction: no shuffling, so the same file always gives
/// the same split. Shuffle the file beforehand if its rows are ordered (for
/// example sorted by class).
///
/// The count is computed as `(rows as f64 * fraction).floor()`. IEEE-754
/// multiplication is correctly rounded, so the count is the same on every
/// platform; but decimal fractions are not exact in binary, so for example
/// 100 rows × 0.29 holds out 28 rows, not 29 (0.29 is stored as slightly
/// less than 0.29).
///
/// # Errors
///
/// [`DataError::InvalidFraction`] if `fraction` is not in `[0, 1)` (NaN
/// included); [`DataError::EmptyTrainSplit`] if no training rows would remain,
/// which with a fraction below 1 means the dataset is empty.
pub fn split_test_fraction(ds: Dataset, fraction: f64) -> Result<(Dataset, Dataset), DataError> {
    // `contains` is false for NaN, so NaN is rejected here too.
    if !(0.0..1.0).contains(&fraction) {
        return Err(DataError::InvalidFraction { fraction });
    }
    let rows = ds.rows();
    // The product is in [0, rows] and `as usize` saturates, so this cannot
    // wrap; `rows as f64` is exact below 2^53 rows.
    let test_rows = (rows as f64 * fraction).floor() as usize;
    // For fraction < 1 the rounded product stays below rows (round-to-nearest
    // is monotonic and cannot climb to the next integer), so this fires only
    // for an empty dataset; `>=` rather than `==` costs nothing and guards the
    // subtraction below.
    if test_rows >= rows {
        return Err(DataError::EmptyTrainSplit { rows, test_rows });
    }
    Ok(ds.split_at_row(rows - test_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows` rows of 2 features; row i holds (i, -i) and label i % 3.
    fn sample(rows: usize) -> Dataset {
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for i in 0..rows {
            features.push(i as f32);
            features.push(-(i as f32));
            labels.push((i % 3) as u32);
        }
        Dataset { features, labels, n_features: 2, n_classes: 3 }
    }

    #[test]
    fn rows_and_row_access() {
        let ds = sample(4);
        assert_eq!(ds.rows(), 4);
        assert_eq!(ds.row(0), &[0.0, -0.0]);
        assert_eq!(ds.row(3), &[3.0, -3.0]);
    }

    #[test]
    #[should_panic]
    fn row_past_the_end_panics() {
        let _ = sample(2).row(2);
    }

    #[test]
    fn split_at_row_keeps_order_and_metadata() {
        let (a, b) = sample(5).split_at_row(3);
        assert_eq!(a.rows(), 3);
        assert_eq!(b.rows(), 2);
        assert_eq!(a.row(2), &[2.0, -2.0]);
        assert_eq!(b.row(0), &[3.0, -3.0]);
        assert_eq!(b.labels, vec![0, 1]);
        assert_eq!((a.n_features, a.n_classes), (2, 3));
        assert_eq!((b.n_features, b.n_classes), (2, 3));
        assert_eq!(a.features.len(), 6);
        assert_eq!(b.features.len(), 4);
    }

    #[test]
    fn split_at_row_edges() {
        let (a, b) = sample(3).split_at_row(0);
        assert_eq!((a.rows(), b.rows()), (0, 3));
        let (a, b) = sample(3).split_at_row(3);
        assert_eq!((a.rows(), b.rows()), (3, 0));
        assert_eq!(b.n_classes, 3);
    }

    #[test]
    #[should_panic]
    fn split_at_row_past_the_end_panics() {
        let _ = sample(3).split_at_row(4);
    }

    #[test]
    fn split_test_fraction_takes_the_end() {
        let (train, test) = split_test_fraction(sample(10), 0.25).unwrap();
        // floor(10 × 0.25) = 2 test rows, the last two.
        assert_eq!(train.rows(), 8);
        assert_eq!(test.rows(), 2);
        assert_eq!(test.row(0), &[8.0, -8.0]);
        assert_eq!(test.row(1), &[9.0, -9.0]);
        assert_eq!(test.n_classes, 3);
    }

    #[test]
    fn split_test_fraction_zero_keeps_everything_for_training() {
        let (train, test) = split_test_fraction(sample(7), 0.0).unwrap();
        assert_eq!((train.rows(), test.rows()), (7, 0));
        assert_eq!(test.n_features, 2);
    }

    #[test]
    fn split_test_fraction_floors_the_binary_product() {
        // Documented: 0.29 is stored below 0.29, so 100 × 0.29 floors to 28.
        let (_, test) = split_test_fraction(sample(100), 0.29).unwrap();
        assert_eq!(test.rows(), 28);
        // Fractions too small to reach one row hold out nothing.
        let (_, test) = split_test_fraction(sample(3), 0.3).unwrap();
        assert_eq!(test.rows(), 0);
    }

    #[test]
    fn split_test_fraction_rejects_fractions_outside_0_1() {
        for fraction in [1.0, 1.5, -0.1, f64::NAN, f64::INFINITY] {
            let err = split_test_fraction(sample(10), fraction).unwrap_err();
            assert!(matches!(err, DataError::InvalidFraction { .. }), "{fraction}: {err:?}");
            let shown = err.to_string();
            assert!(shown.contains("not in [0, 1)"), "{shown}");
        }
    }

    #[test]
    fn split_test_fraction_rejects_an_empty_train_part() {
        let err = split_test_fraction(sample(0), 0.5).unwrap_err();
        assert!(matches!(err, DataError::EmptyTrainSplit { rows: 0, test_rows: 0 }));
        assert!(err.to_string().contains("no training rows"), "{err}");
    }

    #[test]
    fn split_test_fraction_never_empties_the_train_part_below_one() {
        // The largest f64 below 1: the product must not round up to `rows`.
        let below_one = 1.0 - f64::EPSILON / 2.0;
        for rows in [1, 2, 3, 7, 1000, 4097] {
            let (train, test) = split_test_fraction(sample(rows), below_one).unwrap();
            assert_eq!(train.rows(), 1, "rows = {rows}");
            assert_eq!(test.rows(), rows - 1, "rows = {rows}");
        }
    }
}
