"""Whether ops record a graph (``no_grad``) and whether they check for NaN/inf
(``detect_anomaly``).  Both are per thread, as in PyTorch."""
import contextlib
import threading

import numpy as np


class _Mode(threading.local):
    grad_enabled = True
    anomaly = False


mode = _Mode()


def is_grad_enabled() -> bool:
    return mode.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, enabled: bool):
        self.enabled = bool(enabled)

    def __enter__(self):
        self.previous = mode.grad_enabled
        mode.grad_enabled = self.enabled

    def __exit__(self, *exc):
        mode.grad_enabled = self.previous
        return False


class no_grad(set_grad_enabled):
    """``with no_grad():`` runs ops without recording them (evaluation, optimiser steps)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


class detect_anomaly(contextlib.ContextDecorator):
    """Check every forward result and every backward gradient for NaN/inf.

    The first op that produces a non-finite value raises ``FloatingPointError``
    naming the op and the pass, instead of letting NaN spread silently.
    """

    def __enter__(self):
        self.previous = mode.anomaly
        mode.anomaly = True

    def __exit__(self, *exc):
        mode.anomaly = self.previous
        return False


def check_finite(array, op_name: str, where: str):
    if array is not None and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise FloatingPointError(f"{op_name}: {where} produced NaN or inf (shape {array.shape})")
