"""``Parameter``: a tensor that is a learnable weight (PyTorch's ``torch.nn.Parameter``)."""
import numpy as np

from ..device import CPU
from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a learnable weight: ``requires_grad=True`` and registered by Modules."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        array = np.zeros(0, dtype=np.float32) if data is None else (
            data._array if isinstance(data, Tensor) else np.asarray(data))
        self._init(array, data.device if isinstance(data, Tensor) else CPU, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
