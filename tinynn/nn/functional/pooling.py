"""Max, average and adaptive average pooling (PyTorch's signatures and defaults).

    max:  y[b,c,i,j] = max over the window;   ∂L/∂X = ∂L/∂y at the window's maximum
    avg:  y[b,c,i,j] = Σ window / |window|;   ∂L/∂X = ∂L/∂y / |window| over the window

The arithmetic runs in the backend (``tinynn/backend.py``): ``tinynn/reference/pool.py``
(readable) or ``kernels/pool.py`` (Numba), which have the same function names.
"""
import numpy as np

from ...autograd import Function
from ..modules.utils import check_4d, check_positive, output_size, pair

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    check_4d(op, x)
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    dilation = pair(dilation, "dilation", op)
    check_positive(op, "kernel_size", kernel)
    check_positive(op, "stride", stride)
    check_positive(op, "dilation", dilation)
    check_positive(op, "padding", padding, minimum=0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} should be at most half of kernel_size {kernel}")
    out_hw = tuple(output_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d in
                   zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded "
                         f"input {tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))} "
                         f"(input shape {x.shape})")
    return kernel, stride, padding, dilation, out_hw


class MaxPool2d(Function):
    """y = max of each window;  ∂L/∂X is ∂L/∂y at the window's (first) maximum, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, geometry):
        out, index = ctx.backend.max_pool2d_forward(x, *geometry)
        ctx.save_for_backward(index)            # also returned to the caller, who might change it
        ctx.shape = x.shape
        return out, index

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_arrays
        return ctx.backend.max_pool2d_backward(grad, index, ctx.shape)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    geometry = _pool_geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    out, index = MaxPool2d.apply(input, geometry=geometry)
    return (out, index) if return_indices else out


class AvgPool2d(Function):
    """y = mean of each window;  ∂L/∂X[e] = Σ over windows containing e of ∂L/∂y / |window|."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.shape, ctx.geometry = x.shape, geometry
        return ctx.backend.avg_pool2d_forward(x, *geometry)

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, padding, _, include_pad, override = ctx.geometry
        return ctx.backend.avg_pool2d_backward(np.ascontiguousarray(grad), ctx.shape, kernel, stride,
                                               padding, include_pad, override)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    kernel, stride, padding, _, out_hw = _pool_geometry("avg_pool2d", input, kernel_size, stride,
                                                        padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: expected divisor_override > 0, got {divisor_override}")
    geometry = (kernel, stride, padding, out_hw, count_include_pad, divisor_override)
    return AvgPool2d.apply(input, geometry=geometry)


def _adaptive_bins(size, out):
    """PyTorch's bins: [floor(i·size/out), ceil((i+1)·size/out)) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


class AdaptiveAvgPool2d(Function):
    """y[b,c,i,j] = mean of bin (i, j); each input element gets ∂L/∂y / |bin| from each
    bin it lies in.  Few, large bins: NumPy slices are fast enough, no kernel needed."""

    @staticmethod
    def forward(ctx, x, out_hw):
        rows, cols = (_adaptive_bins(s, o) for s, o in zip(x.shape[2:], out_hw))
        ctx.shape, ctx.bins = x.shape, (rows, cols)
        out = np.empty(x.shape[:2] + tuple(out_hw), dtype=x.dtype)
        for i, (top, bottom) in enumerate(rows):
            for j, (left, right) in enumerate(cols):
                out[:, :, i, j] = x[:, :, top:bottom, left:right].mean(axis=(2, 3))
        return out

    @staticmethod
    def backward(ctx, grad):
        rows, cols = ctx.bins
        grad_x = np.zeros(ctx.shape, dtype=grad.dtype)
        for i, (top, bottom) in enumerate(rows):
            for j, (left, right) in enumerate(cols):
                area = (bottom - top) * (right - left)
                grad_x[:, :, top:bottom, left:right] += grad[:, :, i:i + 1, j:j + 1] / area
        return grad_x


def adaptive_avg_pool2d(input, output_size):
    check_4d("adaptive_avg_pool2d", input)
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    out_hw = tuple(size if o is None else o for size, o in zip(input.shape[2:], output_size))
    check_positive("adaptive_avg_pool2d", "output_size", out_hw)
    return AdaptiveAvgPool2d.apply(input, out_hw=out_hw)
