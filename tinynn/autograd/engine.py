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
from .function import graph_input
from .grad_mode import check_finite, mode


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def topological_order(*roots, constants=False):
    """Tensors reachable from ``roots`` through recorded nodes, inputs before outputs; only
    those that require grad, unless ``constants`` (the graph picture shows them all).

    A node's first input is explored first, so its later inputs — a layer's own weight and
    bias, beside the activation coming from below — end up just before the node: walked in
    reverse, the last layer's parameters get their final gradient first, which is when
    data-parallel training can start averaging them (``nn/parallel.py``)."""
    order, visited = [], set()
    stack = [(graph_input(root), False) for root in reversed(roots)]
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
                         if t is not None and (constants or t.requires_grad) and id(t) not in visited)
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
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn "
                           "(did you create it under no_grad() or forget requires_grad=True?)")
    try:
        _walk({id(graph_input(root)): _seed(root, gradient)}, topological_order(root), retain_graph,
              _accumulate_into_leaf)
        while _callbacks:
            _callbacks.pop(0)()
    finally:
        _callbacks.clear()


def _accumulate_into_leaf(tensor, grad):
    """``backward``'s visit: a leaf (or a tensor that ``retain_grad()``) keeps its gradient."""
    if tensor._node is None or tensor._retains_grad:
        tensor._accumulate_grad(grad)
    if tensor._node is None:
        for hook in tensor._grad_hooks or ():
            hook(tensor)
    return tensor._node is not None


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False):
    """d(outputs)/d(inputs), returned instead of accumulated (``torch.autograd.grad``).

    No ``.grad`` changes, and only the part of the graph between ``outputs`` and ``inputs``
    is walked: each op is told (``ctx.needs_input_grad``) to skip the gradients nobody asked
    for, so the gradient of a loss with respect to an image skips every weight gradient.
    ``inputs`` may be leaves or intermediate tensors (a layer's activation)."""
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    seeds = _as_tuple(grad_outputs, "grad_outputs") if grad_outputs is not None else (None,) * len(outputs)
    if len(seeds) != len(outputs):
        raise RuntimeError(f"grad: expected {len(outputs)} grad_outputs (one per output), got {len(seeds)}")
    for tensor in outputs + inputs:
        if not tensor.requires_grad:
            raise RuntimeError(f"grad: every output and input must require grad; a tensor of shape "
                               f"{tensor.shape} does not (create it with requires_grad=True)")
    wanted = {id(graph_input(t)): None for t in inputs}
    order = _leading_to(topological_order(*outputs), wanted)
    grads = {}
    for output, seed in zip(outputs, seeds):
        key = id(graph_input(output))
        grads[key] = _add(grads.get(key), _seed(output, seed))

    def collect(tensor, gradient):
        if id(tensor) in wanted:
            wanted[id(tensor)] = _add(wanted[id(tensor)], gradient)
        return tensor._node is not None

    _walk(grads, order, bool(retain_graph), collect)
    result = []
    for tensor in inputs:
        found = wanted[id(graph_input(tensor))]
        if found is None and not allow_unused:
            raise RuntimeError(f"grad: an input of shape {tensor.shape} was not used to compute the "
                               f"outputs; pass allow_unused=True to get None for it")
        result.append(None if found is None else Tensor._wrap(found, tensor.device))
    return tuple(result)


def _as_tuple(value, what):
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, Tensor) for v in value):
        return tuple(value)
    raise TypeError(f"grad: expected {what} as a Tensor or a sequence of Tensors, "
                    f"got {type(value).__name__}")


def _add(total, gradient):
    return gradient if total is None else total + gradient


def _leading_to(order, wanted):
    """The tensors of ``order`` from which one of ``wanted`` can be reached (inputs come
    first in ``order``, so one pass forward decides each tensor from its node's inputs)."""
    leads = set()
    for tensor in order:
        node = tensor._node
        if id(tensor) in wanted or (node is not None and any(
                t is not None and id(t) in leads for t in node.inputs)):
            leads.add(id(tensor))
    return [t for t in order if id(t) in leads]


def _walk(grads, order, retain_graph, visit):
    """Walk ``order`` outputs-first, turning each tensor's gradient into its inputs' through
    its node's ``backward``; ``visit(tensor, grad)`` sees every gradient and says whether the
    walk goes on below that tensor. Only tensors in ``order`` receive gradients."""
    walked = {id(t) for t in order}
    for tensor in reversed(order):
        grad = grads.pop(id(tensor), None)
        if grad is None or not visit(tensor, grad):
            continue
        node = tensor._node
        ctx = node.ctx
        if ctx.released:
            raise RuntimeError(
                f"backward: trying to backward through {node.name()} a second time; its saved "
                f"arrays were freed. Pass retain_graph=True to the first backward call.")
        _check_saved_versions(node, tensor)
        input_grads = _node_backward(node, grad, walked)
        if not retain_graph:
            ctx.saved_arrays = ()
            ctx.released = True
        for parent, parent_grad in zip(node.inputs, input_grads):
            if parent is None or parent_grad is None or id(parent) not in walked:
                continue
            if mode.anomaly:
                check_finite(parent_grad, node.name(), "backward")
            parent_grad = unbroadcast(parent_grad, parent.shape)
            if parent_grad.dtype != parent.dtype:      # a promoted op: the gradient in x's dtype
                parent_grad = parent_grad.astype(parent.dtype)
            grads[id(parent)] = _add(grads.get(id(parent)), parent_grad)


def _node_backward(node, grad, walked):
    """One node's ``backward``, asked only for the inputs the walk goes on to."""
    ctx = node.ctx
    needs = ctx.needs_input_grad
    ctx.needs_input_grad = tuple(n and t is not None and id(t) in walked
                                 for n, t in zip(needs, node.inputs))
    try:
        input_grads = node.function.backward(ctx, grad) if not profiler._active else \
            profiler.timed(node.function.__name__, "backward", node.function.backward, ctx, grad)
    finally:
        ctx.needs_input_grad = needs
    return input_grads if isinstance(input_grads, tuple) else (input_grads,)
