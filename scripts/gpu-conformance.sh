#!/usr/bin/env bash
# The OpenCL conformance check for a real GPU (or any OpenCL device): the default runs of both
# arithmetic paths trained on the device must end with the CPU's golden digests, and a short
# run with --device both must find the device and the CPU equal after every step.
#
# Needs only a built `samebits` binary and an OpenCL ICD loader with the device's driver; no
# cargo, no package registry. Build it anywhere with the same sources
# (`cargo build --release -p samebits-harness`) and copy it over, then:
#
#   scripts/gpu-conformance.sh [path/to/samebits] [device index]
#
# Without a system ICD loader, unpack Debian's ocl-icd-libopencl1 (`dpkg -x`) into a folder and
# put its usr/lib/x86_64-linux-gnu in LD_LIBRARY_PATH; point OCL_ICD_VENDORS at the folder of the
# driver's .icd file (NVIDIA: nvidia.icd naming libnvidia-opencl.so.1) if it is not in
# /etc/OpenCL/vendors. Prints a summary to paste into docs/GPU-CONFORMANCE.md; exits non-zero on
# the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/release/samebits}
index=${2:-}
[ -x "$bin" ] || { echo "no samebits binary at $bin (build it with: cargo build --release -p samebits-harness)" >&2; exit 2; }

# The goldens the device must reproduce, read from the test suite's source.
golden() { sed -n "s/^pub const $1: &str = \"\([0-9a-f]\{64\}\)\";/\1/p" tests/src/golden.rs; }
float_golden=$(golden DEFAULT_RUN)
fixed_golden=$(golden DEFAULT_FIXED_RUN)
[ -n "$float_golden" ] && [ -n "$fixed_golden" ] || { echo "goldens not found in tests/src/golden.rs" >&2; exit 2; }

device_args=(--device opencl)
[ -z "$index" ] || device_args+=(--device-index "$index")

echo "== devices"
"$bin" devices

# One field of the one-line JSON report (no python or jq on a bare GPU machine).
field() { grep -oP "\"$1\":\"?\K[^\",}]+" | tail -n 1; }
failures=0
summary=()
for path in float fixed; do
    want=$float_golden
    [ "$path" = fixed ] && want=$fixed_golden
    echo "== default run, --path $path, on the device"
    start=$(date +%s)
    report=$("$bin" train --path "$path" "${device_args[@]}" --json)
    seconds=$(($(date +%s) - start))
    digest=$(field digest <<<"$report")
    device=$(field opencl_device <<<"$report")
    accuracy=$(field test_accuracy <<<"$report")
    if [ "$digest" = "$want" ]; then verdict="equal to the golden"; else verdict="DIFFERENT from the golden $want"; failures=$((failures + 1)); fi
    echo "$path: digest $digest ($verdict), test accuracy $accuracy, ${seconds}s on $device"
    summary+=("| $path | default run (20 epochs) | \`${digest:0:8}…\` $verdict | ${seconds} s |")

    echo "== --device both, --path $path, 2 epochs (digests compared after every step)"
    both_args=(--device both)
    [ -z "$index" ] || both_args+=(--device-index "$index")
    if "$bin" train --path "$path" "${both_args[@]}" --epochs 2 --json >/dev/null; then
        summary+=("| $path | --device both, 2 epochs | equal after every step | |")
    else
        failures=$((failures + 1))
        summary+=("| $path | --device both, 2 epochs | FAILED (see the error above) | |")
    fi
done

echo
echo "== summary for docs/GPU-CONFORMANCE.md ($(date -u +%Y-%m-%d), $(uname -m), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
"$bin" devices | sed 's/^/    /'
echo "| path | check | result | time |"
echo "|---|---|---|---|"
printf '%s\n' "${summary[@]}"
[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "all checks passed"
