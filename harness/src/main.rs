//! The `samebits` binary: see [`samebits_harness::cli`].

fn main() {
    let code = samebits_harness::cli::run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
