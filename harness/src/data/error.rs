//! The one error type of the data module.
//!
//! Every message is a single line that starts with the place it is about, in
//! the `file:line:column:` style compilers use, so that a user can jump
//! straight to the offending cell and so that log scrapers can rely on one
//! error per line.

use std::fmt;
use std::io;

/// How many characters of a bad cell an error message quotes. Long enough to
/// recognise the cell, short enough that a 1 MB garbage cell does not end up
/// in the message (or kept alive in memory by the error value).
pub const EXCERPT_CHARS: usize = 40;

/// The start of a cell's text, kept by errors that quote the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// At most [`EXCERPT_CHARS`] characters from the start of the cell.
    pub text: String,
    /// Whether the cell was longer than `text`.
    pub truncated: bool,
}

impl Excerpt {
    /// Keeps the first [`EXCERPT_CHARS`] characters of `cell`.
    pub fn of(cell: &str) -> Self {
        // Cut on a character boundary: slicing bytes could split a UTF-8
        // sequence and panic.
        match cell.char_indices().nth(EXCERPT_CHARS) {
            Some((cut, _)) => Excerpt { text: cell[..cut].to_owned(), truncated: true },
            None => Excerpt { text: cell.to_owned(), truncated: false },
        }
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug formatting quotes the text and escapes control characters
        // (a stray '\r', a BOM), which keeps the message on one line and
        // makes invisible characters visible.
        write!(f, "{:?}", self.text)?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// Why a dataset could not be loaded or split.
///
/// `file` is the name given to the loader (the path for
/// [`load_csv`](super::load_csv)); `line` and `column` are 1-based and count
/// physical lines of the file, header included.
#[derive(Debug)]
pub enum DataError {
    /// The file could not be read.
    Io { file: String, error: io::Error },
    /// The file is not valid UTF-8; `line` holds the first invalid byte.
    NotUtf8 { file: String, line: usize },
    /// The file has no content at all (a lone BOM or newline counts as none).
    Empty { file: String },
    /// The file has a header line and nothing after it.
    NoDataRows { file: String },
    /// An empty (or all-blank) line that is not the single final newline.
    BlankLine { file: String, line: usize },
    /// The first data row has fewer than two columns.
    TooFewColumns { file: String, line: usize, found: usize },
    /// A row whose column count differs from the first data row's.
    Ragged { file: String, line: usize, expected: usize, found: usize, first_line: usize },
    /// A cell with nothing in it but spaces.
    EmptyCell { file: String, line: usize, column: usize },
    /// A feature cell that `str::parse::<f32>` rejects.
    NonNumeric { file: String, line: usize, column: usize, cell: Excerpt },
    /// A feature cell that spells NaN or infinity.
    NotFinite { file: String, line: usize, column: usize, cell: Excerpt },
    /// A finite-looking feature whose magnitude rounds to infinity in f32.
    OutOfRange { file: String, line: usize, column: usize, cell: Excerpt },
    /// A label cell that is not written with decimal digits only.
    BadLabel { file: String, line: usize, column: usize, cell: Excerpt },
    /// A label above [`MAX_LABEL`](super::csv::MAX_LABEL).
    LabelTooLarge { file: String, line: usize, column: usize, cell: Excerpt },
    /// A label not below the `n_classes` the caller gave.
    LabelOutOfRange { file: String, line: usize, column: usize, label: u32, n_classes: usize },
    /// Fewer than two classes: nothing to classify. `inferred` tells whether
    /// `n_classes` came from the labels (all 0) or from the caller.
    TooFewClasses { file: String, n_classes: usize, inferred: bool },
    /// A test fraction outside `[0, 1)` (NaN included).
    InvalidFraction { fraction: f64 },
    /// A split that would leave no training rows.
    EmptyTrainSplit { rows: usize, test_rows: usize },
}

/// Writes a file name with control characters escaped, so that a name
/// containing a newline cannot break the one-line guarantee.
struct FileName<'a>(&'a str);

impl fmt::Display for FileName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DataError::*;
        match self {
            Io { file, error } => {
                // io::Error messages are one line, but escape anyway: some
                // platforms' OS messages end in a newline.
                let error = error.to_string();
                write!(f, "{}: cannot read file: {}", FileName(file), FileName(error.trim_end()))
            }
            NotUtf8 { file, line } => {
                write!(f, "{}:{line}: file is not valid UTF-8", FileName(file))
            }
            Empty { file } => write!(f, "{}: file is empty (no data rows)", FileName(file)),
            NoDataRows { file } => write!(f, "{}: no data rows (the file has only a header line)", FileName(file)),
            BlankLine { file, line } => write!(
                f,
                "{}:{line}: blank line (only a single newline is allowed, at the end of the file)",
                FileName(file)
            ),
            TooFewColumns { file, line, found } => {
                write!(f, "{}:{line}: need at least 2 columns (features, then a label), found {found}", FileName(file))
            }
            Ragged { file, line, expected, found, first_line } => write!(
                f,
                "{}:{line}: expected {expected} columns, found {found} \
                 (the first data row, line {first_line}, sets the column count)",
                FileName(file)
            ),
            EmptyCell { file, line, column } => {
                write!(f, "{}:{line}:{column}: empty cell", FileName(file))
            }
            NonNumeric { file, line, column, cell } => {
                write!(f, "{}:{line}:{column}: cell {cell} is not a number", FileName(file))
            }
            NotFinite { file, line, column, cell } => {
                write!(f, "{}:{line}:{column}: cell {cell} is NaN or infinite; features must be finite", FileName(file))
            }
            OutOfRange { file, line, column, cell } => {
                write!(f, "{}:{line}:{column}: cell {cell} is out of f32 range (it rounds to infinity)", FileName(file))
            }
            BadLabel { file, line, column, cell } => write!(
                f,
                "{}:{line}:{column}: label {cell} is not a non-negative integer \
                 (write it with the digits 0-9 only)",
                FileName(file)
            ),
            LabelTooLarge { file, line, column, cell } => write!(
                f,
                "{}:{line}:{column}: label {cell} is too large (the largest label allowed is {})",
                FileName(file),
                super::csv::MAX_LABEL
            ),
            LabelOutOfRange { file, line, column, label, n_classes } => write!(
                f,
                "{}:{line}:{column}: label {label} is out of range: n_classes is {n_classes}, \
                 so labels must be in 0..={}",
                FileName(file),
                // n_classes >= 2 here: smaller values are rejected up front.
                n_classes.saturating_sub(1)
            ),
            TooFewClasses { file, n_classes, inferred: true } => write!(
                f,
                "{}: need at least 2 classes, but the labels give n_classes = {n_classes} \
                 (every label is 0)",
                FileName(file)
            ),
            TooFewClasses { file, n_classes, inferred: false } => {
                write!(f, "{}: need at least 2 classes, but n_classes is set to {n_classes}", FileName(file))
            }
            InvalidFraction { fraction } => {
                write!(f, "test fraction {fraction} is not in [0, 1) (it is the share of rows held out)")
            }
            EmptyTrainSplit { rows, test_rows } => {
                write!(f, "holding out {test_rows} of {rows} rows for testing leaves no training rows")
            }
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn excerpt_keeps_short_cells_whole() {
        let e = Excerpt::of("abc");
        assert_eq!(e.text, "abc");
        assert!(!e.truncated);
        assert_eq!(e.to_string(), "\"abc\"");
    }

    #[test]
    fn excerpt_truncates_on_a_char_boundary() {
        // Multi-byte characters: a byte-based cut at 40 would land inside one.
        let cell = "é".repeat(100);
        let e = Excerpt::of(&cell);
        assert_eq!(e.text.chars().count(), EXCERPT_CHARS);
        assert!(e.truncated);
        assert!(e.to_string().ends_with("\"..."));
        // Exactly EXCERPT_CHARS characters is not truncated.
        assert!(!Excerpt::of(&"x".repeat(EXCERPT_CHARS)).truncated);
    }

    #[test]
    fn excerpt_escapes_control_characters() {
        let shown = Excerpt::of("1\r\u{feff}").to_string();
        assert!(!shown.contains('\r'));
        assert!(shown.contains("\\r"));
        assert!(shown.contains("\\u{feff}"));
    }

    #[test]
    fn file_names_with_newlines_stay_on_one_line() {
        let err = DataError::Empty { file: "bad\nname.csv".to_owned() };
        let shown = err.to_string();
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.starts_with("bad\\nname.csv: "), "{shown}");
    }

    #[test]
    fn io_errors_expose_their_source() {
        let err = DataError::Io { file: "x.csv".to_owned(), error: io::Error::new(io::ErrorKind::NotFound, "gone") };
        assert_eq!(err.to_string(), "x.csv: cannot read file: gone");
        assert!(err.source().is_some());
        assert!(DataError::InvalidFraction { fraction: 2.0 }.source().is_none());
    }

    #[test]
    fn every_message_is_one_line() {
        let cell = Excerpt::of("c");
        let f = || "f.csv".to_owned();
        let all = [
            DataError::NotUtf8 { file: f(), line: 1 },
            DataError::Empty { file: f() },
            DataError::NoDataRows { file: f() },
            DataError::BlankLine { file: f(), line: 2 },
            DataError::TooFewColumns { file: f(), line: 1, found: 1 },
            DataError::Ragged { file: f(), line: 3, expected: 3, found: 2, first_line: 1 },
            DataError::EmptyCell { file: f(), line: 1, column: 1 },
            DataError::NonNumeric { file: f(), line: 1, column: 1, cell: cell.clone() },
            DataError::NotFinite { file: f(), line: 1, column: 1, cell: cell.clone() },
            DataError::OutOfRange { file: f(), line: 1, column: 1, cell: cell.clone() },
            DataError::BadLabel { file: f(), line: 1, column: 1, cell: cell.clone() },
            DataError::LabelTooLarge { file: f(), line: 1, column: 1, cell },
            DataError::LabelOutOfRange { file: f(), line: 1, column: 2, label: 5, n_classes: 3 },
            DataError::TooFewClasses { file: f(), n_classes: 1, inferred: true },
            DataError::TooFewClasses { file: f(), n_classes: 0, inferred: false },
            DataError::InvalidFraction { fraction: f64::NAN },
            DataError::EmptyTrainSplit { rows: 1, test_rows: 1 },
        ];
        for err in &all {
            let shown = err.to_string();
            assert!(!shown.is_empty());
            assert!(!shown.contains('\n'), "{shown}");
        }
    }
}
