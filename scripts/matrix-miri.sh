#!/usr/bin/env bash
# The miri rows of the cross-platform matrix: the kernel's tests, its short golden training runs
# (kernel/tests/short_goldens.rs) included, interpreted by miri, which stops at any undefined
# behaviour. Two rows:
#
#   host    the machine's own target; on x86-64 this runs the SSE2 product loops of
#           linalg/simd/ (where all of the kernel's `unsafe` code lives);
#   s390x   s390x-unknown-linux-gnu: big-endian, the portable product loop.
#
# The short goldens must give, on both, the constants recorded from a native run.
#
#   scripts/matrix-miri.sh            # both rows
#   scripts/matrix-miri.sh s390x      # some rows (names in ALL_ROWS below)
#
# Installs what is missing: the nightly toolchain with its miri and rust-src components
# (SAMEBITS_MIRI_TOOLCHAIN picks another toolchain). Miri's standard libraries are built into
# target/miri/sysroot, the tests into target/miri/<row>/. The rows run side by side when the
# machine has two cores or more (SAMEBITS_MIRI_JOBS=1: one after the other). Every step has a
# timeout (SAMEBITS_MIRI_TIMEOUT seconds, default 900). MIRIFLAGS is passed on to miri.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work="$root/target/miri"
mkdir -p "$work"
toolchain=${SAMEBITS_MIRI_TOOLCHAIN:-nightly}
limit=${SAMEBITS_MIRI_TIMEOUT:-900}
jobs=${SAMEBITS_MIRI_JOBS:-$(nproc 2>/dev/null || echo 1)}

ALL_ROWS="host s390x"
rows=${*:-$ALL_ROWS}

# Settings meant for ordinary builds would be applied to miri's too, or replace its runner.
while read -r name; do
    unset "$name"
done < <(env | grep -oE '^CARGO_TARGET_[A-Z0-9_]+_(RUNNER|RUSTFLAGS)=' | tr -d '=')
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTDOCFLAGS CARGO_BUILD_TARGET CARGO_TARGET_DIR
unset RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER
# The `should_panic` tests: capturing a backtrace takes seconds under miri.
export RUST_BACKTRACE=0
# One sysroot directory holds every target's standard library; `cargo miri setup` below builds
# what is missing or stale, and `cargo miri test` then uses it as it is.
export MIRI_SYSROOT="$work/sysroot"

# (Lists read whole before grep: under pipefail an early exit of `grep -q` could fail the pipe.)
toolchains=$(rustup toolchain list)
if ! grep -q "^$toolchain" <<<"$toolchains"; then
    timeout "$limit" rustup toolchain install "$toolchain" --profile minimal --component miri,rust-src
fi
installed=$(rustup +"$toolchain" component list --installed)
for component in miri rust-src; do
    grep -q "^$component" <<<"$installed" || timeout "$limit" rustup +"$toolchain" component add "$component"
done

host=$(rustc +"$toolchain" -vV | sed -n 's/^host: //p')
triple_of() {
    case $1 in
        host) echo "$host" ;;
        s390x) echo s390x-unknown-linux-gnu ;;
        *)
            echo "unknown row $1 (rows: $ALL_ROWS)" >&2
            return 1
            ;;
    esac
}
name_of() { echo "miri-${1%%-*}"; }

for row in $rows; do
    triple=$(triple_of "$row")
    echo "==> miri sysroot for $triple" >&2
    timeout "$limit" cargo +"$toolchain" miri setup --target "$triple" >&2
done

# Runs one row; writes its seconds (or "fail") to target/miri/<row>.result.
run_row() {
    local row=$1 triple started
    triple=$(triple_of "$row")
    started=$(date +%s)
    if timeout "$limit" cargo +"$toolchain" miri test -p samebits --locked --target "$triple" \
        --target-dir "$work/$row" >"$work/$row.log" 2>&1; then
        echo $(($(date +%s) - started)) >"$work/$row.result"
    else
        echo "fail $(($(date +%s) - started))" >"$work/$row.result"
    fi
}

started=$(date +%s)
pids=()
for row in $rows; do
    rm -f "$work/$row.result"
    echo "==> miri row $row ($(triple_of "$row")), log in target/miri/$row.log" >&2
    if [ "$jobs" -gt 1 ]; then
        run_row "$row" &
        pids+=($!)
    else
        run_row "$row"
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid" || true
done

status=0
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- Cargo.lock; then
    echo "Cargo.lock changed during the miri rows" >&2
    status=1
fi
printf '\nmiri rows (%s, %ss in all)\n' "$(cargo +"$toolchain" miri --version 2>/dev/null || echo miri)" \
    "$(($(date +%s) - started))"
for row in $rows; do
    result=$(cat "$work/$row.result" 2>/dev/null || echo "fail ?")
    name=$(name_of "$(triple_of "$row")")
    if [[ $result == fail* ]]; then
        printf '%-12s %-30s ✗ %ss\n' "$name" "kernel tests + short goldens" "${result#fail }"
        tail -n 40 "$work/$row.log" | sed 's/^/    /' >&2
        status=1
    else
        passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$work/$row.log" | awk '{n += $4} END {print n + 0}')
        printf '%-12s %-30s ✓ %ss (%s tests passed)\n' "$name" "kernel tests + short goldens" "$result" "$passed"
    fi
done
exit $status
