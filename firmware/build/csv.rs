//! The CSV reader of `samebits train --data` (harness/src/data/csv.rs), rule for rule, for files
//! without a header: the firmware's flash arrays must hold exactly the values the harness reads.

/// Rows of features (row-major) and their labels.
pub struct Table {
    pub features: Vec<f32>,
    pub labels: Vec<u32>,
    pub n_features: usize,
}

/// Spaces and tabs around a cell are ignored, nothing else.
fn trim_cell(cell: &str) -> &str {
    cell.trim_matches(|c| c == ' ' || c == '\t')
}

/// Parses `text` (named `file` in messages); every label must be below `classes`.
pub fn parse(text: &str, file: &str, classes: usize) -> Table {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = text.strip_suffix("\r\n").or_else(|| text.strip_suffix('\n')).unwrap_or(text);
    assert!(!body.is_empty(), "{file}: empty");
    let mut table = Table { features: Vec::new(), labels: Vec::new(), n_features: 0 };
    let mut n_cols = 0;
    for (i, line) in body.split('\n').enumerate() {
        let line_no = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        assert!(!trim_cell(line).is_empty(), "{file}:{line_no}: blank line");
        let cols = line.bytes().filter(|&b| b == b',').count() + 1;
        if n_cols == 0 {
            assert!(cols >= 2, "{file}:{line_no}: at least one feature and a label are needed");
            n_cols = cols;
        }
        assert_eq!(cols, n_cols, "{file}:{line_no}: expected {n_cols} columns");
        for (c, cell) in line.split(',').enumerate() {
            let cell = trim_cell(cell);
            assert!(!cell.is_empty(), "{file}:{line_no}:{}: empty cell", c + 1);
            if c + 1 < n_cols {
                // `str::parse::<f32>` rounds correctly, as the harness's reader does.
                let x: f32 = cell.parse().unwrap_or_else(|_| panic!("{file}:{line_no}: {cell} is not a number"));
                assert!(x.is_finite(), "{file}:{line_no}: {cell} is not finite");
                table.features.push(x);
            } else {
                assert!(cell.bytes().all(|b| b.is_ascii_digit()), "{file}:{line_no}: bad label {cell}");
                let label: u32 = cell.parse().unwrap_or_else(|_| panic!("{file}:{line_no}: label {cell} too large"));
                assert!((label as usize) < classes, "{file}:{line_no}: label {label} not below --classes {classes}");
                table.labels.push(label);
            }
        }
    }
    table.n_features = n_cols - 1;
    table
}

/// Rows held out for testing: the last `floor(rows × fraction)` (harness/src/data/dataset.rs).
pub fn test_rows(rows: usize, fraction: f64) -> usize {
    assert!((0.0..1.0).contains(&fraction), "--test-fraction must be in [0, 1)");
    let test = (rows as f64 * fraction).floor() as usize;
    assert!(test < rows, "no training rows would remain");
    test
}
