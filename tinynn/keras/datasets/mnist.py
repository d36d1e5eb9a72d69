"""``keras.datasets.mnist``: 28×28 handwritten digits from local IDX files."""
from ... import data
from .local import load_idx


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28), int labels."""
    return load_idx("mnist", data.load_mnist, path)
