"""Layers that merge several inputs (Keras' ``keras.layers.Add``, ``Concatenate``): the
residual and branch connections of functional models."""
from ..creation import cat
from .base_layer import Layer

__all__ = ["Add", "Concatenate"]


class _Merge(Layer):
    def ensure_built(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 or \
                not all(isinstance(s, tuple) for s in input_shape):
            raise ValueError(f"{type(self).__name__}: expected a list of at least two inputs, got "
                             f"{input_shape!r}")
        return super().ensure_built(list(input_shape))


class Add(_Merge):
    """y = x₁ + x₂ + …, inputs of one shape."""

    def build(self, input_shapes):
        if len(set(input_shapes)) != 1:
            raise ValueError(f"Add: expected inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def call(self, inputs):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


class Concatenate(_Merge):
    """The inputs side by side along ``axis`` (Keras' axis, channels last; -1 by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(None, **kwargs)
        self.axis = axis

    def build(self, input_shapes):
        rank = len(input_shapes[0])
        axis = self.axis % (rank + 1) - 1 if self.axis < 0 else self.axis - 1    # without the batch
        if not 0 <= axis < rank or any(len(s) != rank for s in input_shapes) or any(
                s[:axis] + s[axis + 1:] != input_shapes[0][:axis] + input_shapes[0][axis + 1:]
                for s in input_shapes):
            raise ValueError(f"Concatenate: expected inputs that differ only along axis {self.axis}, "
                             f"got {input_shapes}")
        self.keras_axis = axis
        return input_shapes[0][:axis] + (sum(s[axis] for s in input_shapes),) + input_shapes[0][axis + 1:]

    def call(self, inputs):
        axis = self.keras_axis + 1
        if inputs[0].ndim == 4:              # (N, H, W, C) in Keras is (N, C, H, W) inside
            axis = {1: 2, 2: 3, 3: 1}[axis]
        return cat(list(inputs), dim=axis)
