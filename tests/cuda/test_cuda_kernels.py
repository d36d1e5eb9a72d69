"""Every CUDA kernel equal to the NumPy reference, through the Backend protocol, on small
shapes (the simulator runs each GPU thread as a Python thread) covering stride, padding,
dilation, groups, depthwise multipliers, pooling ties, ceil_mode and odd sizes."""
import os

import numpy as np
import pytest

from tinynn import reference
from tinynn.nn.modules.utils import output_size

cuda_backend = pytest.importorskip("tinynn.kernels.cuda_backend")

CONV_CASES = [
    # x shape, w shape, stride, padding, dilation, groups
    ((1, 2, 5, 4), (3, 2, 3, 2), (1, 2), (1, 0), (1, 1), 1),
    ((2, 3, 6, 5), (4, 3, 1, 1), (2, 2), (0, 0), (1, 1), 1),
    ((1, 4, 5, 5), (2, 2, 2, 2), (1, 1), (0, 1), (2, 1), 2),
    ((2, 3, 5, 5), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3),     # depthwise
    ((1, 2, 7, 6), (4, 1, 3, 3), (2, 1), (1, 2), (1, 2), 2),     # depthwise, multiplier 2
]


def _device(array):
    """The array as the kernels receive it: NumPy in the simulator, a CuPy array on a GPU."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return array
    import cupy
    return cupy.asarray(array)


def _host(array):
    return array.get() if hasattr(array, "get") else np.asarray(array)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CONV_CASES)
def test_cuda_conv2d_matches_reference(case, dtype):
    x_shape, w_shape, stride, padding, dilation, groups = case
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    out_hw = tuple(output_size(s, k, a, p, d) for s, k, a, p, d in
                   zip(x_shape[2:], w_shape[2:], stride, padding, dilation))
    geometry = (stride, padding, dilation, groups, out_hw)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    plan = cuda_backend.conv2d_plan(x_shape, w_shape, np.dtype(dtype), *geometry, True)
    out, columns = cuda_backend.conv2d_forward(_device(x), _device(w), plan)
    ref_plan = reference.conv2d_plan(x_shape, w_shape, np.dtype(dtype), *geometry, False)
    expected, _ = reference.conv2d_forward(x, w, ref_plan)
    np.testing.assert_allclose(_host(out), expected, **tol)
    g = rng.standard_normal(expected.shape).astype(dtype)
    grads = cuda_backend.conv2d_backward(_device(g), _device(x), _device(w), plan, columns, True, True)
    for mine, ref in zip(grads, reference.conv2d_backward(g, x, w, ref_plan, None, True, True)):
        np.testing.assert_allclose(_host(mine), ref, **tol)


POOL_CASES = [
    # shape, kernel, stride, padding, dilation, ceil_mode
    ((1, 2, 5, 6), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 1, 5, 5), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((1, 2, 7, 5), (3, 2), (1, 2), (1, 1), (2, 1), False),
]


def _geometry(case):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    out_hw = tuple(output_size(s, k, a, p, d, ceil_mode) for s, k, a, p, d in
                   zip(shape[2:], kernel, stride, padding, dilation))
    return shape, kernel, stride, padding, dilation, out_hw


@pytest.mark.parametrize("case", POOL_CASES)
def test_cuda_max_pool_matches_reference_with_ties_and_nan(case):
    shape, kernel, stride, padding, dilation, out_hw = _geometry(case)
    x = np.random.default_rng(1).standard_normal(shape)
    x[..., ::2, :] = 3.0                               # ties: the first maximum must win
    x[0, 0, 1, :2] = np.nan                            # and NaN wins over everything
    out, index = cuda_backend.max_pool2d_forward(_device(x), kernel, stride, padding, dilation, out_hw)
    expected, expected_index = reference.max_pool2d_forward(x, kernel, stride, padding, dilation, out_hw)
    np.testing.assert_array_equal(_host(out), expected)
    np.testing.assert_array_equal(_host(index), expected_index)
    g = np.random.default_rng(2).standard_normal(expected.shape)
    np.testing.assert_allclose(_host(cuda_backend.max_pool2d_backward(_device(g), index, shape)),
                               reference.max_pool2d_backward(g, expected_index, shape), rtol=1e-12)


@pytest.mark.parametrize("include_pad,override", [(True, None), (False, None), (True, 2)])
@pytest.mark.parametrize("case", POOL_CASES[:2])
def test_cuda_avg_pool_matches_reference(case, include_pad, override):
    shape, kernel, stride, padding, _, out_hw = _geometry(case)
    x = np.random.default_rng(3).standard_normal(shape)
    out = cuda_backend.avg_pool2d_forward(_device(x), kernel, stride, padding, out_hw, include_pad, override)
    expected = reference.avg_pool2d_forward(x, kernel, stride, padding, out_hw, include_pad, override)
    np.testing.assert_allclose(_host(out), expected, rtol=1e-12)
    g = np.random.default_rng(4).standard_normal(expected.shape)
    np.testing.assert_allclose(
        _host(cuda_backend.avg_pool2d_backward(_device(g), shape, kernel, stride, padding, include_pad, override)),
        reference.avg_pool2d_backward(g, shape, kernel, stride, padding, include_pad, override), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 2, 5), (2, 3, 1), (4, 1, 7)])
def test_cuda_batch_norm_matches_reference(shape, dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    ours = cuda_backend.batch_norm_forward(_device(x), _device(w), _device(b), 1e-5)
    expected = reference.batch_norm_forward(x, w, b, 1e-5)
    for mine, ref in zip(ours, expected):
        np.testing.assert_allclose(_host(mine), ref, **tol)
    invstd = (1 / np.sqrt(expected[2] + 1e-5)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    ours = cuda_backend.batch_norm_backward(_device(g), _device(x), _device(expected[1]),
                                              _device(invstd), _device(w))
    for mine, ref in zip(ours, reference.batch_norm_backward(g, x, expected[1], invstd, w)):
        np.testing.assert_allclose(_host(mine), ref, **tol)


def test_cuda_sparse_and_int8_products_match_reference():
    rng = np.random.default_rng(6)
    a = rng.integers(0, 256, (5, 30)).astype(np.uint8)
    b = rng.integers(-127, 128, (4, 30)).astype(np.int8)
    np.testing.assert_array_equal(_host(cuda_backend.int8_matmul(_device(a), _device(b))),
                                  reference.int8_matmul(a, b))
    x = rng.integers(0, 256, (2, 3, 6, 5)).astype(np.uint8)
    w = rng.integers(-127, 128, (4, 3, 3, 2)).astype(np.int8)
    np.testing.assert_array_equal(
        _host(cuda_backend.int8_conv2d(_device(x), _device(w), (1, 2), (1, 1), (4, 2))),
        reference.int8_conv2d(x, w, (1, 2), (1, 1), (4, 2)))
    from tinynn.serialization import to_csr
    dense = rng.standard_normal((6, 9))
    dense[rng.random(dense.shape) > 0.3] = 0
    inputs = rng.standard_normal((3, 9))
    parts = to_csr(dense)
    np.testing.assert_allclose(_host(cuda_backend.csr_linear(_device(inputs), *map(_device, parts))),
                               reference.csr_linear(inputs, *parts), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer, x_shape, w_shape, layout", [
    ("quantized_linear", (5, 30), (4, 30), ()),
    ("quantized_conv2d", (2, 3, 7, 6), (4, 3, 3, 2), ((2, 1), ((1, 0), (2, 1)), (1, 2))),
])
def test_cuda_quantized_layers_match_reference(layer, x_shape, w_shape, layout):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.integers(-127, 128, w_shape).astype(np.int8)
    scale, bias = rng.uniform(0.01, 0.1, 4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    ours = getattr(cuda_backend, layer)(_device(x), 0.02, 120, cuda_backend.prepare_int8_weight(_device(w)),
                                        _device(scale), _device(bias), *layout)
    np.testing.assert_allclose(
        _host(ours), getattr(reference, layer)(x, 0.02, 120, reference.prepare_int8_weight(w), scale, bias, *layout),
        rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_cuda_adam_update_matches_reference(amsgrad):
    """On a GPU CuPy runs the formula as array operations; the simulator's arrays are NumPy's."""
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((6, 5)).astype(np.float32) for _ in range(3)]
    arrays += [rng.random((6, 5)).astype(np.float32) for _ in range(1 + amsgrad)]
    ours = [_device(a.copy()) for a in arrays] + ([] if amsgrad else [None])
    theirs = [a.copy() for a in arrays] + ([] if amsgrad else [None])
    cuda_backend.adam_update(*ours, 0.01, 0.9, 0.999, 1e-8, 4)
    reference.adam_update(*theirs, 0.01, 0.9, 0.999, 1e-8, 4)
    for mine, ref in zip(ours, theirs):
        if ref is not None:
            np.testing.assert_allclose(_host(mine), ref, rtol=1e-6, atol=1e-7)
