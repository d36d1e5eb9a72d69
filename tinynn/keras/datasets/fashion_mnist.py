"""``keras.datasets.fashion_mnist``: 28×28 clothing images from local IDX files."""
from ... import data
from .local import load_idx


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28), int labels."""
    return load_idx("fashion_mnist", data.load_fashion_mnist, path)
