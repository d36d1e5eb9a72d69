"""The dtypes tinynn tensors hold (NumPy's) and PyTorch's rules for choosing one.

``tinynn.tensor([1.5])`` is float32 and ``tinynn.tensor([1])`` int64, as in PyTorch;
a NumPy array keeps its own dtype.
"""
import numpy as np

__all__ = ["float32", "float64", "int64", "int32", "bool_", "qint8", "quint8", "DEFAULT_FLOAT",
           "dtype_of_data", "promote_types", "result_type"]

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


def promote_types(a, b):
    """PyTorch's pairwise rule: an integer (or bool) with a float gives the float — not
    float64 as NumPy says — and otherwise the smallest type that holds both."""
    a, b = np.dtype(a), np.dtype(b)
    if (a.kind == "f") != (b.kind == "f"):
        return a if a.kind == "f" else b
    return np.promote_types(a, b)


def result_type(*operands):
    """The dtype PyTorch gives ``a + b`` and the other arithmetic ops.

    Operands rank in three groups: tensors with dimensions, 0-d tensors, Python numbers.
    A lower group decides the dtype only when it is of a higher category (bool < integer <
    float): ``float32 tensor + float64 0-d tensor`` stays float32, ``int64 tensor + 2.5`` is
    float32 (the default float), ``float32 tensor + int64 tensor`` float32."""
    groups = [None, None, None]
    for operand in operands:
        if hasattr(operand, "dtype") and hasattr(operand, "ndim"):
            rank, dtype = (0 if operand.ndim else 1), operand.dtype
        else:
            rank, dtype = 2, np.dtype(np.bool_) if isinstance(operand, bool) else dtype_of_data(operand)
        groups[rank] = dtype if groups[rank] is None else promote_types(groups[rank], dtype)
    return _combine(groups[0], _combine(groups[1], groups[2]))


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}


def _combine(higher, lower):
    """c10's combine_categories: the higher-ranked group's dtype, unless the lower group's
    category is higher, then the two promoted."""
    if higher is None or lower is None:
        return higher if lower is None else lower
    if _CATEGORY[lower.kind] > _CATEGORY[higher.kind]:
        return promote_types(higher, lower)
    return higher
