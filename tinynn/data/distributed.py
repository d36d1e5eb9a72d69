"""``DistributedSampler``: each rank's share of a dataset, PyTorch's index assignment.

The indices (shuffled with seed + epoch when ``shuffle``) are padded by repeating the first
ones until they divide evenly (or cut, with ``drop_last``); rank r takes every N-th from r.
The shards are disjoint up to that padding and together cover the dataset.  The shuffle
draws from NumPy's PCG64 seeded with seed + epoch, so it is the same on every rank (and not
the permutation PyTorch's generator would draw)."""
import math

import numpy as np

from .. import distributed as dist
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        super().__init__(dataset)
        self.num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
        self.rank = dist.get_rank() if rank is None else rank
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: expected rank in [0, {self.num_replicas}), got {self.rank}")
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        self.num_samples = n // self.num_replicas if drop_last else math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """A different shuffle each epoch, the same on every rank."""
        self.epoch = epoch

    def __iter__(self):
        n = len(self.data_source)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        if self.total_size > n:
            order = np.resize(order, self.total_size)          # repeats from the start, as PyTorch pads
        order = order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples
