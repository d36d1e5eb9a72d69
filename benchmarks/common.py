"""Timing helpers shared by the benchmark scripts: medians of repeated runs in one
process, the first (compiling) call timed on its own, tables and JSON output."""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

THREADS = int(os.environ.get("BENCH_THREADS", "2"))

# In one process PyTorch and Numba share one OpenMP runtime (both load libgomp.so.1,
# and the first copy loaded serves both), configured once by whichever library
# loads it first.  The scripts import tinynn first, so the shared runtime gets
# tinynn's passive waiting (tinynn/_process.py), which measured PyTorch's small-net
# steps 10-25 % slower than PyTorch's own spinning default; the other order made
# tinynn's steps 30 % slower.  So PyTorch is also timed alone, in a fresh process
# with its own defaults, and every ratio divides by the faster PyTorch time.


def setup_torch():
    try:
        import torch
    except ImportError:
        raise SystemExit("benchmarks need PyTorch as the reference: pip install torch==2.13.0")
    torch.set_num_threads(THREADS)
    return torch


def fresh_environment():
    """This process's environment without the settings tinynn's import added, for a child
    process that times PyTorch alone."""
    from tinynn import _process
    return dict(_process.environment_without_our_settings(), OMP_NUM_THREADS=str(THREADS))


def run_child(script, arguments, environment=None, timeout=900):
    """Run ``script`` with ``arguments`` in a fresh interpreter; its last stdout line is JSON."""
    result = subprocess.run([sys.executable, str(script)] + list(arguments), capture_output=True,
                            text=True, timeout=timeout, env=environment or fresh_environment())
    if result.returncode:
        raise RuntimeError(f"child {' '.join(arguments)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


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
