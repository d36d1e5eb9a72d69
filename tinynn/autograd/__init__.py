"""Reverse-mode automatic differentiation.

Every operation in tinynn is a :class:`Function`: a pair of static methods,
``forward(ctx, *arrays)`` computing the result from plain arrays and
``backward(ctx, grad)`` turning the gradient of the result into gradients of
the inputs (the chain rule, one node at a time)::

    y = f(x)        forward:  y.data = f(x.data)
    dL/dx           backward: dL/dx = dL/dy * f'(x)

    grad_mode.py    no_grad, enable_grad, detect_anomaly: whether ops record a graph
    function.py     Function, Context and the graph Node that ``apply`` records
    engine.py       backward() and grad(): walk the recorded graph in reverse topological order
    gradcheck.py    every Jacobian entry against central finite differences
    profiler.py     the time of every op's forward and backward, summed per op
"""
from .engine import backward, grad  # noqa: F401
from .function import Context, Function, Node  # noqa: F401
from .grad_mode import (  # noqa: F401
    detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
from . import profiler  # noqa: F401

__all__ = [
    "Function", "Context", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "gradcheck", "GradcheckError", "backward", "grad",
]
