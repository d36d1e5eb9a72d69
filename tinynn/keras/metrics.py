"""Keras' streaming metrics for hand-written loops: ``update_state(...)`` each batch,
``result()`` at the end, ``reset_state()`` between epochs (``metric(y, p)`` does the first two)."""
import numpy as np

from ..tensor import Tensor

__all__ = ["Mean", "SparseCategoricalAccuracy", "CategoricalAccuracy", "Accuracy"]


def _array(values):
    return np.asarray(values.detach().numpy() if isinstance(values, Tensor) else values, dtype=np.float64)


class Mean:
    """The mean of every value given so far (weighted by ``sample_weight``)."""

    def __init__(self, name="mean", dtype=None):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = _array(values).ravel()
        weights = np.ones_like(values) if sample_weight is None else np.broadcast_to(_array(sample_weight).ravel(),
                                                                                       values.shape)
        self.total += float((values * weights).sum())
        self.count += float(weights.sum())

    def result(self):
        return Tensor._wrap(np.asarray(self.total / self.count if self.count else 0.0, np.float32))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()


class SparseCategoricalAccuracy(Mean):
    """How often argmax(y_pred) equals the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = _array(y_pred).argmax(-1) == _array(y_true).reshape(_array(y_pred).shape[:-1])
        super().update_state(hits, sample_weight)


class CategoricalAccuracy(Mean):
    """How often argmax(y_pred) equals argmax of the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_array(y_pred).argmax(-1) == _array(y_true).argmax(-1), sample_weight)


class Accuracy(Mean):
    """How often y_pred equals y_true exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_array(y_pred) == _array(y_true), sample_weight)
