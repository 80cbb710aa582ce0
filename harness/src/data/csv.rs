//! The CSV reader for user datasets. The accepted format is specified in the
//! [module documentation](super).
//!
//! Files are streamed, never read whole: a first pass counts the lines (so the
//! output is allocated once, at its exact size) and checks UTF-8, a second one
//! parses line by line through a small buffer. Loading therefore holds the
//! numbers and one line of text, not the text of the file: a 1,000,000-row
//! file of 10 features takes its 44 MB of numbers and little more, however
//! many bytes its decimal text has. [`parse_csv`] runs the same parser over a
//! string, so both give the same datasets and the same errors.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use super::dataset::Dataset;
use super::error::{DataError, Excerpt};

/// The largest label accepted: one below `u32::MAX`, so that `label + 1`
/// (the inferred `n_classes`) fits in a `u32` and hence in `usize` on every
/// platform. No real dataset comes near it.
pub const MAX_LABEL: u32 = u32::MAX - 1;

/// Bytes read from the file at a time (both passes).
const READ_BUFFER: usize = 64 * 1024;

/// Progress is reported at most once per this many bytes (and at the end of
/// each pass), so that a callback that draws costs nothing per line.
const PROGRESS_EVERY: u64 = 1 << 20;

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

/// Which pass over the file a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStage {
    /// The first pass: counting lines and checking that the file is UTF-8.
    Scanning,
    /// The second pass: parsing the cells.
    Parsing,
}

/// Reads and parses a CSV file; see [`parse_csv`]. Error messages name the
/// file by `path` as given.
///
/// The file is streamed (see the [module](self) notes): memory holds the
/// output and one line, not the file. A regular file is read twice, first to
/// count its lines and check its UTF-8, then to parse it; anything that cannot
/// be read twice (a pipe) is parsed in one pass, with the output grown as it
/// fills, and its UTF-8 checked line by line.
///
/// # Errors
///
/// [`DataError::Io`] if the file cannot be read, [`DataError::NotUtf8`] if it
/// is not UTF-8 (reported before any other problem in the file, except in a
/// pipe, where problems are reported in file order), otherwise as
/// [`parse_csv`].
pub fn load_csv(path: &Path, opts: &CsvOptions) -> Result<Dataset, DataError> {
    load_csv_with_progress(path, opts, &mut |_, _, _| {})
}

/// [`load_csv`], calling `progress(stage, bytes_done, bytes_total)` as it
/// reads: during each pass at least once per MiB and once with `bytes_done ==
/// bytes_total` when the pass completes. `bytes_total` is the file's size, or
/// 0 when that is unknown (a pipe; then there is only the
/// [`LoadStage::Parsing`] pass).
///
/// # Errors
///
/// As [`load_csv`].
pub fn load_csv_with_progress(
    path: &Path,
    opts: &CsvOptions,
    progress: &mut dyn FnMut(LoadStage, u64, u64),
) -> Result<Dataset, DataError> {
    let file = path.display().to_string();
    let io_error = |error| DataError::Io { file: file.clone(), error };
    let mut reader = File::open(path).map_err(io_error)?;
    let meta = reader.metadata().map_err(io_error)?;
    let (size, total) = if meta.is_file() {
        let total = meta.len();
        let size = scan(&mut reader, &file, &mut |done| progress(LoadStage::Scanning, done, total))?;
        reader.rewind().map_err(io_error)?;
        // The scan's own count, should the file have changed size since the metadata was read.
        (Some(size), size.bytes)
    } else {
        (None, 0)
    };
    let reader = BufReader::with_capacity(READ_BUFFER, reader);
    parse_lines(reader, &file, opts, size, &mut |done| progress(LoadStage::Parsing, done, total))
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
    parse_lines(text.as_bytes(), source_name, opts, Some(Size::of(text.as_bytes())), &mut |_| {})
}

/// What the first pass learns about the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Size {
    /// Lines, counting a last one without a line break: the number of rows
    /// for a valid file without a header.
    lines: usize,
    /// Bytes.
    bytes: u64,
}

impl Size {
    fn of(bytes: &[u8]) -> Self {
        let ends_open = bytes.last().is_some_and(|&b| b != b'\n');
        Size { lines: count_newlines(bytes) + usize::from(ends_open), bytes: bytes.len() as u64 }
    }
}

/// The first pass over a file: its [`Size`], and the line of the first byte
/// that is not UTF-8, if any (as if the whole file had been decoded at once).
fn scan(reader: &mut impl Read, file: &str, progress: &mut dyn FnMut(u64)) -> Result<Size, DataError> {
    let mut buf = vec![0u8; READ_BUFFER];
    // Bytes at the start of `buf`: the start of a UTF-8 sequence that the
    // previous read cut off (at most 3), to be completed by the next one.
    let mut carry = 0;
    let (mut newlines, mut bytes, mut last_byte, mut reported) = (0usize, 0u64, None, 0u64);
    loop {
        let n = match reader.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(DataError::Io { file: file.to_owned(), error }),
        };
        let filled = carry + n;
        let chunk = &buf[..filled];
        // A cut-off sequence is completed by the next read, unless there is none.
        let valid = match std::str::from_utf8(chunk) {
            Ok(_) => filled,
            Err(e) if e.error_len().is_none() && n > 0 => e.valid_up_to(),
            Err(e) => {
                let line = newlines + count_newlines(&chunk[..e.valid_up_to()]) + 1;
                return Err(DataError::NotUtf8 { file: file.to_owned(), line });
            }
        };
        newlines += count_newlines(&chunk[..valid]);
        bytes += n as u64;
        if n == 0 {
            break;
        }
        last_byte = Some(buf[filled - 1]);
        buf.copy_within(valid..filled, 0);
        carry = filled - valid;
        if bytes - reported >= PROGRESS_EVERY {
            reported = bytes;
            progress(bytes);
        }
    }
    progress(bytes);
    let ends_open = last_byte.is_some_and(|b| b != b'\n');
    Ok(Size { lines: newlines + usize::from(ends_open), bytes })
}

/// Reads the next physical line, its `\n` included, into `line` (cleared
/// first); returns its length, 0 at the end of the input.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>, file: &str) -> Result<usize, DataError> {
    line.clear();
    reader.read_until(b'\n', line).map_err(|error| DataError::Io { file: file.to_owned(), error })
}

/// The parser shared by [`parse_csv`] and [`load_csv`]: reads `reader` line by
/// line, never holding more than one line of its text. `size`, from a first
/// pass, sizes the output exactly; without it the output grows as it fills.
/// `progress` gets the bytes read so far, at least once per MiB and at the end.
fn parse_lines(
    mut reader: impl BufRead,
    file: &str,
    opts: &CsvOptions,
    size: Option<Size>,
    progress: &mut dyn FnMut(u64),
) -> Result<Dataset, DataError> {
    // An n_classes below 2 can never be valid; say so before blaming the data.
    if let Some(n_classes) = opts.n_classes {
        if n_classes < 2 {
            return Err(DataError::TooFewClasses { file: file.to_owned(), n_classes, inferred: false });
        }
    }

    // The text is split at every '\n' into physical lines. Exactly one line
    // terminator may end the file; any other empty line is an error, because
    // it usually means a truncated or concatenated file. Telling the final
    // line break apart takes one line of look-ahead: `line` is processed once
    // `next` has been read (or found missing).
    let (mut line, mut next) = (Vec::new(), Vec::new());
    let (mut done, mut reported) = (0u64, 0u64);
    read_line(&mut reader, &mut line, file)?;
    // Editors on Windows like to start UTF-8 files with a byte order mark; it
    // would otherwise glue itself to the first cell and make it non-numeric.
    const BOM: &[u8] = "\u{feff}".as_bytes();
    if line.starts_with(BOM) {
        line.drain(..BOM.len());
        done += BOM.len() as u64;
    }

    let mut parser: Option<Parser> = None;
    for line_no in 1.. {
        let read = read_line(&mut reader, &mut next, file)?;
        let is_last = read == 0;
        done += line.len() as u64;
        let mut bytes = &line[..];
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
            if is_last {
                // The file's final line break, "\n" or "\r\n": not a line of its own.
                bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            }
        }
        if line_no == 1 && is_last && bytes.is_empty() {
            return Err(DataError::Empty { file: file.to_owned() });
        }
        // Checked by the first pass already, except in a pipe or a file that changed since.
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(DataError::NotUtf8 { file: file.to_owned(), line: line_no });
        };
        let text = text.strip_suffix('\r').unwrap_or(text);
        if !(opts.header && line_no == 1) {
            process_line(&mut parser, text, Loc { file, line: line_no }, opts, size)?;
        }
        if done - reported >= PROGRESS_EVERY {
            reported = done;
            progress(done);
        }
        if is_last {
            break;
        }
        std::mem::swap(&mut line, &mut next);
    }
    progress(done);

    let Some(mut parser) = parser else {
        // No line was parsed at all: only the header was there.
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
    // A no-op for a valid file read with its size known; otherwise gives back
    // what the reservation or the growth left unused.
    parser.features.shrink_to_fit();
    parser.labels.shrink_to_fit();
    Ok(Dataset { features: parser.features, labels: parser.labels, n_features: parser.n_cols - 1, n_classes })
}

/// Checks and parses one line that is not the header; the first sets the
/// column count and creates the parser.
fn process_line(
    parser: &mut Option<Parser>,
    line: &str,
    at: Loc<'_>,
    opts: &CsvOptions,
    size: Option<Size>,
) -> Result<(), DataError> {
    let file = at.file;
    let line_no = at.line;
    if trim_cell(line).is_empty() {
        return Err(DataError::BlankLine { file: file.to_owned(), line: line_no });
    }
    // Count columns before parsing any cell, so a short or long row is
    // reported as such rather than by whichever cell happens to be odd.
    let n_cols = line.bytes().filter(|&b| b == b',').count() + 1;
    let parser = match parser {
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
            parser.insert(Parser::new(size, n_cols, line_no))
        }
    };
    parser.push_row(line, at, opts.n_classes)
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
    fn new(size: Option<Size>, n_cols: usize, first_line: usize) -> Self {
        // Reserve the output once instead of letting the vectors double: a
        // doubling Vec can hold up to twice what it needs (and, where the
        // allocator copies to grow, briefly needs the old block beside the new
        // one), while the point of streaming is to hold no more than the output.
        // The line count from the first data row on is exact for a valid file;
        // the byte bound (a row of n_cols non-empty cells takes at least
        // 2 × n_cols bytes with its comma separators and line break) stops a
        // wide first row followed by many short lines from reserving far more
        // than the text could fill.
        let mut features = Vec::new();
        let mut labels = Vec::new();
        if let Some(size) = size {
            let lines = size.lines.saturating_sub(first_line - 1);
            let by_bytes = usize::try_from((size.bytes + 1) / n_cols.saturating_mul(2) as u64).unwrap_or(usize::MAX);
            let rows = lines.min(by_bytes).max(1);
            features.reserve_exact(rows.saturating_mul(n_cols - 1));
            labels.reserve_exact(rows);
        }
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
        let p = Parser::new(Some(Size::of(text.as_bytes())), 10_001, 1);
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

    /// Every input of `nasty_inputs_do_not_panic` and then some, for the equivalence tests.
    fn edge_inputs() -> Vec<String> {
        let mut inputs: Vec<String> = [
            "",
            "\n",
            "\r",
            "\r\n",
            "\r\r\n",
            "\n\n\n",
            ",",
            ",\n",
            ",,,",
            " , ",
            "\u{feff}",
            "\u{feff}\n",
            "\u{feff}\u{feff}1,0",
            "\u{feff}\n1,0",
            "\u{feff}1,0\n2,1\n",
            "1,0\n2",
            "1,0\n2,1",
            "1,0\n2,1\n",
            "1,0\r\n2,1\r\n",
            "1,0\r\n2,1",
            "1,0\r\r\n2,1\r\r\n",
            "1,0\n2,1\n\n",
            "1,0\n\n2,1\n",
            "h\n1,0\n\n",
            "a,b,label\n",
            "a,b,label",
            "h\n",
            "\n1,0\n2,1\n",
            "1,2,0\n3,4,1\n5,1\n",
            "1,2,0\n3,abc,1\n",
            "é,1\n",
            "\0,\0",
            "1,0\n2,0\n",
            "1e39,0\n",
            "1,99999999999\n",
            "1,0\n2,3\n",
            "1,0\n1,2,0\nx,1\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push(format!("{}0\n{}", "1,".repeat(10_000), "1\n".repeat(10_000)));
        inputs.push(format!("{},1\n", "0.5,".repeat(300_000)).repeat(2));
        inputs
    }

    /// A parse's outcome in comparable form: the dataset with its vectors' capacities, or the
    /// error message with the file name replaced by `NAME`.
    fn outcome(result: Result<Dataset, DataError>, file: &str) -> Result<(usize, usize, Dataset), String> {
        match result {
            Ok(ds) => Ok((ds.features.capacity(), ds.labels.capacity(), ds)),
            Err(e) => Err(e.to_string().replacen(file, NAME, 1)),
        }
    }

    #[test]
    fn streaming_matches_the_string_parser() {
        // load_csv (two passes over a file), the one-pass parser without a size (as for a
        // pipe) and parse_csv must agree on every input: same dataset, same error.
        for (i, text) in edge_inputs().iter().enumerate() {
            for header in [false, true] {
                for n_classes in [None, Some(2), Some(1)] {
                    let opts = CsvOptions { header, n_classes };
                    let want = outcome(parse_csv(text, NAME, &opts), NAME);
                    let f = TempFile::new(&format!("same-{i}"), text.as_bytes());
                    let file = f.0.display().to_string();
                    assert_eq!(outcome(load_csv(&f.0, &opts), &file), want, "{text:?} {opts:?}");
                    let piped = parse_lines(text.as_bytes(), NAME, &opts, None, &mut |_| {});
                    // Without a size the capacities may differ before the final shrink; compare data.
                    let strip = |o: Result<(usize, usize, Dataset), String>| o.map(|(_, _, ds)| ds);
                    assert_eq!(strip(outcome(piped, NAME)), strip(want.clone()), "{text:?} {opts:?}");
                    // A valid file is read into vectors of exactly its size.
                    if let Ok((features_cap, labels_cap, ds)) = &want {
                        assert_eq!((*features_cap, *labels_cap), (ds.features.len(), ds.labels.len()), "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn load_csv_reports_progress_per_pass() {
        // 3 MB: several reports per pass, the last of each at the total.
        let row = "0.125,0.25,0.5,1\n";
        let text = row.repeat(3 * 1024 * 1024 / row.len());
        let f = TempFile::new("progress", text.as_bytes());
        let mut seen = Vec::new();
        let ds = load_csv_with_progress(&f.0, &CsvOptions::default(), &mut |stage, done, total| {
            seen.push((stage, done, total))
        })
        .unwrap();
        assert_eq!(ds.rows(), text.len() / row.len());
        let total = text.len() as u64;
        for stage in [LoadStage::Scanning, LoadStage::Parsing] {
            let reports: Vec<_> = seen.iter().filter(|r| r.0 == stage).collect();
            assert!(reports.len() >= 3, "{stage:?}: {reports:?}");
            assert!(reports.iter().all(|r| r.2 == total && r.1 <= total), "{reports:?}");
            assert!(reports.windows(2).all(|w| w[0].1 <= w[1].1), "{reports:?}");
            assert_eq!(reports.last().unwrap().1, total);
        }
        // Scanning comes first.
        assert_eq!(seen[0].0, LoadStage::Scanning);
        assert_eq!(seen.last().unwrap().0, LoadStage::Parsing);
    }

    #[test]
    fn a_bad_cell_deep_in_a_large_file_is_located() {
        // The error names the line and column however far into the file it is.
        let mut text = "0.5,-1.25,3,0\n".repeat(200_000);
        text.push_str("1,2,x3,1\n");
        text.push_str(&"0.5,-1.25,3,1\n".repeat(1000));
        let f = TempFile::new("deep", text.as_bytes());
        let place = format!("{}:200001:3:", f.0.display());
        expect_err(load_csv(&f.0, &CsvOptions::default()), &place, &["\"x3\"", "not a number"]);
        // And a byte that is not UTF-8 after it is still reported first, as for a file read whole.
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"1,\xe9,2,0\n");
        let f = TempFile::new("deep-utf8", &bytes);
        let place = format!("{}:201002:", f.0.display());
        expect_err(load_csv(&f.0, &CsvOptions::default()), &place, &["not valid UTF-8"]);
    }

    #[test]
    fn utf8_sequences_cut_by_the_read_buffer_are_accepted() {
        // Lines of 4 and 5 bytes after a 2-byte header: an "é" starts at byte 6 + 9k, and
        // 65535 is such a byte, so the first read of the scan ends inside one.
        let mut text = String::from("h\n");
        for i in 0..READ_BUFFER / 4 {
            text.push_str(if i % 2 == 0 { "1,0\n" } else { "é,1\n" });
        }
        assert!(!text.is_char_boundary(READ_BUFFER));
        let f = TempFile::new("cut", text.as_bytes());
        let err = load_csv(&f.0, &CsvOptions { header: true, n_classes: None }).unwrap_err();
        // Not a UTF-8 error: the first bad cell, on line 3.
        assert!(matches!(err, DataError::NonNumeric { line: 3, column: 1, .. }), "{err}");
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
