"""Pictures of what a network looks at (matplotlib, the ``plot`` extra).

Each function returns a ``matplotlib.figure.Figure`` built without pyplot, so that nothing
here changes the host's matplotlib backend or global state; a notebook shows the figure,
and ``save_figure`` writes it atomically::

    figure = plot_attribution(image, IntegratedGradients(model).attribute(x, target=7)[0])
    save_figure(figure, "integrated_gradients.png")

``plot_attribution``   an attribution map over its image (saliency, IG, Grad-CAM)
``plot_filters``       a conv layer's filters, one small picture per output channel
``plot_feature_maps``  one example's activations, one picture per channel
``plot_attention``     an attention-weight matrix (queries × keys)
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..files import atomic_write
from ..tensor import Tensor

__all__ = ["plot_attribution", "plot_filters", "plot_feature_maps", "plot_attention", "save_figure"]


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("tinynn.interpret.visualize needs matplotlib: pip install 'tinynn[plot]'") from None
    return Figure(**kwargs)


def _array(value, op):
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    raise TypeError(f"{op}: expected a Tensor or a NumPy array, got {type(value).__name__}")


def _as_picture(array, op):
    """(C, H, W) or (H, W) → (H, W) grey or (H, W, 3) colour, scaled to [0, 1]."""
    if array.ndim == 3:
        array = array.transpose(1, 2, 0) if array.shape[0] == 3 else array.mean(0)
    if array.ndim not in (2, 3):
        raise ValueError(f"{op}: expected one image (C, H, W) or (H, W), got shape {array.shape}")
    low, high = array.min(), array.max()
    return (array - low) / (high - low) if high > low else np.zeros_like(array, dtype=float)


def plot_attribution(image, attribution, title=None, sign="absolute_value", alpha=0.6, cmap="inferno"):
    """The image, and the attribution map blended over it — or several maps side by side when
    ``attribution`` is a dict {title: map}. A map has the image's shape (or (1, H, W), Grad-CAM
    after ``LayerAttribution.interpolate``); channels are summed. ``sign``:
    ``"absolute_value"`` (how much), ``"positive"`` (for the class) or ``"all"`` (red for,
    blue against)."""
    op = "plot_attribution"
    picture = _as_picture(_array(image, op), op)
    if sign not in ("absolute_value", "positive", "all"):
        raise ValueError(f"{op}: sign must be 'absolute_value', 'positive' or 'all', got {sign!r}")
    maps = attribution if isinstance(attribution, dict) else {title or "attribution": attribution}
    figure = _figure(figsize=(3 * (1 + len(maps)), 3))
    axes = np.atleast_1d(figure.subplots(1, 1 + len(maps)))
    axes[0].imshow(picture, cmap="gray" if picture.ndim == 2 else None)
    axes[0].set_title("input")
    for axis, (name, heat) in zip(axes[1:], maps.items()):
        _overlay(figure, axis, picture, _signed(_array(heat, op), picture, sign, op), sign, alpha, cmap)
        axis.set_title(name)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure


def _signed(heat, picture, sign, op):
    heat = heat.sum(0) if heat.ndim == 3 else heat
    if heat.shape != picture.shape[:2]:
        raise ValueError(f"{op}: the attribution's map {heat.shape} must match the image's {picture.shape[:2]}")
    return {"absolute_value": np.abs(heat), "positive": np.maximum(heat, 0), "all": heat}[sign]


def _overlay(figure, axis, picture, heat, sign, alpha, cmap):
    """The image in grey with the map over it, and the map's colour bar."""
    limit = np.abs(heat).max() or 1.0
    axis.imshow(picture.mean(-1) if picture.ndim == 3 else picture, cmap="gray")
    shown = axis.imshow(heat, cmap="bwr" if sign == "all" else cmap, alpha=alpha,
                        vmin=-limit if sign == "all" else 0, vmax=limit)
    figure.colorbar(shown, ax=axis, fraction=0.046)


def _grid(pictures, title, cmap="gray"):
    """Small pictures side by side, up to eight per row."""
    columns = min(8, len(pictures))
    rows = math.ceil(len(pictures) / columns)
    figure = _figure(figsize=(1.3 * columns, 1.3 * rows + 0.4))
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index < len(pictures):
            axis.imshow(pictures[index], cmap=cmap if pictures[index].ndim == 2 else None)
            axis.set_title(str(index), fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_filters(weight, title="filters"):
    """A conv layer's weight (out, in, kH, kW) as one picture per output channel: colour for
    three input channels, the mean over the inputs otherwise."""
    op = "plot_filters"
    array = _array(weight, op)
    if array.ndim != 4:
        raise ValueError(f"{op}: expected a conv weight (out, in, kH, kW), got shape {array.shape}")
    return _grid([_as_picture(f, op) for f in array], title)


def plot_feature_maps(activation, title="feature maps", max_maps=32):
    """One example's activations (C, H, W) — or the first example of (N, C, H, W), what
    ``LayerActivation`` returns — one picture per channel, at most ``max_maps``."""
    op = "plot_feature_maps"
    array = _array(activation, op)
    array = array[0] if array.ndim == 4 else array
    if array.ndim != 3:
        raise ValueError(f"{op}: expected activations (C, H, W) or (N, C, H, W), got shape {array.shape}")
    return _grid(list(array[:max_maps]), title, cmap="viridis")


def plot_attention(weights, queries=None, keys=None, title="attention weights"):
    """An attention matrix (L queries × S keys), as ``MultiheadAttention`` returns it (the
    first example if batched): row i says where query i looks."""
    op = "plot_attention"
    array = _array(weights, op)
    array = array[0] if array.ndim == 3 else array
    if array.ndim != 2:
        raise ValueError(f"{op}: expected weights (L, S) or (N, L, S), got shape {array.shape}")
    label_width = max((len(str(q)) for q in queries), default=2) if queries is not None else 2
    figure = _figure(figsize=(1.5 + 0.07 * label_width + 0.45 * array.shape[1], 1.2 + 0.35 * array.shape[0]))
    axes = figure.subplots()
    shown = axes.imshow(array, cmap="Blues", vmin=0)
    axes.set_xticks(range(array.shape[1]), labels=list(keys) if keys is not None else None,
                    rotation=45 if keys is not None and max(len(str(k)) for k in keys) > 3 else 0)
    axes.set_yticks(range(array.shape[0]), labels=list(queries) if queries is not None else None)
    axes.set(xlabel="key", ylabel="query", title=title)
    figure.colorbar(shown, ax=axes, fraction=0.046)
    figure.tight_layout()
    return figure


def save_figure(figure, path, dpi=110):
    """Write ``figure`` to ``path`` (format from the suffix), atomically."""
    path = Path(path)
    with atomic_write(path, "save_figure") as handle:
        figure.savefig(handle, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    return path
