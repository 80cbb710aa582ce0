#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (docs/FUZZING.md), one after another, each for a given
# number of executions starting from the committed seed corpus.
#
#   scripts/fuzz.sh [RUNS [TARGET...]]
#
# RUNS defaults to 20000 (a smoke run, a few seconds per target); the targets default to all
# of them. Installs nightly and cargo-fuzz when missing. The committed corpus (fuzz/corpus/) is
# only read: each target runs on a temporary copy, so new inputs never land in the repository.
# A crash stops the script with exit 1; the reproducer and the log are in fuzz/artifacts/TARGET/
# and the command that replays it is printed.
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
    t0=$(date +%s%N)
    # The scratch copy first: libFuzzer writes new inputs to the first corpus folder only.
    if ! cargo +nightly fuzz run "$t" "$scratch/$t" -- -runs="$runs" -print_final_stats=1 \
        >"$scratch/$t.log" 2>&1; then
        mkdir -p "artifacts/$t"
        cp "$scratch/$t.log" "artifacts/$t/fuzz.log"
        grep -E -A2 "panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY:" "$scratch/$t.log" | head -n 20 || true
        grep -E "Test unit written|cargo fuzz (run|tmin) " "$scratch/$t.log" || true
        echo "fuzz.sh: $t FAILED (whole log: fuzz/artifacts/$t/fuzz.log); replay from fuzz/ with the command above" >&2
        exit 1
    fi
    ms=$((($(date +%s%N) - t0) / 1000000))
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
    # The wall time includes cargo's check that the target is up to date (well under a second).
    line="$t: ${executed:-?} executions in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
    line+=" ($((${executed:-0} * 1000 / (ms > 0 ? ms : 1)))/s), no crash"
    echo "$line"
    summary+=("$line")
done

echo
echo "==> fuzzing done in $(($(date +%s) - started)) s ($(date -u +%Y-%m-%d))"
printf '%s\n' "${summary[@]}"
