"""Which algorithm runs a convolution: chosen once per call and recorded for backward.

The engine asks its backend for a plan in the forward pass (``conv2d_plan``) and hands
the same plan to the backward pass, so forward, ∂L/∂X and ∂L/∂W always agree on the
algorithm.  The CPU and the CUDA backends both plan here, each saying what its device
offers (``Features``); the thresholds below were measured on the 2-core CPU VM.

    algorithm                  when                                          where
    depthwise                  groups = channels (MobileNetV2)               depthwise.py / cuda_conv.py
    depthwise_channels_last    … and output planes at most 8 wide            depthwise.py
    winograd                   3×3, stride 1, padding ≤ 1, ≥ 16 channels,    winograd.py
                               planes that 4×4 tiles cover without much waste
    pointwise                  1×1 without padding: no im2col at all         conv.py
    tiled                      float32, ≤ 16 output channels (LeNet), or     tiled_conv.py
                               stride 1, 16-64 channels, ≤ 16×16 outputs
    batch_in_columns           … float64, or no tiles, or ≤ 64 output        conv.py + im2col.py
                               positions: one GEMM a pass
    im2col                     everything else: one GEMM per image           conv.py + im2col.py
"""
from collections import namedtuple

import numpy as np
from numba import config

from .tiled_conv import transposable
from .winograd import OUT as WINOGRAD_TILE

ConvPlan = namedtuple("ConvPlan", "input_shape weight_shape stride padding dilation groups out_hw "
                                   "algorithm keep_columns")
Features = namedtuple("Features", "winograd batch_in_columns channels_last_depthwise tiled")

# The register tiles are LLVM IR (``tiles.py``), which has no pure-Python form: under
# NUMBA_DISABLE_JIT (stepping through the kernels in a debugger) thin layers take im2col.
CPU_FEATURES = Features(winograd=True, batch_in_columns=True, channels_last_depthwise=True,
                        tiled=not config.DISABLE_JIT)
CUDA_FEATURES = Features(winograd=False, batch_in_columns=False, channels_last_depthwise=False, tiled=False)

# Winograd F(4×4, 3×3) against im2col + GEMM, measured on the forward pass, ∂L/∂X and
# ∂L/∂W: ResNet18's 3×3 layers 1.6-2.7× faster (batch 32: 64 channels on 32×32 23 against
# 60 ms, 512 on 4×4 29 against 36); with 1-3 input channels the transforms outweigh the
# GEMM.  Tiles hanging over the plane's edge are computed whole: with 1.78× the outputs
# computed (6×6 and 5×5 planes: 128 and 256 channels 9.1 against 7.1 ms, 22 against 18)
# im2col wins, at 1.31× (7×7) they tie, at 1.51× (13×13, 128 channels: 18 against 25)
# Winograd still wins.
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MAX_WASTE = 1.6

# With few output channels (LeNet's 6 and 16) the per-image GEMMs are so thin that BLAS
# runs them at a fifth of its peak; one GEMM over the batch (LeNet's conv2: forward
# 1.09 → 0.56 ms, ∂L/∂W 1.40 → 0.69, ∂L/∂X 1.14 → 0.62).  With 32 output channels the
# transposing copies cost more than that saves (1.30 → 1.72 ms).
BATCH_IN_COLUMNS_MAX_CHANNELS = 16
# With few output positions per image the per-image GEMMs are thin the other way (N = OH·OW):
# ResNet18's stride-2 256 → 512 to 4×4, batch 32, forward 7.9 → 5.4 ms (∂L/∂X and ∂L/∂W
# already ran as one GEMM there); 128 → 256 to 8×8 forward + both gradients 16.7 → 15.3 ms;
# 64 → 128 to 16×16 no better (forward 6.0 → 6.1).
BATCH_IN_COLUMNS_MAX_POSITIONS = 64

# Register tiles (``tiled_conv.py``) against the GEMM layouts, forward + ∂L/∂W (+ ∂L/∂X where
# the layer needs it), LeNet-5 at batch 64: first layer 2.3 → 1.4 ms, second 2.7 → 1.3 ms.
# With 32 output channels and one or three input channels im2col's GEMM wins outright
# (Keras MNIST CNN's first layer 0.6 against 2.1 ms).
TILED_MAX_CHANNELS = 16

# With ∂L/∂X as the tiles' transposed convolution (stride 1, ≥ 16 input channels), the
# tiles beat Winograd on whole layers (forward + both gradients) of up to 64 channels on
# planes of up to 16×16 outputs: batch 64, Keras MNIST CNN's 32 → 64 on 11×11 5.6 → 4.1 ms,
# Keras CIFAR CNN's 32 → 64 on 13×13 9.7 → 5.6, its 64 → 64 on 4×4 2.5 → 1.4.  At 128
# channels they still won on small planes against F(2×2) (64 → 128 on 11×11: 21.8 → 13.7)
# but only tied on ResNet18's 128 → 128 on 16×16, where compiling the tiles beside Winograd
# cost its first step 2 s; wider or on larger planes Winograd's fewer multiplications win
# (with F(2×2), ResNet18's 64 → 64 on 32×32, batch 32: 35 against 40 ms; 256 → 256 on
# 8×8: 25 against 33; F(4×4) is faster still).
TILED_WIDE_MAX_CHANNELS, TILED_WIDE_MAX_POSITIONS = 64, 16 * 16

# Depthwise output planes at most this wide go channels last.  Measured on MobileNetV2
# (forward + both gradients): 2×2 and 4×4 planes 3-5× faster than planar, 8×8 2×,
# 16×16 even, 32×32 planar 2× faster.
CHANNELS_LAST_MAX_WIDTH = 8

# The im2col matrix is C·KH·KW times the input; keeping it from the forward pass saves
# the weight gradient a second im2col when it is this small.  The price is memory at the
# step's peak: with 16 MiB kept, the Keras CIFAR CNN (batch 64, 6.2 MB of columns) peaked
# at 45.6 MB against PyTorch's 39-45, 41.1 MB at 4 MiB (its step 4 % slower), and
# ResNet18 (its stride-2 layers' 4.7 and 9.4 MB) 308 → 296 MB at the same speed.
KEEP_COLUMNS_BYTES = 4 * 2 ** 20


def plan_conv2d(input_shape, weight_shape, dtype, stride, padding, dilation, groups, out_hw,
                keep_columns, features):
    """The ConvPlan for one call.  ``keep_columns`` asks to keep im2col's matrix for ∂L/∂W
    (the engine asks when the weight needs a gradient); it is kept only when small."""
    algorithm = _algorithm(input_shape[1], weight_shape, np.dtype(dtype), padding, stride, dilation, groups,
                           out_hw, features)
    columns_bytes = input_shape[0] * input_shape[1] * weight_shape[2] * weight_shape[3] \
        * out_hw[0] * out_hw[1] * dtype.itemsize
    keep = bool(keep_columns) and algorithm in ("im2col", "batch_in_columns", "pointwise") \
        and columns_bytes <= KEEP_COLUMNS_BYTES
    return ConvPlan(tuple(input_shape), tuple(weight_shape), tuple(stride), tuple(padding),
                    tuple(dilation), int(groups), tuple(out_hw), algorithm, keep)


def _algorithm(channels, weight_shape, dtype, padding, stride, dilation, groups, out_hw, features):
    out_channels, kernel_hw = weight_shape[0], tuple(weight_shape[2:])
    if groups > 1 and groups == channels:
        narrow = out_channels == channels and out_hw[1] <= CHANNELS_LAST_MAX_WIDTH
        return "depthwise_channels_last" if narrow and features.channels_last_depthwise \
            else "depthwise"
    tiles = features.tiled and dtype == np.float32 and groups == 1
    if tiles and max(channels, out_channels) <= TILED_WIDE_MAX_CHANNELS and kernel_hw != (1, 1) \
            and out_hw[0] * out_hw[1] <= TILED_WIDE_MAX_POSITIONS \
            and transposable(channels, kernel_hw, stride, padding, dilation):
        return "tiled"
    if features.winograd and min(channels, out_channels) >= WINOGRAD_MIN_CHANNELS \
            and kernel_hw == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1) \
            and groups == 1 and max(padding) <= 1 and _winograd_waste(out_hw) <= WINOGRAD_MAX_WASTE:
        # Padding 2 surrounds every plane with a zero border the tiles spend their work on.
        return "winograd"
    if kernel_hw == (1, 1) and tuple(padding) == (0, 0):
        return "pointwise"
    if tiles and out_channels <= TILED_MAX_CHANNELS:
        return "tiled"
    if features.batch_in_columns and groups == 1 and (out_channels <= BATCH_IN_COLUMNS_MAX_CHANNELS
                                                      or out_hw[0] * out_hw[1] <= BATCH_IN_COLUMNS_MAX_POSITIONS):
        return "batch_in_columns"
    return "im2col"


def _winograd_waste(out_hw):
    """Outputs the whole tiles compute per output the layer has."""
    covered = [-(-size // WINOGRAD_TILE) * WINOGRAD_TILE for size in out_hw]
    return covered[0] * covered[1] / (out_hw[0] * out_hw[1])
