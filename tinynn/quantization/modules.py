"""Quantised layers: int8 weights, int8 arithmetic through the backend, float in and out.

A quantised Linear computes, for uint8 inputs q_x (zero point z_x, scale s_x) and int8
weights q_w (scale s_c per output channel):

    y[b, c] = s_x · s_c · ( Σ_k q_x[b,k] · q_w[c,k]  −  z_x · Σ_k q_w[c,k] ) + bias[c]

The sum is exact, in int32, and the second term removes the input zero point once per
channel; the backend's ``quantized_linear`` computes all of it.  A quantised Conv2d pads its
quantised input with z_x (which stands for 0.0) and does the same (``quantized_conv2d``).
Static layers use the input range found in calibration; dynamic ones (``quantize_dynamic``)
measure each batch.  The layers
are for inference; quantisation-aware training uses ``QATLinear``/``QATConv2d``, float
layers that round as these will.
"""
import numpy as np

from .. import autograd, backend
from ..autograd import versions
from ..nn import functional as F
from ..nn.functional.conv import resolve_padding
from ..nn.modules.conv import Conv2d
from ..nn.modules.linear import Linear
from ..nn.modules.module import Module
from ..tensor import Tensor
from .fake_quantize import fake_quantize_activation, fake_quantize_weight
from .observer import MovingAverageMinMaxObserver, affine_qparams, quantize_weight

__all__ = ["QuantizedLinear", "QuantizedConv2d", "QATLinear", "QATConv2d"]


class _Quantized(Module):
    """Shared: int8 weight and scales, float bias, the input's qparams (static) or none."""

    def _store(self, layer, input_qparams):
        weight, scales = quantize_weight(np.asarray(layer.weight.detach()))
        self.register_buffer("weight", Tensor(weight))
        self.register_buffer("weight_scale", Tensor(scales))
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach())
        self.dynamic = input_qparams is None
        if not self.dynamic:
            self.register_buffer("input_scale", Tensor(np.array(input_qparams[0], np.float32)))
            self.register_buffer("input_zero_point", Tensor(np.array(input_qparams[1], np.int64)))

    def _input_qparams(self, x):
        """(scale, zero_point) of this batch (dynamic) or from calibration (static)."""
        op = type(self).__name__
        if autograd.is_grad_enabled() and x.requires_grad:
            raise RuntimeError(f"{op}: quantised layers are for inference and have no backward; "
                               "train with prepare_qat(), or call them under tinynn.no_grad()")
        if x.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")
        values = x._array
        if self.dynamic:
            return affine_qparams(values.min(), values.max()) if values.size else (1.0, 0)
        return float(self.input_scale._array), int(self.input_zero_point._array)

    def _prepared_weight(self, kernels):
        """The backend's form of the int8 weight (packed for VNNI, its row sums), made once and
        made again only when the weight array, its version (``load_state_dict`` writes in
        place) or the backend changes."""
        weight = self.weight._array
        key = (id(kernels), id(weight), versions.version(weight))
        if self.__dict__.get("_prepared_key") != key:
            self.__dict__["_prepared"] = kernels.prepare_int8_weight(weight)
            self.__dict__["_prepared_key"] = key
        return self.__dict__["_prepared"]


class QuantizedLinear(_Quantized):
    def __init__(self, linear, input_qparams=None):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self._store(linear, input_qparams)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"QuantizedLinear: expected input with last dimension {self.in_features}, "
                             f"got shape {x.shape}")
        scale, zero_point = self._input_qparams(x)
        bias = None if self.bias is None else self.bias._array
        kernels = backend.for_device(x.device)
        out = kernels.quantized_linear(x._array.reshape(-1, self.in_features), scale, zero_point,
                                       self._prepared_weight(kernels), self.weight_scale._array, bias)
        return Tensor._wrap(out.reshape(tuple(x.shape[:-1]) + (self.out_features,)), x.device)

    def extra_repr(self):
        kind = "dynamic" if self.dynamic else "static"
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weights, {kind}"


class QuantizedConv2d(_Quantized):
    def __init__(self, conv, input_qparams=None):
        super().__init__()
        if conv.groups != 1:
            raise ValueError(f"QuantizedConv2d: only groups=1 is quantised, got groups={conv.groups}")
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.kernel_size, self.stride, self.dilation = conv.kernel_size, conv.stride, conv.dilation
        before, extra = resolve_padding(conv.padding, conv.kernel_size, conv.dilation, conv.stride)
        self.pads = ((before[0], before[0] + extra[0]), (before[1], before[1] + extra[1]))
        self._store(conv, input_qparams)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"QuantizedConv2d: expected input (N, {self.in_channels}, H, W), got {x.shape}")
        scale, zero_point = self._input_qparams(x)
        bias = None if self.bias is None else self.bias._array
        kernels = backend.for_device(x.device)
        out = kernels.quantized_conv2d(x._array, scale, zero_point, self._prepared_weight(kernels),
                                       self.weight_scale._array, bias, self.stride, self.pads, self.dilation)
        return Tensor._wrap(out, x.device)

    def extra_repr(self):
        kind = "dynamic" if self.dynamic else "static"
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
               f"stride={self.stride}, int8 weights, {kind}"


class _QAT:
    """Shared by the QAT layers: the float layer's parameters, an input observer (moving
    averages while training), and fake quantisation of both inputs and weights."""

    def _adopt(self, layer):
        self.weight, self.bias = layer.weight, layer.bias
        self.input_observer = MovingAverageMinMaxObserver()

    def _fake_quantized(self, x):
        self.input_observer(x)
        low, high = float(self.input_observer.min_val._array), float(self.input_observer.max_val._array)
        return fake_quantize_activation(x, low, high), fake_quantize_weight(self.weight)


class QATLinear(_QAT, Linear):
    def __init__(self, linear):
        Linear.__init__(self, linear.in_features, linear.out_features, linear.bias is not None)
        self._adopt(linear)

    def forward(self, x):
        x, weight = self._fake_quantized(x)
        return F.linear(x, weight, self.bias)


class QATConv2d(_QAT, Conv2d):
    def __init__(self, conv):
        Conv2d.__init__(self, conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                        conv.padding, conv.dilation, conv.groups, conv.bias is not None)
        self._adopt(conv)

    def forward(self, x):
        x, weight = self._fake_quantized(x)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
