//! Command-line parsing and checking (`samebits_harness::cli::check_command_line`): the input,
//! split on NUL bytes, is the argument list after `samebits`. Arguments need not be UTF-8
//! (they are `OsString`s, as on Unix). Nothing is run and no file is touched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let args = std::iter::once(OsString::from("samebits"))
        .chain(data.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())));
    if let Err(message) = samebits_harness::cli::check_command_line(args) {
        assert!(!message.contains('\n'), "error message on several lines: {message:?}");
    }
});
