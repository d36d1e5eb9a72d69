"""``tf.data.Dataset``'s pipeline, thin: ``Dataset.from_tensor_slices((x, y)).shuffle(n).batch(32)``
is an iterable of batches of tensors that a training loop or Keras' ``fit`` consumes.  It
exists so that the documents' TensorFlow code runs under ``import tinynn as tf``; PyTorch-style
code uses ``DataLoader``.

``shuffle(buffer_size)`` shuffles the whole data once per pass (a buffer as large as the data,
TensorFlow's ideal case), with tinynn's seeded generator."""
import math

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["TensorSlices"]


class TensorSlices:
    def __init__(self, arrays, single, shuffled=False, batch_size=None, drop_remainder=False, maps=(), limit=None):
        self.arrays, self.single, self.shuffled = arrays, single, shuffled
        self.batch_size, self.drop_remainder, self.maps, self.limit = batch_size, drop_remainder, maps, limit

    @classmethod
    def from_tensor_slices(cls, tensors):
        single = not isinstance(tensors, (tuple, list))
        arrays = [np.asarray(t.detach().numpy() if isinstance(t, Tensor) else t) for t in
                  ((tensors,) if single else tensors)]
        if len({len(a) for a in arrays}) != 1:
            raise ValueError(f"from_tensor_slices: expected components of one length, got "
                             f"{[len(a) for a in arrays]}")
        return cls(arrays, single)

    def _with(self, **changes):
        settings = dict(arrays=self.arrays, single=self.single, shuffled=self.shuffled, batch_size=self.batch_size,
                        drop_remainder=self.drop_remainder, maps=self.maps, limit=self.limit)
        settings.update(changes)
        return TensorSlices(**settings)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        return self._with(shuffled=True)

    def batch(self, batch_size, drop_remainder=False):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch: expected a positive int, got {batch_size!r}")
        return self._with(batch_size=batch_size, drop_remainder=drop_remainder)

    def map(self, function, num_parallel_calls=None):
        return self._with(maps=self.maps + (function,))

    def take(self, count):
        return self._with(limit=count)

    def prefetch(self, buffer_size):
        return self

    def cache(self, filename=""):
        return self

    def __len__(self):
        n = len(self.arrays[0])
        size = n if self.batch_size is None else (
            n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size))
        return size if self.limit is None else min(size, self.limit)

    def __iter__(self):
        n = len(self.arrays[0])
        order = _random.generator().permutation(n) if self.shuffled else np.arange(n)
        step = self.batch_size or 1
        for count, start in enumerate(range(0, n, step)):
            index = order[start:start + step] if self.batch_size else order[start]
            if (self.limit is not None and count >= self.limit) or \
                    (self.drop_remainder and self.batch_size and len(index) < step):
                return
            element = tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)
            for function in self.maps:
                element = function(*element) if not self.single else (function(element[0]),)
                element = element if isinstance(element, tuple) else (element,)
            yield element[0] if self.single and len(element) == 1 else element
