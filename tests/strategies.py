"""Hypothesis strategies and array helpers shared by the convolution, pooling and kernel
tests: any grouped/depthwise convolution or pooling window with its output size."""
import numpy as np
from hypothesis import strategies as st

from tinynn.nn.modules.utils import output_size


@st.composite
def conv_config(draw, depthwise_multipliers=None, max_groups=4):
    """Any grouped convolution, or with ``depthwise_multipliers`` (a list of allowed
    out_channels / in_channels) a depthwise one (groups = in_channels)."""
    groups = draw(st.integers(1, max_groups))
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


def conv_arrays(cfg, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(cfg["x_shape"]).astype(dtype)
    w = rng.standard_normal(cfg["w_shape"]).astype(dtype)
    g = rng.standard_normal((cfg["x_shape"][0], cfg["w_shape"][0]) + cfg["out_hw"]).astype(dtype)
    return x, w, g


def geometry(cfg):
    return cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"]


TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


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
