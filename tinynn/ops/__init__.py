"""The primitive differentiable ops behind ``Tensor``'s methods, each a Function.

- ``arithmetic``: + - * / ** @ and where, with broadcasting.
- ``unary``: exp, log, sqrt, abs, clip, tanh, sigmoid, relu.
- ``reduction``: sum, mean, var, max, min over any dims.
- ``shape``: reshape, permute, indexing, cat, stack, dtype and device casts.
"""
from . import arithmetic, reduction, shape, unary  # noqa: F401
