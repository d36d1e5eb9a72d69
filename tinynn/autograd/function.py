"""``Function``: one differentiable op, its ``Context`` and the graph ``Node`` it records.

``Function.apply`` unwraps tensors into arrays, runs ``forward`` and, when gradients are
wanted, records a :class:`Node` so that ``Tensor.backward`` can walk the graph in reverse.
``forward`` and ``backward`` see arrays, not tensors, so the graph is recorded once per op
and never for the backward pass itself (first-order gradients only, as in a lecture on
backpropagation).
"""
from __future__ import annotations

import weakref

from .. import backend
from ..device import CPU
from ..tensor import Tensor
from . import profiler, versions
from .grad_mode import check_finite, mode


class Context:
    """Scratch space shared by one op's forward and backward, and the op's backend."""

    __slots__ = ("saved_arrays", "saved_versions", "needs_input_grad", "released", "device",
                 "_backend", "__dict__")

    def __init__(self, needs_input_grad, device):
        self.needs_input_grad = needs_input_grad
        self.saved_arrays = self.saved_versions = ()
        self.released = False
        self.device = device
        self._backend = None

    def save_for_backward(self, *arrays):
        """Keep ``arrays`` for backward, with their version counters (``versions.py``)."""
        self.saved_arrays = arrays
        self.saved_versions = tuple(None if a is None or not hasattr(a, "shape") else versions.version(a)
                                    for a in arrays)

    def needed_by(self, array, *inputs):
        """``array`` if the gradient of any of ``inputs`` (positions) is wanted, else None:
        an op saves only what its backward will use, as PyTorch does, so that changing an
        array that no gradient needs is not mistaken for corrupting one."""
        return array if any(self.needs_input_grad[i] for i in inputs) else None

    @property
    def saved_tensors(self):  # PyTorch's name for the same thing
        return self.saved_arrays

    @property
    def backend(self) -> backend.Backend:
        """The functions that compute hot ops on this op's device (``tinynn/backend.py``),
        looked up once, so that backward runs where forward ran."""
        if self._backend is None:
            self._backend = backend.for_device(self.device)
        return self._backend


class Node:
    """One recorded op in the graph: which Function, its context and its inputs."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function, ctx, inputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs  # per argument: its graph_input (below); None for non-tensors

    def name(self) -> str:
        return self.function.__name__ + "Backward"

    @property
    def next_functions(self):
        """((node, 0), ...) per input, as PyTorch's ``grad_fn.next_functions``: the input's own
        node, an ``AccumulateGrad`` for a leaf that wants a gradient, None otherwise."""
        return tuple((_next_function(t), 0) for t in self.inputs)

    def __repr__(self):
        return f"<{self.name()}>"


class AccumulateGrad:
    """Where a leaf tensor's gradient ends up (``next_functions`` shows it, as PyTorch does)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


class Activation:
    """What the graph keeps of an op's output that a later op used: its node, shape, dtype
    and device, not its values.  Holding the tensor itself kept every activation alive
    until backward even where no backward reads it (a convolution's output before its
    ReLU: 7 MB of a Keras-CIFAR-CNN step); PyTorch's graph too holds ops, not outputs.
    While the tensor is still held elsewhere, ``tensor()`` returns it (``retain_grad``)."""

    __slots__ = ("_node", "shape", "dtype", "device", "tensor", "_values")
    requires_grad = True
    _grad_hooks = None

    def __init__(self, tensor):
        self._node, self.shape, self.dtype = tensor._node, tensor.shape, tensor.dtype
        self.device, self.tensor = tensor.device, weakref.ref(tensor)
        self._values = _weak(tensor._array)         # alive while an op saved it (error messages)

    name = property(lambda self: getattr(self.tensor(), "name", None))
    _retains_grad = property(lambda self: getattr(self.tensor(), "_retains_grad", False))
    _array = property(lambda self: self._values())

    def _accumulate_grad(self, grad):
        self.tensor()._accumulate_grad(grad)       # only asked while _retains_grad: alive


def _weak(array):
    """A weak reference to ``array``, or one that always answers None for an array type that
    takes none (an error message then names the array by position instead)."""
    try:
        return weakref.ref(array)
    except TypeError:
        return lambda: None


def graph_input(tensor):
    """How the graph refers to ``tensor``: a leaf or a constant as itself (its values are the
    caller's), an op's output as its ``Activation``, one per tensor."""
    if tensor._node is None:
        return tensor
    if tensor._activation is None:
        tensor._activation = Activation(tensor)
    return tensor._activation


def _next_function(tensor):
    if tensor is None or not tensor.requires_grad:
        return None
    return tensor._node if tensor._node is not None else AccumulateGrad(tensor)


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
        record = mode.grad_enabled and any(needs)
        ctx = Context(tuple(needs), device or CPU)
        result = cls.forward(ctx, *arrays, **kwargs) if not profiler._active else \
            profiler.timed(cls.__name__, "forward", cls.forward, ctx, *arrays, **kwargs)
        extras = ()
        if isinstance(result, tuple):
            result, *extras = result
        if mode.anomaly:
            check_finite(result, cls.__name__, "forward")
        out = Tensor._wrap(result, device, requires_grad=record)
        if record:
            out._node = Node(cls, ctx, tuple(graph_input(a) if isinstance(a, Tensor) else None for a in args))
        if extras:
            return (out, *(Tensor._wrap(e, device) for e in extras))
        return out
