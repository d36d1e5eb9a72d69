"""``torch.utils.data``'s names, so that ``from torch.utils.data import DataLoader`` runs after
``import tinynn as torch``; the implementations live in ``tinynn/data/``."""
from ..data.dataloader import DataLoader, default_collate  # noqa: F401
from ..data.distributed import DistributedSampler  # noqa: F401
from ..data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split  # noqa: F401
from ..data.sampler import (  # noqa: F401
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)
