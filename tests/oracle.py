"""Helpers shared by the tests: float64 gradcheck and the PyTorch oracle.

``check_against_torch(fn, *arrays)`` runs the same lambda through tinynn and
PyTorch on the same inputs and checks shape, dtype, values and the gradients
of every floating input (tinygrad's ``helper_test_op`` idea).  The lambda
receives the library first, so ``lambda lib, x: lib.F.softmax(x, 1)`` works
on both, because tinynn uses PyTorch's names.
"""
from types import SimpleNamespace

import numpy as np
import pytest

import tinynn
import tinynn.nn.functional as tF
from tinynn.autograd import gradcheck

try:
    import torch
    import torch.nn.functional as torchF
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch is not installed: oracle tests need pip install torch==2.13.0")

TINYNN = SimpleNamespace(name="tinynn", lib=tinynn, nn=tinynn.nn, F=tF)
TORCH = SimpleNamespace(name="torch", lib=torch, nn=torch.nn if torch else None, F=torchF if torch else None)


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def run_lib(lib, fn, arrays, grad):
    make = (lambda a: tinynn.tensor(a, requires_grad=grad and a.dtype.kind == "f")) \
        if lib is TINYNN else \
        (lambda a: torch.tensor(a, requires_grad=grad and a.dtype.kind == "f"))
    tensors = [make(a) for a in arrays]
    outputs = _outputs(fn(lib, *tensors))
    if grad:
        total = None
        for k, out in enumerate(outputs):
            if out.dtype.is_floating_point if lib is TORCH else out.dtype.kind == "f":
                weights = np.random.default_rng(k).standard_normal(tuple(out.shape))
                w = (tinynn.tensor(weights, dtype=out.dtype) if lib is TINYNN
                     else torch.tensor(weights, dtype=out.dtype))
                term = (out * w).sum()
                total = term if total is None else total + term
        total.backward()
    values = [np.asarray(o.detach().numpy()) for o in outputs]
    grads = [None if t.grad is None else np.asarray(t.grad.numpy()) for t in tensors]
    return values, grads


def check_against_torch(fn, *arrays, grad=True, atol=1e-6, rtol=1e-5):
    """Assert that ``fn`` gives the same outputs and input gradients in tinynn and PyTorch."""
    if torch is None:
        pytest.skip("PyTorch is not installed")
    ours, our_grads = run_lib(TINYNN, fn, arrays, grad)
    theirs, their_grads = run_lib(TORCH, fn, arrays, grad)
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        assert mine.shape == ref.shape, f"shape {mine.shape} != torch {ref.shape}"
        assert mine.dtype == ref.dtype, f"dtype {mine.dtype} != torch {ref.dtype}"
        np.testing.assert_allclose(mine, ref, atol=atol, rtol=rtol)
    for i, (mine, ref) in enumerate(zip(our_grads, their_grads)):
        assert (mine is None) == (ref is None), f"input {i}: gradient presence differs"
        if mine is not None:
            np.testing.assert_allclose(mine, ref, atol=atol, rtol=rtol,
                                       err_msg=f"gradient of input {i}")


def check_gradients(fn, *arrays, atol=1e-5, rtol=1e-3):
    """float64 finite-difference gradcheck of ``fn`` on every floating input."""
    tensors = [tinynn.tensor(np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
                             else a, requires_grad=np.asarray(a).dtype.kind == "f")
               for a in arrays]
    assert gradcheck(lambda *ts: fn(TINYNN, *ts), tensors, atol=atol, rtol=rtol)
