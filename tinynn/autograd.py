"""Reverse-mode automatic differentiation.

Every operation in tinynn is a :class:`Function`: a pair of static methods,
``forward(ctx, *arrays)`` computing the result from plain arrays and
``backward(ctx, grad)`` turning the gradient of the result into gradients of
the inputs (the chain rule, one node at a time).  ``Function.apply`` unwraps
tensors into arrays, runs ``forward`` and, when gradients are wanted, records
a :class:`Node` so that ``Tensor.backward`` can walk the graph in reverse
topological order::

    y = f(x)        forward:  y.data = f(x.data)
    dL/dx           backward: dL/dx = dL/dy * f'(x)

``forward`` and ``backward`` see arrays, not tensors, so the graph is recorded
once per op and never for the backward pass itself (first-order gradients
only, as in a lecture on backpropagation).
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from .tensor import Tensor

__all__ = [
    "Function", "Context", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "gradcheck", "GradcheckError", "backward",
]


class _Mode(threading.local):
    grad_enabled = True
    anomaly = False


_mode = _Mode()


def is_grad_enabled() -> bool:
    return _mode.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = _mode.grad_enabled
        _mode.grad_enabled = self.mode

    def __exit__(self, *exc):
        _mode.grad_enabled = self.previous
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
        self.previous = _mode.anomaly
        _mode.anomaly = True

    def __exit__(self, *exc):
        _mode.anomaly = self.previous
        return False


def _check_finite(array, op_name: str, where: str):
    if array is not None and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise FloatingPointError(f"{op_name}: {where} produced NaN or inf (shape {array.shape})")


class Context:
    """Scratch space shared by one op's forward and backward."""

    __slots__ = ("saved_arrays", "needs_input_grad", "released", "__dict__")

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_arrays = ()
        self.released = False

    def save_for_backward(self, *arrays):
        self.saved_arrays = arrays

    @property
    def saved_tensors(self):  # PyTorch's name for the same thing
        return self.saved_arrays


class Node:
    """One recorded op in the graph: which Function, its context and its inputs."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function, ctx, inputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs  # the Tensor arguments in call order; None for non-tensors

    def name(self) -> str:
        return self.function.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


class Function:
    """Base class of every differentiable op.

    Subclasses write ``forward(ctx, *args)`` on arrays and return one array,
    or a tuple whose first entry is the differentiable result and the rest
    are returned as constant tensors (for example max-pooling indices).
    ``backward(ctx, grad)`` returns one gradient per positional argument
    (``None`` where there is none).  The engine sums a gradient over
    broadcast dimensions, so ``backward`` may return it in the broadcast shape.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        device = None
        arrays = []
        needs = []
        for arg in args:
            if isinstance(arg, Tensor):
                if device is None:
                    device = arg.device
                elif arg.device != device:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors on one device, "
                        f"got {device} and {arg.device}")
                arrays.append(arg._array)
                needs.append(arg.requires_grad)
            else:
                arrays.append(arg)
                needs.append(False)
        record = _mode.grad_enabled and any(needs)
        ctx = Context(tuple(needs))
        result = cls.forward(ctx, *arrays, **kwargs)
        extras = ()
        if isinstance(result, tuple):
            result, *extras = result
        if _mode.anomaly:
            _check_finite(result, cls.__name__, "forward")
        out = Tensor._wrap(result, device, requires_grad=record)
        if record:
            out._node = Node(cls, ctx, tuple(a if isinstance(a, Tensor) else None for a in args))
        if extras:
            return (out, *(Tensor._wrap(e, device) for e in extras))
        return out


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def _topological_order(root):
    """Tensors reachable from ``root`` through recorded nodes, inputs before outputs."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._node is not None:
            stack.extend((t, False) for t in tensor._node.inputs
                         if t is not None and t.requires_grad and id(t) not in visited)
    return order


def backward(root: Tensor, gradient=None, retain_graph: bool = False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn "
                           "(did you create it under no_grad() or forget requires_grad=True?)")
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs; got a tensor "
                f"of shape {root.shape}. Pass gradient= with that shape, or reduce it first "
                f"(e.g. loss.sum()).")
        seed = np.ones_like(root._array)
    else:
        seed = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
        if seed.shape != root.shape:
            raise RuntimeError(f"backward: gradient must have the output's shape {root.shape}, "
                               f"got {seed.shape}")
        seed = seed.astype(root.dtype, copy=False)
    grads = {id(root): seed}
    for tensor in reversed(_topological_order(root)):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        node = tensor._node
        if node is None or tensor._retains_grad:
            tensor._accumulate_grad(grad)
        if node is None:
            continue
        ctx = node.ctx
        if ctx.released:
            raise RuntimeError(
                f"backward: trying to backward through {node.name()} a second time; its saved "
                f"arrays were freed. Pass retain_graph=True to the first backward call.")
        input_grads = node.function.backward(ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if not retain_graph:
            ctx.saved_arrays = ()
            ctx.released = True
        for parent, parent_grad in zip(node.inputs, input_grads):
            if parent is None or parent_grad is None or not parent.requires_grad:
                continue
            if _mode.anomaly:
                _check_finite(parent_grad, node.name(), "backward")
            parent_grad = _unbroadcast(parent_grad, parent.shape)
            if id(parent) in grads:
                grads[id(parent)] = grads[id(parent)] + parent_grad
            else:
                grads[id(parent)] = parent_grad


# ----------------------------------------------------------------------------------------
# Finite-difference gradient check
# ----------------------------------------------------------------------------------------

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
