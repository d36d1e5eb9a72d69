"""Pruning during Keras training, as the TensorFlow Model Optimization Toolkit does it
(``tfmot.sparsity.keras``): wrap the model, give a sparsity schedule, add a callback.

    model = pruning.prune_low_magnitude(model, pruning.PolynomialDecay(0.0, 0.8, 0, 500))
    model.compile(...)
    model.fit(x, y, epochs=5, callbacks=[pruning.UpdatePruningStep()])
    model = pruning.strip_pruning(model)          # plain weights, zeros kept

The polynomial schedule raises the sparsity s from s_i to s_f between two steps,

    s(t) = s_f + (s_i − s_f) · (1 − (t − t_0) / (t_1 − t_0))³

fast at first and gently at the end, so that the network recovers between prunings.  Every
``frequency`` steps the callback prunes the smallest-magnitude weights of each Dense and
Conv2D kernel up to s(t) (``tinynn.nn.utils.prune``: masks kept through training).
"""
from ..nn.utils import prune
from .callbacks import Callback

__all__ = ["PolynomialDecay", "ConstantSparsity", "prune_low_magnitude", "UpdatePruningStep",
           "strip_pruning"]


class PolynomialDecay:
    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=3, frequency=100):
        if not 0.0 <= initial_sparsity <= final_sparsity < 1.0:
            raise ValueError(f"PolynomialDecay: expected 0 <= initial_sparsity <= final_sparsity < 1, "
                             f"got {initial_sparsity} and {final_sparsity}")
        if not 0 <= begin_step < end_step or frequency < 1:
            raise ValueError(f"PolynomialDecay: expected 0 <= begin_step < end_step and frequency >= 1, "
                             f"got {begin_step}, {end_step}, {frequency}")
        self.initial, self.final = initial_sparsity, final_sparsity
        self.begin, self.end, self.power, self.frequency = begin_step, end_step, power, frequency

    def __call__(self, step):
        """(whether to prune at ``step``, the sparsity to reach)."""
        progress = min(max((step - self.begin) / (self.end - self.begin), 0.0), 1.0)
        sparsity = self.final + (self.initial - self.final) * (1.0 - progress) ** self.power
        due = self.begin <= step <= self.end and (step - self.begin) % self.frequency == 0
        return due, sparsity


class ConstantSparsity(PolynomialDecay):
    """One sparsity, applied every ``frequency`` steps from ``begin_step`` on."""

    def __init__(self, target_sparsity, begin_step, end_step=10 ** 9, frequency=100):
        super().__init__(target_sparsity, target_sparsity, begin_step, end_step, 1, frequency)


def _kernels(model):
    return [layer.inner for layer in model.layers if hasattr(layer, "inner")
            and "weight" in getattr(layer.inner, "_parameters", {})]


def prune_low_magnitude(model, pruning_schedule):
    """Mark every Dense/Conv2D kernel of a built Keras model for pruning by ``pruning_schedule``."""
    if not getattr(model, "built", False):
        raise ValueError("prune_low_magnitude: build the model first (give input_shape or call it once)")
    kernels = _kernels(model)
    if not kernels:
        raise ValueError("prune_low_magnitude: the model has no Dense or Conv2D layer to prune")
    for kernel in kernels:
        prune.identity(kernel, "weight")
    model.pruning_schedule = pruning_schedule
    return model


class UpdatePruningStep(Callback):
    """Prune to the schedule's sparsity after every ``frequency``-th training step."""

    def on_train_begin(self, logs=None):
        if getattr(self.model, "pruning_schedule", None) is None:
            raise ValueError("UpdatePruningStep: call pruning.prune_low_magnitude(model, schedule) first")

    def on_train_batch_end(self, batch, logs=None):
        due, sparsity = self.model.pruning_schedule(batch)
        if not due:
            return
        for kernel in _kernels_pruned(self.model):
            total = kernel.weight_mask.numel()
            more = round(sparsity * total) - (total - int(kernel.weight_mask.numpy().sum()))
            if more > 0:
                prune.l1_unstructured(kernel, "weight", amount=int(more))


def _kernels_pruned(model):
    return [layer.inner for layer in model.layers if hasattr(layer, "inner") and prune.is_pruned(layer.inner)]


def strip_pruning(model):
    """Make the pruning permanent: plain kernels whose pruned entries are zero."""
    for kernel in _kernels_pruned(model):
        prune.remove(kernel, "weight")
    model.pruning_schedule = None
    return model
