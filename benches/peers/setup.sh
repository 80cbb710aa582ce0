#!/usr/bin/env bash
# Creates the virtual environment that benches/peers/peers.py runs in, with
# pinned numpy and jax[cpu], so that peer timings are comparable across runs.
#
#   bash benches/peers/setup.sh            # venv at target/peers-venv
#   SAMEBITS_PEERS_VENV=/some/dir bash benches/peers/setup.sh
#
# Safe to rerun: it does nothing when the pinned versions are already there.
# Prints the python to pass to `samebits bench --peers` as its last line.
set -euo pipefail

# Pinned versions: wheels exist on PyPI for CPython 3.11 on x86_64 Linux.
NUMPY_VERSION=2.4.6
JAX_VERSION=0.10.2

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${SAMEBITS_PEERS_VENV:-target/peers-venv}"
case "$venv" in
    /*) ;;
    *) venv="$repo_root/$venv" ;;
esac
python="$venv/bin/python"

installed() {
    "$python" - "$NUMPY_VERSION" "$JAX_VERSION" <<'EOF' >/dev/null 2>&1
import sys
import numpy, jax, jaxlib
sys.exit(0 if (numpy.__version__, jax.__version__, jaxlib.__version__)
         == (sys.argv[1], sys.argv[2], sys.argv[2]) else 1)
EOF
}

if [ -x "$python" ] && installed; then
    echo "peers venv already set up: numpy $NUMPY_VERSION, jax $JAX_VERSION" >&2
else
    if [ ! -x "$python" ]; then
        echo "creating virtual environment at $venv" >&2
        python3 -m venv "$venv"
    fi
    echo "installing numpy==$NUMPY_VERSION jax[cpu]==$JAX_VERSION" >&2
    "$python" -m pip install --disable-pip-version-check -q \
        "numpy==$NUMPY_VERSION" "jax[cpu]==$JAX_VERSION" >&2
    if ! installed; then
        echo "error: installed versions do not match the pins" >&2
        exit 1
    fi
fi

echo "$python"
