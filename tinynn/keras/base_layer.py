"""``Layer``: what every Keras layer shares — activation, regularisers, building for an input
shape, being called (symbolically or on data, ``symbolic.py``), and its weights in Keras'
layouts.  The layers themselves are in ``layers.py`` and ``merging.py``."""
import numpy as np

from .. import nn
from . import activations
from .symbolic import call_layer

__all__ = ["Layer"]


def _shape(op, shape):
    """A declared ``input_shape``: a tuple of positive ints, without the batch axis."""
    if not isinstance(shape, (tuple, list)) or not shape or not all(
            isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ValueError(f"{op}: expected input_shape to be a tuple of positive ints without the "
                         f"batch axis, e.g. (28, 28, 1), got {shape!r}")
    return tuple(int(s) for s in shape)


class Layer(nn.Module):
    """Base class: ``build(input_shape) -> output_shape`` (Keras shapes, no batch axis),
    ``call(x)`` on the internal layout, then the optional activation."""

    input_rank = None          # the image layers need (height, width, channels)

    def __init__(self, activation=None, input_shape=None, input_dim=None, name=None,
                 kernel_regularizer=None, bias_regularizer=None, **unused):
        super().__init__()
        if unused:
            raise TypeError(f"{type(self).__name__}: unsupported arguments {sorted(unused)}")
        self.activation = activations.get(activation)
        self.activation_name = activation if isinstance(activation, str) else getattr(
            activation, "__name__", None)
        self.declared_input_shape = (input_dim,) if input_dim is not None else (
            _shape(type(self).__name__, input_shape) if input_shape is not None else None)
        self.layer_name = name
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.built = False
        self.input_shape = self.output_shape = None

    def build(self, input_shape):
        return input_shape

    def ensure_built(self, input_shape):
        if self.input_rank is not None and len(input_shape) != self.input_rank:
            raise ValueError(f"{type(self).__name__}: expected an input shape (height, width, "
                             f"channels) without the batch axis, got {tuple(input_shape)}")
        if not self.built:
            self.input_shape = tuple(input_shape)
            self.output_shape = tuple(self.build(self.input_shape))
            self.built = True
        return self.output_shape

    def call(self, x):
        return x

    def __call__(self, inputs, training=None):
        """Keras' call: on ``keras.Input`` tensors (functional API) or on data, channels last
        (``symbolic.py``).  Models run their layers through ``internal`` instead."""
        return call_layer(self, inputs, training)

    def internal(self, x):
        """The layer on the models' internal layout (images channels first), with hooks."""
        return nn.Module.__call__(self, x)

    def forward(self, x):
        out = self.call(x)
        return self.activation(out) if self.activation is not None else out

    def regularization_loss(self):
        """The kernel_regularizer/bias_regularizer penalties of this layer (0 without them)."""
        inner = getattr(self, "inner", None)
        total = 0.0
        for regularizer, param in ((self.kernel_regularizer, getattr(inner, "weight", None)),
                                   (self.bias_regularizer, getattr(inner, "bias", None))):
            if regularizer is not None and param is not None:
                total = total + regularizer(param)
        return total

    def get_weights(self):
        """This layer's arrays in Keras' order and layouts: Dense kernels (in, out), Conv2D
        kernels (height, width, in, out), BatchNormalization [γ, β, moving mean, variance]."""
        return [_to_keras(module, name, value.detach().numpy().copy())
                for module, name, value in self._keras_state()]

    def set_weights(self, weights):
        state = self._keras_state()
        if len(weights) != len(state):
            raise ValueError(f"{type(self).__name__}.set_weights: expected {len(state)} arrays, got "
                             f"{len(weights)}")
        for (module, name, target), array in zip(state, weights):
            array = _from_keras(module, name, np.asarray(array))
            if array.shape != tuple(target.shape):
                raise ValueError(f"{type(self).__name__}.set_weights: {name} expects shape "
                                 f"{_to_keras(module, name, np.empty(target.shape)).shape} "
                                 f"(Keras' layout), got {np.shape(array)}")
            target.data = array.astype(target.dtype)

    @property
    def weights(self):
        return [value for _, _, value in self._keras_state()]

    def _keras_state(self):
        """(module, name, tensor) of the weights Keras would list, in its order: a frozen γ or
        β (scale=False, center=False) and PyTorch's batch counter are not among them."""
        return _weights_of(getattr(self, "inner", None))

    def non_trainable_count(self):
        return sum(b.numel() for name, b in self.named_buffers() if "running" in name)


def _weights_of(module):
    if module is None:
        return []
    entries = list(module.named_parameters()) + list(module.named_buffers())
    return [(module, name, value) for name, value in entries
            if name != "num_batches_tracked" and not (name in ("weight", "bias") and not value.requires_grad)]


def _depthwise(module):
    return isinstance(module, nn.Conv2d) and module.groups == module.in_channels > 1


def _to_keras(module, name, array):
    """PyTorch's layout → Keras': (out, in) → (in, out); (out, in, h, w) → (h, w, in, out);
    a depthwise (C·m, 1, h, w) → (h, w, C, m)."""
    if name != "weight":
        return array
    if isinstance(module, nn.Linear):
        return array.T
    if _depthwise(module):
        return array.reshape(module.in_channels, -1, *array.shape[2:]).transpose(2, 3, 0, 1)
    if isinstance(module, nn.Conv2d):
        return array.transpose(2, 3, 1, 0)
    return array


def _from_keras(module, name, array):
    if name == "weight" and isinstance(module, nn.Linear):
        return array.T
    if name == "weight" and _depthwise(module) and array.ndim == 4:
        return array.transpose(2, 3, 0, 1).reshape(-1, 1, *array.shape[:2])
    if name == "weight" and isinstance(module, nn.Conv2d):
        return array.transpose(3, 2, 0, 1)
    return array
