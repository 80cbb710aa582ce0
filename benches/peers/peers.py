#!/usr/bin/env python3
"""Peer timings (numpy/BLAS sgemm and a JAX training epoch) for `samebits bench`.

Usage: python3 benches/peers/peers.py [--threads 1|all] [--repeats N]

Prints exactly one line of JSON on stdout; every diagnostic goes to stderr.
Missing numpy or jax is reported inside the JSON, never as a traceback, so the
caller can always parse the output and the exit status is 0.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# Shapes as rows x inputs x outputs: a is (m, k), b is (k, n). They match the
# layer shapes of the default samebits model at batch 32 and two larger cases.
SGEMM_SHAPES = [(32, 64, 128), (256, 256, 256), (1024, 1024, 1024)]

# Each timed batch must run at least this long so that timer resolution and
# per-call jitter are negligible against the measured work.
MIN_BATCH_S = 0.020

# The default samebits model and data set.
LAYERS = [64, 128, 64, 10]
TRAIN_ROWS = 1500
LEARNING_RATE = 0.05
MOMENTUM = 0.9
JAX_BATCH_SIZES = [32, 256]

JAX_MISSING = "jax not installed (benches/peers/setup.sh installs it)"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", choices=["1", "all"], default="1",
                   help="'1' pins BLAS and XLA to one thread (default); "
                        "'all' leaves the libraries' own defaults")
    p.add_argument("--repeats", type=int, default=7,
                   help="timed batches per sgemm shape; the median is reported "
                        "(default 7). JAX times at least 5x this many epochs.")
    # Internal: the JAX measurement runs in a child process (see run_jax_child).
    p.add_argument("--jax-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def pin_threads(mode):
    # Must happen before numpy/jax are imported: the thread pools read these
    # variables once, at load time.
    if mode != "1":
        return
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    # XLA parses only the "--" flag; the bare intra_op_parallelism_threads
    # token is the conventional TensorFlow spelling and XLA skips it silently
    # when it follows a "--" flag (on its own, XLA would read it as a file).
    flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    old = os.environ.get("XLA_FLAGS", "").strip()
    if flags not in old:
        os.environ["XLA_FLAGS"] = f"{old} {flags}".strip()


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def one_line(exc):
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------
# numpy / BLAS


def blas_description(np):
    """Best-effort name and version of the BLAS that numpy calls."""
    try:
        import threadpoolctl  # optional; reports the library actually loaded
        for info in threadpoolctl.threadpool_info():
            if info.get("user_api") == "blas":
                return (f"{info.get('internal_api', 'blas')} "
                        f"{info.get('version') or '?'} "
                        f"({info.get('num_threads')} threads, threadpoolctl)")
    except Exception:
        pass
    try:
        # numpy >= 1.25 describes its build dependencies as a dict.
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        name = blas.get("name")
        if name:
            return f"{name} {blas.get('version', '?')} (numpy.show_config)"
    except Exception:
        pass
    return "unknown"


def time_batches(fn, repeats):
    """Median seconds per call of fn, over `repeats` batches of >= MIN_BATCH_S."""
    fn()  # warm-up: first-touch pages, BLAS thread start-up, caches
    calls = 1
    while True:  # grow the batch until it is long enough to time reliably
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= MIN_BATCH_S:
            break
        calls *= 2
    per_call = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - t0) / calls)
    return statistics.median(per_call)


def bench_sgemm(np, repeats):
    rng = np.random.default_rng(0)
    out = {}
    for m, k, n in SGEMM_SHAPES:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        seconds = time_batches(lambda: np.matmul(a, b, out=c), repeats)
        gflops = 2.0 * m * k * n / seconds / 1e9
        out[f"{m}x{k}x{n}"] = round(gflops, 3)
        log(f"sgemm {m}x{k}x{n}: {seconds * 1e6:.2f} us/call, {gflops:.2f} GFLOP/s")
    return out


# ---------------------------------------------------------------------------
# JAX


def bench_jax(repeats):
    """Median ms per 1500-row epoch for each batch size, plus a note."""
    import numpy as np
    import jax
    import jax.numpy as jnp

    def init_params(key):
        params = []
        for fan_in, fan_out in zip(LAYERS[:-1], LAYERS[1:]):
            key, sub = jax.random.split(key)
            limit = (6.0 / fan_in) ** 0.5  # He-uniform
            w = jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -limit, limit)
            params.append((w, jnp.zeros((fan_out,), jnp.float32)))
        return params

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logp = jax.nn.log_softmax(h @ w + b)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def step(carry, batch):
        params, vel = carry
        grads = jax.grad(loss)(params, *batch)
        vel = jax.tree_util.tree_map(lambda v, g: MOMENTUM * v + g, vel, grads)
        params = jax.tree_util.tree_map(lambda p, v: p - LEARNING_RATE * v, params, vel)
        return (params, vel), None

    # The whole epoch is one compiled program: no Python between batches, the
    # same shape of work as the Rust training loop.
    @jax.jit
    def epoch(params, vel, xs, ys):
        (params, vel), _ = jax.lax.scan(step, (params, vel), (xs, ys))
        return params, vel

    rng = np.random.default_rng(0)
    x_all = (rng.integers(0, 16, (TRAIN_ROWS, LAYERS[0])) / 16.0).astype(np.float32)
    y_all = rng.integers(0, LAYERS[-1], TRAIN_ROWS).astype(np.int32)

    results, notes = {}, []
    for bs in JAX_BATCH_SIZES:
        n_batches = TRAIN_ROWS // bs  # full batches only, so scan sees one shape
        used = n_batches * bs
        xs = jnp.asarray(x_all[:used].reshape(n_batches, bs, LAYERS[0]))
        ys = jnp.asarray(y_all[:used].reshape(n_batches, bs))
        params = init_params(jax.random.PRNGKey(0))
        vel = jax.tree_util.tree_map(jnp.zeros_like, params)

        t0 = time.perf_counter()
        params, vel = epoch(params, vel, xs, ys)  # compile + warm-up
        jax.block_until_ready((params, vel))
        log(f"jax batch {bs}: compile + first epoch {1e3 * (time.perf_counter() - t0):.1f} ms")

        # Time single epochs (each is a few ms at most), chaining the state so
        # every call does real, dependent work, until there are enough samples.
        samples, start = [], time.perf_counter()
        while len(samples) < 5 * repeats or time.perf_counter() - start < 0.5:
            t0 = time.perf_counter()
            params, vel = epoch(params, vel, xs, ys)
            jax.block_until_ready((params, vel))
            samples.append(time.perf_counter() - t0)
            if len(samples) >= 2000:
                break
        ms = statistics.median(samples) * 1e3 * TRAIN_ROWS / used
        results[str(bs)] = round(ms, 4)
        notes.append(f"batch {bs}: {n_batches} full batches ({used} rows), "
                     f"scaled x{TRAIN_ROWS}/{used}")
        log(f"jax batch {bs}: median {ms:.3f} ms/epoch over {len(samples)} epochs")

    note = ("median over timed epochs; partial last batch dropped, time scaled "
            f"to a {TRAIN_ROWS}-row epoch; " + "; ".join(notes))
    return results, note


def run_jax_child(args):
    """Entry point of the child process: print one JSON line with JAX results."""
    out = {"jax": None, "jax_epoch_ms": None, "jax_error": None, "jax_note": None}
    try:
        import jax
    except Exception as exc:
        out["jax_error"] = JAX_MISSING if isinstance(exc, ImportError) else one_line(exc)
        return out
    out["jax"] = jax.__version__
    try:
        out["jax_epoch_ms"], out["jax_note"] = bench_jax(args.repeats)
    except Exception as exc:
        out["jax_error"] = one_line(exc)
    return out


def run_jax_isolated(args):
    """Run the JAX part in a child process.

    XLA aborts the whole process (no Python exception) on some errors, e.g.
    unknown XLA_FLAGS; isolating it keeps the numpy results and the JSON line.
    The child inherits the already pinned environment.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--jax-child",
           "--threads", args.threads, "--repeats", str(args.repeats)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except Exception as exc:
        return {"jax_error": "jax child failed: " + one_line(exc)}
    sys.stderr.write(proc.stderr)
    sys.stderr.flush()
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    # The child's last stderr line is usually the fatal XLA message.
    last = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
    reason = last[-1][:300] if last else "no message"
    return {"jax_error": f"jax child exited with status {proc.returncode}: {reason}"}


# ---------------------------------------------------------------------------


def main():
    args = parse_args()
    pin_threads(args.threads)
    if os.environ.get("JAX_PLATFORMS") is None:
        os.environ["JAX_PLATFORMS"] = "cpu"  # peers are CPU baselines

    # Native libraries may write to file descriptor 1; point it at stderr so
    # that the only thing on the real stdout is the final JSON line.
    real_stdout = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)

    if args.jax_child:
        result = run_jax_child(args)
    else:
        result = {
            "python": platform.python_version(),
            "numpy": None,
            "blas": None,
            "jax": None,
            "threads": 1 if args.threads == "1" else "all",
            "cpus": os.cpu_count(),
            "repeats": args.repeats,
            "sgemm_gflops": None,
            "numpy_error": None,
            "jax_epoch_ms": None,
            "jax_error": None,
        }
        try:
            import numpy as np
        except Exception as exc:
            np = None
            result["numpy_error"] = ("numpy not installed (benches/peers/setup.sh installs it)"
                                     if isinstance(exc, ImportError) else one_line(exc))
        if np is not None:
            result["numpy"] = np.__version__
            result["blas"] = blas_description(np)
            try:
                result["sgemm_gflops"] = bench_sgemm(np, args.repeats)
            except Exception as exc:
                result["numpy_error"] = one_line(exc)
        result["jax_note"] = None
        result.update(run_jax_isolated(args))

    real_stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
