"""``gradcheck``: the analytical Jacobian of a function against central finite differences.

Every entry, not a sample: for each output element one backward pass gives a row of the
analytical Jacobian, and for each input element two forward passes give a column of the
numerical one, (f(x + eps) - f(x - eps)) / 2 eps.  Run it in float64 (eps = 1e-6 is below
float32's resolution).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


def _as_outputs(result):
    return result if isinstance(result, (tuple, list)) else (result,)


def _analytical_jacobians(run, inputs, outputs):
    """J[i][k] has shape (numel(output k), numel(input i)): one backward per output element.
    ``run()`` evaluates the function on the (fixed) inputs."""
    jacobians = [[np.zeros((out.numel(), inp.numel())) for out in outputs] for inp in inputs]
    for k, out in enumerate(outputs):
        for row in range(out.numel()):
            for inp in inputs:
                inp.grad = None
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed.reshape(-1)[row] = 1.0
            fresh = _as_outputs(run())[k]
            if fresh.requires_grad:
                fresh.backward(seed)
            for i, inp in enumerate(inputs):
                if inp.grad is not None:
                    jacobians[i][k][row] = inp.grad._array.reshape(-1)
    for inp in inputs:
        inp.grad = None
    return jacobians


def _numerical_jacobians(run, inputs, outputs, eps):
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps for every input element."""
    jacobians = [[np.zeros((out.numel(), inp.numel())) for out in outputs] for inp in inputs]
    with no_grad():
        for i, inp in enumerate(inputs):
            inp._array = np.ascontiguousarray(inp._array)  # so that reshape(-1) is a view
            flat = inp._array.reshape(-1)
            for col in range(flat.size):
                original = flat[col]
                flat[col] = original + eps
                plus = [o._array.astype(np.float64).reshape(-1) for o in _as_outputs(run())]
                flat[col] = original - eps
                minus = [o._array.astype(np.float64).reshape(-1) for o in _as_outputs(run())]
                flat[col] = original
                for k in range(len(outputs)):
                    jacobians[i][k][:, col] = (plus[k] - minus[k]) / (2 * eps)
    return jacobians


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """Compare every entry of the analytical Jacobian with central finite differences.

    ``fn`` maps the tensors in ``inputs`` to a tensor (or a tuple of tensors).
    Inputs that require grad are differentiated; use float64 for them, as in
    PyTorch, because eps=1e-6 is below float32's resolution.  Passes when
    ``|analytical - numerical| <= atol + rtol * |numerical|`` everywhere.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input tensor with requires_grad=True")
    for t in checked:
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck: expected float64 inputs (eps={eps} is below float32 "
                             f"resolution), got {t.dtype} for an input of shape {t.shape}")
        if not t.is_leaf:
            raise ValueError("gradcheck: inputs must be leaf tensors")

    def run():
        return fn(*inputs)

    outputs = _as_outputs(run())
    analytical = _analytical_jacobians(run, checked, outputs)
    numerical = _numerical_jacobians(run, checked, outputs, eps)
    for i, (an_rows, num_rows) in enumerate(zip(analytical, numerical)):
        for k, (an, num) in enumerate(zip(an_rows, num_rows)):
            # Written as "not close" so that a NaN on either side counts as a mismatch.
            bad = ~(np.abs(an - num) <= atol + rtol * np.abs(num))
            if bad.any():
                row, col = np.argwhere(bad)[0]
                message = (
                    f"gradcheck: Jacobian mismatch for output {k} with respect to input {i} "
                    f"({bad.sum()} of {bad.size} entries); first at output element {row}, input "
                    f"element {col}: analytical {an[row, col]:.8g}, numerical {num[row, col]:.8g}")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True
