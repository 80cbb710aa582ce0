#!/usr/bin/env bash
# Checkpoints across the CPU and an OpenCL device (a GPU above all): on both paths, the default
# run is killed with SIGKILL inside a checkpoint write on one device and resumed on the other,
# and killed at random moments on the device (a checkpoint after every step) and resumed there
# until it finishes; every digest must be the uninterrupted run's. docs/GPU-CONFORMANCE.md has
# what was seen. Needs only the `samebits` binary and python3, so it runs on a GPU machine
# without a Rust toolchain:
#
#   SAMEBITS=path/to/samebits scripts/gpu-checkpoints.sh [WORK_DIR]
#
# The device is the first usable one (`samebits devices`); see docs/GPU-CONFORMANCE.md for a
# machine without an OpenCL ICD loader. Exit 1 if any digest differs.
set -u
B=${SAMEBITS:-$(cd "$(dirname "$0")/.." && pwd)/target/release/samebits}
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work" || exit 1
"$B" devices || exit 1
failed=0
digest() { python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }
check() { # what got want
    if [ "$2" = "$3" ]; then echo "$1: $2 equal"; else echo "$1: $2 DIFFERENT"; failed=1; fi
}
# Stops a run with SIGKILL inside checkpoint write PAUSE (docs/RELIABILITY.md).
killed_in_write() { # dir device pause path
    rm -rf "$1"
    SAMEBITS_CHECKPOINT_PAUSE=$3 "$B" train --json --device "$2" --path "$4" --checkpoint "$1" \
        --checkpoint-every 100 >/dev/null 2>"$1.err" &
    local pid=$!
    for _ in $(seq 600); do
        grep -q paused "$1.err" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    echo "  $(cat "$1.err")"
}
for path in float fixed; do
    echo "== $path path"
    want=$("$B" train --json --path $path --device opencl | digest)
    check "uninterrupted on OpenCL" "$want" "$want"
    check "uninterrupted on the CPU" "$("$B" train --json --path $path --device cpu | digest)" "$want"
    killed_in_write ck-$path-gpu opencl partial:8 $path
    check "killed on OpenCL at step 700, resumed on the CPU" \
        "$("$B" resume ck-$path-gpu --json --device cpu | digest)" "$want"
    killed_in_write ck-$path-cpu cpu synced:5 $path
    check "killed on the CPU at step 400, resumed on OpenCL" \
        "$("$B" resume ck-$path-cpu --json --device opencl | digest)" "$want"
    rm -rf ck-$path-random
    kills=0
    args=(train --json --device opencl --path $path --checkpoint ck-$path-random --checkpoint-every 1)
    while :; do
        "$B" "${args[@]}" >out-$path.json 2>err-$path.txt &
        pid=$!
        sleep 0.$((RANDOM % 9 + 1))
        if kill -9 $pid 2>/dev/null; then
            wait $pid 2>/dev/null
            kills=$((kills + 1))
            [ -f ck-$path-random/checkpoint.sbck ] && args=(resume ck-$path-random --json --device opencl)
            [ $kills -lt 100 ] && continue
            echo "  not finished after $kills kills"
            failed=1
            break
        fi
        wait $pid
        break
    done
    check "on OpenCL, killed $kills times at random" "$(digest <out-$path.json)" "$want"
done
exit $failed
