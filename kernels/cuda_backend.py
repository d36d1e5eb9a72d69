"""The CUDA backend: every function of the ``tinynn.backend.Backend`` protocol, on CuPy
arrays (or, under Numba's simulator, NumPy arrays standing in for GPU memory).  Numba
CUDA kernels do the gathers and the per-channel loops; cuBLAS does the matrix products.

    convolution      plan.py chooses (no Winograd, no batch-in-columns here);
                     conv.py runs it with the CUDA primitives of cuda_conv.py
    pooling          cuda_pool.py
    batch norm       cuda_batchnorm.py
    ReLU, Adam       NumPy's formula, which CuPy runs on the GPU (elementwise.py, optim.py)
    sparse, int8     the dense product on cuBLAS / CuPy's integer matmul (correct, not tuned)
"""
import numpy as np

from . import conv, cuda_conv, plan
from .cuda_common import array_module
from .cuda_batchnorm import batch_norm_backward, batch_norm_forward  # noqa: F401
from .cuda_pool import (  # noqa: F401
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
)
from .elementwise import erf as _host_erf
from .elementwise import clip, clip_backward, relu, relu_backward  # noqa: F401
from .optim import adam_update  # noqa: F401

def matmul(a, b):
    """A @ B on cuBLAS (CuPy's ``@``)."""
    return a @ b


PRIMITIVES = conv.Primitives(
    im2col=cuda_conv.im2col, col2im=cuda_conv.col2im, depthwise_forward=cuda_conv.depthwise_forward,
    depthwise_backward_input=cuda_conv.depthwise_backward_input,
    depthwise_backward_weight=cuda_conv.depthwise_backward_weight, winograd=None, tiled=None, matmul=matmul)

conv2d_plan, conv2d_forward, conv2d_backward = conv.bind(PRIMITIVES, plan.CUDA_FEATURES)


def csr_linear(x, values, columns, starts):
    """y = x Wᵀ with W rebuilt dense on the device: correct everywhere, fast only on cuBLAS."""
    xp = array_module(x)
    counts = np.diff(starts.get() if hasattr(starts, "get") else np.asarray(starts))
    rows = xp.asarray(np.repeat(np.arange(len(counts)), counts))
    dense = xp.zeros((len(counts), x.shape[1]), dtype=x.dtype)
    dense[rows, xp.asarray(columns).astype(xp.int64)] = xp.asarray(values)
    return x @ dense.T


def int8_matmul(a, b):
    return a.astype("int32") @ b.astype("int32").T


def prepare_int8_weight(weight):
    """The weight on the device as it is, Σ q_w per output channel, and the weight again."""
    return weight, weight.reshape(weight.shape[0], -1).sum(axis=1, dtype=array_module(weight).int64), weight


def _quantize(x, scale, zero_point):
    xp = array_module(x)
    return xp.clip(xp.rint(x / xp.asarray(scale, dtype=x.dtype)) + zero_point, 0, 255).astype(xp.uint8)


def _dequantize(accumulated, zero_point, row_sums, scale, weight_scale, bias, dtype):
    """s·s_c·(acc − z Σ q_w) + bias with the channel on axis 1, in the reference's order."""
    shape = (1, -1) + (1,) * (accumulated.ndim - 2)
    out = accumulated.astype(dtype)
    out -= (zero_point * row_sums).astype(dtype).reshape(shape)
    out *= (scale * weight_scale).astype(dtype).reshape(shape)
    return out if bias is None else out + bias.astype(dtype).reshape(shape)


def quantized_linear(x, scale, zero_point, prepared, weight_scale, bias):
    """The formula with CuPy's array operations (exact integer product, not tuned)."""
    weight, row_sums, _ = prepared
    return _dequantize(int8_matmul(_quantize(x, scale, zero_point), weight), zero_point, row_sums, scale,
                       weight_scale, bias, x.dtype)


def quantized_conv2d(x, scale, zero_point, prepared, weight_scale, bias, stride, padding, dilation):
    """Quantise, pad with z, the integer convolution below, dequantise (not tuned)."""
    weight, row_sums, _ = prepared
    q = array_module(x).pad(_quantize(x, scale, zero_point), ((0, 0), (0, 0)) + tuple(padding),
                            constant_values=zero_point)
    out_hw = tuple((size - d * (k - 1) - 1) // s + 1
                   for size, k, s, d in zip(q.shape[2:], weight.shape[2:], stride, dilation))
    return _dequantize(int8_conv2d(q, weight, stride, dilation, out_hw), zero_point, row_sums, scale,
                       weight_scale, bias, x.dtype)


def int8_conv2d(x, weight, stride, dilation, out_hw):
    """CUDA im2col, then CuPy's integer matmul (exact; not tuned like cuBLAS's float GEMM)."""
    cols = cuda_conv.im2col(x, weight.shape[2:], stride, (0, 0), dilation, out_hw)   # (N, CKK, L)
    out = weight.reshape(weight.shape[0], -1).astype("int32") @ cols.astype("int32")
    return out.reshape((x.shape[0], weight.shape[0]) + tuple(out_hw))


def erf(x):
    """The error function: CuPy's on a GPU, the CPU ufunc on the simulator's host arrays."""
    if isinstance(x, np.ndarray):
        return _host_erf(x)
    from cupyx.scipy.special import erf as gpu_erf
    return gpu_erf(x)
