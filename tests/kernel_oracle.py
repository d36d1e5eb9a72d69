"""Holding the Numba kernels to the readable NumPy reference: the tolerances, and for
convolution one planned algorithm's forward pass and both gradients against the reference
backend's on the same arrays."""
import numpy as np

from tinynn import reference
from tinynn.kernels import cpu_backend
from strategies import conv_arrays, geometry

TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


def plan_for(cfg, dtype, algorithm=None, keep_columns=False):
    plan = cpu_backend.conv2d_plan(cfg["x_shape"], cfg["w_shape"], np.dtype(dtype), *geometry(cfg),
                                   cfg["out_hw"], keep_columns)
    return plan if algorithm is None else plan._replace(algorithm=algorithm)


def run_conv(backend, x, w, g, plan):
    """(out, ∂L/∂X, ∂L/∂W) by one backend, with whatever columns its forward pass kept."""
    out, columns = backend.conv2d_forward(x, w, plan)
    grad_x, grad_w = backend.conv2d_backward(g, x, w, plan, columns, True, True)
    return out, grad_x, grad_w


def assert_conv_equals_reference(cfg, dtype, plan, tolerance=None, float32_error=None):
    """``float32_error``: float32 may differ by this times each result's largest magnitude."""
    x, w, g = conv_arrays(cfg, dtype)
    fast = run_conv(cpu_backend, x, w, g, plan)
    expected = run_conv(reference, x, w, g, reference.conv2d_plan(
        x.shape, w.shape, x.dtype, *geometry(cfg), cfg["out_hw"], False))
    for name, mine, theirs in zip(("forward", "∂L/∂X", "∂L/∂W"), fast, expected):
        assert mine.dtype == dtype and mine.shape == theirs.shape, name
        allowed = dict(tolerance or TOLERANCE[dtype])
        if float32_error and dtype == np.float32:
            allowed["atol"] = float32_error * np.abs(theirs).max()
        np.testing.assert_allclose(mine, theirs, **allowed, err_msg=name)
