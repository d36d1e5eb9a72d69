"""Keras' recurrent layers and ``Embedding`` on tinynn's ``nn.RNN/LSTM/GRU/Embedding``.

Keras keeps one kernel (inputs, gates·units), one recurrent kernel (units, gates·units) and, for
SimpleRNN and LSTM, one bias; PyTorch two weight matrices transposed and two biases.  Keras'
GRU (``reset_after=True``, its default) is PyTorch's GRU with the gates in the order z, r, h
instead of r, z, n and its two biases stacked (2, 3·units).  ``get_weights``/``set_weights``
translate, so a Keras model's weights load.
"""
import numpy as np

from .. import nn
from .base_layer import Layer

__all__ = ["SimpleRNN", "LSTM", "GRU", "Embedding"]


class _Recurrent(Layer):
    module, gates, order = None, 1, None       # order: Keras' gate blocks as PyTorch indices

    def __init__(self, units, return_sequences=False, **kwargs):
        super().__init__(None, **kwargs)
        self.units, self.return_sequences = units, return_sequences

    input_rank = 2

    def build(self, input_shape):
        steps, features = input_shape
        self.inner = self.module(features, self.units, batch_first=True)
        return (steps, self.units) if self.return_sequences else (self.units,)

    def call(self, x):
        out = self.inner(x)[0]
        return out if self.return_sequences else out[:, -1]

    def _blocks(self, array, axis):
        """PyTorch's gate blocks along ``axis`` in Keras' order (and back, the same swap)."""
        if self.order is None:
            return array
        blocks = np.split(array, self.gates, axis=axis)
        return np.concatenate([blocks[i] for i in self.order], axis=axis)

    def get_weights(self):
        inner = self.inner
        kernel = self._blocks(inner.weight_ih_l0.detach().numpy().T, 1)
        recurrent = self._blocks(inner.weight_hh_l0.detach().numpy().T, 1)
        b_ih, b_hh = (self._blocks(b.detach().numpy(), 0) for b in (inner.bias_ih_l0, inner.bias_hh_l0))
        bias = np.stack([b_ih, b_hh]) if self.module is nn.GRU else b_ih + b_hh
        return [kernel.copy(), recurrent.copy(), bias]

    def set_weights(self, weights):
        expected = [w.shape for w in self.get_weights()]
        if len(weights) != 3 or [np.shape(w) for w in weights] != expected:
            raise ValueError(f"{type(self).__name__}.set_weights: expected arrays of shapes {expected} "
                             f"(Keras' layout), got {[np.shape(w) for w in weights]}")
        kernel, recurrent, bias = (np.asarray(w, np.float32) for w in weights)
        b_ih, b_hh = (bias[0], bias[1]) if self.module is nn.GRU else (bias, np.zeros_like(bias))
        inner = self.inner
        for target, value in ((inner.weight_ih_l0, self._blocks(kernel, 1).T), (inner.weight_hh_l0, self._blocks(recurrent, 1).T),
                              (inner.bias_ih_l0, self._blocks(b_ih, 0)), (inner.bias_hh_l0, self._blocks(b_hh, 0))):
            target.data = np.ascontiguousarray(value, dtype=target.dtype)

    def _keras_state(self):
        """Three Keras arrays (what ``set_weights`` counts) from PyTorch's four tensors."""
        return [(self.inner, name, None) for name in ("kernel", "recurrent_kernel", "bias")]

    @property
    def weights(self):
        return list(self.inner.parameters())


class SimpleRNN(_Recurrent):
    """h_t = tanh(x_t W + h_{t−1} U + b)."""
    module = nn.RNN


class LSTM(_Recurrent):
    """Keras' gates i, f, c, o are PyTorch's i, f, g, o."""
    module, gates = nn.LSTM, 4


class GRU(_Recurrent):
    """Keras' gates z, r, h are PyTorch's r, z, n, with the reset gate applied after the product."""
    module, gates, order = nn.GRU, 3, (1, 0, 2)


class Embedding(Layer):
    """Integer indices (…) → vectors (…, output_dim); Keras' table layout is PyTorch's."""

    def __init__(self, input_dim, output_dim, **kwargs):
        super().__init__(None, **kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim

    def build(self, input_shape):
        self.inner = nn.Embedding(self.input_dim, self.output_dim)
        nn.init.uniform_(self.inner.weight, -0.05, 0.05)
        return tuple(input_shape) + (self.output_dim,)

    def call(self, x):
        return self.inner(x.to(np.int64))
