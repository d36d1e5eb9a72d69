"""``DataLoader``: a dataset in batches of tensors, in the order a sampler gives.

Loading happens in the calling process.  ``num_workers``, ``pin_memory`` and the other
multiprocessing arguments of PyTorch's DataLoader are accepted so that scripts run
unchanged, and change nothing: the data sets of the documents fit in memory and a
``TensorDataset`` batch is one fancy-indexing slice per tensor.
"""
import collections.abc
import numbers

import numpy as np

from ..tensor import Tensor
from .dataset import TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate"]


def default_collate(samples):
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``: tensors and
    arrays are stacked on a new first axis, Python ints become an int64 tensor and floats a
    float64 one, strings stay a list, and tuples, lists and dicts are collated field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s.detach().numpy() for s in samples]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor._wrap(np.stack([np.asarray(s) for s in samples]))
    if isinstance(first, bool):
        return Tensor._wrap(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor._wrap(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._wrap(np.array(samples, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):            # a namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*samples)))
    if isinstance(first, collections.abc.Sequence):
        if len({len(s) for s in samples}) != 1:
            raise RuntimeError("default_collate: each sample in a batch must have the same number "
                               f"of fields, got {sorted({len(s) for s in samples})}")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: expected samples of tensors, arrays, numbers, strings, "
                    f"tuples, lists or dicts, got {type(first).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in batches (PyTorch's arguments and meanings).

    ``transform`` (tinynn's own) is applied to the first field of every batch, for example
    to move images to a device."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", transform=None):
        _check_arguments(batch_size, shuffle, sampler, batch_sampler, drop_last, num_workers)
        self.dataset, self.num_workers, self.pin_memory = dataset, num_workers, pin_memory
        self.generator, self.transform = generator, transform
        self.collate_fn = collate_fn or default_collate
        if batch_sampler is None:
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
            self.batch_size, self.drop_last = batch_size, drop_last
            batch_sampler = BatchSampler(sampler, batch_size, drop_last) if batch_size is not None else None
        else:
            self.batch_size, self.drop_last = None, False
        self.sampler, self.batch_sampler = sampler, batch_sampler

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if self.batch_sampler is None:                 # batch_size=None: one sample at a time
            for index in self.sampler:
                yield self.dataset[index]
            return
        for indices in self.batch_sampler:
            yield self._batch(indices)

    def _batch(self, indices):
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            index = np.asarray(indices, dtype=np.int64)
            batch = tuple(Tensor._wrap(a[index]) for a in self.dataset.arrays)
        else:
            batch = self.collate_fn([self.dataset[i] for i in indices])
        if self.transform is not None:
            batch = (self.transform(batch[0]),) + tuple(batch[1:])
        return batch


def _check_arguments(batch_size, shuffle, sampler, batch_sampler, drop_last, num_workers):
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                                   or batch_size < 1):
        raise ValueError(f"DataLoader: expected a positive int batch_size, got {batch_size!r}")
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"DataLoader: expected num_workers >= 0, got {num_workers!r}")
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
        raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                         "shuffle, sampler, and drop_last")
