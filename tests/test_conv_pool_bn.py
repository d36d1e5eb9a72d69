"""Convolution, pooling and batch norm through autograd: float64 gradcheck on both the
reference and the Numba path, agreement with PyTorch, and clear errors for bad input.
(The kernels against the reference, array to array, are in test_kernels.py.)"""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import backend
from tinynn.kernels import plan as planner
from tinynn.reference import pool as ref_pool
from oracle import check_against_torch, check_gradients, requires_torch
from strategies import conv_arrays, conv_config, geometry, pool_config

PATHS = ["reference", "numba"]


# ------------------------------------------------------------------ gradcheck on both paths
@pytest.mark.parametrize("path", PATHS)
@given(cfg=conv_config(), bias=st.booleans())
def test_conv2d_gradcheck(path, cfg, bias):
    x, w, _ = conv_arrays(cfg, np.float64)
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
    x, w, _ = conv_arrays(cfg, np.float64)
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


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_weight_gradient_with_and_without_kept_columns(groups, monkeypatch):
    """The forward pass keeps im2col's matrix for ∂L/∂W when it is small; both ways agree."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 4 // groups, 3, 3))
    results = []
    for limit in (planner.KEEP_COLUMNS_BYTES, 0):
        monkeypatch.setattr(planner, "KEEP_COLUMNS_BYTES", limit)
        weight = tinynn.tensor(w, requires_grad=True)
        F.conv2d(tinynn.tensor(x), weight, stride=(2, 1), padding=1, groups=groups).sum().backward()
        results.append(weight.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    with backend.use_kernels("reference"):
        weight = tinynn.tensor(w, requires_grad=True)
        F.conv2d(tinynn.tensor(x), weight, stride=(2, 1), padding=1, groups=groups).sum().backward()
    np.testing.assert_allclose(results[0], weight.grad.numpy(), rtol=1e-10)
