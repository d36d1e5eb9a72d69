"""Datasets and batching (PyTorch's ``torch.utils.data``), with one seeded generator."""
import math

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split"]


class Dataset:
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
        return tuple(a[index] for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

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


def _collate(samples):
    """A list of (x, y, ...) tuples -> a tuple of batched tensors."""
    columns = list(zip(*samples))
    return tuple(Tensor._wrap(np.stack([np.asarray(v) for v in column])) for column in columns)


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) batches of tensors.

    ``TensorDataset`` batches are sliced straight out of the arrays (no Python
    loop per sample); other datasets go through ``__getitem__`` and ``collate_fn``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, transform=None,
                 collate_fn=None, generator=None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: expected a positive int batch_size, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.transform = drop_last, transform
        self.collate_fn = collate_fn or _collate
        self.generator = generator

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = (self.generator or _random.generator()).permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            if self.drop_last and len(index) < self.batch_size:
                return
            yield self._batch(index)

    def _batch(self, index):
        if isinstance(self.dataset, TensorDataset):
            batch = tuple(Tensor._wrap(a[index]) for a in self.dataset.arrays)
        else:
            batch = self.collate_fn([self.dataset[int(i)] for i in index])
        if self.transform is not None:
            batch = (self.transform(batch[0]),) + tuple(batch[1:])
        return batch
