"""``tinynn.data``: datasets, batching and the loaders of the documents' data sets."""
from .dataset import Dataset, TensorDataset, Subset, ConcatDataset, random_split  # noqa: F401
from .dataloader import DataLoader, default_collate  # noqa: F401
from .distributed import DistributedSampler  # noqa: F401
from .sampler import (  # noqa: F401
    Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, BatchSampler,
)
from .datasets import (  # noqa: F401
    load_digits, load_mnist, load_fashion_mnist, load_cifar10, read_idx, upsample,
    DatasetNotFoundError,
)
