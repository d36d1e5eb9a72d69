"""Keras' losses, on the model's outputs (probabilities unless ``from_logits=True``).

Probabilities are clipped to [ε, 1 - ε] with Keras' ε = 1e-7 before the log, so a
softmax output of exactly 0 gives a large finite loss instead of inf.
"""
import numpy as np

from ..nn import functional as F
from ..tensor import Tensor

EPSILON = 1e-7


def _as_labels(y_true, y_pred):
    labels = Tensor(np.asarray(y_true), device=y_pred.device) if not isinstance(y_true, Tensor) else y_true
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.reshape(-1)
    if labels.dtype.kind == "f":
        labels = labels.long()
    return labels


def _float_target(y_true, y_pred):
    """Targets as a float tensor of the prediction's shape and device."""
    values = y_true.detach().numpy() if isinstance(y_true, Tensor) else np.asarray(y_true)
    return Tensor(values.astype(y_pred.dtype).reshape(y_pred.shape), device=y_pred.device)


class Loss:
    name = "loss"

    def __init__(self, from_logits=False):
        self.from_logits = from_logits

    def __call__(self, y_true, y_pred):
        return self.call(y_true, y_pred)


def _log_probabilities(y_pred):
    """log p after Keras' normalisation: predictions that do not sum to 1 are divided by their
    sum, then clipped to [ε, 1 - ε]."""
    return (y_pred / y_pred.sum(-1, keepdim=True)).clip(EPSILON, 1 - EPSILON).log()


class SparseCategoricalCrossentropy(Loss):
    """L = -1/N Σ_i log p[i, y_i] with integer labels y."""
    name = "sparse_categorical_crossentropy"

    def call(self, y_true, y_pred):
        labels = _as_labels(y_true, y_pred)
        if self.from_logits:
            return F.cross_entropy(y_pred, labels)
        return F.nll_loss(_log_probabilities(y_pred), labels)


class CategoricalCrossentropy(Loss):
    """L = -1/N Σ_i Σ_j y_ij log p_ij with one-hot (or soft) labels y."""
    name = "categorical_crossentropy"

    def call(self, y_true, y_pred):
        target = Tensor(np.asarray(y_true, dtype=y_pred.dtype), device=y_pred.device) \
            if not isinstance(y_true, Tensor) else y_true.to(y_pred.dtype)
        if target.shape != y_pred.shape:
            raise ValueError(f"categorical_crossentropy: expected one-hot labels of shape "
                             f"{y_pred.shape}, got {target.shape} (use "
                             "sparse_categorical_crossentropy for integer labels)")
        if self.from_logits:
            return F.cross_entropy(y_pred, target)
        return -(target * _log_probabilities(y_pred)).sum(-1).mean()


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, target)
        p = y_pred.clip(EPSILON, 1 - EPSILON)
        return -(target * p.log() + (1 - target) * (1 - p).log()).mean()


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        return F.mse_loss(y_pred, target)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        return F.l1_loss(y_pred, target)


LOSSES = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return SparseCategoricalCrossentropy(from_logits)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return CategoricalCrossentropy(from_logits)(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return BinaryCrossentropy(from_logits)(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError()(y_true, y_pred)


def get(identifier):
    if isinstance(identifier, Loss) or callable(identifier):
        return identifier
    if identifier not in LOSSES:
        raise ValueError(f"compile: unknown loss {identifier!r}; expected one of "
                         f"{', '.join(sorted(LOSSES))} or a callable")
    return LOSSES[identifier]()
