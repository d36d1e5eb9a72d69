"""Plumbing shared by the CUDA kernels: outputs of the input's array kind, launch sizes.

Kernels receive CuPy arrays on a GPU (through ``__cuda_array_interface__``, no
copy) or NumPy arrays under Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``),
so every output is allocated with the input's own array module.
"""
import numpy as np
from numba import cuda

THREADS_PER_BLOCK = 128
MAX_BLOCKS = 4096


def array_module(array):
    """NumPy for host arrays (the simulator), CuPy for GPU arrays."""
    if isinstance(array, np.ndarray):
        return np
    import cupy
    return cupy


def launch(kernel, total, *args):
    """Run a grid-stride ``kernel`` over ``total`` work items in 1-D blocks."""
    if total <= 0:
        return
    threads = min(THREADS_PER_BLOCK, 32 * ((total + 31) // 32))
    blocks = min((total + threads - 1) // threads, MAX_BLOCKS)
    kernel[blocks, threads](*args)


@cuda.jit(device=True)
def unravel(item, d1, d2, d3):
    """The 4-D index (a, b, c, d) of flat position ``item`` in an array of shape (·, d1, d2, d3)."""
    return item // (d1 * d2 * d3), (item // (d2 * d3)) % d1, (item // d3) % d2, item % d3
