"""Parameter sharing (seed 001 §2.1): several weights that are one value.

Tying.  One ``Parameter`` used by several modules (an autoencoder's encoder and decoder, a
language model's embedding and output layer): ``tie_weights``.  Its gradient is the sum of
the gradients from every use; ``tinynn.save`` stores it once.

Weight sharing by k-means (Han et al., Deep Compression, step 2).  A layer's weights are
clustered into 2^bits values; the layer then stores one small integer per weight (which
cluster) and the 2^bits centroids c:

    W[i] = c[index[i]]                  (pruned weights stay exactly 0)
    ∂L/∂c[k] = Σ_{i: index[i] = k} ∂L/∂W[i]

The second line is what fine-tuning needs, and it is simply the backward pass of the
gather ``c[index]`` (``tinynn/ops/shape.py``: ``np.add.at`` adds the gradients of every
weight into its cluster).  Centroids start evenly spaced between the smallest and largest
weight (Deep Compression found this linear start best) and move by Lloyd's iterations.
"""
import numpy as np

from ..tensor import Tensor
from ..nn.parameter import Parameter

__all__ = ["tie_weights", "share_weights", "unshare_weights", "kmeans"]


def tie_weights(*modules, name="weight"):
    """Make every module use the first one's ``name`` parameter; returns that parameter."""
    if len(modules) < 2:
        raise ValueError(f"tie_weights: expected at least two modules, got {len(modules)}")
    shared = getattr(modules[0], name)
    for module in modules[1:]:
        own = getattr(module, name)
        if tuple(own.shape) != tuple(shared.shape):
            raise ValueError(f"tie_weights: {type(module).__name__}.{name} has shape {own.shape}, "
                             f"the shared one {shared.shape}")
        setattr(module, name, shared)
    return shared


def kmeans(values, clusters, iterations=30):
    """(centroids, index of each value's centroid): 1-D k-means with a linear start."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    clusters = max(1, min(clusters, len(np.unique(values))))
    centroids = np.linspace(values.min(), values.max(), clusters)
    for _ in range(iterations):
        index = _nearest(values, centroids)
        sums = np.bincount(index, weights=values, minlength=clusters)
        counts = np.bincount(index, minlength=clusters)
        moved = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.allclose(moved, centroids):
            break
        centroids = moved
    return centroids, _nearest(values, centroids)


def _nearest(values, centroids):
    """The nearest centroid of each value; centroids stay sorted, so a binary search does."""
    order = np.argsort(centroids)
    sorted_centroids = centroids[order]
    cut = np.searchsorted((sorted_centroids[1:] + sorted_centroids[:-1]) / 2, values)
    return order[cut]


class SharedWeight:
    """The forward pre-hook of a shared layer: W = c[index] (⊙ mask where pruned)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, module, inputs):
        weight = getattr(module, self.name + "_centroids")[getattr(module, self.name + "_index")]
        mask = getattr(module, self.name + "_mask", None)
        setattr(module, self.name, weight if mask is None else weight * mask)


def share_weights(module, name="weight", bits=4, iterations=30):
    """Replace ``module.<name>`` by 2^bits shared values: parameters ``<name>_centroids``,
    buffers ``<name>_index`` (uint8 for bits ≤ 8) and, where weights were zero (pruned),
    ``<name>_mask``.  Prune first (and ``prune.remove``), then share, as Deep Compression."""
    if not 1 <= bits <= 16:
        raise ValueError(f"share_weights: expected bits in [1, 16], got {bits}")
    weight = module._parameters.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"share_weights: {type(module).__name__} has no parameter {name!r} "
                         "(call prune.remove first if it is pruned)")
    values = np.asarray(weight.detach())
    kept = values != 0
    if not kept.any():
        raise ValueError(f"share_weights: every entry of {name} is zero; nothing to cluster")
    centroids, assigned = kmeans(values[kept], 2 ** bits, iterations)
    index = np.zeros(values.shape, dtype=np.uint8 if bits <= 8 else np.uint16)
    index[kept] = assigned
    del module._parameters[name]
    module.register_parameter(name + "_centroids", Parameter(centroids.astype(values.dtype)))
    module.register_buffer(name + "_index", Tensor(index))
    if not kept.all():
        module.register_buffer(name + "_mask", Tensor(kept.astype(values.dtype)))
    hook = SharedWeight(name)
    hook(module, ())
    module.register_forward_pre_hook(hook)
    return module


def unshare_weights(module, name="weight"):
    """Turn a shared layer back into a plain one whose weight holds the shared values
    (after fine-tuning the centroids, before quantising or removing channels)."""
    hooks = [key for key, hook in module._forward_pre_hooks.items()
             if isinstance(hook, SharedWeight) and hook.name == name]
    if not hooks:
        raise ValueError(f"unshare_weights: {type(module).__name__}.{name} is not shared")
    SharedWeight(name)(module, ())
    values = np.asarray(getattr(module, name).detach())
    del module._forward_pre_hooks[hooks[0]]
    del module._parameters[name + "_centroids"]
    for buffer in (name + "_index", name + "_mask"):
        module._buffers.pop(buffer, None)
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(values))
    return module
