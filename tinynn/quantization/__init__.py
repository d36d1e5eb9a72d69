"""``tinynn.quantization``: 8-bit models (seed 001 §3.2), PyTorch's names.

    observer.py        how floats map to uint8/int8, and the observers that find the ranges
    fake_quantize.py   rounding in the forward pass, the straight-through estimator backward
    modules.py         QuantizedLinear / QuantizedConv2d (int8 kernels), QATLinear / QATConv2d
    transform.py       quantize_dynamic, prepare, prepare_qat, convert
"""
from ..dtypes import qint8, quint8  # noqa: F401
from .fake_quantize import FakeQuantize, fake_quantize_activation, fake_quantize_weight  # noqa: F401
from .modules import QATConv2d, QATLinear, QuantizedConv2d, QuantizedLinear  # noqa: F401
from .observer import (  # noqa: F401
    MinMaxObserver, MovingAverageMinMaxObserver, affine_qparams, dequantize, quantize, quantize_weight,
)
from .transform import convert, prepare, prepare_qat, quantize_dynamic  # noqa: F401
