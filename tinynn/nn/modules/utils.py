"""Argument helpers shared by the layers (``nn.modules``), their functions
(``nn.functional``) and the Keras front end: PyTorch's ``_pair``, the output-size rule
and the checks every image op makes on its input."""
import numpy as np

from ...tensor import Tensor

__all__ = ["pair", "output_size", "check_4d", "check_positive", "check_sizes"]


def pair(value, name, op):
    """An int or a pair of ints as a pair (PyTorch's ``_pair``)."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}: expected {name} to be an int or a pair of ints, got {value!r}")


def output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1  (ceil in ceil_mode,
    where the last window must still start inside the input or the left padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def check_4d(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}"
                         + (" (add a batch dimension with x.unsqueeze(0))" if x.ndim == 3 else ""))
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")


def check_positive(op, name, values, minimum=1):
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: expected {name} >= {minimum}, got {values}")


def check_sizes(op, **sizes):
    """Layer sizes (features, channels, groups) must be positive ints."""
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{op}: expected {name} to be a positive int, got {value!r}")
