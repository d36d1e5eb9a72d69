"""The primitive differentiable ops behind ``Tensor``'s methods, each a Function.

- ``arithmetic``: + - * / ** @ and where, with broadcasting.
- ``unary``: exp, log, sqrt, abs, clip, tanh, sigmoid, relu.
- ``softmax``: softmax and log-softmax along a dimension.
- ``reduction``: sum, mean, var, max, min (and their arg-versions) over any dims.
- ``shape``: reshape, permute, indexing, cat, stack, dtype and device casts.
- ``inplace``: ``x += y``, ``add_``, ``copy_``, ``x[i] = v`` and when they are allowed.
"""
from . import arithmetic, inplace, reduction, shape, softmax, unary  # noqa: F401
