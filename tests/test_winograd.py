"""Winograd F(4×4, 3×3) (kernels/winograd.py) held to the reference convolution, forced on
shapes the planner would not give it: edge tiles, paddings 0-2, one channel, and the
boundaries of its work split (LANES tiles at a time, groups of images, blocks of filters)."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinynn.kernels import cpu_backend, winograd
from kernel_oracle import assert_conv_equals_reference, plan_for
from strategies import conv_arrays

FLOAT32_ERROR = 2e-5        # F(4×4) rounds float32 to ~1e-5 of each result's largest value


def _config(n, c, k, h, w, padding):
    out_hw = (h + 2 * padding[0] - 2, w + 2 * padding[1] - 2)
    return dict(x_shape=(n, c, h, w), w_shape=(k, c, 3, 3), stride=(1, 1), padding=padding,
                dilation=(1, 1), groups=1, out_hw=out_hw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(n=st.integers(1, 2), c=st.integers(1, 4), k=st.integers(1, 4), h=st.integers(1, 9),
       w=st.integers(1, 9), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_winograd_equals_reference(dtype, n, c, k, h, w, padding):
    """Odd and even output sizes (edge tiles), paddings 0-2, forward and both gradients,
    together and alone (the backward pass computes only what is asked)."""
    cfg = _config(n, c, k, h, w, padding)
    assume(min(cfg["out_hw"]) >= 1)
    plan = plan_for(cfg, dtype, "winograd")
    assert_conv_equals_reference(cfg, dtype, plan, float32_error=FLOAT32_ERROR)
    x, weight, g = conv_arrays(cfg, dtype)
    both = cpu_backend.conv2d_backward(g, x, weight, plan, None, True, True)
    only_x = cpu_backend.conv2d_backward(g, x, weight, plan, None, True, False)
    only_w = cpu_backend.conv2d_backward(g, x, weight, plan, None, False, True)
    assert only_x[1] is None and only_w[0] is None
    np.testing.assert_array_equal(only_x[0], both[0])
    np.testing.assert_array_equal(only_w[1], both[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_winograd_across_groups_of_images_and_blocks_of_filters(dtype):
    """64 tiles an image: groups of 4 images and a last group of 1; 19·17 = 323 filters:
    a block of 256 and one of 67 (not a multiple of LANES)."""
    cfg = _config(5, 17, 19, 32, 30, (1, 1))
    tiles = 8 * 8
    assert winograd._images_per_group(5, 8, 8) == 4 and tiles * 4 == winograd.GROUP_TILES
    assert 19 * 17 % winograd.LANES and 19 * 17 > winograd.GROUP_TILES
    assert_conv_equals_reference(cfg, dtype, plan_for(cfg, dtype, "winograd"), float32_error=FLOAT32_ERROR)
