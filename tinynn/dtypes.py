"""The dtypes tinynn tensors hold (NumPy's) and PyTorch's rules for choosing one.

``tinynn.tensor([1.5])`` is float32 and ``tinynn.tensor([1])`` int64, as in PyTorch;
a NumPy array keeps its own dtype.
"""
import numpy as np

__all__ = ["float32", "float64", "int64", "int32", "bool_", "qint8", "quint8", "DEFAULT_FLOAT",
           "dtype_of_data"]

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)
qint8 = np.dtype(np.int8)          # quantised weights (tinynn.quantization)
quint8 = np.dtype(np.uint8)        # quantised activations
DEFAULT_FLOAT = float32


def dtype_of_data(data):
    """torch.tensor's rule for Python data: floats become float32, ints int64, bools bool."""
    kind = np.asarray(data).dtype
    if kind.kind == "f":
        return DEFAULT_FLOAT
    if kind.kind in "iu":
        return int64
    return kind
