#!/usr/bin/env bash
# The whole samebits test suite, from a fresh Debian machine with only the Rust toolchain
# (rustup). Installs what the tests need when it is missing, then runs every check; exits
# non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
# Each step's header says how long the suite has run so far, so slow steps show in the log.
step() { printf '\n==> [%ss] %s\n' "$(($(date +%s) - started))" "$*"; }

step "toolchain: rustfmt, clippy and the thumbv7em-none-eabihf target"
installed_components=$(rustup component list --installed)
for component in rustfmt clippy; do
    grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done
rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf

step "OpenCL for the device tests: the ICD loader and PoCL (OpenCL on this CPU)"
opencl_packages="ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd"
if ! dpkg -s $opencl_packages >/dev/null 2>&1; then
    sudo_if_needed=""
    [ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
    $sudo_if_needed apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -q $opencl_packages
fi
# PoCL caches compiled kernels; keep them inside the build folder, not in ~/.cache.
export POCL_CACHE_DIR="$PWD/target/pocl-cache"
# Without a device the OpenCL tests would pass by skipping; here a missing device fails them.
export SAMEBITS_REQUIRE_OPENCL=1

step "formatting"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "no_std proof: the kernel builds for a Cortex-M4F without std or an allocator"
cargo build -p samebits --target thumbv7em-none-eabihf --locked

step "tests, debug build (golden digests, gradient check, command line)"
# All but the 20-epoch default runs: the release step runs them, and the matrix's x86_64-debug
# row trains them with the debug build of the command.
cargo test --workspace --locked -- --skip default_run_ --skip default_fixed_run_ --skip default_runs_on_opencl

step "tests, release build, including the slow golden runs at 2, 3 and 7 threads"
cargo test --workspace --release --locked -- --include-ignored

step "cross-platform conformance matrix: the default runs and the tests/ crate on every platform"
# x86_64 (release, -C target-cpu=native, debug), i686, aarch64, riscv64gc, s390x, Windows and
# wasm32-wasip1; every row but x86_64 runs the fixed path's portable product loop, so the matrix
# also checks it against the SSE2 loop. Then OpenCL on PoCL (scripts/gpu-conformance.sh, so the
# GPU check cannot rot), the Cortex-M3/M4F firmware under qemu-system-arm and miri (native and
# s390x). Installs qemu-user, qemu-system-arm, cross gcc, mingw-w64, wine and nightly's miri
# when missing; reuses target/.
# The steps above ran the tests/ crate in these two builds already.
SAMEBITS_MATRIX_TESTS_DONE="x86_64 x86_64-debug" scripts/matrix.sh

step "Cortex-M firmware: formatting and clippy (its own workspace, both thumb targets)"
(cd firmware && cargo fmt --check && CARGO_TARGET_DIR="$PWD/../target/firmware" cargo clippy --release \
    --locked --target thumbv7m-none-eabi --target thumbv7em-none-eabihf -- -D warnings)

step "benchmarks compile and run once (criterion --test mode)"
cargo bench -p samebits-benches --locked -- --test

step "fuzzing smoke: every cargo-fuzz target, 20000 executions from its seeds (docs/FUZZING.md)"
# Installs cargo-fuzz when missing (nightly is there: the matrix's miri rows installed it).
scripts/fuzz.sh 20000

printf '\nall checks passed in %ss\n' "$(($(date +%s) - started))"
