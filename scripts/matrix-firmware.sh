#!/usr/bin/env bash
# Cortex-M rows of the conformance matrix: builds the firmware in firmware/ (its own workspace)
# for a Cortex-M3 (thumbv7m-none-eabi, soft float) and a Cortex-M4F (thumbv7em-none-eabihf),
# runs each under qemu-system-arm (lm3s6965evb and mps2-an386 machines), runs the host
# `samebits train` with the same flags (firmware/train.args) on both arithmetic paths, and
# compares the digests. Prints board × path → digest ✓/✗ and each board's RAM and flash use;
# any mismatch, failed build or timeout fails the command. The firmware also prints both runs'
# traces (docs/TRACE.md), each line after `trace: `: they are written to
# target/firmware/<board>-<path>.jsonl and must be identical to the host's (`samebits compare`
# against target/firmware/host-<path>.jsonl), or the command fails.
#
#   scripts/matrix-firmware.sh
#
# Installs what is missing (Debian's qemu-system-arm, the two rustup targets). The firmware
# builds in target/firmware/, the host command in target/ (or $CARGO_TARGET_DIR). Builds have a
# timeout of SAMEBITS_FIRMWARE_TIMEOUT seconds (default 900), each emulated or host run 120 s.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$(date +%s)
build_limit=${SAMEBITS_FIRMWARE_TIMEOUT:-900}
run_limit=120
fw_dir="$root/target/firmware"
host_dir=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$fw_dir"

sudo_if_needed=""
[ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
if ! dpkg -s qemu-system-arm >/dev/null 2>&1; then
    timeout 600 $sudo_if_needed apt-get update -q
    DEBIAN_FRONTEND=noninteractive timeout 1200 $sudo_if_needed \
        apt-get install -y -q --no-install-recommends qemu-system-arm
fi
for target in thumbv7m-none-eabi thumbv7em-none-eabihf; do
    rustup target list --installed | grep -qx "$target" || timeout 600 rustup target add "$target"
done

fail() {
    echo "matrix-firmware: $*" >&2
    exit 1
}

# board, target triple, qemu machine
BOARDS="cortex-m3:thumbv7m-none-eabi:lm3s6965evb cortex-m4f:thumbv7em-none-eabihf:mps2-an386"

echo "building the firmware (release, both targets) in target/firmware"
(cd firmware && CARGO_TARGET_DIR="$fw_dir" timeout "$build_limit" \
    cargo build --release --locked --target thumbv7m-none-eabi --target thumbv7em-none-eabihf) ||
    fail "the firmware build failed or timed out"

echo "building the host command (release)"
CARGO_TARGET_DIR="$host_dir" timeout "$build_limit" cargo build --release -p samebits-harness --locked ||
    fail "the host build failed or timed out"

# The run's flags, one `--flag value` pair per line; the data path is relative to this root.
read -r -a args <<<"$(tr '\n' ' ' <firmware/train.args)"
declare -A want
for path in float fixed; do
    json=$(timeout "$run_limit" "$host_dir/release/samebits" train "${args[@]}" --threads 1 --path "$path" --json \
        --trace "$fw_dir/host-$path.jsonl" --overwrite) ||
        fail "the host run on the $path path failed or timed out"
    want[$path]=$(grep -oP '"digest": *"\K[0-9a-f]{64}' <<<"$json") || fail "no digest in the host's $path output"
    printf '%-11s %-5s %s (samebits train)\n' host "$path" "${want[$path]}"
done

status=0
for board in $BOARDS; do
    IFS=: read -r name target machine <<<"$board"
    log="$fw_dir/$name.log"
    run_started=$(date +%s.%N)
    rc=0
    timeout "$run_limit" qemu-system-arm -machine "$machine" -nographic \
        -semihosting-config enable=on,target=native \
        -kernel "$fw_dir/$target/release/samebits-firmware" </dev/null >"$log" 2>&1 || rc=$?
    seconds=$(awk -v a="$run_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    for path in float fixed; do
        got=$(awk -v p="$path" '$1 == p { print $2 }' "$log")
        mark="✓"
        if [ "$got" != "${want[$path]}" ]; then
            mark="✗"
            status=1
        fi
        printf '%-11s %-5s %s %s\n' "$name" "$path" "${got:-(none)}" "$mark"
    done
    printf '%-11s %s; %s s under qemu\n' "$name" "$(grep -m1 '^ram ' "$log" || echo 'ram: not reported')" "$seconds"
    # Each path's trace: the marked lines from its header to its end record. This row's words
    # ("trace", not a path) keep it out of the matrix's digest rows; it counts in the exit status.
    verdict="identical ✓"
    for path in float fixed; do
        trace="$fw_dir/$name-$path.jsonl"
        sed -n 's/^trace: //p' "$log" |
            awk -v p="\"path\":\"$path\"" 'index($0, "\"format\":\"samebits-trace\"") { on = index($0, p) > 0 }
                on { print } on && /^\{"record":"end"/ { on = 0 }' >"$trace"
        if ! report=$("$host_dir/release/samebits" compare "$fw_dir/host-$path.jsonl" "$trace" 2>&1); then
            verdict="differ ✗"
            status=1
            echo "$name: the $path trace differs from the host's ($trace):" >&2
            echo "$report" >&2
        fi
    done
    printf '%-11s %-5s %s\n' "$name" trace "compare with the host (float, fixed): $verdict"
    if [ "$rc" -eq 124 ]; then
        echo "$name: timed out after $run_limit s (log: $log)" >&2
        status=1
    elif [ "$rc" -ne 0 ]; then
        echo "$name: the firmware exited with status $rc (log: $log):" >&2
        cat "$log" >&2
        status=1
    fi
done

printf 'firmware matrix: %s in %ss\n' "$([ "$status" -eq 0 ] && echo 'all digests equal' || echo FAILED)" \
    "$(($(date +%s) - started))"
exit "$status"
