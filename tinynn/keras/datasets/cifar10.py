"""``keras.datasets.cifar10``: 32×32 colour images from the local binary version."""
from .local import load_cifar10 as load_data  # noqa: F401
