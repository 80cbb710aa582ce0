#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (docs/FUZZING.md), one after another, each for a given
# number of executions starting from the committed seed corpus.
#
#   scripts/fuzz.sh [RUNS [TARGET...]]
#
# RUNS defaults to 20000 (a smoke run, a few seconds per target); the targets default to all
# of them. Installs nightly and cargo-fuzz when missing. The committed corpus (fuzz/corpus/) is
# only read: each target runs on a temporary copy, so new inputs never land in the repository.
# A crash stops the script with exit 1; the reproducer is in fuzz/artifacts/TARGET/ and the
# command that replays it is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv csv_load trace cli checkpoint)
case $runs in '' | *[!0-9]*) echo "fuzz.sh: RUNS must be a number, not '$runs'" >&2; exit 2 ;; esac

started=$(date +%s)
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd fuzz
echo "==> building the fuzz targets (nightly, address sanitizer)"
build_started=$(date +%s)
for t in "${targets[@]}"; do
    cargo +nightly fuzz build "$t"
done
echo "built in $(($(date +%s) - build_started)) s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
summary=()
for t in "${targets[@]}"; do
    [ -d "corpus/$t" ] || { echo "fuzz.sh: no seed corpus fuzz/corpus/$t" >&2; exit 2; }
    cp -r "corpus/$t" "$scratch/$t"
    echo "==> $t: $runs executions from $(find "corpus/$t" -type f | wc -l) seeds"
    t0=$(date +%s)
    # The scratch copy first: libFuzzer writes new inputs to the first corpus folder only.
    if ! cargo +nightly fuzz run "$t" "$scratch/$t" -- -runs="$runs" -print_final_stats=1 \
        >"$scratch/$t.log" 2>&1; then
        tail -n 60 "$scratch/$t.log"
        echo "fuzz.sh: $t FAILED; replay the input named above with: (cd fuzz && cargo +nightly fuzz run $t artifacts/$t/FILE)" >&2
        exit 1
    fi
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
    per_s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$scratch/$t.log")
    line="$t: ${executed:-?} executions in $(($(date +%s) - t0)) s (${per_s:-?}/s), no crash"
    echo "$line"
    summary+=("$line")
done

echo
echo "==> fuzzing done in $(($(date +%s) - started)) s ($(date -u +%Y-%m-%d))"
printf '%s\n' "${summary[@]}"
