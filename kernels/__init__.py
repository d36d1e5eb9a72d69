"""tinynn's fast path: Numba kernels as pure functions on arrays.

Nothing here imports tinynn; the engine in ``tinynn/`` picks a kernel and
hands it arrays.  Every kernel is held equal to the readable NumPy reference
in ``tinynn/nn/functional`` by the tests.  ``NUMBA_DISABLE_JIT=1`` turns every
kernel back into plain Python that a debugger can step through.
"""
