"""``Size``: a tensor's shape as PyTorch returns it from ``x.size()`` — a tuple that also
counts its elements."""
import math


class Size(tuple):
    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self):
        return f"tinynn.Size({list(self)})"
