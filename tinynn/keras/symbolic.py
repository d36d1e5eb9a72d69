"""Calling a Keras layer: on a symbolic ``KerasTensor`` (the functional API) or on data.

``keras.Input(shape)`` is a ``KerasTensor``: a shape (without the batch axis) and no values.
A layer called on it builds its weights for that shape and returns another ``KerasTensor``
that remembers the call — the graph ``keras.Model(inputs, outputs)`` then runs
(``functional.py``).  A layer called on an array or a tensor computes at once, channels last
as in Keras (it is built on that first call).
"""
import numpy as np

from ..tensor import Tensor

__all__ = ["KerasTensor", "Input", "call_layer"]


class KerasTensor:
    """The shape a layer will produce, and the call (layer, inputs) that will produce it."""

    def __init__(self, shape, layer=None, inputs=(), name=None, listed=False):
        self.keras_shape = tuple(shape)
        self.layer, self.inputs, self.name = layer, tuple(inputs), name
        self.listed = listed           # the layer was called on a list (Add, Concatenate)

    @property
    def shape(self):
        return (None,) + self.keras_shape

    def __repr__(self):
        made_by = f", made by {type(self.layer).__name__}" if self.layer is not None else ""
        return f"<KerasTensor shape={self.shape}{made_by}>"


def Input(shape=None, name=None, batch_size=None, **unused):
    """``keras.Input(shape=(28, 28, 1))``: the symbolic input of a functional model (also
    accepted as the first entry of a ``Sequential``)."""
    if unused:
        raise TypeError(f"Input: unsupported arguments {sorted(unused)}")
    if not isinstance(shape, (tuple, list)) or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ValueError(f"Input: expected shape to be a tuple of positive ints without the batch axis, "
                         f"e.g. (28, 28, 1), got {shape!r}")
    return KerasTensor(tuple(int(s) for s in shape), name=name)


def call_layer(layer, inputs, training=None):
    """``layer(inputs)``: symbolic when ``inputs`` holds KerasTensors, else computed now."""
    if _is_symbolic(inputs):
        shapes = [t.keras_shape for t in inputs] if isinstance(inputs, (list, tuple)) else inputs.keras_shape
        output_shape = layer.ensure_built(shapes)
        listed = isinstance(inputs, (list, tuple))
        return KerasTensor(output_shape, layer, inputs if listed else (inputs,), listed=listed)
    values = [_tensor(x) for x in inputs] if isinstance(inputs, (list, tuple)) else _tensor(inputs)
    shapes = [tuple(v.shape[1:]) for v in values] if isinstance(values, list) else tuple(values.shape[1:])
    layer.ensure_built(shapes)
    previous = layer.training
    if training is not None:
        layer.train(bool(training))
    try:
        out = layer.internal(_channels_first(values))
    finally:
        layer.train(previous)
    return out.permute(0, 2, 3, 1) if out.ndim == 4 else out


def _is_symbolic(inputs):
    items = inputs if isinstance(inputs, (list, tuple)) else (inputs,)
    symbolic = [isinstance(x, KerasTensor) for x in items]
    if any(symbolic) and not all(symbolic):
        raise TypeError("a Keras layer was called on a mix of keras.Input tensors and data")
    return all(symbolic)


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float32))


def _channels_first(values):
    """Keras' (N, H, W, C) → the layers' internal (N, C, H, W)."""
    if isinstance(values, list):
        return [_channels_first(v) for v in values]
    return values.permute(0, 3, 1, 2) if values.ndim == 4 else values
