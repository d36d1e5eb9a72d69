"""``Dropout`` zeroes elements, ``Dropout2d`` whole channels, with probability p during training."""
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """Zero each element with probability p during training, scale the rest by 1/(1-p)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: expected a probability p in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace=False"


class Dropout2d(Dropout):
    """Zero whole channels of an (N, C, H, W) input with probability p during training."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)
