"""Batch normalisation on the GPU.  Same function names and signatures as
``kernels/batchnorm.py``.

The statistics are per-channel reductions over N·L values: one thread block
per channel, each thread summing a strided slice, then a tree reduction in
shared memory (log2(block) steps instead of N·L serial adds).  The
elementwise normalisation and input gradient are one thread per element.
"""
from numba import cuda, float64

from .cuda_common import THREADS_PER_BLOCK, array_module, launch


@cuda.jit(device=True)
def _block_sum(shared, value):
    """Sum ``value`` over the threads of the block (all threads get the result)."""
    t = cuda.threadIdx.x
    shared[t] = value
    cuda.syncthreads()
    step = cuda.blockDim.x // 2
    while step > 0:
        if t < step:
            shared[t] += shared[t + step]
        cuda.syncthreads()
        step //= 2
    total = shared[0]
    cuda.syncthreads()
    return total


@cuda.jit
def _statistics_kernel(x, mean, var):
    """Block c: μ_c and the biased σ²_c of x[:, c, :], two passes for accuracy."""
    n, c, length = x.shape
    shared = cuda.shared.array(THREADS_PER_BLOCK, float64)
    ch = cuda.blockIdx.x
    count = n * length
    partial = 0.0
    for item in range(cuda.threadIdx.x, count, cuda.blockDim.x):
        partial += x[item // length, ch, item % length]
    mu = _block_sum(shared, partial) / count
    partial = 0.0
    for item in range(cuda.threadIdx.x, count, cuda.blockDim.x):
        d = x[item // length, ch, item % length] - mu
        partial += d * d
    sigma2 = _block_sum(shared, partial) / count
    if cuda.threadIdx.x == 0:
        mean[ch] = mu
        var[ch] = sigma2


@cuda.jit
def _normalize_kernel(x, mean, var, weight, bias, eps, out):
    n, c, length = x.shape
    for item in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        ch = (item // length) % c
        b = item // (c * length)
        i = item % length
        scale = weight[ch] / (var[ch] + eps) ** 0.5
        out[b, ch, i] = (x[b, ch, i] - mean[ch]) * scale + bias[ch]


@cuda.jit
def _gradient_sums_kernel(grad, x, mean, invstd, sum_g, sum_g_xhat):
    n, c, length = x.shape
    shared = cuda.shared.array(THREADS_PER_BLOCK, float64)
    ch = cuda.blockIdx.x
    partial_g = 0.0
    partial_gx = 0.0
    for item in range(cuda.threadIdx.x, n * length, cuda.blockDim.x):
        b = item // length
        i = item % length
        g = grad[b, ch, i]
        partial_g += g
        partial_gx += g * (x[b, ch, i] - mean[ch]) * invstd[ch]
    total_g = _block_sum(shared, partial_g)
    total_gx = _block_sum(shared, partial_gx)
    if cuda.threadIdx.x == 0:
        sum_g[ch] = total_g
        sum_g_xhat[ch] = total_gx


@cuda.jit
def _input_gradient_kernel(grad, x, mean, invstd, weight, sum_g, sum_g_xhat, out):
    n, c, length = x.shape
    count = n * length
    for item in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        ch = (item // length) % c
        b = item // (c * length)
        i = item % length
        x_hat = (x[b, ch, i] - mean[ch]) * invstd[ch]
        out[b, ch, i] = weight[ch] * invstd[ch] / count * (
            count * grad[b, ch, i] - sum_g[ch] - x_hat * sum_g_xhat[ch])


def batch_norm_forward(x, weight, bias, eps):
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    channels = x.shape[1]
    mean = xp.empty(channels, dtype=x.dtype)
    var = xp.empty(channels, dtype=x.dtype)
    _statistics_kernel[channels, THREADS_PER_BLOCK](x, mean, var)
    out = xp.empty_like(x)
    launch(_normalize_kernel, x.size, x, mean, var, weight, bias, eps, out)
    return out, mean, var


def batch_norm_backward(grad, x, mean, invstd, weight):
    xp = array_module(x)
    grad, x = xp.ascontiguousarray(grad), xp.ascontiguousarray(x)
    channels = x.shape[1]
    sum_g = xp.empty(channels, dtype=x.dtype)
    sum_g_xhat = xp.empty(channels, dtype=x.dtype)
    _gradient_sums_kernel[channels, THREADS_PER_BLOCK](grad, x, mean, invstd, sum_g, sum_g_xhat)
    grad_x = xp.empty_like(x)
    launch(_input_gradient_kernel, x.size, grad, x, mean, invstd, weight, sum_g, sum_g_xhat, grad_x)
    return grad_x, sum_g_xhat, sum_g
