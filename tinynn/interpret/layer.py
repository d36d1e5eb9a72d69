"""Looking inside one layer: its activations, and Grad-CAM (Selvaraju et al., 2017).

Grad-CAM asks which places of a convolutional layer's feature maps A^k (channel k) matter
for the class score y^c. Each channel is weighted by its gradient averaged over the map,
and the weighted channels are summed::

    α_k = mean_{i,j} ∂y^c / ∂A^k_{ij}          L = Σ_k α_k A^k      (ReLU(L) if asked)

The map has the layer's resolution; ``LayerAttribution.interpolate`` scales it up to the
image. A forward hook swaps the layer's output (or input) for a fresh leaf tensor, so the
backward pass stops at the layer instead of running down to the image.
"""
from __future__ import annotations

import numpy as np

from ..autograd import enable_grad, grad, no_grad
from ..tensor import Tensor
from .attribution import as_input_tuple, extra_args, forward_with_target

__all__ = ["LayerActivation", "LayerGradCam", "LayerAttribution"]


class _Capture:
    """Run the model with ``layer``'s output (or first input) replaced by a leaf that
    requires grad, and keep that leaf."""

    def __init__(self, layer, to_input, op):
        self.layer, self.to_input, self.op = layer, to_input, op
        self.seen = []

    def __enter__(self):
        if self.to_input:
            self.handle = self.layer.register_forward_pre_hook(self._swap_input)
        else:
            self.handle = self.layer.register_forward_hook(self._swap_output)
        return self

    def __exit__(self, *exc):
        self.handle.remove()

    def _leaf(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"{self.op}: the layer's {'input' if self.to_input else 'output'} must "
                            f"be a Tensor, got {type(value).__name__}")
        leaf = value.detach().requires_grad_()
        self.seen.append(leaf)
        return leaf

    def _swap_input(self, module, args):
        return (self._leaf(args[0]),) + tuple(args[1:])

    def _swap_output(self, module, args, output):
        return self._leaf(output)

    def activation(self):
        if len(self.seen) != 1:
            raise RuntimeError(f"{self.op}: the layer ran {len(self.seen)} times in one forward "
                               "pass; expected exactly once (is it part of the model?)")
        return self.seen[0]


class LayerActivation:
    """Captum's ``LayerActivation(forward_func, layer).attribute(inputs)``: the layer's
    output (``attribute_to_layer_input=True``: its input) — the feature maps."""

    def __init__(self, forward_func, layer):
        self.forward_func, self.layer = forward_func, layer

    def attribute(self, inputs, additional_forward_args=None, attribute_to_layer_input=False):
        inputs, _ = as_input_tuple(inputs, "LayerActivation.attribute")
        with no_grad(), _Capture(self.layer, attribute_to_layer_input,
                                 "LayerActivation.attribute") as capture:
            self.forward_func(*inputs, *extra_args(additional_forward_args))
        return capture.activation().detach()


class LayerGradCam:
    """Captum's ``LayerGradCam(forward_func, layer).attribute(inputs, target=None,
    additional_forward_args=None, attribute_to_layer_input=False, relu_attributions=False,
    attr_dim_summation=True)``; the result has shape (N, 1, H, W) for a conv layer."""

    def __init__(self, forward_func, layer, device_ids=None):
        self.forward_func, self.layer = forward_func, layer

    def attribute(self, inputs, target=None, additional_forward_args=None,
                  attribute_to_layer_input=False, relu_attributions=False, attr_dim_summation=True):
        op = "LayerGradCam.attribute"
        inputs, _ = as_input_tuple(inputs, op)
        with enable_grad(), _Capture(self.layer, attribute_to_layer_input, op) as capture:
            selected = forward_with_target(self.forward_func, inputs, target,
                                           additional_forward_args, op)
            activation = capture.activation()
            (gradient,) = grad(selected.sum(), activation)
        spatial = tuple(range(2, gradient.ndim))
        weights = gradient.mean(dim=spatial, keepdim=True) if spatial else gradient
        scaled = weights * activation.detach()
        if attr_dim_summation:
            scaled = scaled.sum(dim=1, keepdim=True)
        return scaled.relu() if relu_attributions else scaled


class LayerAttribution:
    """Captum's home of ``interpolate``: a layer's map scaled up to the input's size."""

    @staticmethod
    def interpolate(layer_attribution, interpolate_dims, interpolate_mode="nearest"):
        """Resize the last two dimensions to ``interpolate_dims`` (PyTorch's ``nearest``, or
        ``bilinear`` with ``align_corners=False``). A picture, not an op: no gradient."""
        if interpolate_mode not in ("nearest", "bilinear"):
            raise ValueError("LayerAttribution.interpolate: interpolate_mode must be 'nearest' or "
                             f"'bilinear', got {interpolate_mode!r}")
        array = layer_attribution.detach().numpy()
        out_h, out_w = (interpolate_dims, interpolate_dims) if isinstance(interpolate_dims, int) \
            else interpolate_dims
        resize = _nearest if interpolate_mode == "nearest" else _bilinear
        rows = resize(array.shape[-2], out_h)
        cols = resize(array.shape[-1], out_w)
        result = _apply(_apply(array, rows, axis=-2), cols, axis=-1)
        return Tensor(result.astype(array.dtype), device=layer_attribution.device)


def _nearest(size_in, size_out):
    """Source index per output index: floor(i · in / out), PyTorch's ``nearest``."""
    source = np.floor(np.arange(size_out) * (size_in / size_out)).astype(np.int64)
    return np.minimum(source, size_in - 1), None, None


def _bilinear(size_in, size_out):
    """Two source indices and their weights per output index, with ``align_corners=False``:
    the output pixel centre (i + ½)·in/out − ½ in input coordinates, clamped at 0."""
    position = np.maximum((np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5, 0.0)
    low = np.minimum(np.floor(position).astype(np.int64), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, position - low


def _apply(array, plan, axis):
    low, high, weight = plan
    if high is None:
        return np.take(array, low, axis=axis)
    shape = [1] * array.ndim
    shape[axis] = -1
    weight = weight.reshape(shape)
    return np.take(array, low, axis=axis) * (1 - weight) + np.take(array, high, axis=axis) * weight
