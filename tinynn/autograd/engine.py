"""``backward()``: accumulate d(root)/d(leaf) into every leaf's ``.grad``.

The graph is the chain of ``Node``s that ``Function.apply`` recorded.  The engine
orders the tensors so that each comes after everything computed from it, then walks
that order once: each node's ``backward`` turns its output gradient into its inputs'
gradients (the chain rule), and gradients reaching a tensor along several paths add up.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import profiler, versions
from .grad_mode import check_finite, mode


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def topological_order(root):
    """Tensors reachable from ``root`` through recorded nodes, inputs before outputs.

    A node's first input is explored first, so its later inputs — a layer's own weight and
    bias, beside the activation coming from below — end up just before the node: walked in
    reverse, the last layer's parameters get their final gradient first, which is when
    data-parallel training can start averaging them (``nn/parallel.py``)."""
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
            stack.extend((t, False) for t in reversed(tensor._node.inputs)
                         if t is not None and t.requires_grad and id(t) not in visited)
    return order


def _seed(root, gradient):
    """The gradient that starts the walk: 1 for a scalar, else the caller's ``gradient``."""
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs; got a tensor "
                f"of shape {root.shape}. Pass gradient= with that shape, or reduce it first "
                f"(e.g. loss.sum()).")
        return np.ones_like(root._array)
    seed = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
    if seed.shape != root.shape:
        raise RuntimeError(f"backward: gradient must have the output's shape {root.shape}, "
                           f"got {seed.shape}")
    return seed.astype(root.dtype, copy=False)


def _check_saved_versions(node, output):
    """Refuse to compute a gradient from an array that was changed in place after the op
    saved it: the result would be silently wrong."""
    ctx = node.ctx
    for position, (array, saved) in enumerate(zip(ctx.saved_arrays, ctx.saved_versions)):
        if saved is None or versions.version(array) == saved:
            continue
        role = f"saved array {position}"
        if array is output._array:
            role = "the output"
        for index, tensor in enumerate(node.inputs):
            if tensor is not None and tensor._array is array:
                role = f"input {index}" + (f" ({tensor.name!r})" if tensor.name else "")
        raise RuntimeError(
            f"backward: {role} of {node.name()}, a {array.dtype} array of shape {array.shape}, "
            f"was modified in place after {node.function.__name__} saved it for backward "
            f"(version {versions.version(array)}, expected {saved}); its gradient would be "
            f"wrong. Change it after backward(), or work on a copy (x.clone()).")


_callbacks = []


def queue_callback(callback):
    """Run ``callback()`` once the backward pass now running has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``): data-parallel training waits there for
    the gradient allreduces it started during the pass."""
    _callbacks.append(callback)


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` takes the hook out again."""

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def backward(root, gradient=None, retain_graph: bool = False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    try:
        _walk(root, gradient, retain_graph)
        while _callbacks:
            _callbacks.pop(0)()
    finally:
        _callbacks.clear()


def _walk(root, gradient, retain_graph):
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn "
                           "(did you create it under no_grad() or forget requires_grad=True?)")
    grads = {id(root): _seed(root, gradient)}
    for tensor in reversed(topological_order(root)):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        node = tensor._node
        if node is None or tensor._retains_grad:
            tensor._accumulate_grad(grad)
        if node is None:
            for hook in tensor._grad_hooks or ():
                hook(tensor)
            continue
        ctx = node.ctx
        if ctx.released:
            raise RuntimeError(
                f"backward: trying to backward through {node.name()} a second time; its saved "
                f"arrays were freed. Pass retain_graph=True to the first backward call.")
        _check_saved_versions(node, tensor)
        input_grads = node.function.backward(ctx, grad) if not profiler._active else \
            profiler.timed(node.function.__name__, "backward", node.function.backward, ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if not retain_graph:
            ctx.saved_arrays = ()
            ctx.released = True
        for parent, parent_grad in zip(node.inputs, input_grads):
            if parent is None or parent_grad is None or not parent.requires_grad:
                continue
            if mode.anomaly:
                check_finite(parent_grad, node.name(), "backward")
            parent_grad = unbroadcast(parent_grad, parent.shape)
            if parent_grad.dtype != parent.dtype:      # a promoted op: the gradient in x's dtype
                parent_grad = parent_grad.astype(parent.dtype)
            if id(parent) in grads:
                grads[id(parent)] = grads[id(parent)] + parent_grad
            else:
                grads[id(parent)] = parent_grad
