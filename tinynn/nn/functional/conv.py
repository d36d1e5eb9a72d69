"""2-D convolution: argument checking, output sizes, and the differentiable op.

Seed 002's formula, in PyTorch's NCHW layout with stride s, dilation d and
zero padding:

    h[b,k,i,j] = Σ_m Σ_n Σ_p X[b, p, i·s + m·d, j·s + n·d] · W[k,p,m,n] + bias[k]

The arithmetic runs in the backend (``tinynn/backend.py``): read
``tinynn/reference/conv.py`` for the formula as NumPy loops, ``kernels/plan.py`` and
``kernels/conv.py`` for what runs by default (Numba im2col + BLAS, Winograd, depthwise).
"""
import numpy as np

from ...autograd import Function
from ...tensor import Tensor
from ..modules.utils import check_4d, check_positive, output_size, pair
from .padding import pad

__all__ = ["conv2d"]


def resolve_padding(padding, kernel_hw, dilation, stride):
    """Symmetric (top, left) padding plus any extra (bottom, right) that 'same' needs."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                             f"(stride={stride}), as in PyTorch")
        total = [d * (k - 1) for k, d in zip(kernel_hw, dilation)]
        return tuple(t // 2 for t in total), tuple(t - t // 2 - t // 2 for t in total)
    if isinstance(padding, str):
        raise ValueError(f"conv2d: expected padding to be an int, a pair, 'same' or 'valid', "
                         f"got {padding!r}")
    padding = pair(padding, "padding", "conv2d")
    check_positive("conv2d", "padding", padding, minimum=0)
    return padding, (0, 0)


def _check_conv_inputs(x, weight, bias, groups):
    check_4d("conv2d", x)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (out_channels, in_channels/groups, kH, kW), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: expected groups to be a positive int, got {groups!r}")
    channels, out_channels = x.shape[1], weight.shape[0]
    if channels % groups or out_channels % groups:
        raise ValueError(f"conv2d: in_channels ({channels}) and out_channels ({out_channels}) "
                         f"must both be divisible by groups ({groups})")
    if weight.shape[1] * groups != channels:
        raise ValueError(f"conv2d: input has {channels} channels but the weight of shape "
                         f"{weight.shape} expects {weight.shape[1] * groups} "
                         f"(weight.shape[1]={weight.shape[1]} × groups={groups})")
    if x.dtype != weight.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} does not match weight dtype {weight.dtype}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise ValueError(f"conv2d: expected a bias of shape ({out_channels},), got {bias.shape}")


class Conv2d(Function):
    """Forward h = X * W + b; backward ∂L/∂X, ∂L/∂W and ∂L/∂b = Σ_{b,i,j} ∂L/∂h.

    The backend plans the algorithm once (``kernels/plan.py``), computes h and both
    gradients by that plan; the formulas are written out in ``tinynn/reference/conv.py``."""

    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        plan = ctx.backend.conv2d_plan(x.shape, weight.shape, x.dtype, *geometry,
                                       keep_columns=ctx.needs_input_grad[1])
        out, columns = ctx.backend.conv2d_forward(x, weight, plan)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.save_for_backward(ctx.needed_by(x, 1), ctx.needed_by(weight, 0), columns)
        ctx.plan = plan
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, columns = ctx.saved_arrays
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x, grad_w = ctx.backend.conv2d_backward(np.ascontiguousarray(grad), x, weight, ctx.plan,
                                                     columns, need_x, need_w)
        grad_b = grad.sum(axis=(0, 2, 3)) if need_b else None
        return grad_x, grad_w, grad_b


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's ``F.conv2d``: input (N, C, H, W), weight (K, C/groups, kH, kW)."""
    _check_conv_inputs(input, weight, bias, groups)
    stride = pair(stride, "stride", "conv2d")
    dilation = pair(dilation, "dilation", "conv2d")
    check_positive("conv2d", "stride", stride)
    check_positive("conv2d", "dilation", dilation)
    kernel_hw = weight.shape[2:]
    padding, extra = resolve_padding(padding, kernel_hw, dilation, stride)
    if any(extra):
        input = pad(input, (0, extra[1], 0, extra[0]))
    out_hw = tuple(output_size(size, k, s, p, d) for size, k, s, p, d in
                   zip(input.shape[2:], kernel_hw, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"conv2d: kernel {tuple(kernel_hw)} (dilation {dilation}) is larger than "
                         f"the padded input {tuple(s + 2 * p for s, p in zip(input.shape[2:], padding))} "
                         f"(input shape {input.shape}, padding {padding})")
    return Conv2d.apply(input, weight, bias, geometry=(stride, padding, dilation, int(groups), out_hw))
