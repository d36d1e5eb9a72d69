"""Recurrent layers over a whole sequence: one op per layer and direction, with
backpropagation through time written out (seed 004 §4.3: h_t = σ(W x_t + U h_{t−1} + b)).

With a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh (PyTorch's names and gate order):

    RNN    h_t = tanh(a_t)  (or relu)
    LSTM   i, f, g, o = σ, σ, tanh, σ of a_t's four blocks;  c_t = f c_{t−1} + i g;  h_t = o tanh(c_t)
    GRU    r, z = σ of the first two blocks;  n = tanh(x-part_n + r ⊙ (W_hn h_{t−1} + b_hn));
           h_t = (1 − z) n + z h_{t−1}

Backward walks t = T … 1 once, carrying ∂L/∂h_t (and ∂L/∂c_t) back to step t − 1, and sums
every step's contribution to the weights: the chain rule over the unrolled network.
"""
import numpy as np

from ...autograd import Function

__all__ = ["RecurrentSequence"]


def _sigmoid(a):
    return 0.5 * (np.tanh(0.5 * a) + 1)          # no overflow warning for large |a|


class RecurrentSequence(Function):
    """(T, N, I) sequence → (T, N, H) outputs, plus c_T as one more row for an LSTM."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode="tanh"):
        steps, hidden = x.shape[0], w_hh.shape[1]
        matmul = ctx.backend.matmul                  # BLAS on the kernels' threads (kernels/blas.py)
        x_part = matmul(x, w_ih.T) + (0 if b_ih is None else b_ih)  # every step's input term at once
        b_hh = np.zeros(w_hh.shape[0], x.dtype) if b_hh is None else b_hh
        h, c = h0, c0
        hs, saved = np.empty((steps,) + h0.shape, x.dtype), []
        for t in range(steps):
            h_part = matmul(h, w_hh.T) + b_hh
            h, c, record = _STEP[mode](x_part[t], h_part, h, c, hidden)
            hs[t] = h
            saved.append(record)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh)
        ctx.records, ctx.mode, ctx.has_bias = saved, mode, b_ih is not None
        return np.concatenate([hs, c[None]]) if mode == "lstm" else hs

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh = ctx.saved_arrays
        steps, matmul = x.shape[0], ctx.backend.matmul
        grad_h, grad_c = np.zeros_like(h0), (grad[steps] if ctx.mode == "lstm" else None)
        grad_x_part = np.empty((steps,) + h0.shape[:1] + (w_ih.shape[0],), x.dtype)
        grad_h_part = np.empty_like(grad_x_part)
        previous = [h0] + [record[0] for record in ctx.records[:-1]]
        for t in reversed(range(steps)):
            grad_h = grad_h + grad[t]
            grad_x_part[t], grad_h_part[t], grad_h, grad_c = _BACK[ctx.mode](
                ctx.records[t], previous[t], grad_h, grad_c, w_hh, matmul)
        hidden_inputs = np.stack(previous)
        grad_x = matmul(grad_x_part, w_ih)
        grad_w_ih = _sum_over_steps(grad_x_part, x, matmul)
        grad_w_hh = _sum_over_steps(grad_h_part, hidden_inputs, matmul)
        grad_b_ih = grad_x_part.sum(axis=(0, 1)) if ctx.has_bias else None
        grad_b_hh = grad_h_part.sum(axis=(0, 1)) if ctx.has_bias else None
        return grad_x, grad_h, grad_c, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


def _sum_over_steps(grad_part, inputs, matmul):
    """Σ_t Σ_n grad_part[t, n]ᵀ inputs[t, n] as one GEMM over the T·N rows (np.einsum would
    loop in C without BLAS, twenty times slower here)."""
    return matmul(grad_part.reshape(-1, grad_part.shape[-1]).T, inputs.reshape(-1, inputs.shape[-1]))


# One step forward: (x_part, h_part, h_prev, c_prev) → (h, c, what backward needs)
def _rnn_step(activation):
    def step(x_part, h_part, h_prev, c_prev, hidden):
        h = activation(x_part + h_part)
        return h, None, (h,)
    return step


def _lstm_step(x_part, h_part, h_prev, c_prev, hidden):
    a = x_part + h_part
    i, f, o = _sigmoid(a[:, :hidden]), _sigmoid(a[:, hidden:2 * hidden]), _sigmoid(a[:, 3 * hidden:])
    g = np.tanh(a[:, 2 * hidden:3 * hidden])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (h, c_prev, i, f, g, o, tanh_c)


def _gru_step(x_part, h_part, h_prev, c_prev, hidden):
    r = _sigmoid(x_part[:, :hidden] + h_part[:, :hidden])
    z = _sigmoid(x_part[:, hidden:2 * hidden] + h_part[:, hidden:2 * hidden])
    hidden_n = h_part[:, 2 * hidden:]
    n = np.tanh(x_part[:, 2 * hidden:] + r * hidden_n)
    h = (1 - z) * n + z * h_prev
    return h, None, (h, r, z, n, hidden_n)


# One step backward: (record, h_prev, ∂L/∂h_t, ∂L/∂c_t) → (∂L/∂x_part, ∂L/∂h_part, ∂L/∂h_{t−1}, ∂L/∂c_{t−1})
def _rnn_back(derivative):
    def back(record, h_prev, grad_h, grad_c, w_hh, matmul):
        grad_a = grad_h * derivative(record[0])
        return grad_a, grad_a, matmul(grad_a, w_hh), None
    return back


def _lstm_back(record, h_prev, grad_h, grad_c, w_hh, matmul):
    h, c_prev, i, f, g, o, tanh_c = record
    grad_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    grad_a = np.concatenate([grad_c * g * i * (1 - i), grad_c * c_prev * f * (1 - f),
                             grad_c * i * (1 - g * g), grad_h * tanh_c * o * (1 - o)], axis=1)
    return grad_a, grad_a, matmul(grad_a, w_hh), grad_c * f


def _gru_back(record, h_prev, grad_h, grad_c, w_hh, matmul):
    h, r, z, n, hidden_n = record
    grad_n = grad_h * (1 - z) * (1 - n * n)
    grad_r = grad_n * hidden_n * r * (1 - r)
    grad_z = grad_h * (h_prev - n) * z * (1 - z)
    grad_x_part = np.concatenate([grad_r, grad_z, grad_n], axis=1)
    grad_h_part = np.concatenate([grad_r, grad_z, grad_n * r], axis=1)
    return grad_x_part, grad_h_part, grad_h * z + matmul(grad_h_part, w_hh), None


_STEP = {"tanh": _rnn_step(np.tanh), "relu": _rnn_step(lambda a: np.maximum(a, 0)),
         "lstm": _lstm_step, "gru": _gru_step}
_BACK = {"tanh": _rnn_back(lambda h: 1 - h * h), "relu": _rnn_back(lambda h: (h > 0).astype(h.dtype)),
         "lstm": _lstm_back, "gru": _gru_back}
