"""SmoothGrad, SmoothGrad² and VarGrad (Smilkov et al., 2017; Adebayo et al., 2018).

A gradient map is noisy: the gradient changes sharply between neighbouring inputs. Averaging
the attributions of ``nt_samples`` noisy copies x + ε, ε ~ N(0, σ²), smooths it::

    smoothgrad    = mean_k A(x + ε_k)
    smoothgrad_sq = mean_k A(x + ε_k)²
    vargrad       = mean_k A(x + ε_k)² − (mean_k A(x + ε_k))²

``NoiseTunnel`` wraps any attribution method here, as Captum's does. The noise comes from
tinynn's generator, so ``tinynn.manual_seed`` makes a map repeatable.
"""
from __future__ import annotations

from ..creation import cat
from ..random import generator
from ..tensor import Tensor
from .attribution import as_input_tuple, expand_examples, like_inputs

__all__ = ["NoiseTunnel"]

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


class NoiseTunnel:
    """Captum's ``NoiseTunnel(attribution_method).attribute(inputs, nt_type="smoothgrad",
    nt_samples=5, nt_samples_batch_size=None, stdevs=1.0, **kwargs)``; ``kwargs`` go to the
    wrapped method's ``attribute`` (``target``, ``baselines``, ``n_steps``, …)."""

    def __init__(self, attribution_method):
        self.attribution_method = attribution_method

    def attribute(self, inputs, nt_type="smoothgrad", nt_samples=5, nt_samples_batch_size=None,
                  stdevs=1.0, draw_baseline_from_distrib=False, **kwargs):
        inputs, was_tuple = as_input_tuple(inputs, "NoiseTunnel.attribute")
        if nt_type not in NT_TYPES:
            raise ValueError(f"NoiseTunnel.attribute: nt_type must be one of {NT_TYPES}, got {nt_type!r}")
        if draw_baseline_from_distrib:
            raise ValueError("NoiseTunnel.attribute: draw_baseline_from_distrib is not supported "
                             "(it needs GradientShap's baseline distributions)")
        stdevs = stdevs if isinstance(stdevs, tuple) else (stdevs,) * len(inputs)
        if len(stdevs) != len(inputs):
            raise ValueError(f"NoiseTunnel.attribute: expected {len(inputs)} stdevs, got {len(stdevs)}")
        per_batch = nt_samples if nt_samples_batch_size is None else min(nt_samples, nt_samples_batch_size)
        sums = sums_sq = None
        deltas = []
        for start in range(0, nt_samples, per_batch):
            copies = min(per_batch, nt_samples - start)
            attributions, delta = self._noisy_attributions(inputs, stdevs, copies, kwargs)
            deltas.append(delta)
            batch = inputs[0].shape[0]
            folded = [a.reshape((batch, copies) + tuple(a.shape[1:])) for a in attributions]
            part = [a.sum(1) for a in folded]
            part_sq = [(a * a).sum(1) for a in folded]
            sums = part if sums is None else [s + p for s, p in zip(sums, part)]
            sums_sq = part_sq if sums_sq is None else [s + p for s, p in zip(sums_sq, part_sq)]
        mean = [s / nt_samples for s in sums]
        mean_sq = [s / nt_samples for s in sums_sq]
        smoothed = {"smoothgrad": mean, "smoothgrad_sq": mean_sq,
                    "vargrad": [sq - m * m for m, sq in zip(mean, mean_sq)]}[nt_type]
        result = like_inputs(smoothed, was_tuple)
        return (result, cat(deltas)) if kwargs.get("return_convergence_delta") else result

    def _noisy_attributions(self, inputs, stdevs, copies, kwargs):
        """The wrapped method on ``copies`` noisy copies of every example (copies of one
        example side by side, as Captum's ``repeat_interleave`` lays them out)."""
        noisy = tuple(_add_noise(x, copies, sd) for x, sd in zip(inputs, stdevs))
        kwargs = {key: _expand_argument(key, value, copies, inputs[0])
                  for key, value in kwargs.items()}
        result = self.attribution_method.attribute(noisy if len(noisy) > 1 else noisy[0], **kwargs)
        delta = None
        if kwargs.get("return_convergence_delta"):
            result, delta = result
        return (result if isinstance(result, tuple) else (result,)), delta


def _add_noise(x, copies, stdev):
    repeated = expand_examples(x.detach(), copies, True)
    noise = generator().normal(0.0, stdev, size=tuple(repeated.shape))
    return repeated + Tensor(noise, dtype=x.dtype, device=x.device)


def _expand_argument(key, value, copies, first_input):
    """Per-example keyword arguments (targets, extra forward arguments, baselines with a batch
    dimension) for the noisy batch; what holds for every example passes unchanged."""
    if key == "target":
        return expand_examples(value, copies, True)
    if key not in ("additional_forward_args", "baselines"):
        return value
    items = value if isinstance(value, tuple) else (value,)
    batch = first_input.shape[0]
    expanded = tuple(expand_examples(v, copies, True)
                     if isinstance(v, Tensor) and v.ndim == first_input.ndim and v.shape[0] == batch
                     else v for v in items)
    return expanded if isinstance(value, tuple) else expanded[0]
