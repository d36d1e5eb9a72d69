"""What the ``keras.datasets`` loaders share: where to look for local files, and Keras'
array conventions (this engine never downloads silently).

``mnist.load_data()`` returns ``(x_train, y_train), (x_test, y_test)`` as Keras does:
uint8 images (N, 28, 28) and int labels.  Files are looked up in ``path``, then in
``$TINYNN_DATA/<name>``, then (MNIST only) in the test split shipped in ``tinynn/data/mnist``.
When only the official *test* split is present, it is split 8,000 / 2,000 and a
notice says so.  ``cifar10.load_data()`` reads the binary version.
"""
import os
from pathlib import Path

import numpy as np

from ... import data

def _candidates(path, name):
    found = [Path(path)] if path else []
    if os.environ.get("TINYNN_DATA"):
        found.append(Path(os.environ["TINYNN_DATA"]) / name)
    if name == "mnist":
        found.append(data.datasets.BUNDLED_MNIST_DIR)
    return found


def _to_keras(images, labels):
    return (images[:, 0] * 255).round().astype(np.uint8), labels


def load_idx(name, loader, path):
    searched = _candidates(path, name)
    for root in searched:
        try:
            test = loader(root, "test")
        except data.DatasetNotFoundError:
            continue
        try:
            train = loader(root, "train")
        except data.DatasetNotFoundError:
            print(f"{name}.load_data: only the test split is in {root}; using its first 8,000 "
                  "images for training and the last 2,000 for testing")
            train, test = (test[0][:8000], test[1][:8000]), (test[0][8000:], test[1][8000:])
        return _to_keras(*train), _to_keras(*test)
    raise data.DatasetNotFoundError(
        f"{name}.load_data: no IDX files in {', '.join(map(str, searched)) or 'any folder'}; pass "
        f"path= or set TINYNN_DATA to a folder with a {name}/ subfolder")


def load_cifar10(path=None):
    searched = _candidates(path, "cifar10")
    for root in searched:
        try:
            train, test = data.load_cifar10(root, "train"), data.load_cifar10(root, "test")
        except data.DatasetNotFoundError:
            continue
        to_uint8 = lambda images: (images.transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)  # noqa: E731
        return (to_uint8(train[0]), train[1][:, None]), (to_uint8(test[0]), test[1][:, None])
    raise data.DatasetNotFoundError(
        f"cifar10.load_data: the binary CIFAR-10 files are not in "
        f"{', '.join(map(str, searched)) or 'any folder'}; pass path= or set TINYNN_DATA")


