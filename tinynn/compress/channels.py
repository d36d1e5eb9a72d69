"""Removing pruned channels: structured pruning turned into a smaller dense model.

``ln_structured(conv, "weight", amount, n, dim=0)`` zeroes whole filters, but the layer keeps
its shape and its cost.  ``remove_channels`` cuts them out: the producer loses those output
channels (rows of its weight, entries of its bias), any batch norm in between loses the
same entries, and the consumer loses the matching inputs (dim 1 of a convolution's weight;
for a Linear after a flatten, each channel's ``spatial`` = H·W consecutive columns).

A removed channel's bias goes with it, as in channel-pruning tools: the smaller model equals
the pruned one exactly when those biases are zero (prune them too), and is a close start for
fine-tuning otherwise.
"""
import numpy as np

from ..nn.modules.conv import Conv2d
from ..nn.modules.linear import Linear
from ..nn.modules.normalization import BatchNorm1d, BatchNorm2d
from ..nn.parameter import Parameter
from ..tensor import Tensor

__all__ = ["remove_channels", "dead_channels"]


def _weight(layer, op):
    if not isinstance(layer, (Conv2d, Linear)) or getattr(layer, "groups", 1) != 1:
        raise TypeError(f"{op}: expected a Linear or an ungrouped Conv2d, got {type(layer).__name__}")
    if "weight" not in layer._parameters:
        raise ValueError(f"{op}: {type(layer).__name__}'s weight is pruned or shared; call "
                         "prune.remove(layer, 'weight') first")
    return np.asarray(layer.weight.detach())


def dead_channels(layer):
    """The output channels of ``layer`` whose weights are all zero."""
    weight = _weight(layer, "dead_channels")
    return np.flatnonzero(~weight.reshape(weight.shape[0], -1).any(axis=1))


def _slice_parameter(module, name, keep, axis):
    tensor = getattr(module, name)
    if tensor is None:
        return
    kept = np.take(np.asarray(tensor.detach()), keep, axis=axis)
    if isinstance(tensor, Parameter):
        setattr(module, name, Parameter(kept))
    else:
        module.register_buffer(name, Tensor(kept))


def remove_channels(producer, consumer, between=(), spatial=1):
    """Cut ``producer``'s all-zero output channels and the matching inputs of ``consumer``
    (and entries of the batch norms in ``between``); returns how many were removed."""
    dead = dead_channels(producer)
    consumer_weight = _weight(consumer, "remove_channels")
    channels = producer.weight.shape[0]
    if consumer_weight.shape[1] != channels * spatial:
        raise ValueError(f"remove_channels: {type(consumer).__name__} takes {consumer_weight.shape[1]} "
                         f"inputs, expected {channels} channels × spatial {spatial}")
    if len(dead) == 0 or len(dead) == channels:
        return 0 if len(dead) == 0 else _refuse_all(channels)
    keep = np.setdiff1d(np.arange(channels), dead)
    _slice_parameter(producer, "weight", keep, 0)
    _slice_parameter(producer, "bias", keep, 0)
    for norm in between:
        if not isinstance(norm, (BatchNorm1d, BatchNorm2d)) or norm.num_features != channels:
            raise ValueError(f"remove_channels: expected batch norms over {channels} channels in "
                             f"between, got {norm!r}")
        for name in ("weight", "bias", "running_mean", "running_var"):
            _slice_parameter(norm, name, keep, 0)
        norm.num_features = len(keep)
    columns = (keep[:, None] * spatial + np.arange(spatial)).reshape(-1)
    _slice_parameter(consumer, "weight", columns, 1)
    _resize(producer, out=len(keep))
    _resize(consumer, inputs=len(columns))
    return len(dead)


def _refuse_all(channels):
    raise ValueError(f"remove_channels: all {channels} channels are pruned; the layer would vanish")


def _resize(layer, out=None, inputs=None):
    if isinstance(layer, Linear):
        layer.out_features = out or layer.out_features
        layer.in_features = inputs or layer.in_features
    else:
        layer.out_channels = out or layer.out_channels
        layer.in_channels = inputs or layer.in_channels
