"""torchvision's MNIST and FashionMNIST from local IDX files: ``MNIST(root, train=True,
transform=ToTensor())`` looks in ``root/MNIST/raw``, ``root/MNIST`` and ``root``, as
torchvision lays the files out, and gives (image, label) pairs: the image a (28, 28) uint8
array until ``transform`` turns it into a tensor, the label an int."""
import os
from pathlib import Path

import numpy as np

from ..data.dataset import Dataset
from ..data.datasets import DatasetNotFoundError, MNIST_FILES, _find, read_idx

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(Dataset):
    folder = "MNIST"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = Path(os.path.expanduser(str(root))), train
        self.transform, self.target_transform = transform, target_transform
        split = "train" if train else "test"
        places = [self.root / self.folder / "raw", self.root / self.folder, self.root]
        files = []
        for stem in MNIST_FILES[split]:
            found = next((p for p in (_find(place, stem) for place in places) if p is not None), None)
            if found is None:
                raise DatasetNotFoundError(
                    f"{type(self).__name__}: no {stem}[.gz] under {self.root} (looked in "
                    f"{', '.join(str(p) for p in places)}); copy the IDX files there"
                    + (" (tinynn does not download inside datasets: use tinynn.data.load_mnist("
                       "root, download=True) once)" if download else ""))
            files.append(found)
        self.data, self.targets = read_idx(files[0]), read_idx(files[1]).astype(np.int64)
        if self.data.ndim != 3 or len(self.data) != len(self.targets):
            raise ValueError(f"{type(self).__name__}: expected (N, 28, 28) images and N labels, got "
                             f"{self.data.shape} and {self.targets.shape}")

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, label = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label


class FashionMNIST(MNIST):
    folder = "FashionMNIST"
