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
    _check_fits(op, tensor, value)
    try:
        ufunc(tensor._array, value, out=tensor._array, casting="same_kind")
    except TypeError:                  # NumPy's casting error: float results into an int tensor
        raise TypeError(f"{op}: cannot write a {np.result_type(tensor._array, value)} result into "
                        f"the {tensor.dtype} tensor in place; convert it first (x = x.float())") from None
    bump(tensor._array)
    return tensor


def _check_fits(op, tensor, value):
    try:
        fits = np.broadcast_shapes(np.shape(value), tensor.shape) == tensor.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: expected a value broadcastable to the tensor's shape {tensor.shape}, "
                         f"got shape {np.shape(value)}")


def copy(tensor, source):
    check(tensor, "copy_")
    value = source._array if isinstance(source, Tensor) else source
    _check_fits("copy_", tensor, value)
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
    value = value._array if isinstance(value, Tensor) else value
    try:
        tensor._array[index] = value
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor of shape {tensor.shape})") from None
    except ValueError as error:
        raise ValueError(f"setitem: cannot assign a value of shape {np.shape(value)} to "
                         f"tensor{_index_text(index)} of a tensor of shape {tensor.shape} "
                         f"({error})") from None
    bump(tensor._array)


def _index_text(index):
    return f"[{index!r}]" if not isinstance(index, np.ndarray) else f"[array of shape {index.shape}]"
