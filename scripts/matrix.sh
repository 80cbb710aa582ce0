#!/usr/bin/env bash
# Cross-platform conformance matrix: builds the `samebits` command for each platform, runs the
# default training run on both arithmetic paths (`samebits train --json --threads 1`, float
# and `--path fixed`), and compares each digest with the golden value in tests/src/golden.rs
# (DEFAULT_RUN, DEFAULT_FIXED_RUN); then runs the tests/ crate on the same platform (all but
# those two default runs). Prints platform × path → digest ✓/✗ and the tests' result; any
# mismatch or failure fails the command.
#
# The rows opencl (the first OpenCL device), cortex-m (the firmware on Cortex-M3 and M4F under
# qemu-system-arm) and miri (the kernel's tests under miri, native and s390x) run the scripts
# gpu-conformance.sh, matrix-firmware.sh and matrix-miri.sh and take their results.
#
# As a contrast, the rows in CONTRAST_ROWS below also train with `--math platform` (exp, ln
# and tanh from the platform's C library instead of the contract's): the float default run,
# and the same with tanh (CONTRAST_RUNS), next to the portable digests of the same runs. A
# second table shows those digests: informative only, it never fails the command.
#
#   scripts/matrix.sh                 # every row
#   scripts/matrix.sh i686 s390x      # some rows (names in ALL_ROWS below)
#
# Foreign platforms run under emulation: aarch64, riscv64gc and s390x (big-endian) Linux
# with qemu-user, x86_64 Windows with wine, wasm32-wasip1 with Node's WASI module; i686
# Linux runs natively. Installs what is missing (Debian packages, rustup targets). Builds go
# to the test suite's target dirs (see host_dir below), the wine prefix and its DLL shim to
# target/matrix/. Every step has a timeout (SAMEBITS_MATRIX_TIMEOUT seconds, default 1200 per
# build and per run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work="$root/target/matrix"
mkdir -p "$work"
# PoCL (the opencl row) caches its compiled kernels here rather than in ~/.cache.
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$root/target/pocl-cache}
limit=${SAMEBITS_MATRIX_TIMEOUT:-1200}
# The digest is the same for every thread count (NUMERICS.md §1); SAMEBITS_MATRIX_THREADS picks
# another (two threads did not shorten the emulated runs on a 2-core machine).
threads=${SAMEBITS_MATRIX_THREADS:-1}

ALL_ROWS="x86_64 x86_64-native x86_64-debug i686 aarch64 riscv64gc s390x windows wasm32 opencl cortex-m miri"
# Linux (glibc), Windows (MinGW-w64's runtime) and WebAssembly (wasi-libc): three C libraries.
CONTRAST_ROWS="x86_64 windows wasm32"
# name|arguments: the default run uses exp and ln (softmax), the tanh run tanh too.
CONTRAST_RUNS=("default|" "tanh|--activation tanh")
rows=${*:-$ALL_ROWS}

golden() { grep -oP "pub const $1: &str = \"\K[0-9a-f]{64}" tests/src/golden.rs; }
want_float=$(golden DEFAULT_RUN)
want_fixed=$(golden DEFAULT_FIXED_RUN)

sudo_if_needed=""
[ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
apt_updated=""
need_apt() {
    if ! dpkg -s "$@" >/dev/null 2>&1; then
        if [ -z "$apt_updated" ]; then
            timeout 600 $sudo_if_needed apt-get update -q
            apt_updated=1
        fi
        DEBIAN_FRONTEND=noninteractive timeout 1200 $sudo_if_needed \
            apt-get install -y -q --no-install-recommends "$@"
    fi
}
need_target() {
    rustup target list --installed | grep -qx "$1" || timeout 600 rustup target add "$1"
}

# Every row builds where scripts/test.sh builds (target/ or $CARGO_TARGET_DIR; the foreign
# targets in <that dir>/<triple>/, -C target-cpu=native in target/native), so that in the test
# suite the x86_64 rows cost no second build and the foreign ones share the host's build
# scripts and proc-macros.
host_dir=${SAMEBITS_MATRIX_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}
native_dir=${SAMEBITS_MATRIX_TARGET_DIR:-$root/target}/native

# Builds `samebits` for the current row (`dir`, `triple`, `profile`, `rustflags`); prints the
# binary path.
build() {
    local args=(--locked -p samebits-harness --bin samebits --target-dir "$dir")
    [ "$profile" = release ] && args+=(--release)
    [ -n "$triple" ] && args+=(--target "$triple")
    RUSTFLAGS="$rustflags" timeout "$limit" cargo build "${args[@]}" >&2 || return 1
    local out=$dir
    [ -n "$triple" ] && out="$out/$triple"
    echo "$out/$profile/samebits"
}

# The tests that train the full 20-epoch default runs (by name; `--skip` matches substrings).
DEFAULT_RUN_TESTS=(--skip default_run_ --skip default_fixed_run_ --skip default_runs_on_opencl)

# Runs the tests/ crate on the current row, under its runner, except the default runs
# (DEFAULT_RUN_TESTS), which the row has just run through the command. Its log goes to
# target/matrix/tests-ROW.log; prints the number of tests passed.
run_tests() {
    local args=(--locked -p samebits-tests --target-dir "$dir")
    [ "$profile" = release ] && args+=(--release)
    local env=(RUSTFLAGS="$rustflags")
    if [ -n "$triple" ]; then
        # No OpenCL device exists for a foreign target here (PoCL is the host's), so its
        # OpenCL tests skip even when the test suite requires a device for the host.
        env=(-u SAMEBITS_REQUIRE_OPENCL "${env[@]}")
        args+=(--target "$triple")
        [ "${#runner[@]}" -eq 0 ] ||
            env+=("CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$triple")_RUNNER=${runner[*]}")
    fi
    local log="$work/tests-$row.log"
    if ! timeout "$limit" env "${env[@]}" cargo test "${args[@]}" -- "${DEFAULT_RUN_TESTS[@]}" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        return 1
    fi
    grep -oP '^test result: ok\. \K[0-9]+(?= passed)' "$log" | awk '{n += $1} END {print n + 0}'
}

# The Windows DLL shim: Rust's std imports ProcessPrng from bcryptprimitives.dll, which
# Debian 12's wine 8 lacks; forward it to BCryptGenRandom.
wine_prefix() {
    export WINEPREFIX="$work/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="bcryptprimitives=n,b"
    unset DISPLAY
    local dll="$work/bcryptprimitives.dll"
    if [ ! -f "$dll" ]; then
        cat >"$work/bcryptprimitives.c" <<'EOF'
#include <windows.h>
LONG WINAPI BCryptGenRandom(void *algorithm, unsigned char *buffer, ULONG size, ULONG flags);
BOOL WINAPI ProcessPrng(unsigned char *buffer, SIZE_T size) {
    return BCryptGenRandom(NULL, buffer, (ULONG)size, 2 /* BCRYPT_USE_SYSTEM_PREFERRED_RNG */) == 0;
}
EOF
        x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" "$work/bcryptprimitives.c" -lbcrypt
    fi
    if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
        timeout 600 wineboot --init >/dev/null 2>&1 || true
        timeout 120 wineserver -w || true
    fi
    cp "$dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
}

# Sets `bin`, `runner` (an array) and the build settings (`dir`, `triple`, `profile`,
# `rustflags`, the target's linker variable) for a row, installing what it needs.
prepare() {
    runner=()
    dir=$host_dir triple="" profile=release rustflags=""
    case $1 in
        x86_64) ;;
        x86_64-native) dir=$native_dir rustflags="-C target-cpu=native" ;;
        x86_64-debug) profile=debug ;;
        i686)
            need_apt gcc-i686-linux-gnu libc6-dev-i386-cross libc6-i386 lib32gcc-s1 || return 1
            triple=i686-unknown-linux-gnu
            # Runs natively on the x86_64 kernel (32-bit loader from libc6-i386).
            export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_LINKER=/usr/bin/i686-linux-gnu-gcc
            ;;
        aarch64 | riscv64gc | s390x)
            local arch=${1%gc}
            triple="$1-unknown-linux-gnu"
            local debian_arch=$arch
            [ "$arch" = aarch64 ] && debian_arch=arm64
            need_apt qemu-user "gcc-$arch-linux-gnu" "libc6-dev-$debian_arch-cross" || return 1
            export "CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$triple")_LINKER=/usr/bin/$arch-linux-gnu-gcc"
            runner=("/usr/bin/qemu-$arch" -L "/usr/$arch-linux-gnu")
            ;;
        windows)
            need_apt gcc-mingw-w64-x86-64 wine wine64 || return 1
            triple=x86_64-pc-windows-gnu
            export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=/usr/bin/x86_64-w64-mingw32-gcc
            wine_prefix || return 1
            runner=(wine)
            ;;
        wasm32)
            command -v node >/dev/null || need_apt nodejs
            triple=wasm32-wasip1
            runner=(node --no-warnings "$root/scripts/wasi-run.mjs")
            ;;
        *)
            echo "unknown row $1 (rows: $ALL_ROWS)" >&2
            return 1
            ;;
    esac
    [ -z "$triple" ] || need_target "$triple" || return 1
    bin=$(build) || return 1
    case $triple in
        *windows*) bin=$bin.exe ;;
        wasm32*) bin=$bin.wasm ;;
    esac
}

# Trains the default run with ARGS on the current row (`bin`, `runner`); prints its digest.
digest_of() {
    local out
    out=$(timeout "$limit" "${runner[@]}" "$bin" train --json --threads "$threads" "$@") || true
    grep -oP '"digest":"\K[0-9a-f]{64}' <<<"$out" || echo "no digest"
}

# The rows with scripts of their own: runs the script (log in target/matrix/ROW.log), shows its
# output and takes its rows into the table; a failed script fails the row.
external_row() {
    local log="$work/$1.log" rc=0 rows_of=()
    case $1 in
        opencl)
            # The first OpenCL device (PoCL in the test suite): the default runs on the device
            # and a --device both run of each path, through the GPU conformance script.
            prepare x86_64 || return 1
            timeout "$limit" scripts/gpu-conformance.sh "$bin" >"$log" 2>&1 || rc=$?
            mapfile -t rows_of < <(sed -nE \
                -e 's/^(float|fixed): digest ([0-9a-f]{64}) \(equal to the golden\).*/opencl|\1|\2|✓/p' \
                -e 's/^(float|fixed): digest ([0-9a-f]{64}) \(DIFFERENT.*/opencl|\1|\2|✗/p' "$log")
            ;;
        cortex-m)
            timeout "$limit" scripts/matrix-firmware.sh >"$log" 2>&1 || rc=$?
            mapfile -t rows_of < <(sed -nE \
                's/^(cortex-m[0-9a-z]+) +(float|fixed) +([^ ]+) +([✓✗]).*/\1|\2|\3|\4 = host/p' "$log")
            ;;
        miri)
            timeout "$limit" scripts/matrix-miri.sh >"$log" 2>&1 || rc=$?
            mapfile -t rows_of < <(sed -nE \
                's/^(miri-[a-z0-9_]+) +(kernel tests \+ short goldens) +(.*)$/\1|tests|\2|\3/p' "$log")
            ;;
    esac
    cat "$log"
    results+=("${rows_of[@]}")
    if [ "$rc" -ne 0 ] || [ "${#rows_of[@]}" -eq 0 ]; then
        results+=("$1|-|script failed (exit $rc, log target/matrix/$1.log)|✗")
        return 1
    fi
    local line
    for line in "${rows_of[@]}"; do
        [[ $line != *✗* ]] || return 1
    done
}

results=()
contrast=()
failed=0
for row in $rows; do
    printf '\n==> matrix row %s\n' "$row"
    started=$(date +%s)
    case $row in
        opencl | cortex-m | miri)
            external_row "$row" || failed=1
            printf '%s: %ss in all\n' "$row" "$(($(date +%s) - started))"
            continue
            ;;
    esac
    if ! prepare "$row"; then
        results+=("$row|float|build failed|✗" "$row|fixed|build failed|✗")
        failed=1
        continue
    fi
    for path in float fixed; do
        want=$want_float
        [ "$path" = fixed ] && want=$want_fixed
        path_started=$(date +%s)
        out=$(timeout "$limit" "${runner[@]}" "$bin" train --json --threads "$threads" --path "$path") || true
        got=$(grep -oP '"digest":"\K[0-9a-f]{64}' <<<"$out" || echo "no digest")
        seconds=$(($(date +%s) - path_started))
        if [ "$got" = "$want" ]; then
            results+=("$row|$path|$got|✓ ${seconds}s")
        else
            results+=("$row|$path|$got|✗ ${seconds}s")
            failed=1
        fi
        printf '%s %s: %s (%ss)\n' "$row" "$path" "$got" "$seconds"
    done
    tests_started=$(date +%s)
    if [[ " ${SAMEBITS_MATRIX_TESTS_DONE:-} " == *" $row "* ]]; then
        # scripts/test.sh has just run the whole workspace's tests in this very build.
        results+=("$row|tests|tests/ crate: run by scripts/test.sh|✓")
    elif passed=$(run_tests); then
        results+=("$row|tests|tests/ crate: $passed passed|✓ $(($(date +%s) - tests_started))s")
    else
        results+=("$row|tests|tests/ crate FAILED (target/matrix/tests-$row.log)|✗")
        failed=1
    fi
    IFS='|' read -r _ _ what ok <<<"${results[-1]}"
    printf '%s %s %s\n' "$row" "$what" "$ok"
    if [[ " $CONTRAST_ROWS " == *" $row "* ]]; then
        for run in "${CONTRAST_RUNS[@]}"; do
            IFS='|' read -r name extra <<<"$run"
            path_started=$(date +%s)
            # shellcheck disable=SC2086 # $extra: several arguments, or none
            portable=$(digest_of $extra)
            # shellcheck disable=SC2086
            platform=$(digest_of $extra --math platform)
            seconds=$(($(date +%s) - path_started))
            contrast+=("$name|$row|$portable|$platform|${seconds}s")
            printf '%s float %s run: portable %s, platform math %s (%ss)\n' \
                "$row" "$name" "$portable" "$platform" "$seconds"
        done
    fi
    printf '%s: %ss in all (build included)\n' "$row" "$(($(date +%s) - started))"
done

printf '\nconformance matrix: samebits train --threads %s, default run (golden.rs DEFAULT_RUN, DEFAULT_FIXED_RUN)\n' "$threads"
printf '%-14s %-6s %-64s %s\n' platform path digest ok
for line in "${results[@]}"; do
    IFS='|' read -r r p d ok <<<"$line"
    printf '%-14s %-6s %-64s %s\n' "$r" "$p" "$d" "$ok"
done
printf '(opencl: the first OpenCL device, through scripts/gpu-conformance.sh; cortex-m: the firmware\n'
printf "run of firmware/train.args, ✓ = host: equal to the host's samebits train with those flags;\n"
printf 'miri: the kernel tests under miri, short golden runs included.)\n'
if [ "${#contrast[@]}" -gt 0 ]; then
    # Equal digests share a letter, so the table shows at a glance which runs agree.
    declare -A letter_of=()
    letters=(A B C D E F G H I J K L M N O P)
    letter() { [ -n "${letter_of[$1]:-}" ] || letter_of[$1]=${letters[${#letter_of[@]}]:-?}; }
    printf "\nplatform math, for contrast: the same float runs with the C library's exp, ln and tanh\n"
    printf '(train --math platform; informative, never a failure). Digests shortened to 16 digits;\n'
    printf "equal digests share a letter; the default run's portable digest is DEFAULT_RUN.\n"
    printf '%-8s %-14s %-20s %-20s %s\n' run platform portable "platform math" "vs portable"
    for line in "${contrast[@]}"; do
        IFS='|' read -r name r portable platform t <<<"$line"
        letter "$portable"
        letter "$platform"
        vs=differs
        [ "$platform" = "$portable" ] && vs=equal
        printf '%-8s %-14s %-16.16s %-3s %-16.16s %-3s %s (%s)\n' "$name" "$r" "$portable" \
            "${letter_of[$portable]}" "$platform" "${letter_of[$platform]}" "$vs" "$t"
    done
fi
if [ "$failed" -ne 0 ]; then
    echo "conformance matrix: FAILED" >&2
    exit 1
fi
echo "conformance matrix: every platform matches the goldens"
