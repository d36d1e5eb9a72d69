"""Max and average pooling as the definitions read, vectorised over batch,
channels and output positions; the loops run over the kernel offsets (m, n).

    max:  y[b,c,i,j] = max_{m,n} X[b, c, i·s - p + m·d, j·s - p + n·d]
          ∂L/∂X goes to the (first) maximal element of each window, or to its
          last NaN: NaN propagates, as in PyTorch
    avg:  y[b,c,i,j] = 1/|window| Σ_{m,n} X[b, c, i·s - p + m, j·s - p + n]
          ∂L/∂X[..] += ∂L/∂y[b,c,i,j] / |window| for every element of the window

|window| is PyTorch's divisor: the window clipped to the padded input
(count_include_pad=True) or to the input itself (False), or divisor_override.
"""
import numpy as np


def _padded(x, padding, needed_hw, fill):
    """Pad (top, left) by ``padding`` and (bottom, right) so that ``needed_hw`` fits
    (ceil_mode windows may run past the padded input)."""
    (ph, pw), (h, w) = padding, x.shape[2:]
    bottom = max(needed_hw[0] - h - ph, 0)
    right = max(needed_hw[1] - w - pw, 0)
    return np.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)), constant_values=fill)


def _needed(out_hw, kernel, stride, dilation):
    return tuple((o - 1) * s + d * (k - 1) + 1 for o, k, s, d in zip(out_hw, kernel, stride, dilation))


def _window(xp, m, n, out_hw, stride, dilation):
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return xp[:, :, m * dh:m * dh + sh * (oh - 1) + 1:sh, n * dw:n * dw + sw * (ow - 1) + 1:sw]


def max_pool2d_forward(x, kernel, stride, padding, dilation, out_hw):
    """Returns the maxima and, for each, its flat index iy·W + ix in the input plane."""
    xp = _padded(x, padding, _needed(out_hw, kernel, stride, dilation), -np.inf)
    out = np.full(x.shape[:2] + tuple(out_hw), -np.inf, dtype=x.dtype)
    index = np.zeros(out.shape, dtype=np.int64)
    rows = np.arange(out_hw[0]) * stride[0] - padding[0]
    cols = np.arange(out_hw[1]) * stride[1] - padding[1]
    for m in range(kernel[0]):
        for n in range(kernel[1]):
            window = _window(xp, m, n, out_hw, stride, dilation)
            # strict: ties keep the first element; NaN always wins (the last NaN), as PyTorch
            better = (window > out) | np.isnan(window)
            flat = (rows[:, None] + m * dilation[0]) * x.shape[3] + cols[None, :] + n * dilation[1]
            out = np.where(better, window, out)
            index = np.where(better, flat, index)
    return out, index


def max_pool2d_backward(grad, index, input_shape):
    n, c, h, w = input_shape
    grad_x = np.zeros((n * c, h * w), dtype=grad.dtype)
    planes = np.arange(n * c)[:, None]
    np.add.at(grad_x, (planes, index.reshape(n * c, -1)), grad.reshape(n * c, -1))
    return grad_x.reshape(input_shape)


def _axis_divisor(size, out, kernel, stride, pad, count_include_pad):
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    padded_count = end - start
    inside_count = np.minimum(end, size) - np.maximum(start, 0)
    return padded_count if count_include_pad else inside_count


def _avg_pool_divisor(input_hw, out_hw, kernel, stride, padding, count_include_pad,
                     divisor_override):
    """|window| for every output position (PyTorch's rule), shape (OH, OW)."""
    if divisor_override:
        return np.full(out_hw, float(divisor_override))
    rows = _axis_divisor(input_hw[0], out_hw[0], kernel[0], stride[0], padding[0], count_include_pad)
    cols = _axis_divisor(input_hw[1], out_hw[1], kernel[1], stride[1], padding[1], count_include_pad)
    return (rows[:, None] * cols[None, :]).astype(np.float64)


def avg_pool2d_forward(x, kernel, stride, padding, out_hw, count_include_pad, divisor_override):
    ones = (1, 1)
    xp = _padded(x, padding, _needed(out_hw, kernel, stride, ones), 0.0)
    total = np.zeros(x.shape[:2] + tuple(out_hw), dtype=x.dtype)
    for m in range(kernel[0]):
        for n in range(kernel[1]):
            total += _window(xp, m, n, out_hw, stride, ones)
    divisor = _avg_pool_divisor(x.shape[2:], out_hw, kernel, stride, padding, count_include_pad,
                               divisor_override)
    return (total / divisor).astype(x.dtype)


def avg_pool2d_backward(grad, input_shape, kernel, stride, padding, count_include_pad,
                        divisor_override):
    ones = (1, 1)
    out_hw = grad.shape[2:]
    divisor = _avg_pool_divisor(input_shape[2:], out_hw, kernel, stride, padding,
                               count_include_pad, divisor_override)
    share = (grad / divisor).astype(grad.dtype)
    (ph, pw) = padding
    grad_xp = _padded(np.zeros(input_shape, dtype=grad.dtype), padding,
                      _needed(out_hw, kernel, stride, ones), 0.0)
    for m in range(kernel[0]):
        for n in range(kernel[1]):
            _window(grad_xp, m, n, out_hw, stride, ones)[...] += share
    return grad_xp[:, :, ph:ph + input_shape[2], pw:pw + input_shape[3]]
