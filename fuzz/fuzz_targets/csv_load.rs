//! The streaming CSV loader (`samebits_harness::data::load_csv`) on arbitrary bytes, against
//! the in-memory parser: the loader reads a regular file in two passes (count and UTF-8 check,
//! then parse) and anything else (a pipe) in one, and either way must give exactly what
//! `parse_csv` gives for the same text — the same dataset, or the same error message.
//!
//! The first byte picks the options as in the `csv` target (bit 0 `header`, bits 1..=4
//! `n_classes`), and bit 5 the source: 0 → a regular file in /dev/shm (or the temporary
//! folder), 1 → a pipe, opened by its /proc/self/fd path. The rest is the file's bytes. Bytes
//! that are not UTF-8 must be refused: with `NotUtf8` at the first bad byte's line from a
//! regular file, with some error from a pipe (which reports problems in file order).
#![no_main]

use libfuzzer_sys::fuzz_target;
use samebits_harness::data::{load_csv, parse_csv, CsvOptions, DataError};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// A pipe holds this much without a reader on every Linux; larger inputs use the file.
const PIPE_MAX: usize = 60_000;

fn file_path() -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    dir.join(format!("samebits-fuzz-csv-load-{}.csv", std::process::id()))
}

fn outcome(r: Result<samebits_harness::data::Dataset, DataError>) -> Result<samebits_harness::data::Dataset, String> {
    r.map_err(|e| e.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else { return };
    let n_classes = match (flags >> 1) & 0x0f {
        0 => None,
        k => Some(usize::from(k) - 1),
    };
    let opts = CsvOptions { header: flags & 1 == 1, n_classes };
    let pipe = flags & 0x20 != 0 && bytes.len() <= PIPE_MAX;

    let (name, loaded) = if pipe {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        writer.write_all(bytes).expect("write to the pipe");
        drop(writer);
        let path = PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd()));
        let loaded = load_csv(&path, &opts);
        drop(reader);
        (path.display().to_string(), loaded)
    } else {
        let path = file_path();
        std::fs::write(&path, bytes).expect("write the input file");
        let loaded = load_csv(&path, &opts);
        std::fs::remove_file(&path).expect("remove the input file");
        (path.display().to_string(), loaded)
    };

    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let parsed = outcome(parse_csv(text, &name, &opts));
            let loaded = outcome(loaded);
            assert!(
                loaded == parsed,
                "load_csv ({}) and parse_csv differ:\n{loaded:?}\n{parsed:?}",
                if pipe { "pipe" } else { "file" }
            );
        }
        Err(e) => match loaded {
            Ok(_) => panic!("load_csv accepted bytes that are not UTF-8"),
            Err(DataError::NotUtf8 { line, .. }) if !pipe => {
                let valid = &bytes[..e.valid_up_to()];
                let expected = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                assert_eq!(line, expected, "NotUtf8 at the wrong line");
            }
            Err(other) if !pipe => panic!("not UTF-8, but load_csv says: {other}"),
            Err(_) => {}
        },
    }
});
