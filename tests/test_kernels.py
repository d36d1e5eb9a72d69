"""Every Numba CPU kernel equal to the readable NumPy reference, array to array, through
the Backend protocol that the engine calls (``tinynn/backend.py``).

Convolution is checked for every algorithm the planner can pick, each one forced on every
hypothesis-generated configuration it applies to, not only on the shapes where the
planner happens to choose it."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinynn import reference
from tinynn.kernels import cpu_backend, plan as planner, tiled_conv
from kernel_oracle import TOLERANCE, assert_conv_equals_reference, plan_for
from strategies import conv_config, pool_config

# ------------------------------------------------------------------ convolution, every algorithm
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=conv_config(), keep_columns=st.booleans())
def test_conv_as_planned_equals_reference(dtype, cfg, keep_columns):
    assert_conv_equals_reference(cfg, dtype, plan_for(cfg, dtype, keep_columns=keep_columns))


@pytest.mark.parametrize("algorithm, max_groups, dtypes", [("im2col", 4, (np.float64, np.float32)),
                                                            ("batch_in_columns", 1, (np.float64, np.float32)),
                                                            ("tiled", 1, (np.float32,))])
@given(data=st.data(), keep_columns=st.booleans())
def test_conv_gemm_and_tiled_algorithms_equal_reference(algorithm, max_groups, dtypes, data, keep_columns):
    """im2col handles every grouped convolution; batch_in_columns every ungrouped one; tiled
    every ungrouped float32 one (any stride, padding and dilation, any number of channels)."""
    cfg = data.draw(conv_config(max_groups=max_groups))
    dtype = data.draw(st.sampled_from(dtypes))
    plan = plan_for(cfg, dtype, algorithm)._replace(keep_columns=keep_columns)
    assert_conv_equals_reference(cfg, dtype, plan)


@pytest.mark.parametrize("k, c, stride, padding, dilation", [(20, 3, (1, 1), (1, 1), (1, 1)),
                                                       (33, 2, (2, 1), (0, 2), (1, 2))])
def test_tiled_convolution_with_several_blocks_of_channels_equals_reference(k, c, stride, padding, dilation):
    """More than 16 output channels: the forward tiles and the ∂L/∂W tiles in several blocks."""
    n, h, w, kernel = 3, 9, 11, (3, 2)
    out_hw = tuple((size + 2 * p - d * (q - 1) - 1) // s + 1
                   for size, q, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    cfg = dict(x_shape=(n, c, h, w), w_shape=(k, c) + kernel, stride=stride, padding=padding,
               dilation=dilation, groups=1, out_hw=out_hw)
    assert_conv_equals_reference(cfg, np.float32, plan_for(cfg, np.float32, "tiled"))


@given(data=st.data())
def test_tiled_input_gradient_as_a_transposed_convolution_equals_reference(data):
    """Stride 1 with 16 or more input channels: ∂L/∂X in the forward tiles (gradient ⊛ flipped
    weights), in one or several blocks of 16, any padding up to d·(K − 1) and dilation."""
    kernel = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = tuple(data.draw(st.integers(0, d * (q - 1))) for d, q in zip(dilation, kernel))
    n, c, k = data.draw(st.integers(1, 3)), data.draw(st.integers(16, 40)), data.draw(st.integers(1, 20))
    h, w = (d * (q - 1) + data.draw(st.integers(1, 9)) for d, q in zip(dilation, kernel))
    out_hw = tuple(size + 2 * p - d * (q - 1) for size, p, d, q in zip((h, w), padding, dilation, kernel))
    cfg = dict(x_shape=(n, c, h, w), w_shape=(k, c) + kernel, stride=(1, 1), padding=padding,
               dilation=dilation, groups=1, out_hw=out_hw)
    plan = plan_for(cfg, np.float32, "tiled")
    assert tiled_conv.transposes(plan)
    # Sums of up to 40·16 float32 products of size ~30: float32's rounding alone is ~1e-5 absolute
    assert_conv_equals_reference(cfg, np.float32, plan, tolerance=dict(rtol=1e-4, atol=1e-4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=conv_config())
def test_pointwise_convolution_equals_reference(dtype, cfg):
    """1×1 unpadded kernels, any stride and groups: no im2col at all."""
    cfg = dict(cfg, w_shape=cfg["w_shape"][:2] + (1, 1), padding=(0, 0), dilation=(1, 1))
    cfg["out_hw"] = tuple((s - 1) // st_ + 1 for s, st_ in zip(cfg["x_shape"][2:], cfg["stride"]))
    assert_conv_equals_reference(cfg, dtype, plan_for(cfg, dtype, "pointwise"))


@pytest.mark.parametrize("layout, multipliers", [("depthwise", [1, 2, 3]),
                                                 ("depthwise_channels_last", [1])])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_depthwise_kernels_equal_reference_in_both_layouts(layout, multipliers, dtype, data):
    """The planner picks the layout by plane width; each is held to the reference on every
    shape (channels last only with one output channel per input channel)."""
    cfg = data.draw(conv_config(depthwise_multipliers=multipliers))
    assert_conv_equals_reference(cfg, dtype, plan_for(cfg, dtype, layout))


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", [
    ((2, 8, 4, 4), (17, 8, 3, 3), 1, 1),       # 16 positions: whole-batch GEMMs for both grads
    ((2, 3, 8, 8), (17, 3, 3, 3), 1, 1),       # 64 positions: whole-batch ∂L/∂W, per-image ∂L/∂X
    ((2, 3, 12, 11), (17, 3, 3, 3), 1, 0),     # 90 positions: per-image GEMMs
])
def test_im2col_gemm_batching_equals_reference(x_shape, w_shape, stride, padding):
    """im2col's per-image GEMMs switch to one batched GEMM for images with few output positions
    (the CPU planner sends such layers to batch_in_columns; CUDA's and pointwise layers use it)."""
    out_hw = tuple((s + 2 * padding - 3) // stride + 1 for s in x_shape[2:])
    cfg = dict(x_shape=x_shape, w_shape=w_shape, stride=(stride,) * 2, padding=(padding,) * 2,
               dilation=(1, 1), groups=1, out_hw=out_hw)
    assert_conv_equals_reference(cfg, np.float64, plan_for(cfg, np.float64, "im2col"))


# ------------------------------------------------------------------ the planner
def _planned(x_shape, w_shape, stride=1, padding=0, groups=1, out_hw=(4, 4), keep=False,
             features=planner.CPU_FEATURES, dtype=np.float32):
    return planner.plan_conv2d(x_shape, w_shape, np.dtype(dtype), (stride,) * 2, (padding,) * 2,
                               (1, 1), groups, out_hw, keep, features)


@pytest.mark.parametrize("x_shape,w_shape,kwargs,cpu,cuda", [
    ((8, 32, 8, 8), (32, 1, 3, 3), dict(groups=32, out_hw=(8, 8)), "depthwise_channels_last", "depthwise"),
    ((8, 32, 16, 16), (32, 1, 3, 3), dict(groups=32, out_hw=(16, 16)), "depthwise", "depthwise"),
    ((8, 64, 32, 32), (64, 64, 3, 3), dict(padding=1, out_hw=(32, 32)), "winograd", "im2col"),
    ((8, 256, 8, 8), (256, 256, 3, 3), dict(padding=1), "winograd", "im2col"),
    ((8, 64, 8, 8), (64, 64, 3, 3), dict(padding=1), "tiled", "im2col"),
    ((8, 16, 8, 8), (16, 16, 3, 3), dict(padding=1), "tiled", "im2col"),
    ((8, 32, 13, 13), (64, 32, 3, 3), dict(out_hw=(11, 11)), "tiled", "im2col"),
    ((8, 32, 13, 13), (128, 32, 3, 3), dict(out_hw=(11, 11)), "winograd", "im2col"),
    ((8, 128, 13, 13), (128, 128, 3, 3), dict(padding=1, out_hw=(13, 13)), "winograd", "im2col"),
    ((8, 128, 6, 6), (128, 128, 3, 3), dict(padding=1, out_hw=(6, 6)), "batch_in_columns", "im2col"),
    ((8, 128, 9, 9), (128, 128, 3, 3), dict(padding=1, out_hw=(9, 9)), "im2col", "im2col"),  # 4×4 tiles waste
    ((8, 32, 13, 13), (64, 32, 3, 3), dict(stride=2, out_hw=(6, 6)), "batch_in_columns", "im2col"),
    ((8, 64, 32, 32), (128, 64, 3, 3), dict(stride=2, padding=1, out_hw=(16, 16)), "im2col", "im2col"),
    ((8, 3, 8, 8), (16, 3, 3, 3), dict(padding=1), "tiled", "im2col"),
    ((8, 3, 8, 8), (16, 3, 3, 3), dict(padding=1, dtype=np.float64), "batch_in_columns", "im2col"),
    ((8, 16, 8, 8), (16, 16, 3, 3), dict(padding=2), "tiled", "im2col"),
    ((8, 32, 8, 8), (64, 32, 1, 1), dict(stride=2), "pointwise", "pointwise"),
    ((8, 3, 8, 8), (32, 3, 5, 5), {}, "batch_in_columns", "im2col"),          # 4×4 outputs
    ((8, 3, 12, 12), (32, 3, 5, 5), dict(out_hw=(8, 9)), "im2col", "im2col"),
    ((8, 1, 32, 32), (6, 1, 5, 5), dict(out_hw=(28, 28)), "tiled", "im2col"),
    ((8, 1, 28, 28), (32, 1, 3, 3), dict(out_hw=(26, 26)), "im2col", "im2col"),
])
def test_planner_picks_one_algorithm_per_shape_and_device(x_shape, w_shape, kwargs, cpu, cuda):
    assert _planned(x_shape, w_shape, **kwargs).algorithm == cpu
    assert _planned(x_shape, w_shape, features=planner.CUDA_FEATURES, **kwargs).algorithm == cuda


def test_planner_keeps_columns_only_when_asked_small_and_there_are_any():
    assert _planned((8, 3, 8, 8), (32, 3, 5, 5), keep=True).keep_columns
    assert not _planned((8, 3, 8, 8), (32, 3, 5, 5), keep=False).keep_columns
    assert not _planned((8, 256, 8, 8), (256, 256, 3, 3), padding=1, keep=True).keep_columns  # winograd
    keras_cifar_first = _planned((64, 3, 32, 32), (32, 3, 3, 3), out_hw=(30, 30), keep=True)
    assert keras_cifar_first.algorithm == "im2col" and not keras_cifar_first.keep_columns   # 6.2 MB
    huge = (512, 64, 64, 64)
    assert not _planned(huge, (64, 64, 3, 3), padding=2, out_hw=(64, 64), keep=True).keep_columns


# ------------------------------------------------------------------ pooling, batch norm, elementwise
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=pool_config())
def test_max_pool_kernel_equals_reference(dtype, cfg):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    x[..., ::2, :] = x.max()                    # plant ties
    x[0, 0, -1, 0] = np.nan                     # and a NaN, which wins its windows
    args = (cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["out_hw"])
    fast, fast_index = cpu_backend.max_pool2d_forward(x, *args)
    ref, ref_index = reference.max_pool2d_forward(x, *args)
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(fast_index, ref_index)
    g = rng.standard_normal(fast.shape).astype(dtype)
    np.testing.assert_allclose(cpu_backend.max_pool2d_backward(g, fast_index, x.shape),
                               reference.max_pool2d_backward(g, ref_index, x.shape),
                               **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(2, 9), st.integers(2, 40)),
       nans=st.integers(0, 6), seed=st.integers(0, 99))
def test_max_pool_2x2_fast_path_equals_reference(dtype, shape, nans, seed):
    """2×2 windows at stride 2 take their own kernel: ties keep the first tap, the last NaN
    of a window wins, odd edges are left out, as in the general kernel and the reference."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(dtype)                # small integers: many ties
    x.reshape(-1)[rng.integers(0, x.size, nans)] = np.nan
    out_hw = (shape[2] // 2, shape[3] // 2)
    fast, fast_index = cpu_backend.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), out_hw)
    ref, ref_index = reference.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), out_hw)
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(fast_index, ref_index)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(cfg=pool_config(dilated=False))
def test_avg_pool_kernel_equals_reference(dtype, cfg):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    args = (cfg["kernel"], cfg["stride"], cfg["padding"])
    options = (cfg["include_pad"], cfg["override"])
    fast = cpu_backend.avg_pool2d_forward(x, *args, cfg["out_hw"], *options)
    ref = reference.avg_pool2d_forward(x, *args, cfg["out_hw"], *options)
    assert fast.dtype == dtype
    np.testing.assert_allclose(fast, ref, **TOLERANCE[dtype])
    g = rng.standard_normal(fast.shape).astype(dtype)
    np.testing.assert_allclose(cpu_backend.avg_pool2d_backward(g, x.shape, *args, *options),
                               reference.avg_pool2d_backward(g, x.shape, *args, *options),
                               **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 40), st.sampled_from([1, 2, 6, 300, 1100])))
def test_batch_norm_kernel_equals_reference(dtype, shape):
    """Planes of 300 values put three channels in a work item of the backward kernel (the
    last one of 40 channels holds one), of 1,100 values one."""
    if shape[0] * shape[2] < 2:
        shape = (2,) + shape[1:]
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    fast = cpu_backend.batch_norm_forward(x, w, b, 1e-5)
    ref = reference.batch_norm_forward(x, w, b, 1e-5)
    for mine, theirs in zip(fast, ref):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE[dtype])
    g = rng.standard_normal(shape).astype(dtype)
    invstd = (1 / np.sqrt(ref[2] + 1e-5)).astype(dtype)
    for mine, theirs in zip(cpu_backend.batch_norm_backward(g, x, ref[1], invstd, w),
                            reference.batch_norm_backward(g, x, ref[1], invstd, w)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, theirs, rtol=TOLERANCE[dtype]["rtol"] * 10,
                                   atol=TOLERANCE[dtype]["atol"] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [9, 70_000])
def test_relu_and_erf_kernels_equal_reference(dtype, size):
    """Below 64k elements the CPU backend keeps NumPy's formula, above it runs one parallel
    Numba pass: both sizes, NaN and infinities included."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(size).astype(dtype) * 3
    x[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    g = rng.standard_normal(size).astype(dtype)
    g[5:8] = [np.inf, np.nan, -np.inf]
    y = cpu_backend.relu(x)
    np.testing.assert_array_equal(y, reference.relu(x))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(cpu_backend.relu_backward(g, y), reference.relu_backward(g, y))
    finite = np.nan_to_num(x[:1000], nan=0.5)
    erf = cpu_backend.erf(finite)
    assert erf.dtype == dtype
    np.testing.assert_allclose(erf, reference.erf(finite), **TOLERANCE[dtype])


@st.composite
def matmul_operands(draw):
    """Two float operands of one dtype, with up to two broadcast batch axes, each stored
    row-major, as a transposed view or as a strided slice (which must be copied first)."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m, k, n = (draw(st.integers(1, 9)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))

    def operand(rows, cols):
        shape = tuple(draw(st.sampled_from([size, 1])) for size in batch)
        layout = draw(st.sampled_from(["rows", "columns", "strided"]))
        if layout == "columns":
            return np.swapaxes(rng.standard_normal(shape + (cols, rows)).astype(dtype), -1, -2)
        if layout == "strided":
            return rng.standard_normal(shape + (rows, 2 * cols)).astype(dtype)[..., ::2]
        return rng.standard_normal(shape + (rows, cols)).astype(dtype)
    return operand(m, k), operand(k, n)


@given(matmul_operands(), st.booleans())
def test_matmul_on_numba_threads_equals_numpy(operands, split):
    """kernels/blas.py: every layout, batch broadcast and row or column split gives NumPy's product."""
    from tinynn.kernels import blas
    a, b = operands
    threshold = blas.PARALLEL_MIN_FLOPS
    blas.PARALLEL_MIN_FLOPS = 0 if split else threshold    # force the split on small shapes
    try:
        mine = cpu_backend.matmul(a, b)
    finally:
        blas.PARALLEL_MIN_FLOPS = threshold
    expected = reference.matmul(a, b)
    assert mine.dtype == expected.dtype and mine.shape == expected.shape
    np.testing.assert_allclose(mine, expected, **TOLERANCE[a.dtype.type])


def test_numpys_openblas_is_found_where_threadpoolctl_sees_one():
    """Without it every product silently falls back to NumPy's threads (and the test above
    would compare NumPy with itself)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from tinynn.kernels import blas
    pools = [p for p in threadpoolctl.threadpool_info() if p["internal_api"] == "openblas"]
    if not pools:
        pytest.skip("NumPy here is not linked to OpenBLAS")
    assert blas.OPENBLAS is not None
    a = np.ones((256, 512), np.float32)
    assert blas._split_operands(a, a[:64].T) is not None   # 17 MFLOP: shared out over threads


def test_workspace_lends_a_buffer_again_only_when_nothing_refers_to_it(monkeypatch):
    from tinynn.kernels import workspace
    monkeypatch.setattr(workspace, "_buffers", [])
    monkeypatch.setattr(workspace, "_sizes", [])
    monkeypatch.setattr(workspace, "_held", [0])
    shape, size = (64, 1024), 64 * 1024 * 4
    first = workspace.empty(shape, np.float32)
    view = first[3:].T
    del first
    second = workspace.zeros(shape, np.float32)               # `view` still uses the first buffer
    assert not np.shares_memory(second, view) and not second.any()
    del view
    third = workspace.empty((size // 8,), np.float64)          # same bytes, other dtype: the first
    assert not np.shares_memory(third, second)
    assert len(workspace._buffers) == 2 and workspace._held[0] == 2 * size
    small = workspace.empty((4, 4), np.float32)               # under MIN_BYTES: NumPy's own
    assert small.base is None and len(workspace._buffers) == 2


def test_workspace_lets_go_of_free_buffers_past_its_limit(monkeypatch):
    from tinynn.kernels import workspace
    monkeypatch.setattr(workspace, "_buffers", [])
    monkeypatch.setattr(workspace, "_sizes", [])
    monkeypatch.setattr(workspace, "_held", [0])
    monkeypatch.setattr(workspace, "MAX_BYTES", 3 * workspace.MIN_BYTES)
    kept = workspace.empty((workspace.MIN_BYTES,), np.uint8)
    workspace.empty((2 * workspace.MIN_BYTES,), np.uint8)      # freed at once
    workspace.empty((2 * workspace.MIN_BYTES + 8,), np.uint8)  # over the limit: the free one goes
    assert workspace._held[0] == 3 * workspace.MIN_BYTES + 8 and kept.base is not None


@given(st.sampled_from([(3, 4), (4, 128, 130)]), st.sampled_from([(None, 0.5), (-0.25, None), (0.0, 6.0)]),
       st.booleans(), st.sampled_from([np.float32, np.float64]))
def test_clip_backward_kernel_equals_reference(shape, bounds, inclusive, dtype):
    """The one-pass kernel (arrays of 2^16 elements and more) and NumPy's formula (smaller)."""
    rng = np.random.default_rng(0)
    x = rng.choice(np.array([-0.25, 0.0, 0.5, 6.0, 1.0, -3.0, 7.0], dtype), size=shape)   # the edges too
    grad = rng.standard_normal(shape).astype(dtype)
    mine = cpu_backend.clip_backward(grad, x, *bounds, inclusive)
    np.testing.assert_array_equal(mine, reference.clip_backward(grad, x, *bounds, inclusive))


@given(st.sampled_from([(3, 4), (4, 128, 130)]), st.sampled_from([(None, 0.5), (-0.25, None), (0.0, 6.0)]),
       st.sampled_from([np.float32, np.float64]))
def test_clip_kernel_equals_reference(shape, bounds, dtype):
    """The one-pass kernel (arrays of 2^16 elements and more) and np.clip (smaller), NaN and
    infinities included, the dtype kept."""
    rng = np.random.default_rng(0)
    x = rng.choice(np.array([-0.25, 0.0, 0.5, 6.0, 1.0, -3.0, 7.0, np.nan, np.inf, -np.inf], dtype), size=shape)
    mine = cpu_backend.clip(x, *bounds)
    assert mine.dtype == dtype
    np.testing.assert_array_equal(mine, reference.clip(x, *bounds))


def test_a_lenet_trains_with_numba_disabled_for_a_debugger():
    """NUMBA_DISABLE_JIT=1 runs every kernel as Python; the LLVM-IR tiles have no Python form,
    so the planner must not pick them there (a LeNet-5 step once failed that way)."""
    import os
    import subprocess
    import sys
    script = ("import tinynn, tinynn.nn as nn\n"
              "m = tinynn.models.LeNet5(1, 10, 28)\n"
              "loss = nn.CrossEntropyLoss()(m(tinynn.randn(2, 1, 28, 28)), tinynn.tensor([3, 7]))\n"
              "loss.backward()\n"
              "print('ok', m.conv1.weight.grad.shape)\n")
    result = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, NUMBA_DISABLE_JIT="1"),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "ok (6, 1, 5, 5)" in result.stdout, result.stderr[-2000:]
