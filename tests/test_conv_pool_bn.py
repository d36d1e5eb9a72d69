"""Convolution, pooling and batch norm: Numba kernels == NumPy reference on
hypothesis-generated configurations, float64 gradcheck through autograd on both
paths, agreement with PyTorch, and clear errors for bad input."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import backend
from tinynn.kernels import batchnorm as fast_bn, conv as fast_conv, pool as fast_pool, winograd
from tinynn.nn.functional.conv import output_size
from tinynn.reference import batchnorm as ref_bn, conv as ref_conv, pool as ref_pool
from oracle import check_against_torch, check_gradients, requires_torch

PATHS = ["reference", "numba"]


@st.composite
def conv_config(draw, depthwise_multipliers=None):
    """Any grouped convolution, or with ``depthwise_multipliers`` (a list of allowed
    out_channels / in_channels) a depthwise one (groups = in_channels)."""
    groups = draw(st.integers(1, 4))
    c = groups if depthwise_multipliers else groups * draw(st.integers(1, 2))
    k = groups * draw(st.sampled_from(depthwise_multipliers or [1, 2]))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = [d * (q - 1) + 1 - 2 * p for d, q, p in zip(dilation, (kh, kw), padding)]
    h, w = (max(1, s) + draw(st.integers(0, 3)) for s in span)
    n = draw(st.integers(1, 2))
    out_hw = tuple(output_size(size, q, s, p, d) for size, q, s, p, d in
                   zip((h, w), (kh, kw), stride, padding, dilation))
    return dict(x_shape=(n, c, h, w), w_shape=(k, c // groups, kh, kw), stride=stride,
                padding=padding, dilation=dilation, groups=groups, out_hw=out_hw)


def _conv_arrays(cfg, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(cfg["x_shape"]).astype(dtype)
    w = rng.standard_normal(cfg["w_shape"]).astype(dtype)
    g = rng.standard_normal((cfg["x_shape"][0], cfg["w_shape"][0]) + cfg["out_hw"]).astype(dtype)
    return x, w, g


def _geometry(cfg):
    return cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"]


TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


# ------------------------------------------------------------------ kernel == reference
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=conv_config())
def test_conv_kernel_equals_reference(dtype, cfg):
    x, w, g = _conv_arrays(cfg, dtype)
    geometry = _geometry(cfg)
    fast = fast_conv.conv2d_forward(x, w, *geometry, cfg["out_hw"])
    ref = ref_conv.conv2d_forward(x, w, *geometry, cfg["out_hw"])
    assert fast.dtype == dtype and fast.shape == ref.shape
    np.testing.assert_allclose(fast, ref, **TOLERANCE[dtype])
    np.testing.assert_allclose(fast_conv.conv2d_backward_input(g, w, x.shape, *geometry),
                               ref_conv.conv2d_backward_input(g, w, x.shape, *geometry),
                               **TOLERANCE[dtype])
    np.testing.assert_allclose(fast_conv.conv2d_backward_weight(g, x, w.shape, *geometry),
                               ref_conv.conv2d_backward_weight(g, x, w.shape, *geometry),
                               **TOLERANCE[dtype])


@pytest.mark.parametrize("layout, multipliers", [("planar", [1, 2, 3]), ("channels_last", [1])])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_depthwise_kernels_equal_reference_in_both_layouts(layout, multipliers, dtype, data):
    """conv2d picks the layout by plane width; each is held to the reference on every shape."""
    cfg = data.draw(conv_config(depthwise_multipliers=multipliers))
    x, w, g = _conv_arrays(cfg, dtype)
    geometry = cfg["stride"], cfg["padding"], cfg["dilation"]
    groups = cfg["groups"]
    np.testing.assert_allclose(
        fast_conv.depthwise_forward(x, w, *geometry, cfg["out_hw"], layout=layout),
        ref_conv.conv2d_forward(x, w, *geometry, groups, cfg["out_hw"]), **TOLERANCE[dtype])
    np.testing.assert_allclose(
        fast_conv.depthwise_backward_input(g, w, x.shape, *geometry, layout=layout),
        ref_conv.conv2d_backward_input(g, w, x.shape, *geometry, groups), **TOLERANCE[dtype])
    np.testing.assert_allclose(
        fast_conv.depthwise_backward_weight(g, x, w.shape, *geometry, layout=layout),
        ref_conv.conv2d_backward_weight(g, x, w.shape, *geometry, groups), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(n=st.integers(1, 2), c=st.integers(1, 4), k=st.integers(1, 4), h=st.integers(1, 9),
       w=st.integers(1, 9), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_winograd_equals_reference(dtype, n, c, k, h, w, padding):
    """Odd and even output sizes (edge tiles), paddings 0-2, forward and both gradients."""
    out_hw = (h + 2 * padding[0] - 2, w + 2 * padding[1] - 2)
    assume(min(out_hw) >= 1)
    cfg = dict(x_shape=(n, c, h, w), w_shape=(k, c, 3, 3), out_hw=out_hw)
    x, weight, g = _conv_arrays(cfg, dtype)
    geometry = (1, 1), padding, (1, 1), 1
    np.testing.assert_allclose(winograd.conv2d_3x3(x, weight, padding, out_hw),
                               ref_conv.conv2d_forward(x, weight, *geometry, out_hw), **TOLERANCE[dtype])
    grad_x, grad_w = winograd.conv2d_3x3_backward(g, padding, x.shape, weight=weight, x=x)
    np.testing.assert_allclose(grad_x, ref_conv.conv2d_backward_input(g, weight, x.shape, *geometry),
                               **TOLERANCE[dtype])
    np.testing.assert_allclose(grad_w, ref_conv.conv2d_backward_weight(g, x, weight.shape, *geometry),
                               **TOLERANCE[dtype])
    only_x, no_w = winograd.conv2d_3x3_backward(g, padding, x.shape, weight=weight)
    no_x, only_w = winograd.conv2d_3x3_backward(g, padding, x.shape, x=x)
    assert no_w is None and no_x is None
    np.testing.assert_array_equal(only_x, grad_x)
    np.testing.assert_array_equal(only_w, grad_w)


def test_conv2d_takes_winograd_from_16_channels_and_still_equals_reference():
    x, weight, g = _conv_arrays(dict(x_shape=(2, 16, 7, 6), w_shape=(16, 16, 3, 3), out_hw=(7, 6)),
                                np.float64)
    geometry = stride, padding, dilation, groups = (1, 1), (1, 1), (1, 1), 1
    for channels, expected in ((16, True), (3, False)):
        assert fast_conv._use_winograd(fast_conv.CPU_PRIMITIVES, channels, 16, (3, 3), stride, dilation,
                                       groups, padding) is expected
    np.testing.assert_allclose(fast_conv.conv2d_forward(x, weight, *geometry, (7, 6)),
                               ref_conv.conv2d_forward(x, weight, *geometry, (7, 6)), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(fast_conv.conv2d_backward_input(g, weight, x.shape, *geometry),
                               ref_conv.conv2d_backward_input(g, weight, x.shape, *geometry),
                               rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(fast_conv.conv2d_backward_weight(g, x, weight.shape, *geometry),
                               ref_conv.conv2d_backward_weight(g, x, weight.shape, *geometry),
                               rtol=1e-11, atol=1e-11)
    both = fast_conv.conv2d_backward(g, x, weight, *geometry)          # one shared transform
    for fast, ref in zip(both, ref_conv.conv2d_backward(g, x, weight, *geometry)):
        np.testing.assert_allclose(fast, ref, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("out_channels", [16, 17])
def test_both_im2col_layouts_equal_reference(out_channels):
    """Up to 16 output channels the batch goes into im2col's columns (one GEMM per pass);
    above, one GEMM per image.  The hypothesis tests above use few channels, so this pins
    the per-image path too, with and without the columns kept from the forward pass."""
    cfg = dict(x_shape=(3, 2, 6, 7), w_shape=(out_channels, 2, 3, 2), out_hw=(3, 6))
    x, w, g = _conv_arrays(cfg, np.float64)
    geometry = (2, 1), (1, 0), (1, 1), 1
    layout = fast_conv._batch_in_columns(fast_conv.CPU_PRIMITIVES, out_channels, 1, (3, 2), (1, 0))
    assert layout == (out_channels <= 16)
    out, columns = fast_conv.conv2d_forward(x, w, *geometry, cfg["out_hw"], keep_columns=True)
    np.testing.assert_allclose(out, ref_conv.conv2d_forward(x, w, *geometry, cfg["out_hw"]), rtol=1e-12)
    expected_w = ref_conv.conv2d_backward_weight(g, x, w.shape, *geometry)
    for kept in (columns, None):
        np.testing.assert_allclose(fast_conv.conv2d_backward_weight(g, x, w.shape, *geometry, columns=kept),
                                   expected_w, rtol=1e-12)
    np.testing.assert_allclose(fast_conv.conv2d_backward_input(g, w, x.shape, *geometry),
                               ref_conv.conv2d_backward_input(g, w, x.shape, *geometry), rtol=1e-12)


@st.composite
def pool_config(draw, dilated=True):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    ceil_mode = draw(st.booleans())
    span = [d * (k - 1) + 1 - 2 * p for d, k, p in zip(dilation, kernel, padding)]
    h, w = (max(1, s) + draw(st.integers(0, 4)) for s in span)
    out_hw = tuple(output_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d in
                   zip((h, w), kernel, stride, padding, dilation))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), kernel=kernel,
                stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                out_hw=out_hw, include_pad=draw(st.booleans()),
                override=draw(st.sampled_from([None, 3])))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=pool_config())
def test_max_pool_kernel_equals_reference(dtype, cfg):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    x[..., ::2, :] = x.max()                    # plant ties
    x[0, 0, -1, 0] = np.nan                     # and a NaN, which wins its windows
    args = (cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["out_hw"])
    fast, fast_index = fast_pool.max_pool2d_forward(x, *args)
    ref, ref_index = ref_pool.max_pool2d_forward(x, *args)
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(fast_index, ref_index)
    g = rng.standard_normal(fast.shape).astype(dtype)
    np.testing.assert_allclose(fast_pool.max_pool2d_backward(g, fast_index, x.shape),
                               ref_pool.max_pool2d_backward(g, ref_index, x.shape),
                               **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=pool_config(dilated=False))
def test_avg_pool_kernel_equals_reference(dtype, cfg):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    args = (cfg["kernel"], cfg["stride"], cfg["padding"])
    options = (cfg["include_pad"], cfg["override"])
    fast = fast_pool.avg_pool2d_forward(x, *args, cfg["out_hw"], *options)
    ref = ref_pool.avg_pool2d_forward(x, *args, cfg["out_hw"], *options)
    assert fast.dtype == dtype
    np.testing.assert_allclose(fast, ref, **TOLERANCE[dtype])
    g = rng.standard_normal(fast.shape).astype(dtype)
    np.testing.assert_allclose(fast_pool.avg_pool2d_backward(g, x.shape, *args, *options),
                               ref_pool.avg_pool2d_backward(g, x.shape, *args, *options),
                               **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 6)))
def test_batch_norm_kernel_equals_reference(dtype, shape):
    if shape[0] * shape[2] < 2:
        shape = (2,) + shape[1:]
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    fast, ref = fast_bn.batch_norm_forward(x, w, b, 1e-5), ref_bn.batch_norm_forward(x, w, b, 1e-5)
    for mine, theirs in zip(fast, ref):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE[dtype])
    g = rng.standard_normal(shape).astype(dtype)
    invstd = (1 / np.sqrt(ref[2] + 1e-5)).astype(dtype)
    for mine, theirs in zip(fast_bn.batch_norm_backward(g, x, ref[1], invstd, w),
                            ref_bn.batch_norm_backward(g, x, ref[1], invstd, w)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, theirs, rtol=TOLERANCE[dtype]["rtol"] * 10,
                                   atol=TOLERANCE[dtype]["atol"] * 10)


# ------------------------------------------------------------------ gradcheck on both paths
@pytest.mark.parametrize("path", PATHS)
@given(cfg=conv_config(), bias=st.booleans())
def test_conv2d_gradcheck(path, cfg, bias):
    x, w, _ = _conv_arrays(cfg, np.float64)
    arrays = (x, w, np.linspace(-1, 1, w.shape[0])) if bias else (x, w)
    with backend.use_kernels(path):
        check_gradients(lambda lib, *t: lib.F.conv2d(*t, stride=cfg["stride"], padding=cfg["padding"],
                                                     dilation=cfg["dilation"], groups=cfg["groups"]),
                        *arrays)


def _distinct_values(shape, seed=0):
    """A permutation of spread-out values: no ties, so max-pool is differentiable."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) * 0.1


@pytest.mark.parametrize("path", PATHS)
@given(cfg=pool_config())
def test_max_pool_gradcheck(path, cfg):
    assume(_every_window_sees_input(cfg))
    with backend.use_kernels(path):
        check_gradients(lambda lib, x: lib.F.max_pool2d(x, cfg["kernel"], cfg["stride"], cfg["padding"],
                                                        cfg["dilation"], cfg["ceil_mode"]),
                        _distinct_values(cfg["shape"]))


@pytest.mark.parametrize("path", PATHS)
@given(cfg=pool_config(dilated=False))
def test_avg_pool_gradcheck(path, cfg):
    x = np.random.default_rng(0).standard_normal(cfg["shape"])
    with backend.use_kernels(path):
        check_gradients(lambda lib, x: lib.F.avg_pool2d(x, cfg["kernel"], cfg["stride"], cfg["padding"],
                                                        cfg["ceil_mode"], cfg["include_pad"],
                                                        cfg["override"]), x)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 3, 2)])
def test_batch_norm_gradcheck(path, training, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 0.5
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    mean, var = rng.standard_normal(shape[1]), rng.random(shape[1]) + 0.5

    def fn(lib, x, w, b):
        return lib.F.batch_norm(x, lib.lib.tensor(mean), lib.lib.tensor(var), w, b, training=training)
    with backend.use_kernels(path):
        check_gradients(fn, x, w, b)


@given(out=st.tuples(st.integers(1, 4), st.integers(1, 4)), hw=st.tuples(st.integers(1, 7), st.integers(1, 7)))
def test_adaptive_avg_pool_gradcheck(out, hw):
    x = np.random.default_rng(0).standard_normal((2, 2) + hw)
    check_gradients(lambda lib, x: lib.F.adaptive_avg_pool2d(x, out), x)


# ------------------------------------------------------------------ against PyTorch
@requires_torch
@pytest.mark.parametrize("path", PATHS)
@given(cfg=conv_config())
def test_conv2d_matches_torch(path, cfg):
    x, w, _ = _conv_arrays(cfg, np.float64)
    with backend.use_kernels(path):
        check_against_torch(lambda lib, x, w, b: lib.F.conv2d(
            x, w, b, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"]),
            x, w, np.linspace(-1, 1, w.shape[0]))


@requires_torch
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel,dilation", [((3, 3), 1), ((2, 4), 1), ((3, 2), 2)])
def test_conv2d_string_padding_matches_torch(padding, kernel, dilation):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3) + kernel)
    check_against_torch(lambda lib, x, w: lib.F.conv2d(x, w, padding=padding, dilation=dilation), x, w)


@requires_torch
def test_conv2d_float32_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32) * 0.1
    check_against_torch(lambda lib, x, w: lib.F.conv2d(x, w, stride=2, padding=1), x, w,
                        atol=1e-4, rtol=1e-4)


def _every_window_sees_input(cfg):
    """A dilated window can fall entirely into the padding of a tiny input; PyTorch then
    returns -inf and an index outside the plane, which no test should rely on."""
    out, _ = ref_pool.max_pool2d_forward(np.zeros(cfg["shape"]), cfg["kernel"], cfg["stride"],
                                         cfg["padding"], cfg["dilation"], cfg["out_hw"])
    return np.isfinite(out).all()


@requires_torch
@pytest.mark.parametrize("path", PATHS)
@given(cfg=pool_config())
def test_max_pool_matches_torch(path, cfg):
    assume(_every_window_sees_input(cfg))
    x = _distinct_values(cfg["shape"])
    with backend.use_kernels(path):
        check_against_torch(lambda lib, x: lib.F.max_pool2d(
            x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["ceil_mode"],
            return_indices=True), x)


@requires_torch
@pytest.mark.parametrize("path", PATHS)
@given(cfg=pool_config(dilated=False))
def test_avg_pool_matches_torch(path, cfg):
    x = np.random.default_rng(0).standard_normal(cfg["shape"])
    with backend.use_kernels(path):
        check_against_torch(lambda lib, x: lib.F.avg_pool2d(
            x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["ceil_mode"], cfg["include_pad"],
            cfg["override"]), x)


@requires_torch
@pytest.mark.parametrize("path", PATHS)
def test_max_pool_ties_send_the_gradient_to_one_element_like_torch(path):
    x = np.ones((1, 2, 4, 4))
    x[0, 1, 1:3, 1:3] = 5.0
    with backend.use_kernels(path):
        check_against_torch(lambda lib, x: lib.F.max_pool2d(x, 3, 1, padding=1), x)
        check_against_torch(lambda lib, x: lib.F.max_pool2d(x, 2), x)


@requires_torch
@pytest.mark.parametrize("path", PATHS)
def test_max_pool_propagates_nan_and_routes_its_gradient_like_torch(path):
    """A NaN in a window is the window's output, and the last NaN gets the gradient."""
    x = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 2, 3] = np.nan
    with backend.use_kernels(path):
        check_against_torch(lambda lib, x: lib.F.max_pool2d(x, 2), x)
        check_against_torch(lambda lib, x: lib.F.max_pool2d(x, 3, 1, padding=1), x)
        _, index = F.max_pool2d(tinynn.tensor(x), 2, return_indices=True)
    assert index.numpy()[0, 0, 0, 0] == 4          # the window's last NaN, at (1, 0)


@requires_torch
@pytest.mark.parametrize("out", [1, 2, 3, (2, 5), (None, 2)])
def test_adaptive_avg_pool_matches_torch(out):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5))
    check_against_torch(lambda lib, x: lib.F.adaptive_avg_pool2d(x, out), x)


@requires_torch
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 5, 5)])
def test_batch_norm_running_statistics_match_torch(path, momentum, shape):
    from oracle import torch
    ours_cls = nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d
    theirs_cls = torch.nn.BatchNorm1d if len(shape) < 4 else torch.nn.BatchNorm2d
    ours, theirs = ours_cls(3, momentum=momentum).double(), theirs_cls(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    with backend.use_kernels(path):
        for step in range(4):
            x = rng.standard_normal(shape) * (step + 1) + step
            xs, xt = tinynn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            yo, yt = ours(xs), theirs(xt)
            np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
            (yo * yo).sum().backward()
            (yt * yt).sum().backward()
            np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-8)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(ours, name).numpy(),
                                       getattr(theirs, name).numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-8)
        ours.eval(), theirs.eval()
        x = rng.standard_normal(shape)
        np.testing.assert_allclose(ours(tinynn.tensor(x)).detach().numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-10)


@requires_torch
def test_batch_norm_without_affine_or_running_stats_matches_torch():
    from oracle import torch
    x = np.random.default_rng(0).standard_normal((5, 4, 3, 3))
    ours = nn.BatchNorm2d(4, affine=False, track_running_stats=False).double().eval()
    theirs = torch.nn.BatchNorm2d(4, affine=False, track_running_stats=False).double().eval()
    np.testing.assert_allclose(ours(tinynn.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-10)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []


@requires_torch
def test_conv2d_module_default_init_matches_torch_statistics():
    from oracle import torch
    ours, theirs = nn.Conv2d(64, 32, 3), torch.nn.Conv2d(64, 32, 3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bound = 1 / np.sqrt(64 * 9)     # kaiming_uniform(a=√5) and the bias both give U(-b, b)
    for name in ("weight", "bias"):
        a, b = getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy()
        assert a.shape == tuple(b.shape)
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
    a, b = ours.weight.detach().numpy(), theirs.weight.detach().numpy()
    assert a.std() == pytest.approx(b.std(), rel=0.03) and np.abs(a).max() > 0.99 * bound


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call,pattern", [
    (lambda: F.conv2d(tinynn.randn(1, 3, 8, 8), tinynn.randn(4, 2, 3, 3)),
     r"conv2d: input has 3 channels but the weight of shape \(4, 2, 3, 3\) expects 2"),
    (lambda: F.conv2d(tinynn.randn(1, 4, 8, 8), tinynn.randn(6, 2, 3, 3), groups=3),
     r"conv2d: in_channels \(4\) and out_channels \(6\) must both be divisible by groups \(3\)"),
    (lambda: F.conv2d(tinynn.randn(1, 1, 4, 4), tinynn.randn(1, 1, 7, 7)),
     r"conv2d: kernel \(7, 7\) \(dilation \(1, 1\)\) is larger than the padded input \(4, 4\)"),
    (lambda: F.conv2d(tinynn.randn(3, 8, 8), tinynn.randn(1, 3, 3, 3)),
     r"conv2d: expected a 4-D input \(N, C, H, W\), got shape \(3, 8, 8\).*unsqueeze"),
    (lambda: F.conv2d(tinynn.randn(1, 1, 8, 8), tinynn.randn(1, 1, 3, 3), stride=0),
     r"conv2d: expected stride >= 1, got \(0, 0\)"),
    (lambda: F.conv2d(tinynn.randn(1, 1, 8, 8), tinynn.randn(1, 1, 3, 3), stride=(-1, 1)),
     r"conv2d: expected stride >= 1, got \(-1, 1\)"),
    (lambda: F.conv2d(tinynn.randn(1, 1, 8, 8), tinynn.randn(1, 1, 3, 3), padding="same", stride=2),
     r"padding='same' is not supported for strided"),
    (lambda: F.max_pool2d(tinynn.randn(2, 8, 8), 2),
     r"max_pool2d: expected a 4-D input \(N, C, H, W\), got shape \(2, 8, 8\)"),
    (lambda: F.max_pool2d(tinynn.randn(1, 1, 2, 2), 5),
     r"max_pool2d: kernel \(5, 5\) \(dilation \(1, 1\)\) is larger than the padded input"),
    (lambda: F.avg_pool2d(tinynn.randn(1, 1, 8, 8), 2, stride=0),
     r"avg_pool2d: expected stride >= 1"),
    (lambda: F.max_pool2d(tinynn.randn(1, 1, 8, 8), 2, padding=2),
     r"max_pool2d: padding \(2, 2\) should be at most half of kernel_size \(2, 2\)"),
    (lambda: nn.BatchNorm2d(3)(tinynn.randn(2, 4, 5, 5)),
     r"BatchNorm2d: expected 3 channels \(dim 1\), got input of shape \(2, 4, 5, 5\)"),
    (lambda: nn.BatchNorm2d(3)(tinynn.randn(2, 3, 5)),
     r"BatchNorm2d: expected a 4-D input, got shape \(2, 3, 5\)"),
    (lambda: nn.BatchNorm1d(3)(tinynn.randn(1, 3)),
     r"batch_norm: expected more than 1 value per channel when training"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"Conv2d: in_channels \(4\) and out_channels \(6\)"),
])
def test_bad_input_errors_name_the_op_and_shapes(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


def test_reference_and_kernels_share_function_names():
    for ref, fast in ((ref_conv, fast_conv), (ref_pool, fast_pool), (ref_bn, fast_bn)):
        public = {n for n in dir(ref) if not n.startswith("_") and callable(getattr(ref, n))
                  and getattr(getattr(ref, n), "__module__", "") == ref.__name__}
        assert public and public <= set(dir(fast)), public - set(dir(fast))


def test_use_kernels_switch_and_environment_variable():
    assert backend.active_kernels() == "numba"
    with backend.use_kernels("reference"):
        assert backend.implementation("conv", tinynn.device("cpu")) is ref_conv
    assert backend.implementation("conv", tinynn.device("cpu")) is fast_conv
    with pytest.raises(ValueError, match="use_kernels: expected one of"):
        with backend.use_kernels("fast"):
            pass


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", [
    ((2, 8, 4, 4), (6, 8, 3, 3), 1, 1),        # 16 positions: whole-batch GEMMs for both grads
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),        # 64 positions: whole-batch ∂L/∂W, per-image ∂L/∂X
    ((2, 3, 12, 11), (5, 3, 3, 3), 1, 0),      # 90 positions: per-image GEMMs
    ((2, 4, 9, 9), (6, 4, 1, 1), 2, 0),        # strided 1×1: no im2col
])
def test_conv_kernel_gemm_strategies_equal_reference(x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geometry = ((stride, stride), (padding, padding), (1, 1), 1)
    out_hw = tuple(output_size(s, k, stride, padding, 1) for s, k in zip(x_shape[2:], w_shape[2:]))
    np.testing.assert_allclose(fast_conv.conv2d_forward(x, w, *geometry, out_hw),
                               ref_conv.conv2d_forward(x, w, *geometry, out_hw), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal((x_shape[0], w_shape[0]) + out_hw)
    np.testing.assert_allclose(fast_conv.conv2d_backward_input(g, w, x_shape, *geometry),
                               ref_conv.conv2d_backward_input(g, w, x_shape, *geometry), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_conv.conv2d_backward_weight(g, x, w_shape, *geometry),
                               ref_conv.conv2d_backward_weight(g, x, w_shape, *geometry), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_weight_gradient_with_and_without_kept_columns(groups, monkeypatch):
    """The forward pass keeps im2col's matrix for ∂L/∂W when it is small; both ways agree."""
    import tinynn.nn.functional.conv as conv_module
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 4 // groups, 3, 3))
    results = []
    for limit in (conv_module.KEEP_COLUMNS_BYTES, 0):
        monkeypatch.setattr(conv_module, "KEEP_COLUMNS_BYTES", limit)
        weight = tinynn.tensor(w, requires_grad=True)
        F.conv2d(tinynn.tensor(x), weight, stride=(2, 1), padding=1, groups=groups).sum().backward()
        results.append(weight.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    with backend.use_kernels("reference"):
        weight = tinynn.tensor(w, requires_grad=True)
        F.conv2d(tinynn.tensor(x), weight, stride=(2, 1), padding=1, groups=groups).sum().backward()
    np.testing.assert_allclose(results[0], weight.grad.numpy(), rtol=1e-10)
