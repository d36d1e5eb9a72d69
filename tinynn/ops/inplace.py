"""In-place updates (``x += y``, ``add_``, ``copy_``, ``fill_``, ``x[i] = v``) and the rule
that keeps them from corrupting a recorded graph.

Outside a graph (``no_grad``, or tensors that do not require grad) the array is updated
in place.  Inside one, ``x += y`` records ``x + y`` instead (Python rebinds the name, as
lecture code expects); ``x.add_(y)`` cannot rebind, so it is an error there, as is any
in-place write into a tensor that requires grad.  Every write bumps the memory's version
counter (``autograd/versions.py``), so that a graph which saved the old values refuses to
use them.
"""
import numpy as np

from .. import autograd
from ..autograd.versions import bump
from ..device import CPU, move_array
from ..tensor import Tensor


def check(tensor, op):
    if tensor.requires_grad and autograd.is_grad_enabled():
        raise RuntimeError(f"{op}: a tensor that requires grad is being used in an in-place "
                           "operation; wrap the update in tinynn.no_grad()")


def update(tensor, op, ufunc, other, out_of_place=None):
    """``ufunc(tensor, other)`` written into ``tensor``, or ``out_of_place(other)`` in a graph."""
    recording = autograd.is_grad_enabled() and (
        tensor.requires_grad or getattr(other, "requires_grad", False))
    if recording:
        if out_of_place is None or (tensor.is_leaf and tensor.requires_grad):
            raise RuntimeError(f"{op}: in-place update of a tensor that is part of the "
                               "autograd graph; write x = x + y, or wrap the update in "
                               "tinynn.no_grad()")
        return out_of_place(other)
    value = other._array if isinstance(other, Tensor) else other
    ufunc(tensor._array, value, out=tensor._array, casting="same_kind")
    bump(tensor._array)
    return tensor


def copy(tensor, source):
    check(tensor, "copy_")
    value = source._array if isinstance(source, Tensor) else source
    try:
        fits = np.broadcast_shapes(np.shape(value), tensor.shape) == tensor.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"copy_: expected a source broadcastable to {tensor.shape}, "
                         f"got {np.shape(value)}")
    tensor._array[...] = move_array(value, CPU) if tensor.device.type == "cpu" else value
    bump(tensor._array)
    return tensor


def fill(tensor, value):
    check(tensor, "fill_")
    tensor._array[...] = value
    bump(tensor._array)
    return tensor


def clamp(tensor, low, high):
    check(tensor, "clamp_")
    np.clip(tensor._array, low, high, out=tensor._array)
    bump(tensor._array)
    return tensor


def setitem(tensor, index, value):
    check(tensor, "setitem")
    tensor._array[index] = value._array if isinstance(value, Tensor) else value
    bump(tensor._array)
