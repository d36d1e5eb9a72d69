"""Datasets and batching (PyTorch's ``torch.utils.data``), with one seeded generator."""
import math

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    @staticmethod
    def from_tensor_slices(tensors):
        """TensorFlow's ``tf.data.Dataset.from_tensor_slices`` (``pipeline.py``), for the
        documents' TensorFlow code under ``import tinynn as tf``."""
        from .pipeline import TensorSlices
        return TensorSlices.from_tensor_slices(tensors)

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are rows of the given tensors or arrays, which must have equal lengths."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: expected tensors of equal length (first dimension), "
                             f"got lengths {[len(t) for t in tensors]}")
        self.arrays = [t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t) for t in tensors]

    def __getitem__(self, index):
        """The index-th row of every tensor, as tensors (as in PyTorch)."""
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


class ConcatDataset(Dataset):
    """The samples of several datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.ends = np.cumsum([len(d) for d in self.datasets])

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} out of range for {len(self)} samples")
        which = int(np.searchsorted(self.ends, index, side="right"))
        return self.datasets[which][index - (self.ends[which - 1] if which else 0)]

    def __len__(self):
        return int(self.ends[-1])


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping subsets; fractions summing to 1 are allowed, as in PyTorch."""
    n = len(dataset)
    if not lengths or any(not isinstance(f, (int, float, np.integer, np.floating)) or f < 0
                          or f != f for f in lengths):
        raise ValueError(f"random_split: expected non-negative lengths or fractions, got "
                         f"{list(lengths)}")
    if all(0 <= f <= 1 for f in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) != n:
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(int(f) != f for f in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} must sum to the dataset size {n}")
    order = (generator or _random.generator()).permutation(n)
    splits, start = [], 0
    for length in map(int, lengths):
        splits.append(Subset(dataset, order[start:start + length]))
        start += length
    return splits
