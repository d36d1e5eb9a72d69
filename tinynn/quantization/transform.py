"""The model-level transforms, with PyTorch's names (``torch.ao.quantization``).

    quantize_dynamic(model, {nn.Linear})   int8 weights now; each batch's range measured at run time
    prepare(model) → calibrate → convert   post-training static: input ranges from calibration data
    prepare_qat(model) → train → convert   quantisation-aware training with fake quantisation

Every Linear and ungrouped Conv2d is quantised (depthwise/grouped convolutions stay float).
``inplace=False`` works on a deep copy, as in PyTorch.
"""
import copy

from ..dtypes import qint8
from ..nn.modules.conv import Conv2d
from ..nn.modules.linear import Linear
from .modules import QATConv2d, QATLinear, QuantizedConv2d, QuantizedLinear
from .observer import MinMaxObserver

__all__ = ["quantize_dynamic", "prepare", "prepare_qat", "convert"]


def _quantizable(module, types=(Linear, Conv2d)):
    return isinstance(module, types) and getattr(module, "groups", 1) == 1


def _replace(model, swap):
    """Replace every child for which ``swap(child)`` returns a module; count them."""
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            new = swap(child) if child is not None else None
            if new is not None:
                parent._modules[name] = new
                count += 1
    return count


def _copy(model, inplace):
    return model if inplace else copy.deepcopy(model)


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, inplace=False):
    """Replace the layers of the types in ``qconfig_spec`` (default {nn.Linear}) by int8 ones
    that quantise their input batch by batch."""
    types = tuple(qconfig_spec or {Linear})
    if dtype != qint8:
        raise ValueError(f"quantize_dynamic: only dtype=tinynn.qint8 is implemented, got {dtype}")
    if not all(t in (Linear, Conv2d) for t in types):
        raise ValueError(f"quantize_dynamic: can quantise nn.Linear and nn.Conv2d, got {types}")
    model = _copy(model, inplace)
    _replace(model, lambda m: (QuantizedLinear(m) if isinstance(m, Linear) else QuantizedConv2d(m))
             if _quantizable(m, types) and not isinstance(m, (QATLinear, QATConv2d)) else None)
    return model


def _observe_input(module, inputs):
    module.input_observer(inputs[0])


def prepare(model, inplace=False):
    """Attach an input observer to every quantisable layer; then run calibration batches."""
    model = _copy(model, inplace)
    found = 0
    for module in list(model.modules()):
        if _quantizable(module) and "input_observer" not in module._modules:
            module.input_observer = MinMaxObserver()
            module.register_forward_pre_hook(_observe_input)
            found += 1
    if not found:
        raise ValueError("prepare: the model has no nn.Linear or ungrouped nn.Conv2d to quantise")
    return model


def prepare_qat(model, inplace=False):
    """Replace every quantisable layer by its fake-quantising twin; then train as usual."""
    model = _copy(model, inplace)
    swapped = _replace(model, lambda m: (QATLinear(m) if isinstance(m, Linear) else QATConv2d(m))
                       if _quantizable(m) and not isinstance(m, (QATLinear, QATConv2d)) else None)
    if not swapped:
        raise ValueError("prepare_qat: the model has no nn.Linear or ungrouped nn.Conv2d to quantise")
    return model


def convert(model, inplace=False):
    """Replace every observed (``prepare``) or fake-quantising (``prepare_qat``) layer by its
    int8 version, with the input range its observer recorded."""
    model = _copy(model, inplace)

    def swap(module):
        observer = module._modules.get("input_observer")
        if observer is None:
            return None
        quantized = QuantizedLinear if isinstance(module, Linear) else QuantizedConv2d
        return quantized(module, input_qparams=observer.qparams())

    if not _replace(model, swap):
        raise ValueError("convert: nothing to convert; call prepare() (and calibrate) or "
                         "prepare_qat() (and train) first")
    return model.eval()
