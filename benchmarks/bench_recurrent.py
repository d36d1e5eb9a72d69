"""Does a Numba kernel pay for the LSTM's recurrent loop? The measurement behind the answer.

One time step of an LSTM is a GEMM (h_{t−1} W_hhᵀ, BLAS either way) and the gate
arithmetic on (N, 4H) values: three sigmoids, two tanh, five products. NumPy runs each of
those as one SIMD loop over the whole array (its tanh is vectorised); a fused Numba loop
touches every value once but calls the scalar tanh from libm. This times both, with and
without fastmath, for the shapes of the sequence examples:

    python benchmarks/bench_recurrent.py
"""
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_table  # noqa: E402

from tinynn.nn.functional.rnn import _lstm_step  # noqa: E402


def _fused(a, c_prev, h, c, gates, tanh_c):
    rows, hidden = c_prev.shape
    for r in range(rows):
        for j in range(hidden):
            i = 0.5 * (np.tanh(0.5 * a[r, j]) + 1)
            f = 0.5 * (np.tanh(0.5 * a[r, hidden + j]) + 1)
            g = np.tanh(a[r, 2 * hidden + j])
            o = 0.5 * (np.tanh(0.5 * a[r, 3 * hidden + j]) + 1)
            c[r, j] = f * c_prev[r, j] + i * g
            tanh_c[r, j] = np.tanh(c[r, j])
            h[r, j] = o * tanh_c[r, j]
            gates[r, j], gates[r, hidden + j], gates[r, 2 * hidden + j], gates[r, 3 * hidden + j] = i, f, g, o


FUSED = {"Numba fused": njit(_fused), "Numba fused, fastmath": njit(fastmath=True)(_fused)}


def median_us(call, repeats=7, inner=300):
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        times.append((time.perf_counter() - start) / inner * 1e6)
    return statistics.median(times)


def main():
    rows = []
    for batch, hidden in ((64, 64), (32, 128), (32, 256)):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((batch, 4 * hidden), dtype=np.float32)
        c_prev = rng.standard_normal((batch, hidden), dtype=np.float32)
        w_hh = rng.standard_normal((4 * hidden, hidden), dtype=np.float32)
        out = [np.empty_like(c_prev), np.empty_like(c_prev), np.empty_like(a), np.empty_like(c_prev)]
        numpy_step = median_us(lambda: _lstm_step(a, 0, None, c_prev, hidden))
        row = {"shape": f"N={batch}, H={hidden}", "GEMM µs": median_us(lambda: c_prev @ w_hh.T),
               "NumPy gates µs": numpy_step}
        for name, kernel in FUSED.items():
            row[f"{name} µs"] = median_us(lambda: kernel(a, c_prev, *out))
        rows.append(row)
    print_table(rows, ["shape", "GEMM µs", "NumPy gates µs", *(f"{name} µs" for name in FUSED)])


if __name__ == "__main__":
    main()
