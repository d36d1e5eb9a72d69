"""2-D convolution: argument checking, output sizes, and the differentiable op.

Seed 002's formula, in PyTorch's NCHW layout with stride s, dilation d and
zero padding:

    h[b,k,i,j] = Σ_m Σ_n Σ_p X[b, p, i·s + m·d, j·s + n·d] · W[k,p,m,n] + bias[k]

The arithmetic lives in two interchangeable places with the same function
names: ``tinynn.reference.conv`` (the formula as NumPy loops, read it first)
and ``tinynn.kernels.conv`` (Numba im2col + BLAS, what runs by default).
"""
from collections import namedtuple

import numpy as np

from ... import backend
from ...autograd import Function
from ...tensor import Tensor

ConvGeometry = namedtuple("ConvGeometry", "stride padding dilation groups out_hw")


def pair(value, name, op):
    """An int or a pair of ints as a pair (PyTorch's ``_pair``)."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}: expected {name} to be an int or a pair of ints, got {value!r}")


def output_size(size, kernel, stride, padding, dilation, ceil_mode=False):
    """floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1  (ceil in ceil_mode,
    where the last window must still start inside the input or the left padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def check_4d(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}"
                         + (" (add a batch dimension with x.unsqueeze(0))" if x.ndim == 3 else ""))
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")


def check_positive(op, name, values, minimum=1):
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: expected {name} >= {minimum}, got {values}")


def _resolve_padding(padding, kernel_hw, dilation, stride):
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


# The im2col matrix is C·KH·KW times the input; keeping it from the forward pass saves
# the weight gradient a second im2col (~15 % of a LeNet step) when it is this small.
# The price is memory: a LeNet/Keras-CNN step peaks ~2× PyTorch's (tens of MB);
# ResNet18 keeps only its 4×4 layers' matrices.
KEEP_COLUMNS_BYTES = 16 * 2 ** 20


def _columns_bytes(x, weight, geometry):
    positions = geometry.out_hw[0] * geometry.out_hw[1]
    return x.shape[0] * weight.shape[1] * geometry.groups * weight.shape[2] * weight.shape[3] \
        * positions * x.dtype.itemsize


class Conv2d(Function):
    """Forward h = X * W + b; backward ∂L/∂X, ∂L/∂W and ∂L/∂b = Σ_{b,i,j} ∂L/∂h
    (the formulas are written out in ``tinynn/reference/conv.py``)."""

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, impl):
        keep = ctx.needs_input_grad[1] and _columns_bytes(x, weight, geometry) <= KEEP_COLUMNS_BYTES
        out, columns = impl.conv2d_forward(x, weight, *geometry, keep_columns=True) if keep \
            else (impl.conv2d_forward(x, weight, *geometry), None)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, weight, columns)
        ctx.geometry, ctx.impl = geometry, impl
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, columns = ctx.saved_arrays
        stride, padding, dilation, groups, _ = ctx.geometry
        grad = np.ascontiguousarray(grad)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x, grad_w = ctx.impl.conv2d_backward(grad, x, weight, stride, padding, dilation, groups,
                                                  need_input=need_x, need_weight=need_w, columns=columns)
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
    padding, extra = _resolve_padding(padding, kernel_hw, dilation, stride)
    if any(extra):
        input = pad(input, (0, extra[1], 0, extra[0]))
    out_hw = tuple(output_size(size, k, s, p, d) for size, k, s, p, d in
                   zip(input.shape[2:], kernel_hw, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"conv2d: kernel {tuple(kernel_hw)} (dilation {dilation}) is larger than "
                         f"the padded input {tuple(s + 2 * p for s, p in zip(input.shape[2:], padding))} "
                         f"(input shape {input.shape}, padding {padding})")
    geometry = ConvGeometry(stride, padding, dilation, int(groups), out_hw)
    impl = backend.implementation("conv", input.device)
    return Conv2d.apply(input, weight, bias, geometry=geometry, impl=impl)


class Pad(Function):
    """Constant padding of the last two dims; backward crops the gradient."""

    @staticmethod
    def forward(ctx, x, widths, value):
        left, right, top, bottom = widths
        ctx.crop = (slice(top, top + x.shape[-2]), slice(left, left + x.shape[-1]))
        spec = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(x, spec, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[(Ellipsis,) + ctx.crop]


def pad(input, pad, mode="constant", value=0.0):
    """``F.pad`` for the last two dimensions: pad = (left, right, top, bottom)."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is implemented, got {mode!r}")
    widths = tuple(pad) + (0,) * (4 - len(pad))
    if len(pad) not in (2, 4) or any(w < 0 for w in widths):
        raise ValueError(f"pad: expected (left, right) or (left, right, top, bottom) of "
                         f"non-negative ints, got {pad}")
    return Pad.apply(input, widths, value)
