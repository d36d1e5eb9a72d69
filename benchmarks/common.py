"""Timing helpers shared by the benchmark scripts: fresh processes per library, medians of
repeated runs, the first (compiling) call timed on its own, tables and JSON output."""
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

THREADS = int(os.environ.get("BENCH_THREADS", "2"))

# Two libraries in one process distort each other: PyTorch and Numba may share one OpenMP
# runtime, configured by whichever loads it first, and each library's idle threads spin on
# the cores the other needs.  So every number that compares them is taken with each
# library in its own fresh interpreter, with its own default settings and THREADS threads,
# in rounds that alternate which library goes first (``run_child``).


def setup_threads(lib_name):
    """THREADS threads for ``lib_name`` ('tinynn' or 'torch'), set through the library's own
    call rather than the environment; returns the library module."""
    if lib_name == "torch":
        try:
            import torch
        except ImportError:
            raise SystemExit("benchmarks need PyTorch as the reference: pip install torch==2.13.0")
        torch.set_num_threads(THREADS)
        return torch
    import numba
    import tinynn
    numba.set_num_threads(min(THREADS, numba.config.NUMBA_NUM_THREADS))
    return tinynn


def run_child(script, arguments, environment=None, timeout=900):
    """Run ``script`` with ``arguments`` in a fresh interpreter; its last stdout line is JSON."""
    result = subprocess.run([sys.executable, str(script)] + list(arguments), capture_output=True,
                            text=True, timeout=timeout, env=dict(os.environ, **(environment or {})))
    if result.returncode:
        raise RuntimeError(f"child {' '.join(arguments)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_and_spread(values):
    """(median, (max − min) / median): the middle round and how far the rounds strayed."""
    middle = statistics.median(values)
    return middle, (max(values) - min(values)) / middle if middle else 0.0


def machine_description():
    """CPU model, cores and NumPy's BLAS, for the header of every table."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{p['internal_api']} {p['version']} ({p['architecture']})"
                         for p in threadpool_info() if p["user_api"] == "blas")
    except ImportError:
        blas = "NumPy's BLAS (install threadpoolctl to name it)"
    return f"{model}, {os.cpu_count()} logical cores, {blas}"


def first_call_and_median(fn, repeats, warmup=1):
    """(seconds of the first call, median seconds of ``repeats`` later calls)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def gemm_peak_gflops(size=1024, repeats=5):
    """This machine's NumPy float32 GEMM throughput: the ceiling for im2col convolutions."""
    a = np.random.rand(size, size).astype(np.float32)
    _, seconds = first_call_and_median(lambda: a @ a, repeats)
    return 2 * size ** 3 / seconds / 1e9


def print_table(rows, columns):
    """Rows of dicts as an aligned text table, in the given column order."""
    cells = [[_format(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))


def _format(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def write_json(path, payload):
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2)
    print(f"wrote {path}")
