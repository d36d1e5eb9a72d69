"""``F.pad``: constant padding of the last two dimensions."""
import numpy as np

from ...autograd import Function

__all__ = ["pad"]


class Pad(Function):
    """Constant padding of the last two dims; backward crops the gradient."""

    @staticmethod
    def forward(ctx, x, widths, value):
        left, right, top, bottom = widths
        ctx.crop = (slice(top, top + x.shape[-2]), slice(left, left + x.shape[-1]))
        spec = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(x, spec, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[(Ellipsis,) + ctx.crop]


def pad(input, pad, mode="constant", value=0.0):
    """``F.pad`` for the last two dimensions: pad = (left, right, top, bottom)."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is implemented, got {mode!r}")
    widths = tuple(pad) + (0,) * (4 - len(pad))
    if len(pad) not in (2, 4) or any(w < 0 for w in widths):
        raise ValueError(f"pad: expected (left, right) or (left, right, top, bottom) of "
                         f"non-negative ints, got {pad}")
    return Pad.apply(input, widths, value)
