"""``tinynn.vision``: the part of torchvision that training scripts import — the digit and
image data sets and the transforms that turn their images into tensors — so that
``from torchvision import datasets, transforms`` becomes
``from tinynn.vision import datasets, transforms``."""
from . import datasets, transforms  # noqa: F401
