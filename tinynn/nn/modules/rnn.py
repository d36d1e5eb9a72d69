"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` with PyTorch's parameters (``weight_ih_l0``,
``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``_reverse`` for the backward direction),
gate order, initialisation U(−1/√H, 1/√H), ``num_layers``, ``bidirectional``, ``batch_first``,
``dropout`` between layers and optional initial states, so PyTorch state dicts load.  Each
layer and direction is one op over the whole sequence (``functional/rnn.py``)."""
import math

import numpy as np

from ... import random as _random
from ...creation import cat, stack, zeros
from ..functional.dropout import dropout
from ..functional.rnn import RecurrentSequence
from ..parameter import Parameter
from .module import Module
from .utils import check_sizes

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]


def _add_parameters(module, suffix, inputs, hidden, bias, dtype):
    """weight_ih, weight_hh (and bias_ih, bias_hh) + ``suffix`` on ``module``, for its gates,
    each drawn from U(−1/√H, 1/√H) as PyTorch does."""
    bound, dtype, rows = 1 / math.sqrt(hidden), np.dtype(dtype or np.float32), module.gates * hidden
    shapes = {"weight_ih": (rows, inputs), "weight_hh": (rows, hidden)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    for kind, shape in shapes.items():
        setattr(module, kind + suffix, Parameter(_random.generator().uniform(-bound, bound, shape).astype(dtype)))


class _Recurrent(Module):
    mode, gates = None, 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_sizes(name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        if not 0 <= dropout <= 1:
            raise ValueError(f"{name}: expected dropout in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional, directions = bidirectional, 2 if bidirectional else 1
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                inputs = input_size if layer == 0 else hidden_size * directions
                _add_parameters(self, f"_l{layer}{suffix}", inputs, hidden_size, bias, dtype)
        if device is not None:
            self.to(device)

    def forward(self, input, hx=None):
        """(output, h_n), or for an LSTM (output, (h_n, c_n)); input (T, N, I), or (N, T, I)
        with ``batch_first``, or (T, I) unbatched."""
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input (T, N, {self.input_size}) (or batch first, "
                             f"or unbatched), got shape {tuple(input.shape)}")
        h0, c0 = self._initial_states(hx, x, unbatched)
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                index = layer * directions + direction
                out, h, c = self._run(x, h0[index], None if c0 is None else c0[index], f"l{layer}{suffix}",
                                      reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout)
        output = x.squeeze(1) if unbatched else (x.transpose(0, 1) if self.batch_first else x)
        h_n = stack(h_n)
        h_n = h_n.squeeze(1) if unbatched else h_n
        if self.mode != "lstm":
            return output, h_n
        c_n = stack(c_n)
        return output, (h_n, c_n.squeeze(1) if unbatched else c_n)

    def _run(self, x, h0, c0, name, reverse):
        """One layer, one direction: (outputs in time order, h_T, c_T)."""
        steps = x.shape[0]
        if reverse:
            x = x[::-1]
        weights = [getattr(self, f"{kind}_{name}", None) for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        y = RecurrentSequence.apply(x, h0, c0, *weights, mode=self.mode)
        out, c = (y[:steps], y[steps]) if self.mode == "lstm" else (y, None)
        h = out[steps - 1]
        return (out[::-1] if reverse else out), h, c

    def _initial_states(self, hx, x, unbatched):
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shape = (layers, x.shape[1], self.hidden_size)
        if hx is None:
            zero = zeros(*shape, dtype=x.dtype, device=x.device)
            return zero, (zero if self.mode == "lstm" else None)
        h0, c0 = hx if self.mode == "lstm" else (hx, None)
        if unbatched:
            h0, c0 = h0.unsqueeze(1), (None if c0 is None else c0.unsqueeze(1))
        for state in (h0, c0):
            if state is not None and tuple(state.shape) != shape:
                raise ValueError(f"{type(self).__name__}: expected initial states of shape {shape}, got "
                                 f"{tuple(state.shape)}")
        return h0, c0

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        options += [f"num_layers={self.num_layers}"] if self.num_layers != 1 else []
        options += ["batch_first=True"] if self.batch_first else []
        options += [f"dropout={self.dropout}"] if self.dropout else []
        options += ["bidirectional=True"] if self.bidirectional else []
        return ", ".join(options)


class RNN(_Recurrent):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), or relu with ``nonlinearity='relu'``."""

    def __init__(self, *args, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(*args, **kwargs)
        self.mode = nonlinearity


class LSTM(_Recurrent):
    """Gates i, f, g, o; c_t = f c_{t−1} + i g; h_t = o tanh(c_t)."""
    mode, gates = "lstm", 4


class GRU(_Recurrent):
    """Gates r, z, n; h_t = (1 − z) n + z h_{t−1}."""
    mode, gates = "gru", 3


class _Cell(Module):
    """One time step of the matching layer: the same op over a sequence of length 1."""
    mode, gates = None, 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        check_sizes(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        _add_parameters(self, "", input_size, hidden_size, bias, dtype)
        if device is not None:
            self.to(device)

    def forward(self, input, hx=None):
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input (N, {self.input_size}) or "
                             f"({self.input_size},), got shape {tuple(input.shape)}")
        zero = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        h, c = (zero, zero if self.mode == "lstm" else None) if hx is None else \
            (hx if self.mode == "lstm" else (hx, None))
        if unbatched and hx is not None:
            h, c = h.unsqueeze(0), (None if c is None else c.unsqueeze(0))
        weights = [getattr(self, kind, None) for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        y = RecurrentSequence.apply(x.unsqueeze(0), h, c, *weights, mode=self.mode)
        h = y[0].squeeze(0) if unbatched else y[0]
        if self.mode != "lstm":
            return h
        return h, (y[1].squeeze(0) if unbatched else y[1])


class RNNCell(_Cell):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.mode = nonlinearity


class LSTMCell(_Cell):
    mode, gates = "lstm", 4


class GRUCell(_Cell):
    mode, gates = "gru", 3
