"""Keras layers on tinynn's modules.

Keras is channels-last: shapes are (height, width, channels) and ``summary()``
shows them that way.  Inside a model, images travel channels-first (N, C, H, W),
the layout tinynn's convolution kernels use, so the model transposes once at
its input and ``Flatten`` transposes back before flattening, which keeps the
Dense weights in Keras' (H, W, C) order.  Layers are built when their input
shape is known (``build``), and initialised as Keras does: Glorot-uniform
kernels, zero biases.
"""
import math

import numpy as np

from .. import nn
from ..nn import functional as F
from ..nn.modules.utils import output_size, pair
from .base_layer import Layer, _weights_of


def _same_padding(size, kernel, stride, dilation=1):
    """TensorFlow's 'same': output ceil(size/stride); the extra pixel of odd padding
    goes to the bottom/right.  Returns (before, after)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _check_padding(op, padding):
    """'valid' or 'same', in either case ('SAME' as TensorFlow 1 code writes it)."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: expected padding 'valid' or 'same', got {padding!r}")
    return padding.lower()


def _spatial_output(op, input_hw, kernel, strides, dilation, padding):
    """(pads, (out_h, out_w)) of a Conv2D or pooling layer: 'valid' has no pads,
    'same' TensorFlow's (before, after) pair per axis."""
    if padding == "same":
        pads = [_same_padding(s, k, st, d) for s, k, st, d in zip(input_hw, kernel, strides, dilation)]
        out = tuple(math.ceil(s / st) for s, st in zip(input_hw, strides))
    else:
        pads = None
        out = tuple(output_size(s, k, st, 0, d) for s, k, st, d in zip(input_hw, kernel, strides, dilation))
    if min(out) < 1:
        raise ValueError(f"{op}: kernel {tuple(kernel)} does not fit the input {tuple(input_hw)}")
    return pads, out


def _keras_init(module):
    nn.init.xavier_uniform_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


class InputLayer(Layer):
    def __init__(self, shape=None, input_shape=None, name=None):
        super().__init__(input_shape=shape or input_shape, name=name)


from .symbolic import Input  # noqa: E402,F401  (keras.layers.Input is keras.Input)


class Dense(Layer):
    """y = activation(x W + b) on the last axis."""

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(activation, **kwargs)
        self.units, self.use_bias = units, use_bias

    def build(self, input_shape):
        self.inner = _keras_init(nn.Linear(input_shape[-1], self.units, bias=self.use_bias))
        return input_shape[:-1] + (self.units,)

    def call(self, x):
        if x.ndim == 4:        # images travel channels-first: apply to the channel axis
            return self.inner(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.inner(x)


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                 activation=None, use_bias=True, **kwargs):
        super().__init__(activation, **kwargs)
        op = type(self).__name__
        self.padding = _check_padding(op, padding)
        self.filters, self.use_bias = filters, use_bias
        self.kernel_size = pair(kernel_size, "kernel_size", op)
        self.strides = pair(strides, "strides", op)
        self.dilation_rate = pair(dilation_rate, "dilation_rate", op)

    input_rank = 3

    def build(self, input_shape):
        h, w, channels = input_shape
        self.inner = self._convolution(channels)
        self.pads, out = _spatial_output(type(self).__name__, (h, w), self.kernel_size, self.strides,
                                         self.dilation_rate, self.padding)
        return out + (self.filters if getattr(self, "pointwise", None) is not None else self.inner.out_channels,)

    def _convolution(self, channels):
        return _keras_init(nn.Conv2d(channels, self.filters, self.kernel_size, self.strides, 0,
                                     self.dilation_rate, bias=self.use_bias))

    def call(self, x):
        if self.pads is not None:
            (top, bottom), (left, right) = self.pads
            x = F.pad(x, (left, right, top, bottom))
        x = self.inner(x)
        pointwise = getattr(self, "pointwise", None)          # SeparableConv2D's 1×1 convolution
        return x if pointwise is None else pointwise(x)


class DepthwiseConv2D(Conv2D):
    """Each input channel convolved with its own ``depth_multiplier`` filters (groups = channels);
    Keras' kernel layout (height, width, channels, multiplier)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, dilation_rate=(1, 1),
                 activation=None, use_bias=True, **kwargs):
        super().__init__(None, kernel_size, strides, padding, dilation_rate, activation, use_bias, **kwargs)
        self.depth_multiplier = depth_multiplier

    def _convolution(self, channels):
        return _keras_init(nn.Conv2d(channels, channels * self.depth_multiplier, self.kernel_size, self.strides,
                                     0, self.dilation_rate, groups=channels, bias=self.use_bias))


class SeparableConv2D(DepthwiseConv2D):
    """A depthwise convolution, then a 1×1 convolution to ``filters`` channels (MobileNet's
    block); weights [depthwise kernel, pointwise kernel (1, 1, C·m, filters), bias]."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, dilation_rate, activation, False,
                         **kwargs)
        self.filters, self.use_pointwise_bias = filters, use_bias

    def build(self, input_shape):
        self.pointwise = _keras_init(nn.Conv2d(input_shape[-1] * self.depth_multiplier, self.filters, 1,
                                               bias=self.use_pointwise_bias))
        return super().build(input_shape)

    def _keras_state(self):
        depthwise, pointwise = _weights_of(self.inner), _weights_of(self.pointwise)
        return depthwise + pointwise


class _Pooling2D(Layer):
    input_rank = 3

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(None, **kwargs)
        op = type(self).__name__
        self.padding = _check_padding(op, padding)
        self.pool_size = pair(pool_size, "pool_size", op)
        self.strides = pair(strides, "strides", op) if strides is not None else self.pool_size

    def build(self, input_shape):
        h, w, channels = input_shape
        self.pads, out = _spatial_output(type(self).__name__, (h, w), self.pool_size, self.strides,
                                         (1, 1), self.padding)
        return out + (channels,)

    def padded(self, x, value):
        (top, bottom), (left, right) = self.pads
        return F.pad(x, (left, right, top, bottom), value=value)


class MaxPooling2D(_Pooling2D):
    def call(self, x):
        if self.pads is not None:
            x = self.padded(x, -np.inf)
        return F.max_pool2d(x, self.pool_size, self.strides)


class AveragePooling2D(_Pooling2D):
    def call(self, x):
        if self.pads is None:
            return F.avg_pool2d(x, self.pool_size, self.strides)
        # 'same' averages only the real pixels: pooled sum / pooled count of ones.
        ones = self.padded(x.detach() * 0 + 1, 0.0)
        return F.avg_pool2d(self.padded(x, 0.0), self.pool_size, self.strides) / \
            F.avg_pool2d(ones, self.pool_size, self.strides)


class GlobalAveragePooling2D(Layer):
    input_rank = 3

    def build(self, input_shape):
        return (input_shape[-1],)

    def call(self, x):
        return x.mean((2, 3))


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    def call(self, x):
        return x.amax((2, 3))


class Softmax(Layer):
    """softmax over ``axis`` (Keras' axis, channels last; -1 by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(None, **kwargs)
        self.axis = axis

    def call(self, x):
        axis = self.axis % x.ndim
        if x.ndim == 4:                      # (N, H, W, C) in Keras is (N, C, H, W) inside
            axis = {1: 2, 2: 3, 3: 1}[axis]
        return F.softmax(x, axis)


class Flatten(Layer):
    def build(self, input_shape):
        return (int(np.prod(input_shape)),)

    def call(self, x):
        if x.ndim == 4:        # back to channels-last so the order matches Keras
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1)


class Dropout(Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(None, **kwargs)
        self.rate = rate

    def call(self, x):
        return F.dropout(x, self.rate, self.training)


class BatchNormalization(Layer):
    """Keras' moving averages use ``momentum`` for the old value (PyTorch's momentum is 1 - it)
    and the batch's biased variance (PyTorch's the unbiased one)."""

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(None, **kwargs)
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale

    def build(self, input_shape):
        module = nn.BatchNorm2d if len(input_shape) == 3 else nn.BatchNorm1d
        self.inner = module(input_shape[-1], eps=self.epsilon, momentum=1 - self.momentum)
        self.inner.unbiased_running_var = False       # Keras keeps the batch's biased variance
        if not self.scale:
            self.inner.weight.requires_grad_(False)
        if not self.center:
            self.inner.bias.requires_grad_(False)
        return input_shape

    def call(self, x):
        return self.inner(x)


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(activation, **kwargs)


class ReLU(Layer):
    def __init__(self, **kwargs):
        super().__init__("relu", **kwargs)


from .merging import Add, Concatenate  # noqa: E402,F401  (keras.layers.Add, ...)
from .recurrent import GRU, LSTM, Embedding, SimpleRNN  # noqa: E402,F401
