"""Convolution by plan: runs the algorithm ``kernels/plan.py`` chose with one device's
primitives (NumPy arrays and Numba loops on the CPU, CuPy arrays and CUDA kernels on the
GPU; ``primitives.matmul`` is OpenBLAS on Numba's threads or cuBLAS).

    h[b,k,i,j] = Σ_m Σ_n Σ_p X[b, p, i·s + m·d, j·s + n·d] · W[k,p,m,n]

im2col.  ``im2col`` copies every receptive field of image b into a column of
``cols[b]`` (C·KH·KW, OH·OW); the convolution is then ``out[b] = W (K, C·KH·KW) @
cols[b]``, one GEMM per image (one batched ``matmul``), which lands the result
in (N, K, OH, OW) order.  Backward reuses the layout: ∂L/∂W = Σ_b g[b] @ cols[b]ᵀ and
∂L/∂cols[b] = Wᵀ @ g[b], which ``col2im`` adds back onto the input.  Groups are one more
batch axis, because each group's rows of ``cols`` are contiguous.

batch_in_columns.  The batch goes into the columns, (C·KH·KW, N·L), and each pass is one
GEMM; the output and its gradient need a transposing copy, which pays only for thin GEMMs.

pointwise.  A 1×1 unpadded kernel needs no im2col: ``cols`` is the (strided) input.

winograd, depthwise, tiled.  Their own modules; here they are only dispatched to (tiled's
∂L/∂X is the im2col one: Wᵀ @ ∂L/∂h per image, then col2im).

A direct 7-deep loop in Numba was measured 10× slower than PyTorch on the ResNet shapes
against 5× for im2col + GEMM: the arithmetic goes to BLAS and Numba does only the memory
moves.  Measured numbers are printed by ``benchmarks/bench_conv.py``.
"""
from collections import namedtuple
from functools import partial

import numpy as np

from .plan import plan_conv2d

# What a device supplies.  ``winograd`` is a module with conv2d_3x3/conv2d_3x3_backward,
# ``tiled`` one with forward/backward_weight, or None where the planner never picks them.
Primitives = namedtuple("Primitives", "im2col col2im depthwise_forward depthwise_backward_input "
                                      "depthwise_backward_weight winograd tiled matmul")

def bind(primitives, features):
    """A device's ``conv2d_plan``, ``conv2d_forward`` and ``conv2d_backward`` (the Backend
    protocol's three convolution functions) from what the device offers."""
    return (partial(plan_conv2d, features=features), partial(conv2d_forward, primitives=primitives),
            partial(conv2d_backward, primitives=primitives))


# Per-image GEMMs starve BLAS when an image has few output positions (ResNet18's 4×4
# layer4): there one GEMM over the whole batch, with a transposing copy, was measured
# 3-4× faster for ∂L/∂W (L = 16 and 64) and 2× for ∂L/∂X (L = 16), and slower above.
FEW_POSITIONS_WEIGHT = 64
FEW_POSITIONS_INPUT = 16


def conv2d_forward(x, weight, plan, primitives):
    """(out, columns): columns is im2col's matrix when the plan keeps it for ∂L/∂W, else None."""
    if plan.algorithm.startswith("depthwise"):
        return primitives.depthwise_forward(x, weight, plan), None
    if plan.algorithm == "winograd":
        return primitives.winograd.conv2d_3x3(x, weight, plan.padding, plan.out_hw), None
    if plan.algorithm == "tiled":
        return primitives.tiled.forward(x, weight, plan), None
    n, k = x.shape[0], weight.shape[0]
    if plan.algorithm == "batch_in_columns":
        cols = primitives.im2col(x, weight.shape[2:], plan.stride, plan.padding, plan.dilation,
                                 plan.out_hw, batch_in_columns=True)
        out = _channels_first(primitives.matmul(weight.reshape(k, -1), cols.reshape(cols.shape[0], -1)), n)
    else:
        cols = _columns(x, weight.shape[2:], plan, primitives)
        grouped = cols.reshape(n, plan.groups, -1, cols.shape[2])             # (N, G, P·KH·KW, L)
        out = primitives.matmul(weight.reshape(plan.groups, k // plan.groups, -1), grouped)
    return out.reshape((n, k) + plan.out_hw), (cols if plan.keep_columns else None)


def conv2d_backward(grad, x, weight, plan, columns, need_input, need_weight, primitives):
    """(∂L/∂X or None, ∂L/∂W or None) in one call, so that work both need runs once
    (Winograd's transformed output gradient: 2.6 ms of a 36 ms Keras-MNIST-CNN step).
    ``x`` may be None when only ∂L/∂X is wanted, ``weight`` when only ∂L/∂W is."""
    if plan.algorithm == "winograd":
        return primitives.winograd.conv2d_3x3_backward(
            grad, plan.padding, plan.input_shape, weight=weight if need_input else None,
            x=x if need_weight else None)
    grad_x = _backward_input(grad, weight, plan.input_shape, plan, primitives) if need_input else None
    grad_w = _backward_weight(grad, x, plan.weight_shape, plan, columns, primitives) if need_weight \
        else None
    return grad_x, grad_w


def _backward_weight(grad, x, weight_shape, plan, columns, primitives):
    """∂L/∂W = Σ_b ∂L/∂h[b] @ cols[b]ᵀ per group (``columns``: cols kept by the forward pass)."""
    if plan.algorithm.startswith("depthwise"):
        return primitives.depthwise_backward_weight(grad, x, weight_shape, plan)
    if plan.algorithm == "tiled":
        return primitives.tiled.backward_weight(grad, x, weight_shape, plan)
    n, k = grad.shape[:2]
    if plan.algorithm == "batch_in_columns":
        cols = columns if columns is not None else primitives.im2col(
            x, weight_shape[2:], plan.stride, plan.padding, plan.dilation, plan.out_hw,
            batch_in_columns=True)
        return primitives.matmul(_batch_last(grad), cols.reshape(cols.shape[0], -1).T).reshape(weight_shape)
    cols = columns if columns is not None else _columns(x, weight_shape[2:], plan, primitives)
    if plan.groups == 1 and cols.shape[2] <= FEW_POSITIONS_WEIGHT:
        return primitives.matmul(_batch_last(grad), _batch_last(cols).T).reshape(weight_shape)
    cols = cols.reshape(n, plan.groups, -1, cols.shape[2])
    per_image = primitives.matmul(grad.reshape(n, plan.groups, k // plan.groups, -1), cols.transpose(0, 1, 3, 2))
    return per_image.sum(axis=0).reshape(weight_shape)


def _backward_input(grad, weight, input_shape, plan, primitives):
    """∂L/∂X = col2im(Wᵀ @ ∂L/∂h[b]) per group (a tiled stride-1 layer: the transposed convolution)."""
    if plan.algorithm.startswith("depthwise"):
        return primitives.depthwise_backward_input(grad, weight, input_shape, plan)
    if plan.algorithm == "tiled" and primitives.tiled.transposes(plan):
        return primitives.tiled.backward_input(grad, weight, plan)
    n, k = grad.shape[:2]
    groups, kernel_hw = plan.groups, weight.shape[2:]
    if plan.algorithm == "batch_in_columns":
        grad_cols = primitives.matmul(weight.reshape(k, -1).T, _batch_last(grad))   # (C·KH·KW, N·L)
        return primitives.col2im(grad_cols.reshape(grad_cols.shape[0], n, -1), input_shape,
                                 kernel_hw, plan.stride, plan.padding, plan.dilation, plan.out_hw,
                                 batch_in_columns=True)
    if groups == 1 and plan.out_hw[0] * plan.out_hw[1] <= FEW_POSITIONS_INPUT:
        grad_cols = primitives.matmul(weight.reshape(k, -1).T, _batch_last(grad))   # (C·KH·KW, N·L)
        grad_cols = np.ascontiguousarray(grad_cols.reshape(-1, n, grad.shape[2] * grad.shape[3])
                                         .transpose(1, 0, 2))                  # (N, C·KH·KW, L)
    else:
        weight_t = weight.reshape(groups, k // groups, -1).transpose(0, 2, 1)  # (G, P·KH·KW, K/G)
        grad_cols = primitives.matmul(weight_t, grad.reshape(n, groups, k // groups, -1))
        grad_cols = grad_cols.reshape(n, -1, grad_cols.shape[3])              # (N, C·KH·KW, L)
    return _uncolumns(grad_cols, input_shape, kernel_hw, plan, primitives)


def _channels_first(per_channel, n):
    """(K, N·L) → (N, K, L), the batch back in front."""
    return np.ascontiguousarray(per_channel.reshape(per_channel.shape[0], n, -1).transpose(1, 0, 2))


def _batch_last(per_image):
    """(N, K, ...) → (K, N·L), a gradient or im2col's columns in the batch-in-columns layout."""
    n, k = per_image.shape[:2]
    return np.ascontiguousarray(per_image.reshape(n, k, -1).transpose(1, 0, 2)).reshape(k, -1)


def _columns(x, kernel_hw, plan, primitives):
    """cols (N, C·KH·KW, OH·OW); a pointwise kernel needs only the strided input."""
    if plan.algorithm == "pointwise":
        picked = x[:, :, ::plan.stride[0], ::plan.stride[1]]
        return np.ascontiguousarray(picked).reshape(x.shape[0], x.shape[1], -1)
    return primitives.im2col(x, kernel_hw, plan.stride, plan.padding, plan.dilation, plan.out_hw)


def _uncolumns(grad_cols, input_shape, kernel_hw, plan, primitives):
    """The adjoint of ``_columns``."""
    if plan.algorithm != "pointwise":
        return primitives.col2im(grad_cols, input_shape, kernel_hw, plan.stride, plan.padding,
                                 plan.dilation, plan.out_hw)
    if plan.stride == (1, 1):
        return grad_cols.reshape(input_shape)
    out = np.zeros_like(grad_cols, shape=tuple(input_shape))
    out[:, :, ::plan.stride[0], ::plan.stride[1]] = grad_cols.reshape(tuple(input_shape[:2]) + plan.out_hw)
    return out
