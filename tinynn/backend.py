"""Which implementation runs the hot ops: the readable reference or the fast kernels.

``TINYNN_KERNELS=reference`` in the environment, or ``with use_kernels("reference"):``
in code, routes convolution, pooling and batch norm through the NumPy code in
``tinynn.reference`` (what a lecture steps through); the default ``"numba"``
uses ``tinynn.kernels`` on the CPU and its CUDA kernels on the ``'cuda'`` device.
Both sides have the same function names, so the choice is one module lookup.
"""
import contextlib
import importlib
import os
import threading

__all__ = ["use_kernels", "active_kernels", "implementation"]

_CHOICES = ("numba", "reference")


class _State(threading.local):
    kernels = os.environ.get("TINYNN_KERNELS", "numba")


_state = _State()
if _state.kernels not in _CHOICES:
    raise ValueError(f"TINYNN_KERNELS: expected one of {_CHOICES}, got {_state.kernels!r}")


def active_kernels() -> str:
    return _state.kernels


@contextlib.contextmanager
def use_kernels(name: str):
    """Run the enclosed code with ``"reference"`` or ``"numba"`` kernels."""
    if name not in _CHOICES:
        raise ValueError(f"use_kernels: expected one of {_CHOICES}, got {name!r}")
    previous, _state.kernels = _state.kernels, name
    try:
        yield
    finally:
        _state.kernels = previous


def implementation(family: str, device):
    """The module that implements ``family`` ('conv', 'pool', 'batchnorm') for ``device``."""
    if _state.kernels == "reference":
        return importlib.import_module(f"tinynn.reference.{family}")
    if device.type == "cuda":
        return importlib.import_module(f"tinynn.kernels.cuda_{family}")
    return importlib.import_module(f"tinynn.kernels.{family}")
