//! The CSV reader for user datasets. The accepted format is specified in the
//! [module documentation](super).

use std::path::Path;

use super::dataset::Dataset;
use super::error::{DataError, Excerpt};

/// The largest label accepted: one below `u32::MAX`, so that `label + 1`
/// (the inferred `n_classes`) fits in a `u32` and hence in `usize` on every
/// platform. No real dataset comes near it.
pub const MAX_LABEL: u32 = u32::MAX - 1;

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// Skip the first line, whatever it contains.
    pub header: bool,
    /// Number of classes. `None` infers it as the largest label + 1; give it
    /// explicitly when a file (or one half of a split) might not contain the
    /// highest class, so that the model's output width does not depend on it.
    pub n_classes: Option<usize>,
}

/// Reads and parses a CSV file; see [`parse_csv`]. Error messages name the
/// file by `path` as given.
///
/// The whole file is read into memory before parsing; that doubles as the
/// UTF-8 check, and the parser then holds only the text and the output.
///
/// # Errors
///
/// [`DataError::Io`] if the file cannot be read, [`DataError::NotUtf8`] if it
/// is not UTF-8, otherwise as [`parse_csv`].
pub fn load_csv(path: &Path, opts: &CsvOptions) -> Result<Dataset, DataError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| DataError::Io { file: file.clone(), error })?;
    // from_utf8 reuses the buffer: no second copy of the file.
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        DataError::NotUtf8 { file: file.clone(), line: count_newlines(valid) + 1 }
    })?;
    parse_csv(&text, &file, opts)
}

/// Parses CSV text into a [`Dataset`]; `source_name` names the text in error
/// messages (usually its path).
///
/// Never panics, whatever the input: every malformed input is a
/// [`DataError`].
///
/// # Errors
///
/// One [`DataError`] variant per kind of malformed input, reporting the first
/// problem in file order.
pub fn parse_csv(text: &str, source_name: &str, opts: &CsvOptions) -> Result<Dataset, DataError> {
    let file = source_name;
    // An n_classes below 2 can never be valid; say so before blaming the data.
    if let Some(n_classes) = opts.n_classes {
        if n_classes < 2 {
            return Err(DataError::TooFewClasses { file: file.to_owned(), n_classes, inferred: false });
        }
    }
    // Editors on Windows like to start UTF-8 files with a byte order mark; it
    // would otherwise glue itself to the first cell and make it non-numeric.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Exactly one line terminator may end the file; any other empty line is
    // an error, because it usually means a truncated or concatenated file.
    let body = text.strip_suffix("\r\n").or_else(|| text.strip_suffix('\n')).unwrap_or(text);
    if body.is_empty() {
        return Err(DataError::Empty { file: file.to_owned() });
    }

    let mut lines = body.split('\n').enumerate().map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)));
    if opts.header {
        lines.next();
    }

    let mut parser: Option<Parser> = None;
    for (line_no, line) in lines {
        let at = Loc { file, line: line_no };
        if trim_cell(line).is_empty() {
            return Err(DataError::BlankLine { file: file.to_owned(), line: line_no });
        }
        // Count columns before parsing any cell, so a short or long row is
        // reported as such rather than by whichever cell happens to be odd.
        let n_cols = line.bytes().filter(|&b| b == b',').count() + 1;
        let parser = match &mut parser {
            Some(p) => {
                if n_cols != p.n_cols {
                    return Err(DataError::Ragged {
                        file: file.to_owned(),
                        line: line_no,
                        expected: p.n_cols,
                        found: n_cols,
                        first_line: p.first_line,
                    });
                }
                p
            }
            None => {
                if n_cols < 2 {
                    return Err(DataError::TooFewColumns { file: file.to_owned(), line: line_no, found: n_cols });
                }
                parser.insert(Parser::new(body, n_cols, line_no))
            }
        };
        parser.push_row(line, at, opts.n_classes)?;
    }

    let Some(parser) = parser else {
        // The loop ran over no line at all: only the header was there.
        return Err(DataError::NoDataRows { file: file.to_owned() });
    };
    let n_classes = match opts.n_classes {
        Some(n) => n,
        None => {
            // MAX_LABEL < u32::MAX, so neither the +1 nor the widening can
            // overflow, even where usize is 32 bits.
            let n = parser.max_label as usize + 1;
            if n < 2 {
                return Err(DataError::TooFewClasses { file: file.to_owned(), n_classes: n, inferred: true });
            }
            n
        }
    };
    Ok(Dataset { features: parser.features, labels: parser.labels, n_features: parser.n_cols - 1, n_classes })
}

/// Where a cell is, for error messages.
#[derive(Clone, Copy)]
struct Loc<'a> {
    file: &'a str,
    line: usize,
}

/// Accumulates rows once the first data row has fixed the column count.
struct Parser {
    n_cols: usize,
    first_line: usize,
    features: Vec<f32>,
    labels: Vec<u32>,
    max_label: u32,
}

impl Parser {
    fn new(body: &str, n_cols: usize, first_line: usize) -> Self {
        // Reserve the output once instead of letting the vectors double: a
        // doubling Vec can hold up to twice what it needs, and the point of
        // streaming is to hold no more than the text and the output.
        // The line count is exact for a valid file (one over with a header
        // line, which it also counts); the byte bound (a row of
        // n_cols non-empty cells takes at least 2 × n_cols bytes with its
        // comma separators and line break) stops a wide first row followed by
        // many short lines from reserving far more than the text could fill.
        let lines = count_newlines(body.as_bytes()) + 1;
        let by_bytes = (body.len() + 1) / n_cols.saturating_mul(2);
        let rows = lines.min(by_bytes).max(1);
        let n_features = n_cols - 1;
        let mut features = Vec::new();
        features.reserve_exact(rows.saturating_mul(n_features));
        let mut labels = Vec::new();
        labels.reserve_exact(rows);
        Parser { n_cols, first_line, features, labels, max_label: 0 }
    }

    /// Parses one row whose column count has already been checked.
    fn push_row(&mut self, line: &str, at: Loc<'_>, n_classes: Option<usize>) -> Result<(), DataError> {
        for (i, cell) in line.split(',').enumerate() {
            let column = i + 1;
            let cell = trim_cell(cell);
            if cell.is_empty() {
                return Err(DataError::EmptyCell { file: at.file.to_owned(), line: at.line, column });
            }
            if column < self.n_cols {
                self.features.push(parse_feature(cell, at, column)?);
            } else {
                let label = parse_label(cell, at, column, n_classes)?;
                self.max_label = self.max_label.max(label);
                self.labels.push(label);
            }
        }
        Ok(())
    }
}

/// Cells may be padded with spaces or tabs (hand-aligned files); nothing else
/// is trimmed, so stray characters are reported rather than silently eaten.
fn trim_cell(cell: &str) -> &str {
    cell.trim_matches(|c| c == ' ' || c == '\t')
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// `str::parse::<f32>` rounds correctly (to nearest, ties to even) straight
/// from decimal to f32, without an f64 detour that could round twice, so a
/// given text gives the same bits on every platform and Rust version.
fn parse_feature(cell: &str, at: Loc<'_>, column: usize) -> Result<f32, DataError> {
    let excerpt = || Excerpt::of(cell);
    match cell.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => {
            // The parser spells infinity "inf"/"infinity" in any case; any
            // other text that came out infinite was a finite number too big
            // for f32, which deserves a different message.
            let unsigned = cell.trim_start_matches(['+', '-']);
            let spelled = unsigned.len() >= 3 && unsigned[..3].eq_ignore_ascii_case("inf");
            if v.is_nan() || spelled {
                Err(DataError::NotFinite { file: at.file.to_owned(), line: at.line, column, cell: excerpt() })
            } else {
                Err(DataError::OutOfRange { file: at.file.to_owned(), line: at.line, column, cell: excerpt() })
            }
        }
        Err(_) => Err(DataError::NonNumeric { file: at.file.to_owned(), line: at.line, column, cell: excerpt() }),
    }
}

/// Labels are plain decimal digits: `u32::from_str` alone would also accept a
/// leading `+`, and a float parse would accept "2.0" and "1e1"; one spelling
/// per value keeps files unambiguous.
fn parse_label(cell: &str, at: Loc<'_>, column: usize, n_classes: Option<usize>) -> Result<u32, DataError> {
    if !cell.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DataError::BadLabel { file: at.file.to_owned(), line: at.line, column, cell: Excerpt::of(cell) });
    }
    // Digits only, so the parse can fail only by overflow.
    let label = match cell.parse::<u32>() {
        Ok(label) if label <= MAX_LABEL => label,
        _ => {
            return Err(DataError::LabelTooLarge {
                file: at.file.to_owned(),
                line: at.line,
                column,
                cell: Excerpt::of(cell),
            })
        }
    };
    if let Some(n_classes) = n_classes {
        // Compare in u64: neither side can overflow it, on any platform.
        if u64::from(label) >= n_classes as u64 {
            return Err(DataError::LabelOutOfRange {
                file: at.file.to_owned(),
                line: at.line,
                column,
                label,
                n_classes,
            });
        }
    }
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "data.csv";

    fn parse(text: &str) -> Result<Dataset, DataError> {
        parse_csv(text, NAME, &CsvOptions::default())
    }

    fn parse_with(text: &str, header: bool, n_classes: Option<usize>) -> Result<Dataset, DataError> {
        parse_csv(text, NAME, &CsvOptions { header, n_classes })
    }

    /// Asserts that `result` failed with a message that starts with `place`
    /// and contains every one of `words`; returns the message.
    fn expect_err(result: Result<Dataset, DataError>, place: &str, words: &[&str]) -> String {
        let err = match result {
            Ok(ds) => panic!("expected an error at {place}, got {ds:?}"),
            Err(err) => err,
        };
        let shown = err.to_string();
        assert!(shown.starts_with(place), "{shown:?} should start with {place:?}");
        for word in words {
            assert!(shown.contains(word), "{shown:?} should contain {word:?}");
        }
        assert!(!shown.contains('\n'), "{shown:?} is not one line");
        shown
    }

    /// A file in the system temp dir, removed on drop; named per test because
    /// tests run in parallel.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &[u8]) -> Self {
            let path = std::env::temp_dir().join(format!("samebits-data-{}-{name}.csv", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn parses_a_small_file() {
        let ds = parse("1,2.5,0\n-3, 4e-1 ,1\n0.1,+5.,2\n").unwrap();
        assert_eq!(ds.rows(), 3);
        assert_eq!(ds.n_features, 2);
        assert_eq!(ds.n_classes, 3);
        assert_eq!(ds.labels, vec![0, 1, 2]);
        assert_eq!(ds.row(0), &[1.0, 2.5]);
        assert_eq!(ds.row(1), &[-3.0, 0.4]);
        assert_eq!(ds.row(2), &[0.1, 5.0]);
        // Exact output: nothing left over from the reservation.
        assert_eq!(ds.features.len(), 6);
    }

    #[test]
    fn features_are_correctly_rounded_and_unscaled() {
        // 0.1 rounds to the nearest f32, whose bits are fixed by IEEE 754.
        let ds = parse("0.1,16,0\n1e-50,-0,1\n").unwrap();
        assert_eq!(ds.features[0].to_bits(), 0x3dcc_cccd);
        assert_eq!(ds.features[1], 16.0);
        // Underflow to zero is a correct rounding, not an error.
        assert_eq!(ds.features[2], 0.0);
        // "-0" stays negative zero: values are used as written.
        assert_eq!(ds.features[3].to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn final_newline_is_optional_and_may_be_crlf() {
        let want = parse("1,0\n2,1").unwrap();
        assert_eq!(parse("1,0\n2,1\n").unwrap(), want);
        assert_eq!(parse("1,0\r\n2,1\r\n").unwrap(), want);
        assert_eq!(parse("1,0\r\n2,1").unwrap(), want);
    }

    #[test]
    fn header_line_is_skipped() {
        let ds = parse_with("a,b,label\n1,2,1\n3,4,0\n", true, None).unwrap();
        assert_eq!(ds.rows(), 2);
        assert_eq!(ds.row(0), &[1.0, 2.0]);
        // The header is not checked at all, not even its column count.
        let ds = parse_with("whatever\n1,2,1\n3,4,0\n", true, None).unwrap();
        assert_eq!(ds.rows(), 2);
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let ds = parse("\u{feff}1,0\n2,1\n").unwrap();
        assert_eq!(ds.row(0), &[1.0]);
        // Only at the very start: elsewhere it is an ordinary bad character.
        expect_err(parse("1,0\n\u{feff}2,1\n"), "data.csv:2:1:", &["not a number", "\\u{feff}"]);
    }

    #[test]
    fn given_n_classes_is_kept_even_if_larger_than_the_labels() {
        let ds = parse_with("1,0\n2,1\n", false, Some(10)).unwrap();
        assert_eq!(ds.n_classes, 10);
    }

    #[test]
    fn labels_accept_leading_zeros_and_the_largest_allowed_value() {
        let ds = parse_with("1,007\n2,0\n", false, None).unwrap();
        assert_eq!(ds.labels, vec![7, 0]);
        let text = format!("1,{MAX_LABEL}\n2,0\n");
        let ds = parse(&text).unwrap();
        assert_eq!(ds.n_classes, MAX_LABEL as usize + 1);
    }

    #[test]
    fn error_empty_file() {
        expect_err(parse(""), "data.csv:", &["empty"]);
        expect_err(parse("\n"), "data.csv:", &["empty"]);
        expect_err(parse("\u{feff}"), "data.csv:", &["empty"]);
    }

    #[test]
    fn error_header_only() {
        expect_err(parse_with("a,b,label\n", true, None), "data.csv:", &["no data rows", "header"]);
        expect_err(parse_with("a,b,label", true, None), "data.csv:", &["no data rows"]);
    }

    #[test]
    fn error_blank_line_in_the_middle() {
        expect_err(parse("1,0\n\n2,1\n"), "data.csv:2:", &["blank line"]);
        expect_err(parse("1,0\n   \n2,1\n"), "data.csv:2:", &["blank line"]);
    }

    #[test]
    fn error_two_trailing_newlines() {
        expect_err(parse("1,0\n2,1\n\n"), "data.csv:3:", &["blank line"]);
        expect_err(parse("1,0\r\n2,1\r\n\r\n"), "data.csv:3:", &["blank line"]);
    }

    #[test]
    fn error_only_newlines() {
        expect_err(parse("\n\n\n"), "data.csv:1:", &["blank line"]);
    }

    #[test]
    fn error_blank_line_counts_the_header() {
        expect_err(parse_with("h\n1,0\n\n", true, None), "data.csv:3:", &["blank line"]);
    }

    #[test]
    fn error_ragged_rows() {
        let shown = expect_err(parse("1,2,0\n3,4,1\n5,1\n"), "data.csv:3:", &["expected 3 columns, found 2", "line 1"]);
        assert_eq!(
            shown,
            "data.csv:3: expected 3 columns, found 2 (the first data row, line 1, sets the column count)"
        );
        expect_err(parse("1,2,0\n3,4,5,1\n"), "data.csv:2:", &["expected 3 columns, found 4"]);
        // With a header the first data row is line 2.
        expect_err(parse_with("h\n1,0\n1,2,0\n", true, None), "data.csv:3:", &["line 2"]);
    }

    #[test]
    fn error_too_few_columns() {
        expect_err(parse("1\n2\n"), "data.csv:1:", &["at least 2 columns", "found 1"]);
    }

    #[test]
    fn error_empty_cell() {
        expect_err(parse("1,,0\n"), "data.csv:1:2:", &["empty cell"]);
        expect_err(parse("1,2,0\n1,2,  \n"), "data.csv:2:3:", &["empty cell"]);
    }

    #[test]
    fn error_lone_comma() {
        expect_err(parse(","), "data.csv:1:1:", &["empty cell"]);
        expect_err(parse(",\n"), "data.csv:1:1:", &["empty cell"]);
    }

    #[test]
    fn error_non_numeric_cell() {
        expect_err(parse("1,2,0\n3,abc,1\n"), "data.csv:2:2:", &["\"abc\"", "not a number"]);
        // Thousands separators, hex and quotes are not numbers either.
        expect_err(parse("0x10,1\n"), "data.csv:1:1:", &["\"0x10\"", "not a number"]);
        expect_err(parse("\"1\",1\n"), "data.csv:1:1:", &["not a number"]);
    }

    #[test]
    fn error_non_numeric_cell_is_truncated() {
        let long = "x".repeat(1000);
        let shown = expect_err(parse(&format!("{long},0\n")), "data.csv:1:1:", &["not a number", "..."]);
        assert!(shown.len() < 200, "{shown}");
    }

    #[test]
    fn error_nan_and_infinity() {
        for cell in ["NaN", "nan", "inf", "-inf", "+Infinity"] {
            expect_err(parse(&format!("1,0\n{cell},1\n")), "data.csv:2:1:", &[cell, "NaN or infinite"]);
        }
    }

    #[test]
    fn error_overflow_to_infinity() {
        expect_err(parse("1e39,0\n"), "data.csv:1:1:", &["\"1e39\"", "out of f32 range"]);
        expect_err(parse("1,-4e38,0\n"), "data.csv:1:2:", &["\"-4e38\"", "out of f32 range"]);
        // The largest finite f32 is fine.
        assert_eq!(parse("3.4028235e38,0\n2,1").unwrap().features[0], f32::MAX);
    }

    #[test]
    fn error_label_not_a_non_negative_integer() {
        for cell in ["2.5", "-1", "abc", "+1", "1e1", "2.0"] {
            expect_err(parse(&format!("1,0\n2,{cell}\n")), "data.csv:2:2:", &[cell, "not a non-negative integer"]);
        }
    }

    #[test]
    fn error_label_too_large() {
        expect_err(parse("1,99999999999\n"), "data.csv:1:2:", &["too large", "4294967294"]);
        expect_err(parse("1,4294967295\n"), "data.csv:1:2:", &["too large"]);
    }

    #[test]
    fn error_label_out_of_given_range() {
        let shown = expect_err(
            parse_with("1,0\n2,3\n", false, Some(3)),
            "data.csv:2:2:",
            &["label 3", "out of range", "0..=2"],
        );
        assert_eq!(shown, "data.csv:2:2: label 3 is out of range: n_classes is 3, so labels must be in 0..=2");
    }

    #[test]
    fn error_inferred_single_class() {
        expect_err(parse("1,0\n2,0\n"), "data.csv:", &["need at least 2 classes", "every label is 0"]);
    }

    #[test]
    fn error_given_n_classes_below_two() {
        for n in [0, 1] {
            expect_err(parse_with("1,0\n2,1\n", false, Some(n)), "data.csv:", &["need at least 2 classes", "set to"]);
        }
    }

    #[test]
    fn first_error_in_file_order_wins() {
        // Line 2 is ragged and line 3 has a bad cell: line 2 is reported.
        expect_err(parse("1,0\n1,2,0\nx,1\n"), "data.csv:2:", &["expected 2 columns"]);
        // Within a row, the leftmost bad cell is reported.
        expect_err(parse("a,b,0\n"), "data.csv:1:1:", &["\"a\""]);
    }

    #[test]
    fn nasty_inputs_do_not_panic() {
        let megabyte_line = "1,".repeat(500_000) + "0";
        let wide_then_many_short = format!("{megabyte_line}\n{}", "1\n".repeat(100_000));
        let inputs: [&str; 14] = [
            ",",
            ",,,",
            "\n\n\n",
            "\r\n",
            "\r",
            "\r\r\n",
            "\u{feff}\u{feff}1,0",
            "\u{feff}\n1,0",
            " , ",
            "1,0\n2",
            "é,1\n",
            "\0,\0",
            &megabyte_line,
            &wide_then_many_short,
        ];
        for text in inputs {
            for header in [false, true] {
                for n_classes in [None, Some(2)] {
                    if let Err(err) = parse_with(text, header, n_classes) {
                        let shown = err.to_string();
                        assert!(shown.starts_with("data.csv:"), "{shown}");
                        assert!(!shown.contains('\n'), "{shown}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_megabyte_line_parses() {
        // 1 MB per line: 250 000 features of "0.5," each.
        let cells = "0.5,".repeat(250_000);
        let text = format!("{cells}1\n{cells}0\n");
        let ds = parse(&text).unwrap();
        assert_eq!(ds.n_features, 250_000);
        assert_eq!(ds.labels, vec![1, 0]);
        assert_eq!(ds.features.len(), 500_000);
        assert!(ds.features.iter().all(|&v| v == 0.5));
    }

    #[test]
    fn wide_first_row_does_not_over_reserve() {
        // One wide row and then many one-column lines: the reservation must be
        // bounded by what the text could hold, and the parse must fail cleanly.
        let text = format!("{}0\n{}", "1,".repeat(10_000), "1\n".repeat(10_000));
        expect_err(parse(&text), "data.csv:2:", &["expected 10001 columns, found 1"]);
        let p = Parser::new(&text, 10_001, 1);
        // 60 kB of text cannot hold more than 2 rows of 10001 columns.
        assert!(p.labels.capacity() <= 2, "{}", p.labels.capacity());
        assert!(p.features.capacity() <= 2 * 10_000 + 16);
    }

    #[test]
    fn load_csv_reads_a_file() {
        let f = TempFile::new("ok", b"x,y\n1,2,1\n3,4,0\n");
        let ds = load_csv(&f.0, &CsvOptions { header: true, n_classes: None }).unwrap();
        assert_eq!(ds.rows(), 2);
        assert_eq!(ds, parse_with("1,2,1\n3,4,0\n", false, None).unwrap());
    }

    #[test]
    fn load_csv_names_the_path_in_errors() {
        let f = TempFile::new("ragged", b"1,2,1\n3,0\n");
        let place = format!("{}:2:", f.0.display());
        expect_err(load_csv(&f.0, &CsvOptions::default()), &place, &["expected 3 columns, found 2"]);
    }

    #[test]
    fn error_cannot_read_file() {
        let path = std::env::temp_dir().join("samebits-data-no-such-file.csv");
        let place = format!("{}: cannot read file: ", path.display());
        let err = load_csv(&path, &CsvOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(shown.starts_with(&place), "{shown}");
        // The io error's own text follows, whatever the OS calls it.
        assert!(shown.len() > place.len(), "{shown}");
    }

    #[test]
    fn error_not_utf8_names_the_line() {
        let f = TempFile::new("latin1", b"1,0\n2,1\n3\xe9,0\n");
        let place = format!("{}:3:", f.0.display());
        expect_err(load_csv(&f.0, &CsvOptions::default()), &place, &["not valid UTF-8"]);
        // A bad first byte is on line 1.
        let f = TempFile::new("latin1-first", b"\xff1,0\n");
        let place = format!("{}:1:", f.0.display());
        expect_err(load_csv(&f.0, &CsvOptions::default()), &place, &["not valid UTF-8"]);
    }
}
