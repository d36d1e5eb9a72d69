"""``to_categorical``: class indices to one-hot rows."""
import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    labels = np.asarray(y, dtype=np.int64).reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical: expected non-negative class indices, got {labels.min()}")
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"to_categorical: label {labels.max()} does not fit num_classes={num_classes}")
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    shape = np.shape(y)
    if len(shape) > 1 and shape[-1] == 1:     # Keras squeezes a trailing axis of 1
        shape = shape[:-1]
    return out.reshape(tuple(shape) + (num_classes,))
